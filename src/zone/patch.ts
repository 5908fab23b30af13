// A version made from another by a difference (RFC 1995 §4): the records of the base version, less
// those the difference deletes, plus those it adds, fed to a record sink (the zone builder) as a
// parser feeds it, so the new version is built and checked like any zone file without being
// printed and read back. Pure: a compiled zone and a difference in, records out.
import { keyIsAtOrBelow, nameKey } from './name.js';
import { NameTable, type NameTableParts } from './name-table.js';
import type { RecordSink } from './parser.js';
import { canonicalRdata } from './rdata/canonical.js';
import { hasAddressTargets } from './rrset.js';
import { T } from './types.js';
import { NodeFlag, UNRESOLVED, type Zone, type ZoneParts } from './zone.js';

/** One record of a difference: owner in wire form. */
interface DiffRecord {
  owner: Uint8Array;
  type: number;
  ttl: number;
  rdata: Uint8Array;
}

/**
 * The difference from a base version to a new one, condensed: its SOA, the records each RRset of the
 * base loses (`setKey` → `recordIdentity`s) and the records added. Plain data, so it can be posted to
 * the thread that builds the new version.
 */
export interface ZoneDiff<R extends DiffRecord = DiffRecord> {
  /** The serial of the version it applies to. */
  from: number;
  soa: R;
  gone: Map<string, Set<string>>;
  added: R[];
}

/** A record's identity (RFC 1995 §2 compares name, type, class and data; the TTL is not part of it). */
export function recordIdentity(ownerKey: string, type: number, rdata: Uint8Array): string {
  return setKey(ownerKey, type) + canonicalRdata(type, asBuffer(rdata)).toString('latin1');
}

/** `owner key + type`: the RRsets a difference touches. */
export function setKey(ownerKey: string, type: number): string {
  return ownerKey + String.fromCharCode(type >> 8, type & 0xff);
}

/** A Buffer over `b`'s memory (a posted Buffer arrives as a plain Uint8Array). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Feeds `sink` the new version: its SOA, then the base's records in the base's order with the
 * deleted ones left out, then the added ones. Each record's line is its place in the version (the
 * SOA is 1): a diagnostic about the version names the record as a master file of it would.
 */
export function feedPatched(base: Zone, diff: ZoneDiff, sink: RecordSink, file: string): void {
  let line = 1;
  sink.add(base.origin, T.SOA, diff.soa.ttl, asBuffer(diff.soa.rdata), file, line++);
  for (let node = 0, nodes = base.nodes.size; node < nodes; node++) {
    const firstSet = base.firstSetOf(node);
    const endSet = base.firstSetOf(node + 1);
    if (firstSet === endSet) continue;
    const key = base.nodeKey(node);
    for (let s = firstSet; s < endSet; s++) {
      const set = base.rrset(s);
      if (set.type === T.SOA && key === base.origin) continue;
      const gone = diff.gone.get(setKey(key, set.type));
      for (let p = set.start; p < set.end; ) {
        const rdata = set.src.subarray(p + 2, p + 2 + set.src.readUInt16BE(p));
        p += 2 + rdata.length;
        if (gone === undefined || !gone.has(recordIdentity(key, set.type, rdata))) sink.add(key, set.type, set.ttl, rdata, file, line++);
      }
    }
  }
  for (const r of diff.added) sink.add(nameKey(asBuffer(r.owner)), r.type, r.ttl, asBuffer(r.rdata), file, line++);
}

/**
 * Types whose change reaches past their own RRset: the apex and zone cuts (SOA, NS), aliases (CNAME,
 * DNAME: the checks that need all of a name's data), DNSSEC (the index, the chains) and ZONEMD (a
 * digest of the whole zone). A difference touching one of them is built as a whole (feedPatched).
 */
const STRUCTURAL = new Set<number>([T.SOA, T.NS, T.CNAME, T.DNAME, T.DS, T.RRSIG, T.NSEC, T.NSEC3, T.NSEC3PARAM, T.DNSKEY, T.CDS, T.CDNSKEY, T.KEY, T.ZONEMD]);

/** One RRset of a patched node: its type, TTL and records' RDATA. */
interface PatchedSet {
  type: number;
  ttl: number;
  rdatas: Uint8Array[];
}

