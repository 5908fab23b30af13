// Which of a zone's buffers to transfer rather than copy when it moves between threads.
import { isMarkedAsUntransferable } from 'node:worker_threads';
import type { ZoneParts } from '../zone/zone.js';

/** Below this, copying costs nothing worth saving. */
const MIN_TRANSFER_BYTES = 64 * 1024;

export function transferables(p: ZoneParts): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const a of [p.names.names, p.names.offsets, p.names.slots, p.flags, p.firstSet, p.setType, p.setTtl, p.setOffset, p.data, ...dnssecArrays(p)]) {
    const b = a.buffer;
    if (b instanceof ArrayBuffer && transferableBuffer(b).length > 0) seen.add(b);
  }
  return [...seen];
}

/** `[b]` when `b` may be transferred, else `[]` (it is copied instead). */
export function transferableBuffer(b: ArrayBuffer): ArrayBuffer[] {
  // Small Buffers are slices of Node's shared pool, which Node marks untransferable: asking for it
  // fails the whole postMessage. The pool's size is Node's own business (its ArrayBuffer is larger
  // than Buffer.poolSize on some versions), so ask Node rather than compare sizes.
  return b.byteLength >= MIN_TRANSFER_BYTES && !isMarkedAsUntransferable(b) ? [b] : [];
}

function dnssecArrays(p: ZoneParts): ArrayBufferView[] {
  const d = p.dnssec;
  return [d.sigFirst, d.sigCovered, d.sigStart, d.sigEnd, d.sigData, d.nsecOrder, d.nsec3Order];
}
