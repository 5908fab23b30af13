// Where a typed array lies in its buffer, read through one view of the whole buffer per element type.
// A batch of small zones is packed into one shared buffer (src/sync/transfer.ts); a zone served from
// it reads its arrays through these views at its own offsets instead of holding a dozen views of its
// own, which at 100,000 zones cost more memory than their contents.

type Typed = Buffer | Uint16Array | Uint32Array | Int32Array;

interface WholeViews {
  u8?: Buffer;
  u16?: Uint16Array;
  u32?: Uint32Array;
  i32?: Int32Array;
}

/** The views of each buffer met so far, per thread; a buffer no zone holds any more is collected with its views. */
const wholeViews = new WeakMap<ArrayBufferLike, WholeViews>();

/** The view of `a`'s whole buffer of `a`'s element type (a Buffer for octets), and the index in it where `a` begins. */
export function located(a: Uint8Array): { whole: Buffer; at: number };
export function located(a: Uint16Array): { whole: Uint16Array; at: number };
export function located(a: Uint32Array): { whole: Uint32Array; at: number };
export function located(a: Int32Array): { whole: Int32Array; at: number };
export function located(a: Uint8Array | Typed): { whole: Typed; at: number } {
  const buffer = a.buffer;
  let views = wholeViews.get(buffer);
  if (views === undefined) wholeViews.set(buffer, (views = {}));
  const at = a.byteOffset / a.BYTES_PER_ELEMENT;
  const n = (size: number): number => Math.floor(buffer.byteLength / size);
  if (a instanceof Uint16Array) return { whole: (views.u16 ??= new Uint16Array(buffer, 0, n(2))), at };
  if (a instanceof Uint32Array) return { whole: (views.u32 ??= new Uint32Array(buffer, 0, n(4))), at };
  if (a instanceof Int32Array) return { whole: (views.i32 ??= new Int32Array(buffer, 0, n(4))), at };
  return { whole: (views.u8 ??= Buffer.from(buffer, 0, buffer.byteLength)), at };
}