/**
 * The compiled arrays of the version `diff` makes of `base`, made by copying `base`'s with the
 * changed RRsets spliced in and the new names appended, so the cost is a copy of the arrays, not a
 * build of every name; or null when the difference needs the whole build: a signed zone, a
 * structural type (STRUCTURAL), data at or below a zone cut or a DNAME, a name or an address RRset
 * removed whole (what ENTs and NS addresses depend on), or anything the build would warn of
 * (a duplicate record, TTLs that differ in an RRset). What it returns is what the whole build
 * gives for the same records, but for the order of names and the ids of those added.
 */
export function patchParts(base: ZoneParts, diff: ZoneDiff): ZoneParts | null {
  if (base.dnssec !== null) return null;
  const names = NameTable.fromParts(base.names);
  const origin = base.origin;
  const apex = names.find(origin);
  if (setIn(base, apex, T.ZONEMD) >= 0) return null;
  /** Owner key → type → the records it loses and gains. */
  const changes = new Map<string, Map<number, { gone: ReadonlySet<string> | undefined; added: DiffRecord[] }>>();
  const change = (key: string, type: number): { gone: ReadonlySet<string> | undefined; added: DiffRecord[] } => {
    let byType = changes.get(key);
    if (byType === undefined) changes.set(key, (byType = new Map()));
    let c = byType.get(type);
    if (c === undefined) byType.set(type, (c = { gone: undefined, added: [] }));
    return c;
  };
  for (const [k, ids] of diff.gone) change(k.slice(0, -2), (k.charCodeAt(k.length - 2) << 8) | k.charCodeAt(k.length - 1)).gone = ids;
  for (const r of diff.added) change(nameKey(asBuffer(r.owner)), r.type).added.push(r);
  for (const byType of changes.values()) for (const type of byType.keys()) if (STRUCTURAL.has(type)) return null;

  const hidden = NodeFlag.Delegation | NodeFlag.BelowCut | NodeFlag.DName;
  /** The RRsets of each node changed (base id or new name), sorted by type. */
  const edits = new Map<number | string, PatchedSet[]>();
  const newOwners: string[] = [];
  const newEnts = new Set<string>();
  let records = base.recordCount;
  for (const [key, byType] of changes) {
    if (!keyIsAtOrBelow(key, origin)) return null;
    const id = names.find(key);
    if (id >= 0 && base.flags[id]! & hidden) return null;
    if (id < 0) {
      newOwners.push(key);
      // Its missing ancestors become empty non-terminals; data below a cut or a DNAME is built whole.
      for (let p = parentKey(key); ; p = parentKey(p)) {
        const pid = names.find(p);
        if (pid >= 0) {
          if (base.flags[pid]! & hidden) return null;
          break;
        }
        newEnts.add(p);
      }
    }
    const sets = id >= 0 ? setsOf(base, id) : [];
    for (const [type, c] of byType) {
      const i = sets.findIndex((x) => x.type === type);
      const before = i >= 0 ? sets[i]! : null;
      const kept = before === null ? [] : before.rdatas.filter((rd) => c.gone?.has(recordIdentity(key, type, rd)) !== true);
      const ttl = kept.length > 0 ? before!.ttl : (c.added[0]?.ttl ?? 0);
      const seen = new Set(c.added.length > 0 ? kept.map((rd) => recordIdentity(key, type, rd)) : []);
      for (const r of c.added) {
        const identity = recordIdentity(key, type, r.rdata);
        if (seen.has(identity) || r.ttl !== ttl) return null;
        seen.add(identity);
        kept.push(r.rdata);
      }
      records += kept.length - (before?.rdatas.length ?? 0);
      if (kept.length === 0 && (type === T.A || type === T.AAAA)) return null;
      const set = { type, ttl, rdatas: kept };
      if (i >= 0) sets[i] = set;
      else sets.push(set);
    }
    const left = sets.filter((x) => x.rdatas.length > 0).sort((a, b) => a.type - b.type);
    if (left.length === 0) return null;
    edits.set(id >= 0 ? id : key, left);
  }
  const apexSets = (edits.get(apex) as PatchedSet[] | undefined) ?? setsOf(base, apex);
  apexSets[apexSets.findIndex((x) => x.type === T.SOA)] = { type: T.SOA, ttl: diff.soa.ttl, rdatas: [diff.soa.rdata] };
  edits.set(apex, apexSets);
  for (const k of newOwners) newEnts.delete(k);
  return splice(base, edits, [...newOwners, ...newEnts], records);
}

