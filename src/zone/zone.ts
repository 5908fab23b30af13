// The compiled, immutable zone: what the loader builds once and the answer algorithm reads.
// Names are keys (see name.ts); RDATA is wire bytes rendered at load. Empty non-terminals are real
// nodes and node flags are computed once, so nothing is inferred at query time.

import { MAX_NAME_LENGTH, keyFromText, keyToText, keyToWire, lowerByte, nameKey } from './name.js';
import { hashBytes, hashKey, NameTable, type NameTableParts } from './name-table.js';
import { DnssecIndex, type DnssecParts } from './dnssec-index.js';
import { hasAddressTargets, targetOffset, WireRRset, type RRset, type ZoneTables } from './rrset.js';
import { T } from './types.js';
import { located } from './located.js';

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

/** A zone's arrays, each with the index where the zone's part of it begins (see CompactZone). */
interface ZoneArrays {
  names: NameTable;
  /** How many RRsets. */
  sets: number;
  flags: Uint8Array;
  flagsAt: number;
  firstSet: Uint32Array;
  firstSetAt: number;
  setType: Uint16Array;
  setTypeAt: number;
  setTtl: Uint32Array;
  setTtlAt: number;
  setOffset: Uint32Array;
  setOffsetAt: number;
  data: Buffer;
  dataAt: number;
  targetFirst: Uint32Array;
  targetFirstAt: number;
  targets: Int32Array;
  targetsAt: number;
}

/**
 * A compiled zone held as typed arrays and byte arenas: names in a hashed arena, flags, RRset types,
 * TTLs and offsets in typed arrays, records in one data buffer. Every POP holds every zone, and a
 * heap of a few large arrays costs the garbage collector almost nothing to trace, where an object
 * per name and per RRset made full collections of a million-record zone take hundreds of ms.
 * A zone served from parts reads its arrays through the views of the whole shared buffer its batch
 * was packed into (one per element type, see located), at its own offsets: a small zone then holds
 * no typed-array view of its own, where a dozen of them cost more than its records.
 * The query side reads nodes and RRsets by id; cold paths (printing, ZONEMD, checks) get small view
 * objects made on demand.
 */
export class CompactZone implements Zone, NodeTable {
  readonly originText: string;
  /** The apex SOA's RRset id: its view is made when asked (negative answers keep the last one). */
  private readonly soaSet: number;
  readonly serial: number;
  readonly negativeTtl: number;
  readonly dnssec: DnssecIndex;
  private readonly names: NameTable;
  private readonly sets: number;
  /** Node `i`'s flags are `flags[flagsAt + i]`; each array below is read the same way, from its own `…At`. */
  private readonly flags: Uint8Array;
  private readonly flagsAt: number;
  /** RRsets of node `i` are `firstSet[i] .. firstSet[i + 1] - 1`, sorted by type. */
  private readonly firstSet: Uint32Array;
  private readonly firstSetAt: number;
  private readonly types: Uint16Array;
  private readonly typesAt: number;
  private readonly ttls: Uint32Array;
  private readonly ttlsAt: number;
  /** Records of set `s` are `[RDLENGTH][RDATA]...` at `data[dataAt + setOffset[s], dataAt + setOffset[s + 1])`. */
  private readonly setOffset: Uint32Array;
  private readonly setOffsetAt: number;
  private readonly data: Buffer;
  private readonly dataAt: number;
  /**
   * Target node ids of NS, MX and SRV RRsets: the targets of set `s` are
   * `targets[targetFirst[s], targetFirst[s + 1])`. Built with the zone, they are resolved once per
   * RRset on first use (UNRESOLVED until then), and all of them by parts(), so a zone served from
   * parts (every thread's, over the same shared memory) only reads them. Typed arrays, so a query
   * never decodes a name or allocates to find its glue.
   */
  private readonly targetFirst: Uint32Array;
  private readonly targetFirstAt: number;
  private readonly targets: Int32Array;
  private readonly targetsAt: number;

