// How a compiled zone's arrays move between threads: a small zone's arrays are packed into one
// buffer of exactly their size (built in pieces, they sit in oversized or shared buffers: a pooled
// Buffer's slice would carry its whole pool along); a big zone's buffers are transferred as
// they are, not copied.
import { isMarkedAsUntransferable } from 'node:worker_threads';
import type { ZoneParts } from '../zone/zone.js';

/** Below this, copying costs nothing worth saving. */
const MIN_TRANSFER_BYTES = 64 * 1024;
/** Zones whose arrays hold at most this many octets are packed (a copy; bigger ones would double their peak). */
const PACK_MAX_BYTES = 256 * 1024;
const ALIGN = 8;

type View = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/** `p` with every array a view of one ArrayBuffer of their total size, when that is small; else `p`. */
export function packParts(p: ZoneParts): ZoneParts {
  let total = 0;
  const sum = (v: View): View => {
    total += align(v.byteLength);
    return v;
  };
  mapViews(p, sum);
  if (total > PACK_MAX_BYTES) return p;
  const buffer = new ArrayBuffer(total);
  const bytes = new Uint8Array(buffer);
  let at = 0;
  return mapViews(p, (v) => {
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    // A Buffer goes as a Uint8Array (the receiving side wraps it again).
    const make = (v instanceof Uint8Array ? Uint8Array : v.constructor) as new (b: ArrayBuffer, offset: number, length: number) => View;
    const copy = new make(buffer, at, v.length);
    at += align(v.byteLength);
    return copy;
  });
}

export function transferables(p: ZoneParts): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  mapViews(p, (v) => {
    const b = v.buffer;
    if (b instanceof ArrayBuffer && transferableBuffer(b).length > 0) seen.add(b);
    return v;
  });
  return [...seen];
}

/** `[b]` when `b` may be transferred, else `[]` (it is copied instead). */
export function transferableBuffer(b: ArrayBuffer): ArrayBuffer[] {
  // Small Buffers are slices of Node's shared pool, which Node marks untransferable: asking for it
  // fails the whole postMessage. The pool's size is Node's own business (its ArrayBuffer is larger
  // than Buffer.poolSize on some versions), so ask Node rather than compare sizes.
  return b.byteLength >= MIN_TRANSFER_BYTES && !isMarkedAsUntransferable(b) ? [b] : [];
}

/** `value` with each typed array in it (at any depth of plain objects) replaced by `f` of it, in key order. */
function mapViews<T>(value: T, f: (v: View) => View): T {
  if (ArrayBuffer.isView(value)) return f(value as unknown as View) as unknown as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = mapViews(v, f);
  return out as T;
}

function align(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}
