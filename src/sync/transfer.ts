// How a compiled zone's arrays reach every thread that serves it: all of one zone's arrays are
// packed into ONE SharedArrayBuffer (each at an 8-octet boundary), so the threads answering queries
// and the one running zone sync read the same memory, and a POP of 100,000 small zones makes one
// allocation per zone, not one per array. Posting the parts to another thread shares the buffer
// (structured clone of a SharedArrayBuffer copies nothing); its memory goes once no thread holds a view.
import type { ZoneParts } from '../zone/zone.js';

const ALIGN = 8;

type View = Uint8Array | Uint16Array | Uint32Array | Int32Array;

/** `p` with every array a view of one SharedArrayBuffer of their total size. */
export function shareParts(p: ZoneParts): ZoneParts {
  let total = 0;
  mapViews(p, (v) => {
    total += align(v.byteLength);
    return v;
  });
  const buffer = new SharedArrayBuffer(total);
  const bytes = new Uint8Array(buffer);
  let at = 0;
  return mapViews(p, (v) => {
    bytes.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    // A Buffer goes as a Uint8Array (the receiving side wraps it again).
    const make = (v instanceof Uint8Array ? Uint8Array : v.constructor) as new (b: SharedArrayBuffer, offset: number, length: number) => View;
    const copy = new make(buffer, at, v.length);
    at += align(v.byteLength);
    return copy;
  });
}

/** The buffers `p`'s arrays are views of (one, for parts made by shareParts). */
export function partsBuffers(p: ZoneParts): Set<ArrayBufferLike> {
  const seen = new Set<ArrayBufferLike>();
  mapViews(p, (v) => {
    seen.add(v.buffer);
    return v;
  });
  return seen;
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
