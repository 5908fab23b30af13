// RRsets of a compiled zone and the typed arrays they are views of: the zone (zone.ts) and its DNSSEC
// index (dnssec-index.ts) both read them.

import { nameKey } from './name.js';
import type { NameTable } from './name-table.js';
import { T } from './types.js';

export interface RRset {
  readonly type: number;
  readonly ttl: number;
  /** Wire RDATA of each record, uncompressed, in the order read (duplicates removed). */
  readonly rdatas: readonly Buffer[];
  /** For NS, MX, SRV, CNAME and DNAME: the key of each record's target name, in `rdatas` order (decoded when asked: the query path reads targets by node id, see Zone.targetNode). */
  readonly targets?: readonly string[];
}

/**
 * An RRset of a loaded zone, as an answer plan holds it: a view of the zone's data buffer, whose
 * records are `[RDLENGTH][RDATA]...` in wire form, which the encoder copies without decoding.
 * `rdatas` and `targets` decode on demand, for cold paths and tests; the query path never asks.
 */
export class WireRRset implements RRset {
  private targetKeys: readonly string[] | undefined = undefined;

  constructor(
    readonly type: number,
    readonly ttl: number,
    /** The zone's data buffer; this RRset's records are `src[start, end)`. */
    readonly src: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}

  get rdatas(): Buffer[] {
    const out: Buffer[] = [];
    for (let p = this.start; p < this.end; ) {
      const len = this.src.readUInt16BE(p);
      out.push(Buffer.from(this.src.subarray(p + 2, p + 2 + len)));
      p += 2 + len;
    }
    return out;
  }

  get targets(): readonly string[] | undefined {
    if (this.targetKeys === undefined) {
      const off = targetOffset(this.type);
      if (off < 0) return undefined;
      const keys: string[] = [];
      for (let p = this.start; p < this.end; p += 2 + this.src.readUInt16BE(p)) keys.push(nameKey(this.src, p + 2 + off));
      this.targetKeys = keys;
    }
    return this.targetKeys;
  }
}

/** NS, MX and SRV: the types whose targets get additional addresses (RFC 1035 §3.3.9, §3.3.11, RFC 2782). */
export function hasAddressTargets(type: number): boolean {
  return type === T.NS || type === T.MX || type === T.SRV;
}

/** Where the target name starts in NS, CNAME, MX, SRV and DNAME RDATA (RFC 1035 §3.3, RFC 2782, RFC 6672); -1 for other types. */
export function targetOffset(type: number): number {
  switch (type) {
    case T.NS:
    case T.CNAME:
    case T.DNAME:
      return 0;
    case T.MX:
      return 2;
    case T.SRV:
      return 6;
    default:
      return -1;
  }
}

export interface ZoneTables {
  names: NameTable;
  flags: Uint8Array;
  /** RRsets of node `i` are `firstSet[i] .. firstSet[i + 1] - 1`, sorted by type. */
  firstSet: Uint32Array;
  setType: Uint16Array;
  setTtl: Uint32Array;
  /** Records of set `s` are `data[setOffset[s], setOffset[s + 1])`, as `[RDLENGTH][RDATA]...`. */
  setOffset: Uint32Array;
  data: Buffer;
}
