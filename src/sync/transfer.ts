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

/** `list`, each with every array a view of shared memory: small zones packed together, each larger one in a buffer of its own. */
export function shareBatch(list: readonly ZoneParts[]): ZoneParts[] {
  const views = list.map(viewsOf);
  const sizes = views.map((vs) => vs.reduce((n, v) => n + align(v.byteLength), 0));
  const out: ZoneParts[] = [];
  for (let i = 0; i < list.length; ) {
    let end = i + 1;
    let total = sizes[i]!;
    // A large zone built in shared memory of its own (a patched version, zone/patch.ts) is shared as it is.
    const own = partsBuffers(list[i]!);
    if (total > SHARED_MAX_BYTES && own.size === 1 && [...own][0] instanceof SharedArrayBuffer) {
      out.push(list[i++]!);
      continue;
    }
    if (total <= SHARED_MAX_BYTES) {
      while (end < list.length && sizes[end]! <= SHARED_MAX_BYTES && total + sizes[end]! <= SHARED_BUFFER_BYTES) total += sizes[end++]!;
    }
    const buffer = new SharedArrayBuffer(total);
    const bytes = new Uint8Array(buffer);
    let at = 0;
    for (; i < end; i++) {
      const copies = views[i]!.map((v) => {
        bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
        // A Buffer goes as a Uint8Array (the receiving side wraps it again).
        const make = (v instanceof Uint8Array ? Uint8Array : v.constructor) as new (b: SharedArrayBuffer, offset: number, length: number) => View;
        const copy = new make(buffer, at, v.length);
        at += align(v.byteLength);
        return copy;
      });
      out.push(withViews(list[i]!, copies));
    }
  }
  return out;
}

/** The buffers `p`'s arrays are views of (one, for parts made by shareBatch). */
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

/** `p` with its arrays replaced by `v` (as viewsOf lists them). */
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
