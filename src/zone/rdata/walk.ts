// Walking wire RDATA by its descriptor's blocks: where the embedded names are (for the response
// encoder's compression and for deduplication) and the canonical form used to compare records.

import type { WireBlock } from './descriptor.js';
import { lowerByte, wireNameLength } from '../name.js';
import { descriptorFor } from './table.js';

export type NameKind = 'compressible-name' | 'decompressible-name' | 'fixed-name';

/**
 * Calls `onName(offset, length, kind)` for each embedded name of the RDATA `rdata[start, end)` laid out
 * as `wire`; offsets are into `rdata`. Returns false when the RDATA does not fit the layout (then some
 * names may already have been visited).
 */
export function walkRdata(
  wire: readonly WireBlock[],
  rdata: Uint8Array,
  onName: (offset: number, length: number, kind: NameKind) => void,
  start = 0,
  end = rdata.length,
): boolean {
  let at = start;
  for (let i = 0; i < wire.length; i++) {
    const block = wire[i]!;
    if (typeof block === 'number') {
      at += block;
      if (at > end) return false;
      continue;
    }
    switch (block) {
      case 'compressible-name':
      case 'decompressible-name':
      case 'fixed-name': {
        const len = wireNameLength(rdata, at);
        if (len < 0 || at + len > end) return false;
        onName(at, len, block);
        at += len;
        break;
      }
      case 'naptr': {
        // RFC 3403 §4.1: order, preference, then flags, services and regexp character-strings.
        at += 4;
        for (let k = 0; k < 3; k++) {
          if (at >= end) return false;
          at += 1 + rdata[at]!;
        }
        if (at > end) return false;
        break;
      }
      case 'rest':
        return true;
    }
  }
  return at === end;
}

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