/**
 * `base` with the RRsets of the nodes in `edits` replaced and `added` names appended (the ones
 * `edits` names by key own RRsets, the others are empty non-terminals); null when the name index
 * would have to grow (once per doubling of the zone's names), which the build does.
 */
function splice(base: ZoneParts, edits: Map<number | string, PatchedSet[]>, added: string[], records: number): ZoneParts | null {
  const baseCount = base.names.count;
  const count = baseCount + added.length;
  // The index stays at most half full (name-table.ts): past that it is rebuilt, not patched.
  if (count * 2 > base.names.slots.length >> 1) return null;
  /** The RRsets of each node that changes, by id; the names added take the ids after the base's, in order. */
  const bySet = new Map<number, PatchedSet[]>();
  added.forEach((key, i) => {
    const sets = edits.get(key);
    if (sets !== undefined) bySet.set(baseCount + i, sets);
  });
  for (const [k, sets] of edits) if (typeof k === 'number') bySet.set(k, sets);
  // Sizes: the base's, less the RRsets replaced, plus their replacements.
  const baseSets = base.setType.length;
  let sets = baseSets;
  let dataLength = base.setOffset[baseSets]!;
  let targetCount = base.targets.length;
  for (const [id, list] of bySet) {
    if (id < baseCount) {
      const from = base.firstSet[id]!;
      const to = base.firstSet[id + 1]!;
      sets -= to - from;
      dataLength -= base.setOffset[to]! - base.setOffset[from]!;
      targetCount -= base.targetFirst[to]! - base.targetFirst[from]!;
    }
    for (const s of list) {
      sets++;
      for (const rd of s.rdatas) dataLength += 2 + rd.length;
      if (hasAddressTargets(s.type)) targetCount += s.rdatas.length;
    }
  }
  // Straight into shared memory: the version goes to every thread that serves it as it is, where
  // a copy of a big zone's arrays costs as much as the patch.
  const nameBytes = base.names.names.byteLength + added.reduce((n, k) => n + k.length, 0);
  const mem = new SharedArena([nameBytes, 4 * (count + 1), base.names.slots.byteLength, count, 4 * (count + 1), 2 * sets, 4 * sets, 4 * (sets + 1), dataLength, 4 * (sets + 1), 4 * targetCount]);
  const table: NameTableParts = { names: mem.take(Uint8Array, nameBytes), offsets: mem.take(Uint32Array, count + 1), slots: mem.take(Int32Array, base.names.slots.length), count: baseCount };
  table.names.set(base.names.names);
  table.offsets.set(base.names.offsets);
  table.slots.set(base.names.slots);
  const names = new NameTable(0, table);
  for (const key of added) {
    const wire = Buffer.from(key, 'latin1');
    names.insertNewBytes(wire, 0, wire.length);
  }
  const flags = mem.take(Uint8Array, count);
  flags.set(base.flags);
  added.forEach((key, i) => (flags[baseCount + i] = edits.has(key) ? 0 : NodeFlag.EmptyNonTerminal));
  for (const key of added) {
    // RFC 4592 §2.2.1: a `*` label makes its parent a source of synthesis.
    if (key.charCodeAt(0) !== 1 || key.charCodeAt(1) !== 0x2a) continue;
    const parent = names.find(parentKey(key));
    flags[parent] = flags[parent]! | NodeFlag.WildcardChild;
  }
  for (const k of edits.keys()) if (typeof k === 'number') flags[k] = flags[k]! & ~NodeFlag.EmptyNonTerminal;
  const firstSet = mem.take(Uint32Array, count + 1);
  const setType = mem.take(Uint16Array, sets);
  const setTtl = mem.take(Uint32Array, sets);
  const setOffset = mem.take(Uint32Array, sets + 1);
  const data = mem.take(Uint8Array, dataLength);
  const out = {
    firstSet,
    setType,
    setTtl,
    setOffset,
    data: Buffer.from(data.buffer, data.byteOffset, dataLength),
    targetFirst: mem.take(Uint32Array, sets + 1),
    targets: mem.take(Int32Array, targetCount),
  };
  const at = { set: 0, data: 0, target: 0 };
  const copyNodes = (from: number, to: number): void => {
    const sFrom = base.firstSet[from]!;
    const sTo = base.firstSet[to]!;
    const setShift = at.set - sFrom;
    for (let n = from; n < to; n++) out.firstSet[n] = base.firstSet[n]! + setShift;
    out.setType.set(base.setType.subarray(sFrom, sTo), at.set);
    out.setTtl.set(base.setTtl.subarray(sFrom, sTo), at.set);
    const dFrom = base.setOffset[sFrom]!;
    const dTo = base.setOffset[sTo]!;
    const tFrom = base.targetFirst[sFrom]!;
    const tTo = base.targetFirst[sTo]!;
    for (let s = sFrom; s < sTo; s++) {
      out.setOffset[s + setShift] = base.setOffset[s]! + at.data - dFrom;
      out.targetFirst[s + setShift] = base.targetFirst[s]! + at.target - tFrom;
    }
    out.data.set(base.data.subarray(dFrom, dTo), at.data);
    out.targets.set(base.targets.subarray(tFrom, tTo), at.target);
    at.set += sTo - sFrom;
    at.data += dTo - dFrom;
    at.target += tTo - tFrom;
  };
  const writeNode = (n: number, list: readonly PatchedSet[]): void => {
    out.firstSet[n] = at.set;
    for (const s of list) {
      out.setType[at.set] = s.type;
      out.setTtl[at.set] = s.ttl;
      out.setOffset[at.set] = at.data;
      out.targetFirst[at.set] = at.target;
      for (const rd of s.rdatas) {
        out.data.writeUInt16BE(rd.length, at.data);
        out.data.set(rd, at.data + 2);
        at.data += 2 + rd.length;
      }
      // Looked up when the zone is shared (CompactZone.parts), in the new names.
      if (hasAddressTargets(s.type)) for (let i = 0; i < s.rdatas.length; i++) out.targets[at.target++] = UNRESOLVED;
      at.set++;
    }
  };
  let next = 0;
  for (const id of [...bySet.keys()].filter((n) => n < baseCount).sort((a, b) => a - b)) {
    copyNodes(next, id);
    writeNode(id, bySet.get(id)!);
    next = id + 1;
  }
  copyNodes(next, baseCount);
  for (let n = baseCount; n < count; n++) writeNode(n, bySet.get(n) ?? []);
  out.firstSet[count] = at.set;
  out.setOffset[sets] = at.data;
  out.targetFirst[sets] = at.target;
  // A target outside the base may be one of the names added: looked up again.
  if (added.length > 0) {
    for (let s = 0; s < sets; s++) {
      const first = out.targetFirst[s]!;
      for (let i = first; i < out.targetFirst[s + 1]!; i++) if (out.targets[i] === -1) out.targets[first] = UNRESOLVED;
    }
  }
  return { origin: base.origin, recordCount: records, file: base.file, names: names.parts(), flags, ...out, dnssec: null };
}

