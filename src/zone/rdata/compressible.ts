// RFC 3597 §4: names inside RDATA are compressed only in the RFC 1035 types (all numbered below 16),
// and these are the ones with names, by layout. They stand apart from the type table so that the
// response encoder, and so each query thread, loads these few entries and not every type's
// presentation code. The descriptors in core.ts give the same layouts (a test holds them equal).

import type { WireBlock } from './descriptor.js';

const NAME: readonly WireBlock[] = ['compressible-name'];

export const COMPRESSIBLE_LAYOUTS: ReadonlyMap<number, readonly WireBlock[]> = new Map([
  [2, NAME], // NS
  [3, NAME], // MD
  [4, NAME], // MF
  [5, NAME], // CNAME
  [6, ['compressible-name', 'compressible-name', 20]], // SOA
  [7, NAME], // MB
  [8, NAME], // MG
  [9, NAME], // MR
  [12, NAME], // PTR
  [14, ['compressible-name', 'compressible-name']], // MINFO
  [15, [2, 'compressible-name']], // MX
]);
