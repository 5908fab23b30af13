// The compiled, immutable zone: what the loader builds once and the answer algorithm reads.
// Names are keys (see name.ts); RDATA is wire bytes rendered at load. Empty non-terminals are real
// nodes and node flags are computed once, so nothing is inferred at query time.

import { MAX_NAME_LENGTH, keyFromText, keyToText, keyToWire, lowerByte, nameKey } from './name.js';
import { hashBytes, hashKey, NameTable, type NameTableParts } from './name-table.js';
import { DnssecIndex, type DnssecParts } from './dnssec-index.js';
import { hasAddressTargets, targetOffset, WireRRset, type RRset, type ZoneTables } from './rrset.js';
import { T } from './types.js';

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

  // The query side: nodes and RRsets by number, read from the zone's arrays without allocating.
  /** The id of the node whose key is `key` from offset `start` (a label boundary), or -1. */
  nodeId(key: string, start?: number): number;
  nodeFlags(node: number): number;
  /** The key of `node` (allocates: for names that go into a response). */
  nodeKey(node: number): string;
  /** The id of `node`'s RRset of `type`, or -1. */
  setOf(node: number, type: number): number;
  /** `node`'s RRsets are the ids firstSetOf(node) .. firstSetOf(node + 1) - 1, sorted by type. */
  firstSetOf(node: number): number;
  setType(set: number): number;
  /** RRset `set` as the view an answer plan holds. */
  rrset(set: number): WireRRset;
  /** The key of the target of the first record of a CNAME or DNAME RRset. */
  firstTargetKey(set: number): string;
  /** How many records of an NS, MX or SRV RRset name a target (0 for other types). */
  targetCount(set: number): number;
  /** The node id, in this zone, of the target of record `i` of an NS, MX or SRV RRset, or -1. */
  targetNode(set: number, i: number): number;
}

/** The typed-array form a zone is built into (see CompactZone). */
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
  /** Null for an unsigned zone: eight empty arrays less to post and receive, per zone and per thread. */
  dnssec: DnssecParts | null;
  /** Glue targets, every one resolved (see CompactZone.targetFirst). */
  targetFirst: Uint32Array;
  targets: Int32Array;
}

/**
 * A compiled zone held as typed arrays and byte arenas: names in a hashed arena, flags, RRset types,
 * TTLs and offsets in typed arrays, records in one data buffer. Every POP holds every zone, and a
 * heap of a few large arrays costs the garbage collector almost nothing to trace, where an object
 * per name and per RRset made full collections of a million-record zone take hundreds of ms.
 * The query side reads nodes and RRsets by id; cold paths (printing, ZONEMD, checks) get small view
 * objects made on demand.
 */
export class CompactZone implements Zone, NodeTable {
  readonly originText: string;
  readonly soa: WireRRset;
  readonly serial: number;
  readonly negativeTtl: number;
  readonly dnssec: DnssecIndex;
  /**
   * Target node ids of NS, MX and SRV RRsets: the targets of set `s` are
   * `targets[targetFirst[s], targetFirst[s + 1])`. Built with the zone, they are resolved once per
   * RRset on first use (UNRESOLVED until then), and all of them by parts(), so a zone served from
   * parts (every thread's, over the same shared memory) only reads them. Typed arrays, so a query
   * never decodes a name or allocates to find its glue.
   */
  private readonly targetFirst: Uint32Array;
  private readonly targets: Int32Array;
  constructor(
    readonly origin: string,
    private readonly t: ZoneTables,
    readonly recordCount: number,
    readonly file: string,
    /** The index's parts (null: unsigned), or undefined to build it from the tables. */
    dnssec?: DnssecParts | null,
    targets?: { first: Uint32Array; ids: Int32Array },
  ) {
    this.originText = keyToText(origin);
    const soaSet = this.setOf(this.t.names.find(origin), T.SOA);
    this.soa = this.rrset(soaSet);
    if (targets !== undefined) {
      this.targetFirst = targets.first;
      this.targets = targets.ids;
    } else {
      const sets = t.setType.length;
      this.targetFirst = new Uint32Array(sets + 1);
      let n = 0;
      for (let s = 0; s < sets; s++) {
        this.targetFirst[s] = n;
        if (hasAddressTargets(t.setType[s]!)) for (let p = t.setOffset[s]!; p < t.setOffset[s + 1]!; p += 2 + t.data.readUInt16BE(p)) n++;
      }
      this.targetFirst[sets] = n;
      this.targets = new Int32Array(n).fill(UNRESOLVED);
    }
    const soaData = this.soa.rdatas[0]!;
    this.serial = soaData.readUInt32BE(soaData.length - 20);
    this.negativeTtl = Math.min(this.soa.ttl, soaData.readUInt32BE(soaData.length - 4));
    // Derived at load (here, where the zone is compiled), and carried in parts() to the threads that serve it.
    this.dnssec = dnssec === undefined ? DnssecIndex.build(t, origin) : DnssecIndex.fromParts(dnssec, t, origin);
  }

