// Walking wire RDATA by a layout's blocks: where the embedded names are (for the response encoder's
// compression and for the canonical form, canonical.ts). It needs no type table, so the query path
// can walk without loading the presentation code of every type.

import type { WireBlock } from './descriptor.js';
import { wireNameLength } from '../name.js';

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