  private constructor(
    readonly origin: string,
    a: ZoneArrays,
    readonly recordCount: number,
    readonly file: string,
    /** The index's parts (null: unsigned), or undefined to build it from `tables`. */
    dnssec: DnssecParts | null | undefined,
    tables?: ZoneTables,
  ) {
    this.names = a.names;
    this.sets = a.sets;
    this.flags = a.flags;
    this.flagsAt = a.flagsAt;
    this.firstSet = a.firstSet;
    this.firstSetAt = a.firstSetAt;
    this.types = a.setType;
    this.typesAt = a.setTypeAt;
    this.ttls = a.setTtl;
    this.ttlsAt = a.setTtlAt;
    this.setOffset = a.setOffset;
    this.setOffsetAt = a.setOffsetAt;
    this.data = a.data;
    this.dataAt = a.dataAt;
    this.targetFirst = a.targetFirst;
    this.targetFirstAt = a.targetFirstAt;
    this.targets = a.targets;
    this.targetsAt = a.targetsAt;
    this.originText = keyToText(origin);
    this.soaSet = this.setOf(this.names.find(origin), T.SOA);
    // RFC 1035 §3.3.13: SERIAL is 20 octets from the end of the RDATA, MINIMUM the last 4.
    const soaEnd = this.dataAt + this.setOffset[this.setOffsetAt + this.soaSet + 1]!;
    this.serial = this.data.readUInt32BE(soaEnd - 20);
    this.negativeTtl = Math.min(this.ttls[this.ttlsAt + this.soaSet]!, this.data.readUInt32BE(soaEnd - 4));
    // Derived at load (here, where the zone is compiled), and carried in parts() to the threads that serve it.
    this.dnssec = dnssec === undefined ? DnssecIndex.build(tables!, origin) : DnssecIndex.fromParts(dnssec, () => this.zoneData(), this.names, origin);
  }

  /** A zone just compiled from its tables (build.ts). */
  static compiled(origin: string, t: ZoneTables, recordCount: number, file: string): CompactZone {
    const sets = t.setType.length;
    const targetFirst = new Uint32Array(sets + 1);
    let n = 0;
    for (let s = 0; s < sets; s++) {
      targetFirst[s] = n;
      if (hasAddressTargets(t.setType[s]!)) for (let p = t.setOffset[s]!; p < t.setOffset[s + 1]!; p += 2 + t.data.readUInt16BE(p)) n++;
    }
    targetFirst[sets] = n;
    const targets = new Int32Array(n).fill(UNRESOLVED);
    const arrays: ZoneArrays = {
      names: t.names,
      sets,
      flags: t.flags,
      flagsAt: 0,
      firstSet: t.firstSet,
      firstSetAt: 0,
      setType: t.setType,
      setTypeAt: 0,
      setTtl: t.setTtl,
      setTtlAt: 0,
      setOffset: t.setOffset,
      setOffsetAt: 0,
      data: t.data,
      dataAt: 0,
      targetFirst,
      targetFirstAt: 0,
      targets,
      targetsAt: 0,
    };
    return new CompactZone(origin, arrays, recordCount, file, undefined, t);
  }

  /**
   * The zone as plain typed arrays, for a zone loaded in a loader thread and served by query threads.
   * Structured clone keeps them typed arrays; fromParts uses them without copying.
   */
  parts(): ZoneParts {
    for (let s = 0; s < this.sets; s++) {
      const first = this.targetFirst[this.targetFirstAt + s]!;
      if (first < this.targetFirst[this.targetFirstAt + s + 1]! && this.targets[this.targetsAt + first] === UNRESOLVED) this.resolveTargets(s, first);
    }
    const count = this.names.count;
    const sets = this.sets;
    const part = <A extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(a: A, at: number, length: number): A => a.subarray(at, at + length) as A;
    return {
      origin: this.origin,
      recordCount: this.recordCount,
      file: this.file,
      names: this.names.parts(),
      flags: part(this.flags, this.flagsAt, count),
      firstSet: part(this.firstSet, this.firstSetAt, count + 1),
      setType: part(this.types, this.typesAt, sets),
      setTtl: part(this.ttls, this.ttlsAt, sets),
      setOffset: part(this.setOffset, this.setOffsetAt, sets + 1),
      data: this.zoneData(),
      dnssec: this.dnssec.signed ? this.dnssec.parts() : null,
      targetFirst: part(this.targetFirst, this.targetFirstAt, sets + 1),
      targets: part(this.targets, this.targetsAt, this.targetFirst[this.targetFirstAt + sets]!),
    };
  }

  static fromParts(p: ZoneParts): CompactZone {
    const flags = located(p.flags);
    const firstSet = located(p.firstSet);
    const setType = located(p.setType);
    const setTtl = located(p.setTtl);
    const setOffset = located(p.setOffset);
    const data = located(p.data);
    const targetFirst = located(p.targetFirst);
    const targets = located(p.targets);
    const arrays: ZoneArrays = {
      names: NameTable.fromParts(p.names),
      sets: p.setType.length,
      flags: flags.whole,
      flagsAt: flags.at,
      firstSet: firstSet.whole,
      firstSetAt: firstSet.at,
      setType: setType.whole,
      setTypeAt: setType.at,
      setTtl: setTtl.whole,
      setTtlAt: setTtl.at,
      setOffset: setOffset.whole,
      setOffsetAt: setOffset.at,
      data: data.whole,
      dataAt: data.at,
      targetFirst: targetFirst.whole,
      targetFirstAt: targetFirst.at,
      targets: targets.whole,
      targetsAt: targets.at,
    };
    return new CompactZone(p.origin, arrays, p.recordCount, p.file, p.dnssec);
  }