  /**
   * The zone as plain typed arrays, for a zone loaded in a loader thread and served by query threads.
   * Structured clone keeps them typed arrays; fromParts uses them without copying.
   */
  parts(): ZoneParts {
    const t = this.t;
    for (let s = 0; s < t.setType.length; s++) {
      const first = this.targetFirst[s]!;
      if (first < this.targetFirst[s + 1]! && this.targets[first] === UNRESOLVED) this.resolveTargets(s, first);
    }
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
      dnssec: this.dnssec.signed ? this.dnssec.parts() : null,
      targetFirst: this.targetFirst,
      targets: this.targets,
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
    return new CompactZone(p.origin, tables, p.recordCount, p.file, p.dnssec, { first: p.targetFirst, ids: p.targets });
  }

  /** Made when asked (checks, printing): the query path reads nodes by id, and a POP holds 100,000 zones. */
  get apex(): ZoneNode {
    return this.get(this.origin)!;
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

  nodeId(key: string, start = 0): number {
    return this.t.names.find(key, start);
  }

  nodeFlags(node: number): number {
    return this.t.flags[node]!;
  }

  nodeKey(node: number): string {
    return this.t.names.keyOf(node);
  }

  setOf(node: number, type: number): number {
    const t = this.t;
    for (let s = t.firstSet[node]!, end = t.firstSet[node + 1]!; s < end; s++) if (t.setType[s] === type) return s;
    return -1;
  }

  firstSetOf(node: number): number {
    return this.t.firstSet[node]!;
  }

  setType(set: number): number {
    return this.t.setType[set]!;
  }

  rrset(set: number): WireRRset {
    const t = this.t;
    return new WireRRset(t.setType[set]!, t.setTtl[set]!, t.data, t.setOffset[set]!, t.setOffset[set + 1]!);
  }

  firstTargetKey(set: number): string {
    const t = this.t;
    return nameKey(t.data, t.setOffset[set]! + 2 + targetOffset(t.setType[set]!));
  }

  targetCount(set: number): number {
    return this.targetFirst[set + 1]! - this.targetFirst[set]!;
  }

  targetNode(set: number, i: number): number {
    const first = this.targetFirst[set]!;
    if (this.targets[first] === UNRESOLVED) this.resolveTargets(set, first);
    return this.targets[first + i]!;
  }

  /** Looks up the targets of one RRset, lower-cased (RDATA keeps the zone file's case), in this zone's names. */
  private resolveTargets(set: number, first: number): void {
    const t = this.t;
    const off = targetOffset(t.setType[set]!);
    const name = TARGET_NAME;
    for (let p = t.setOffset[set]!, i = first; p < t.setOffset[set + 1]!; p += 2 + t.data.readUInt16BE(p), i++) {
      let o = 0;
      for (let q = p + 2 + off; ; ) {
        const len = t.data[q]!;
        name[o++] = len;
        if (len === 0) break;
        for (const end = q + len; q < end; ) name[o++] = lowerByte(t.data[++q]!);
        q++;
      }
      this.targets[i] = t.names.findBytes(name, 0, o);
    }
  }
}

/** Scratch for a target name being looked up (one per thread, not per zone: a POP holds 100,000 zones). */
const TARGET_NAME = Buffer.allocUnsafe(256);

/** A target not looked up yet (resolved ids are -1 for "not in this zone" or a node id). */
export const UNRESOLVED = -2;

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
 * The zones served, keyed by origin. Zone sync swaps changed zones in with apply(), each zone whole:
 * a query is answered in one turn of the event loop, so it sees one version of each zone, and a swap
 * costs what it changes, not what is served.
 * Each zone keeps its own tree (no shared name table): `test. A` is NXDOMAIN in the root zone even
 * when a `tricky.test` zone is also served.
 */
export class ZoneSet {
  /** Whether the zones are still being loaded at start-up: a name in none of them may be in one not loaded yet. */
  loading = false;
  /** Origins of secondary zones past their expire time (RFC 1034 §4.3.5): their names are answered SERVFAIL. */
  readonly expired = new Set<string>();
  private readonly map: Map<string, Zone>;
  /** Origins served per key length: only suffixes of these lengths can name a zone. */
  private readonly originLengths = new Uint32Array(MAX_NAME_LENGTH + 1);
  /** Origins by the hash of their key, so a wire name is matched without making a string of it. */
  private readonly byHash = new Map<number, string | string[]>();

