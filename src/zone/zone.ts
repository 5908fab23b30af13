// The compiled, immutable zone: what the loader builds once and the answer algorithm reads.
// Names are keys (see name.ts); RDATA is wire bytes rendered at load. Empty non-terminals are real
// nodes and node flags are computed once, so nothing is inferred at query time.

import { keyToText, keyToWire, nameKey, parentKey } from './name.js';
import { NameTable, type NameTableParts } from './name-table.js';
import { DnssecIndex, type DnssecParts } from './dnssec-index.js';

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
 * An RRset of a loaded zone, as handed to the query path: a view of the zone's data buffer, whose
 * records are `[RDLENGTH][RDATA]...` in wire form, which the encoder copies without decoding.
 * `rdatas` decodes on demand (cold paths); `targets` is decoded once, when asked.
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

export interface ZoneNode {
  readonly key: string;
  /** The node's name, wire form, lower-case. Derived from `key` and allocates: hot paths write `key` with `latin1Write`. */
  readonly name: Buffer;
  readonly flags: number;
  /** Sorted by type. Empty for an empty non-terminal. Allocates: the query path uses findRRset. */
  readonly rrsets: readonly RRset[];
  /** The RRset of this type, or undefined. */
  find(type: number): RRset | undefined;
}

/** The nodes of a zone by key, ENTs included. */
export interface NodeTable {
  get(key: string): ZoneNode | undefined;
  has(key: string): boolean;
  values(): IterableIterator<ZoneNode>;
  readonly size: number;
}

export interface Zone {
  readonly origin: string; // key of the apex
  readonly originText: string; // presentation form, e.g. "example.com."
  readonly apex: ZoneNode;
  readonly soa: RRset;
  readonly serial: number;
  /** TTL of the SOA in negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 §3). */
  readonly negativeTtl: number;
  readonly nodes: NodeTable;
  /** Number of records (after duplicates are dropped). */
  readonly recordCount: number;
  /** The file the zone was read from. */
  readonly file: string;
  /** Signatures by covered type and the NSEC/NSEC3 chains in order, for DO queries (absent: serve no DNSSEC). */
  readonly dnssec?: DnssecIndex;
}

export function findRRset(node: ZoneNode, type: number): RRset | undefined {
  return node.find(type);
}

/** The typed-array form a zone is built into (see CompactZone). */
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

/** A CompactZone's content as typed arrays and plain values (see CompactZone.parts). */
export interface ZoneParts {
  origin: string;
  recordCount: number;
  file: string;
  names: NameTableParts;
  flags: Uint8Array;
  firstSet: Uint32Array;
  setType: Uint16Array;
  setTtl: Uint32Array;
  setOffset: Uint32Array;
  data: Uint8Array;
  dnssec: DnssecParts;
}

/**
 * A compiled zone held as typed arrays and byte arenas: names in a hashed arena, flags, RRset types,
 * TTLs and offsets in typed arrays, records in one data buffer. Every POP holds every zone, and a
 * heap of a few large arrays costs the garbage collector almost nothing to trace, where an object
 * per name and per RRset made full collections of a million-record zone take hundreds of ms.
 * Nodes and RRsets are handed out as small view objects made on demand.
 */
export class CompactZone implements Zone, NodeTable {
  readonly originText: string;
  readonly apex: ZoneNode;
  readonly soa: RRset;
  readonly serial: number;
  readonly negativeTtl: number;
  readonly dnssec: DnssecIndex;
  constructor(
    readonly origin: string,
    private readonly t: ZoneTables,
    readonly recordCount: number,
    readonly file: string,
    dnssec?: DnssecParts,
  ) {
    this.originText = keyToText(origin);
    this.apex = this.get(origin)!;
    this.soa = this.apex.find(6)!;
    const soaData = this.soa.rdatas[0]!;
    this.serial = soaData.readUInt32BE(soaData.length - 20);
    this.negativeTtl = Math.min(this.soa.ttl, soaData.readUInt32BE(soaData.length - 4));
    // Derived at load (here, where the zone is compiled), and carried in parts() to the threads that serve it.
    this.dnssec = dnssec === undefined ? DnssecIndex.build(t, origin) : DnssecIndex.fromParts(dnssec, t, origin);
  }

  /**
   * The zone as plain typed arrays, for a zone loaded in a worker thread or sent to a worker process.
   * Structured clone keeps them typed arrays; fromParts uses them without copying.
   */
  parts(): ZoneParts {
    const t = this.t;
    return {
      origin: this.origin,
      recordCount: this.recordCount,
      file: this.file,
      names: t.names.parts(),
      flags: t.flags,
      firstSet: t.firstSet,
      setType: t.setType,
      setTtl: t.setTtl,
      setOffset: t.setOffset,
      data: t.data,
      dnssec: this.dnssec.parts(),
    };
  }

  static fromParts(p: ZoneParts): CompactZone {
    const data = Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength);
    const tables: ZoneTables = {
      names: NameTable.fromParts(p.names),
      flags: p.flags,
      firstSet: p.firstSet,
      setType: p.setType,
      setTtl: p.setTtl,
      setOffset: p.setOffset,
      data,
    };
    return new CompactZone(p.origin, tables, p.recordCount, p.file, p.dnssec);
  }

  get nodes(): NodeTable {
    return this;
  }

  get size(): number {
    return this.t.names.count;
  }

  get(key: string): ZoneNode | undefined {
    const id = this.t.names.find(key);
    return id < 0 ? undefined : new NodeView(this.t, id, key);
  }

  has(key: string): boolean {
    return this.t.names.find(key) >= 0;
  }

  *values(): IterableIterator<ZoneNode> {
    for (let id = 0; id < this.t.names.count; id++) yield new NodeView(this.t, id, this.t.names.keyOf(id));
  }
}

class NodeView implements ZoneNode {
  constructor(
    private readonly t: ZoneTables,
    private readonly id: number,
    readonly key: string,
  ) {}

  get name(): Buffer {
    return keyToWire(this.key);
  }

  get flags(): number {
    return this.t.flags[this.id]!;
  }

  get rrsets(): RRset[] {
    const out: RRset[] = [];
    for (let s = this.t.firstSet[this.id]!; s < this.t.firstSet[this.id + 1]!; s++) out.push(this.set(s));
    return out;
  }

  find(type: number): RRset | undefined {
    const t = this.t;
    for (let s = t.firstSet[this.id]!, end = t.firstSet[this.id + 1]!; s < end; s++) if (t.setType[s] === type) return this.set(s);
    return undefined;
  }

  private set(s: number): WireRRset {
    const t = this.t;
    return new WireRRset(t.setType[s]!, t.setTtl[s]!, t.data, t.setOffset[s]!, t.setOffset[s + 1]!);
  }
}

/**
 * The zones served, keyed by origin: an immutable snapshot replaced whole on reload.
 * Each zone keeps its own tree (no shared name table): `test. A` is NXDOMAIN in the root zone even
 * when a `tricky.test` zone is also served.
 */
export class ZoneSet {
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
}
