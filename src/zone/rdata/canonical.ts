// The canonical form of RDATA (RFC 4034 §6.2), used to compare and sort records: loading, printing,
// patching and ZONEMD digests need it; the query path does not.

import { lowerByte } from '../name.js';
import { descriptorFor } from './table.js';
import { walkRdata } from './walk.js';

/**
 * RFC 4034 §6.2 canonical RDATA: names of the types listed there (as narrowed by RFC 6840 §5.1,
 * which drops NSEC's next name) lower-cased. Returns `rdata` itself when nothing changes.
 */
export function canonicalRdata(type: number, rdata: Buffer): Buffer {
  const d = descriptorFor(type);
  if (!d) return rdata;
  let out = rdata;
  walkRdata(d.wire, rdata, (offset, length, kind) => {
    if (kind === 'fixed-name') return;
    for (let i = offset; i < offset + length; ) {
      const len = rdata[i]!;
      for (let j = i + 1; j <= i + len; j++) {
        const c = rdata[j]!;
        const l = lowerByte(c);
        if (l !== c) {
          if (out === rdata) out = Buffer.from(rdata);
          out[j] = l;
        }
      }
      i += len + 1;
    }
  });
  return out;
}