  constructor(zones: ReadonlyMap<string, Zone>) {
    this.map = new Map(zones);
    for (const origin of zones.keys()) this.index(origin);
  }

  get zones(): ReadonlyMap<string, Zone> {
    return this.map;
  }

  /** Swaps in each change: a zone under its origin, or null to stop serving the origin (presentation form). */
  apply(changes: Iterable<{ origin: string; zone: Zone | null; expired?: boolean | undefined }>): void {
    for (const c of changes) {
      const key = c.zone?.origin ?? keyFromText(c.origin, null);
      if (c.zone !== null && c.expired === true) this.expired.add(key);
      else this.expired.delete(key);
      if (c.zone !== null) {
        if (!this.map.has(key)) this.index(key);
        this.map.set(key, c.zone);
      } else if (this.map.delete(key)) {
        this.unindex(key);
      }
    }
  }

  private index(origin: string): void {
    if (origin.length > MAX_NAME_LENGTH) return;
    this.originLengths[origin.length]!++;
    const h = hashKey(origin);
    const at = this.byHash.get(h);
    this.byHash.set(h, at === undefined ? origin : typeof at === 'string' ? [at, origin] : [...at, origin]);
  }

  private unindex(origin: string): void {
    if (origin.length > MAX_NAME_LENGTH) return;
    this.originLengths[origin.length]!--;
    const h = hashKey(origin);
    const at = this.byHash.get(h);
    const rest = typeof at === 'string' || at === undefined ? [] : at.filter((o) => o !== origin);
    if (rest.length === 0) this.byHash.delete(h);
    else this.byHash.set(h, rest.length === 1 ? rest[0]! : rest);
  }

  /**
   * Whether a zone served has its origin at the lower-cased wire name `name[start, end)` or at a
   * suffix of it that begins at or before `suffixAt` (on a label boundary): a zone that holds the name
   * and is at least as specific as the suffix `name[suffixAt, end)`.
   */
  originAtOrBelow(name: Uint8Array, start: number, end: number, suffixAt: number): boolean {
    for (let i = start; i <= suffixAt; i += name[i]! + 1) {
      if (this.originLengths[end - i] === 0) continue;
      const at = this.byHash.get(hashBytes(name, i, end));
      if (at === undefined) continue;
      if (typeof at === 'string' ? sameKey(at, name, i, end) : at.some((o) => sameKey(o, name, i, end))) return true;
    }
    return false;
  }

  /** The most specific zone that contains `key`, or undefined. */
  find(key: string): Zone | undefined {
    // Suffixes on label boundaries, longest first; a map look-up (and its substring) only where an origin could be.
    for (let i = 0; i < key.length; i += key.charCodeAt(i) + 1) {
      if (this.originLengths[key.length - i] === 0) continue;
      const z = this.map.get(i === 0 ? key : key.substring(i));
      if (z) return z;
    }
    return undefined;
  }
}

/** Whether `key` holds the octets `name[start, end)`. */
function sameKey(key: string, name: Uint8Array, start: number, end: number): boolean {
  if (key.length !== end - start) return false;
  for (let j = 0; j < key.length; j++) if (key.charCodeAt(j) !== name[start + j]) return false;
  return true;
}