  /** The zone's records, `[RDLENGTH][RDATA]...` per RRset, as a view of its own (RRset offsets count from its start). */
  private zoneData(): Buffer {
    return this.data.subarray(this.dataAt, this.dataAt + this.setOffset[this.setOffsetAt + this.sets]!);
  }

  get soa(): WireRRset {
    return this.rrset(this.soaSet);
  }

  /** Made when asked (checks, printing): the query path reads nodes by id, and a POP holds 100,000 zones. */
  get apex(): ZoneNode {
    return this.get(this.origin)!;
  }

  get nodes(): NodeTable {
    return this;
  }

  get size(): number {
    return this.names.count;
  }

  get(key: string): ZoneNode | undefined {
    const id = this.names.find(key);
    return id < 0 ? undefined : new NodeView(this, id, key);
  }

  has(key: string): boolean {
    return this.names.find(key) >= 0;
  }

  *values(): IterableIterator<ZoneNode> {
    for (let id = 0; id < this.names.count; id++) yield new NodeView(this, id, this.names.keyOf(id));
  }

  nodeId(key: string, start = 0): number {
    return this.names.find(key, start);
  }

  nodeFlags(node: number): number {
    return this.flags[this.flagsAt + node]!;
  }

  nodeKey(node: number): string {
    return this.names.keyOf(node);
  }

  setOf(node: number, type: number): number {
    const first = this.firstSet;
    const at = this.firstSetAt;
    const types = this.types;
    const typesAt = this.typesAt;
    for (let s = first[at + node]!, end = first[at + node + 1]!; s < end; s++) if (types[typesAt + s] === type) return s;
    return -1;
  }

  firstSetOf(node: number): number {
    return this.firstSet[this.firstSetAt + node]!;
  }

  setType(set: number): number {
    return this.types[this.typesAt + set]!;
  }

  rrset(set: number): WireRRset {
    const o = this.setOffsetAt + set;
    return new WireRRset(this.types[this.typesAt + set]!, this.ttls[this.ttlsAt + set]!, this.data, this.dataAt + this.setOffset[o]!, this.dataAt + this.setOffset[o + 1]!);
  }

  firstTargetKey(set: number): string {
    return nameKey(this.data, this.dataAt + this.setOffset[this.setOffsetAt + set]! + 2 + targetOffset(this.types[this.typesAt + set]!));
  }

  targetCount(set: number): number {
    const at = this.targetFirstAt + set;
    return this.targetFirst[at + 1]! - this.targetFirst[at]!;
  }

  targetNode(set: number, i: number): number {
    const first = this.targetFirst[this.targetFirstAt + set]!;
    if (this.targets[this.targetsAt + first] === UNRESOLVED) this.resolveTargets(set, first);
    return this.targets[this.targetsAt + first + i]!;
  }

  /** Looks up the targets of one RRset, lower-cased (RDATA keeps the zone file's case), in this zone's names. */
  private resolveTargets(set: number, first: number): void {
    const data = this.data;
    const off = targetOffset(this.types[this.typesAt + set]!);
    const name = TARGET_NAME;
    const end = this.dataAt + this.setOffset[this.setOffsetAt + set + 1]!;
    for (let p = this.dataAt + this.setOffset[this.setOffsetAt + set]!, i = this.targetsAt + first; p < end; p += 2 + data.readUInt16BE(p), i++) {
      let o = 0;
      for (let q = p + 2 + off; ; ) {
        const len = data[q]!;
        name[o++] = len;
        if (len === 0) break;
        for (const e = q + len; q < e; ) name[o++] = lowerByte(data[++q]!);
        q++;
      }
      this.targets[i] = this.names.findBytes(name, 0, o);
    }
  }
}

/** Scratch for a target name being looked up (one per thread, not per zone: a POP holds 100,000 zones). */
const TARGET_NAME = Buffer.allocUnsafe(256);

/** A target not looked up yet (resolved ids are -1 for "not in this zone" or a node id). */
export const UNRESOLVED = -2;

class NodeView implements ZoneNode {
  constructor(
    private readonly zone: CompactZone,
    private readonly id: number,
    readonly key: string,
  ) {}

  get name(): Buffer {
    return keyToWire(this.key);
  }

  get flags(): number {
    return this.zone.nodeFlags(this.id);
  }

  get rrsets(): RRset[] {
    const out: RRset[] = [];
    for (let s = this.zone.firstSetOf(this.id), end = this.zone.firstSetOf(this.id + 1); s < end; s++) out.push(this.zone.rrset(s));
    return out;
  }

  find(type: number): RRset | undefined {
    const s = this.zone.setOf(this.id, type);
    return s < 0 ? undefined : this.zone.rrset(s);
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
