// How compiled zones reach every thread that serves them: a zone's arrays are packed into shared
// memory (each at an 8-octet boundary), so the threads answering queries and the one running zone
// sync read the same memory; posting the parts to another thread shares the buffer (structured
// clone of a SharedArrayBuffer copies nothing), and its memory goes once no thread holds a view.
// The small zones of a batch share one buffer: a POP of 100,000 small zones makes a few hundred
// allocations, not one per zone (each its own backing store, malloc chunk and buffer object in every
// thread). A buffer lives while any of its zones is served, so a shared one is kept small: a zone
// left behind by a change to its neighbours holds at most that much.
import type { ZoneParts } from '../zone/zone.js';

const ALIGN = 8;
/** A zone whose arrays take more than this has a buffer of its own. */
const SHARED_MAX_BYTES = 64 * 1024;
/** Small zones are packed into buffers of up to this size. */
const SHARED_BUFFER_BYTES = 1 << 20;

type View = Uint8Array | Uint16Array | Uint32Array | Int32Array;

type ViewType = (new (b: ArrayBufferLike, offset: number, length: number) => View) & { BYTES_PER_ELEMENT: number };

/** The type of each array viewsOf lists, in its order (a Buffer goes as a Uint8Array: the receiving side wraps it again). */
const VIEW_TYPES: readonly ViewType[] = [
  ...[Uint8Array, Uint32Array, Int32Array, Uint8Array, Uint32Array, Uint16Array, Uint32Array, Uint32Array, Uint8Array, Uint32Array, Int32Array],
  ...[Uint32Array, Uint16Array, Uint32Array, Uint32Array, Uint8Array, Uint32Array, Uint32Array, Uint8Array],
];

/** One buffer seen as each element type, so copying an array into it makes no view of its own. */
class Arena {
  readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly i32: Int32Array;

  constructor(buffer: ArrayBuffer | SharedArrayBuffer) {
    this.u8 = new Uint8Array(buffer);
    this.u16 = new Uint16Array(buffer, 0, buffer.byteLength >> 1);
    this.u32 = new Uint32Array(buffer, 0, buffer.byteLength >> 2);
    this.i32 = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  }

  /** Copies `views` in from octet `at`, each at an ALIGN boundary; pushes each one's length onto `lengths`; returns the octet after. */
  copy(views: readonly View[], at: number, lengths: number[]): number {
    for (let i = 0; i < views.length; i++) {
      const v = views[i]!;
      const type = VIEW_TYPES[i]!;
      const to = type === Uint8Array ? this.u8 : type === Uint16Array ? this.u16 : type === Uint32Array ? this.u32 : this.i32;
      to.set(v, at / type.BYTES_PER_ELEMENT);
      lengths.push(v.length);
      at += align(v.byteLength);
    }
    return at;
  }
}

/** Views of `buffer` from octet `at` of the arrays whose lengths are `lengths[from, from + count)`, as Arena.copy placed them. */
function viewsIn(buffer: SharedArrayBuffer, at: number, lengths: readonly number[], from: number, count: number): View[] {
  const views: View[] = [];
  for (let i = 0; i < count; i++) {
    const type = VIEW_TYPES[i]!;
    const length = lengths[from + i]!;
    views.push(new type(buffer, at, length));
    at += align(length * type.BYTES_PER_ELEMENT);
  }
  return views;
}

/** A small zone copied into the packer's scratch, waiting for the shared buffer it goes to. */
interface Waiting {
  /** Its `parts` are a shell without arrays (withViews) until they are given views of the shared buffer. */
  holder: { parts: ZoneParts };
  /** Where its arrays begin in the scratch. */
  at: number;
  /** Its arrays' lengths are the packer's `lengths[from, from + count)`. */
  from: number;
  count: number;
}

/** A loader thread's scratch for the small zones of a batch, kept between batches. */
let scratch: Arena | null = null;

