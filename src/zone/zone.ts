// The compiled, immutable zone: what the loader builds once and the answer algorithm reads.
// Names are keys (see name.ts); RDATA is wire bytes rendered at load. Empty non-terminals are real
// nodes and node flags are computed once, so nothing is inferred at query time.

import { nameKey, parentKey } from './name.js';

export const enum NodeFlag {
  /** The zone apex. */
  Apex = 1,
  /** A zone cut: NS at a non-apex node (RFC 1034 §4.2.1). */
  Delegation = 2,
  /** Strictly below a zone cut or a DNAME: occluded data, served only as glue. */
  BelowCut = 4,
  /** The node has a `*` child (RFC 4592 source of synthesis). */
  WildcardChild = 8,
  /** The node owns a DNAME RRset (RFC 6672). */
  DName = 16,
  /** An empty non-terminal: exists only because names below it do (RFC 4592 §2.2.2). */
  EmptyNonTerminal = 32,
}

export interface RRset {
  readonly type: number;
  readonly ttl: number;
  /** Wire RDATA of each record, uncompressed, in the order read (duplicates removed). */
  readonly rdatas: readonly Buffer[];
  /** For NS, MX, SRV, CNAME and DNAME: the key of each record's target name, in `rdatas` order (chains, additional-section processing). */
  readonly targets?: readonly string[];
}

/**
 * A loaded RRset, kept compact: its records are one latin1 string of `[RDLENGTH][RDATA]...` in wire
 * form (a string costs a fraction of a Buffer per record, and a million-record zone is held at every
 * POP). `rdatas` decodes on demand (cold paths); the encoder splices `data` directly, and the target
 * keys the answer algorithm follows are computed once, when the zone is built.
 */
export class WireRRset implements RRset {
  targets: readonly string[] | undefined = undefined;

  constructor(
    readonly type: number,
    readonly ttl: number,
    /** `[RDLENGTH u16][RDATA]` per record, latin1 (one char per octet). */
    public data: string,
  ) {}

  /** Computes `targets` for the types that have them; call once the RRset is complete. */
  resolveTargets(): void {
    const off = targetOffset(this.type);
    if (off >= 0) this.targets = this.rdatas.map((r) => nameKey(r, off));
  }

  get count(): number {
    let n = 0;
    for (let p = 0; p < this.data.length; p += 2 + ((this.data.charCodeAt(p) << 8) | this.data.charCodeAt(p + 1))) n++;
    return n;
  }

  get rdatas(): Buffer[] {
    const out: Buffer[] = [];
    const d = this.data;
    for (let p = 0; p < d.length; ) {
      const len = (d.charCodeAt(p) << 8) | d.charCodeAt(p + 1);
      out.push(Buffer.from(d.substring(p + 2, p + 2 + len), 'latin1'));
      p += 2 + len;
    }
    return out;
  }

}

/** Where the target name starts in NS, CNAME, MX, SRV and DNAME RDATA (RFC 1035 §3.3, RFC 2782, RFC 6672); -1 for other types. */
export function targetOffset(type: number): number {
  switch (type) {
    case 2: // NS
    case 5: // CNAME
    case 39: // DNAME
      return 0;
    case 15: // MX
      return 2;
    case 33: // SRV
      return 6;
    default:
      return -1;
  }
}

const recordScratch = Buffer.allocUnsafe(2 + 0xffff);

/** One record's `[RDLENGTH][RDATA]` as latin1, the unit of WireRRset.data: one flat string, not a concatenation. */
export function wireRecord(rdata: Buffer): string {
  recordScratch.writeUInt16BE(rdata.length, 0);
  rdata.copy(recordScratch, 2);
  return recordScratch.toString('latin1', 0, 2 + rdata.length);
}

export interface ZoneNode {
  readonly key: string;
  /** The node's name, wire form, lower-case. Derived from `key` and allocates: hot paths write `key` with `latin1Write`. */
  readonly name: Buffer;
  flags: number;
  /** Sorted by type. Empty for an empty non-terminal. */
  readonly rrsets: RRset[];
}

export interface Zone {
  readonly origin: string; // key of the apex
  readonly originText: string; // presentation form, e.g. "example.com."
  readonly apex: ZoneNode;
  readonly soa: RRset;
  readonly serial: number;
  /** TTL of the SOA in negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §3). */
  readonly negativeTtl: number;
  /** All nodes, ENTs included, by key. */
  readonly nodes: ReadonlyMap<string, ZoneNode>;
  /** Number of records (after duplicates are dropped). */
  readonly recordCount: number;
  /** The file the zone was read from. */
  readonly file: string;
  /** A number unique to this load in this process: caches key on it so a reload never serves stale bytes. */
  readonly generation: number;
}

export function findRRset(node: ZoneNode, type: number): RRset | undefined {
  const sets = node.rrsets;
  for (let i = 0; i < sets.length; i++) if (sets[i]!.type === type) return sets[i];
  return undefined;
}

let nextGeneration = 1;
export function newGeneration(): number {
  return nextGeneration++;
}

/**
 * The zones served, keyed by origin: an immutable snapshot replaced whole on reload.
 * Each zone keeps its own tree (no shared name table): `test. A` is NXDOMAIN in the root zone even
 * when a `tricky.test` zone is also served.
 */
export class ZoneSet {
  /** Unique to this snapshot: response caches key on it. */
  readonly generation = newGeneration();
  constructor(readonly zones: ReadonlyMap<string, Zone>) {}

  /** The most specific zone that contains `key`, or undefined. */
  find(key: string): Zone | undefined {
    let k: string | null = key;
    while (k !== null) {
      const z = this.zones.get(k);
      if (z) return z;
      k = parentKey(k);
    }
    return undefined;
  }

  /** A new set with `zone` added or replaced (by origin). */
  with(zone: Zone): ZoneSet {
    const m = new Map(this.zones);
    m.set(zone.origin, zone);
    return new ZoneSet(m);
  }

  /** A new set without the zone at `origin`. */
  without(origin: string): ZoneSet {
    const m = new Map(this.zones);
    m.delete(origin);
    return new ZoneSet(m);
  }
}
