// Copying a few octets between buffers. On Node 20 Buffer#copy from an offset first makes a
// Uint8Array view of the source range: garbage per call, which paces the young-generation pauses
// that make the server's tail latency (src/server/node-flags.ts), and a call overhead that a short
// loop beats. Names, headers, addresses and cookies are short; whole responses go to Buffer#copy.

const SHORT = 64;

/** Copies `src[start, end)` to `dst` at `at`; returns the end position in `dst`. */
export function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  const n = end - start;
  if (n < SHORT) for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
  else (src as Buffer).copy(dst, at, start, end);
  return at + n;
}