/**
 * Packs the zones of a batch into shared memory as each is compiled, so a zone's own arrays become
 * garbage at once: a loader's young generation is small, and every array held until the end of the
 * batch was copied by each scavenge meanwhile. Small zones are copied into a scratch buffer and, every
 * SHARED_BUFFER_BYTES and at the end, into one shared buffer of the exact size; a larger zone gets a
 * shared buffer of its own at once.
 */
export class BatchPacker {
  private used = 0;
  private waiting: Waiting[] = [];
  private lengths: number[] = [];

  /**
   * Packs `holder.parts`, which are given every array as a view of shared memory at once or by
   * finish(); meanwhile they hold none of the zone's own arrays.
   */
  add(holder: { parts: ZoneParts }): void {
    const p = holder.parts;
    const views = viewsOf(p);
    let size = 0;
    for (const v of views) size += align(v.byteLength);
    if (size > SHARED_MAX_BYTES) {
      // A large zone built in shared memory of its own (a patched version, zone/patch.ts) is shared as it is.
      const own = partsBuffers(p);
      if (own.size !== 1 || !([...own][0] instanceof SharedArrayBuffer)) {
        const buffer = new SharedArrayBuffer(size);
        const lengths: number[] = [];
        new Arena(buffer).copy(views, 0, lengths);
        holder.parts = withViews(p, viewsIn(buffer, 0, lengths, 0, views.length));
      }
      return;
    }
    if (this.used + size > SHARED_BUFFER_BYTES) this.flush();
    scratch ??= new Arena(new ArrayBuffer(SHARED_BUFFER_BYTES));
    this.waiting.push({ holder, at: this.used, from: this.lengths.length, count: views.length });
    this.used = scratch.copy(views, this.used, this.lengths);
    holder.parts = withViews(p, []);
  }

  /** Shares the small zones still in the scratch. */
  finish(): void {
    this.flush();
  }

  private flush(): void {
    if (this.waiting.length === 0) return;
    const buffer = new SharedArrayBuffer(this.used);
    new Uint8Array(buffer).set(scratch!.u8.subarray(0, this.used));
    for (const w of this.waiting) w.holder.parts = withViews(w.holder.parts, viewsIn(buffer, w.at, this.lengths, w.from, w.count));
    this.waiting = [];
    this.lengths = [];
    this.used = 0;
  }
}

/** The buffers `p`'s arrays are views of (one, for parts BatchPacker made). */
export function partsBuffers(p: ZoneParts): Set<ArrayBufferLike> {
  return new Set(viewsOf(p).map((v) => v.buffer));
}

/** Every array of `p`, in the order withViews takes them back. */
function viewsOf(p: ZoneParts): View[] {
  const views: View[] = [p.names.names, p.names.offsets, p.names.slots, p.flags, p.firstSet, p.setType, p.setTtl, p.setOffset, p.data, p.targetFirst, p.targets];
  const d = p.dnssec;
  if (d !== null) views.push(d.sigFirst, d.sigCovered, d.sigStart, d.sigEnd, d.sigData, d.nsecOrder, d.nsec3Order, d.nsec3Param);
  return views;
}

/** `p` with its arrays replaced by `v` (as viewsOf lists them); with none, a shell that holds none of `p`'s arrays. */
function withViews(p: ZoneParts, v: View[]): ZoneParts {
  const at = <T extends View>(i: number): T => v[i] as T;
  return {
    origin: p.origin,
    recordCount: p.recordCount,
    file: p.file,
    names: { names: at(0), offsets: at(1), slots: at(2), count: p.names.count },
    flags: at(3),
    firstSet: at(4),
    setType: at(5),
    setTtl: at(6),
    setOffset: at(7),
    data: at(8),
    targetFirst: at(9),
    targets: at(10),
    dnssec: p.dnssec === null ? null : { sigFirst: at(11), sigCovered: at(12), sigStart: at(13), sigEnd: at(14), sigData: at(15), nsecOrder: at(16), nsec3Order: at(17), nsec3Param: at(18) },
  };
}

function align(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}
