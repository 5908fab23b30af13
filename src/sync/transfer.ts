// Which of a zone's buffers to transfer rather than copy when it moves between threads.
import type { ZoneParts } from '../zone/zone.js';

/** Below this, copying costs nothing worth saving, and small Buffers may share Node's pool, which must not be detached. */
const MIN_TRANSFER_BYTES = 64 * 1024;

export function transferables(p: ZoneParts): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  for (const a of [p.names.names, p.names.offsets, p.names.slots, p.flags, p.firstSet, p.setType, p.setTtl, p.setOffset, p.data, ...dnssecArrays(p)]) {
    const b = a.buffer;
    if (b instanceof ArrayBuffer && b.byteLength >= MIN_TRANSFER_BYTES) seen.add(b);
  }
  return [...seen];
}

function dnssecArrays(p: ZoneParts): ArrayBufferView[] {
  const d = p.dnssec;
  return [d.sigFirst, d.sigCovered, d.sigStart, d.sigEnd, d.sigData, d.nsecOrder, d.nsec3Order];
}