/** The RRsets of node `id` of `base`, their RDATA as views of its data. */
function setsOf(base: ZoneParts, id: number): PatchedSet[] {
  const out: PatchedSet[] = [];
  for (let s = base.firstSet[id]!; s < base.firstSet[id + 1]!; s++) {
    const rdatas: Uint8Array[] = [];
    for (let p = base.setOffset[s]!; p < base.setOffset[s + 1]!; ) {
      const len = (base.data[p]! << 8) | base.data[p + 1]!;
      rdatas.push(base.data.subarray(p + 2, p + 2 + len));
      p += 2 + len;
    }
    out.push({ type: base.setType[s]!, ttl: base.setTtl[s]!, rdatas });
  }
  return out;
}

/** The RRset of `type` at node `id`, or -1. */
function setIn(base: ZoneParts, id: number, type: number): number {
  for (let s = base.firstSet[id]!; s < base.firstSet[id + 1]!; s++) if (base.setType[s] === type) return s;
  return -1;
}

/** The key of a name's parent (the key without its first label). */
function parentKey(key: string): string {
  return key.slice(key.charCodeAt(0) + 1);
}

/** One SharedArrayBuffer carved into typed arrays, each at an 8-octet boundary. */
class SharedArena {
  private readonly buffer: SharedArrayBuffer;
  private at = 0;

  constructor(byteLengths: readonly number[]) {
    this.buffer = new SharedArrayBuffer(byteLengths.reduce((n, b) => n + align(b), 0));
  }

  take<A extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(make: new (b: SharedArrayBuffer, offset: number, length: number) => A, length: number): A {
    const a = new make(this.buffer, this.at, length);
    this.at += align(a.byteLength);
    return a;
  }
}

function align(n: number): number {
  return (n + 7) & ~7;
}
