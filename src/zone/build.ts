// Builds a compiled zone from parsed records and makes the checks named-checkzone and kzonecheck
// make. Records are collected into flat arrays as they arrive (no object per record); finish()
// groups them by name and type, checks them, adds empty non-terminals as real nodes, computes the
// node flags once and lays everything out as a CompactZone.

import { keyIsAtOrBelow, keyToText, nameKey } from './name.js';
import { NameTable } from './name-table.js';
import type { Diagnostic, RecordSink } from './parser.js';
import { canonicalRdata } from './rdata/walk.js';
import { descriptorFor, typeToText } from './rdata/table.js';
import { T } from './types.js';
import { CompactZone, NodeFlag, type Zone } from './zone.js';

/** Size of the chunks records are collected in: any RDATA (at most 65535 octets) fits one. */
const CHUNK_SIZE = 1 << 20;

/** RRset types that may share a name with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5). */
function mayCoexistWithCname(type: number): boolean {
  return type === T.CNAME || type === T.RRSIG || type === T.NSEC || type === T.KEY;
}

/** Types with a single record per name: a second, different record is an error (BIND: "multiple RRs of singleton type"). */
function isSingleton(type: number): boolean {
  return type === T.SOA || type === T.CNAME || type === T.DNAME;
}

const canonicalNames: boolean[] = [];

/** Whether RDATA of this type holds names that are lower-cased in canonical form (RFC 4034 §6.2). */
function hasCanonicalNames(type: number): boolean {
  return (canonicalNames[type] ??= descriptorFor(type)?.wire.some((b) => b === 'cname' || b === 'dname') ?? false);
}

/** Data that may sit at a delegation point besides its NS: the parent's DS and DNSSEC data, and glue for in-bailiwick name servers. */
function mayBeAtCut(type: number): boolean {
  return type === T.NS || type === T.DS || type === T.NSEC || type === T.RRSIG || type === T.A || type === T.AAAA;
}

/** A copy of `a` with room for at least `need` elements (typed arrays drop writes past their end silently). */
function grow<A extends Uint8Array | Uint16Array | Uint32Array | Int32Array>(a: A, need: number): A {
  if (need <= a.length) return a;
  const next = new (a.constructor as new (n: number) => A)(Math.max(a.length * 2, need));
  next.set(a);
  return next;
}

export class ZoneBuilder implements RecordSink {
  private readonly names = new NameTable(4096);
  private readonly originKey: string;
  private readonly apexId: number;
  /** Per record, in file order: owner id, type, TTL, where its `[RDLENGTH][RDATA]` starts, line, file. */
  private n = 0;
  private recNode = new Uint32Array(4096);
  private recType = new Uint16Array(4096);
  private recTtl = new Uint32Array(4096);
  private recOffset = new Uint32Array(4096);
  private recLine = new Uint32Array(4096);
  private recFile = new Uint8Array(4096);
  /**
   * Records' `[RDLENGTH][RDATA]`, in fixed chunks: a growing single buffer would hold its old and
   * new copies at once when it doubles, and peak memory is what a POP must provision.
   */
  private chunks: Buffer[] = [];
  private chunkUsed = CHUNK_SIZE;
  private dataLength = 0;
  /** Files records came from ($INCLUDE); records hold an index. */
  private readonly files: string[] = [];
  private lastFile = '';
  private lastFileIndex = -1;
  private lastOwner: string | null = null;
  private lastOwnerId = -1;
  /** Where each owner's records start in the grouped order (set by groupByNameAndType). */
  private nodeStart = new Uint32Array(0);

  constructor(
    origin: Buffer,
    private readonly file: string,
    private readonly errors: Diagnostic[],
    private readonly warnings: Diagnostic[],
  ) {
    this.originKey = nameKey(origin);
    this.apexId = this.names.insert(this.originKey);
  }

  add(owner: string, type: number, ttl: number, rdata: Buffer, file: string, line: number): void {
    if (type === T.SOA && owner !== this.originKey) {
      this.errors.push({ file, line, message: `SOA record not at top of zone (${keyToText(owner)})` });
      return;
    }
    if (owner !== this.lastOwner) {
      this.lastOwner = owner;
      this.lastOwnerId = this.names.insert(owner);
    }
    const i = this.n++;
    if (i === this.recNode.length) {
      this.recNode = grow(this.recNode, i + 1);
      this.recType = grow(this.recType, i + 1);
      this.recTtl = grow(this.recTtl, i + 1);
      this.recOffset = grow(this.recOffset, i + 1);
      this.recLine = grow(this.recLine, i + 1);
      this.recFile = grow(this.recFile, i + 1);
    }
    this.recNode[i] = this.lastOwnerId;
    this.recType[i] = type;
    this.recTtl[i] = ttl;
    this.recLine[i] = line;
    this.recFile[i] = this.fileIndex(file);
    const need = 2 + rdata.length;
    if (this.chunkUsed + need > CHUNK_SIZE) {
      this.chunks.push(Buffer.allocUnsafe(CHUNK_SIZE));
      this.chunkUsed = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1]!;
    this.recOffset[i] = (this.chunks.length - 1) * CHUNK_SIZE + this.chunkUsed;
    chunk.writeUInt16BE(rdata.length, this.chunkUsed);
    chunk.set(rdata, this.chunkUsed + 2);
    this.chunkUsed += need;
    this.dataLength += need;
  }

  private fileIndex(file: string): number {
    if (file !== this.lastFile) {
      this.lastFile = file;
      this.lastFileIndex = this.files.indexOf(file);
      if (this.lastFileIndex < 0) this.lastFileIndex = this.files.push(file) - 1;
      if (this.lastFileIndex > 255) throw new RangeError('more than 256 included files');
    }
    return this.lastFileIndex;
  }

  private at(i: number): { file: string; line: number } {
    return { file: this.files[this.recFile[i]!]!, line: this.recLine[i]! };
  }

  /** The RDATA of record `i`, canonical (RFC 4034 §6.2) when its type has names, as latin1. */
  private canonical(i: number, names: boolean): string {
    const off = this.recOffset[i]!;
    const chunk = this.chunks[Math.floor(off / CHUNK_SIZE)]!;
    const start = (off % CHUNK_SIZE) + 2;
    const end = start + chunk.readUInt16BE(start - 2);
    if (!names) return chunk.toString('latin1', start, end);
    return canonicalRdata(this.recType[i]!, chunk.subarray(start, end)).toString('latin1');
  }

  /** Runs the checks and, when there is no error, returns the compiled zone. */
  finish(): Zone | null {
    const errorsBefore = this.errors.length;
    const warningsBefore = this.warnings.length;
    const zone = this.compile();
    // Diagnostics found while grouping come out of file order: report them in it.
    sortFrom(this.errors, errorsBefore);
    sortFrom(this.warnings, warningsBefore);
    return this.errors.length > 0 ? null : zone;
  }

  private compile(): Zone | null {
    const order = this.groupByNameAndType();
    const names = this.names;
    const recordNodes = names.count;

    // Pass 1: per name, per type: the checks that need all of a name's records, then the RRsets.
    let setCount = 0;
    // There are never more RRsets than records: size the set arrays once, no growing copies at peak memory.
    let setType = new Uint16Array(Math.max(16, this.n));
    let setTtl = new Uint32Array(setType.length);
    let setOffset = new Uint32Array(setType.length + 1);
    let setRecord = new Uint32Array(setType.length);
    const firstSet = new Uint32Array(recordNodes + 1);
    const out = Buffer.allocUnsafe(this.dataLength);
    let outLength = 0;
    let kept = 0;
    /** The NS records kept, by set: the "no address records" check names the NS record's line. */
    const nsRecords = new Map<number, number[]>();
    for (let node = 0; node < recordNodes; node++) {
      firstSet[node] = setCount;
      let firstCname = -1;
      let firstOther = -1;
      const end = this.nodeStart[node + 1]!;
      for (let g = this.nodeStart[node]!; g < end; ) {
        const type = this.recType[order[g]!]!;
        let ge = g + 1;
        while (ge < end && this.recType[order[ge]!] === type) ge++;
        const first = order[g]!;
        if (type === T.CNAME) firstCname = minIndex(firstCname, first);
        else if (!mayCoexistWithCname(type)) firstOther = minIndex(firstOther, first);
        // One RRset from records order[g, ge), first record's TTL (RFC 2181 §5.2, as BIND: "set to prior TTL").
        if (setCount === setType.length) {
          const cap = setType.length * 2;
          setType = grow(setType, cap);
          setTtl = grow(setTtl, cap);
          setOffset = grow(setOffset, cap + 1);
          setRecord = grow(setRecord, cap);
        }
        const s = setCount++;
        setType[s] = type;
        setTtl[s] = this.recTtl[first]!;
        setOffset[s] = outLength;
        setRecord[s] = first;
        const canon = ge - g > 1 ? new Set<string>() : null;
        const withNames = canon !== null && hasCanonicalNames(type);
        const nsKept: number[] | null = type === T.NS ? [] : null;
        for (let k = g; k < ge; k++) {
          const i = order[k]!;
          if (canon !== null) {
            const c = this.canonical(i, withNames);
            if (canon.has(c)) {
              this.warnings.push({ ...this.at(i), message: `duplicate ${typeToText(type)} record at ${keyToText(names.keyOf(node))} ignored` });
              continue;
            }
            if (canon.size > 0 && isSingleton(type)) {
              this.errors.push({ ...this.at(i), message: `${keyToText(names.keyOf(node))}: multiple RRs of singleton type ${typeToText(type)}` });
              continue;
            }
            if (this.recTtl[i] !== setTtl[s]) {
              this.warnings.push({ ...this.at(i), message: `${keyToText(names.keyOf(node))} ${typeToText(type)}: TTL ${this.recTtl[i]} differs from the RRset's; set to prior TTL (${setTtl[s]})` });
            }
            canon.add(c);
          }
          const off = this.recOffset[i]!;
          const chunk = this.chunks[Math.floor(off / CHUNK_SIZE)]!;
          const start = off % CHUNK_SIZE;
          const len = 2 + chunk.readUInt16BE(start);
          chunk.copy(out, outLength, start, start + len);
          outLength += len;
          kept++;
          nsKept?.push(i);
        }
        if (nsKept !== null) nsRecords.set(s, nsKept);
        g = ge;
      }
      // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME owner has no other data. Reported at whichever came second.
      if (firstCname >= 0 && firstOther >= 0) {
        this.errors.push({ ...this.at(Math.max(firstCname, firstOther)), message: `${keyToText(names.keyOf(node))}: CNAME and other data` });
      }
    }
    firstSet[recordNodes] = setCount;
    setOffset[setCount] = outLength;
    this.releaseRecords();

    const apexSets = { from: firstSet[this.apexId]!, to: firstSet[this.apexId + 1]! };
    const hasType = (from: number, to: number, type: number) => {
      for (let s = from; s < to; s++) if (setType[s] === type) return s;
      return -1;
    };
    const soa = hasType(apexSets.from, apexSets.to, T.SOA);
    if (soa < 0) {
      this.errors.push({ file: this.file, line: 1, message: `zone ${keyToText(this.originKey)} has no SOA record` });
      return null;
    }
    if (hasType(apexSets.from, apexSets.to, T.NS) < 0) {
      this.errors.push({ ...this.at(setRecord[soa]!), message: `zone ${keyToText(this.originKey)} has no NS records at the apex` });
    }

    // Pass 2: every name between an owner and the apex is a node (RFC 4592 §2.2.2: empty non-terminals).
    const parent = this.addEmptyNonTerminals();
    const nodeCount = names.count;
    const nodeFirstSet = new Uint32Array(nodeCount + 1);
    nodeFirstSet.set(firstSet);
    nodeFirstSet.fill(setCount, recordNodes);
    const setsOf = (node: number) => ({ from: nodeFirstSet[node]!, to: nodeFirstSet[node + 1]! });

    // Pass 3: flags, parents before children.
    const flags = new Uint8Array(nodeCount);
    for (let node = recordNodes; node < nodeCount; node++) flags[node] = NodeFlag.EmptyNonTerminal;
    const byDepth = this.depthOrder(nodeCount);
    for (const node of byDepth) {
      let f = flags[node]!;
      const { from, to } = setsOf(node);
      if (node === this.apexId) f |= NodeFlag.Apex;
      else if (hasType(from, to, T.NS) >= 0) f |= NodeFlag.Delegation;
      if (hasType(from, to, T.DNAME) >= 0) f |= NodeFlag.DName;
      const p = parent[node]!;
      if (p >= 0) {
        if (flags[p]! & (NodeFlag.Delegation | NodeFlag.DName | NodeFlag.BelowCut)) f |= NodeFlag.BelowCut;
        const off = names.offsets[node]!;
        if (names.names[off] === 1 && names.names[off + 1] === 0x2a) flags[p] = flags[p]! | NodeFlag.WildcardChild;
      }
      flags[node] = f;
    }

    // Pass 4: occluded data (a warning, as kzonecheck says) and NS targets without addresses (an error, as BIND's check-integrity).
    for (const node of byDepth) {
      const f = flags[node]!;
      const { from, to } = setsOf(node);
      if (f & NodeFlag.Delegation) {
        for (let s = from; s < to; s++) {
          if (mayBeAtCut(setType[s]!)) continue;
          this.warnings.push({ ...this.at(setRecord[s]!), message: `${keyToText(names.keyOf(node))} ${typeToText(setType[s]!)} is occluded by the delegation at the same name` });
        }
      }
      if (f & NodeFlag.BelowCut) {
        let dname = -1;
        for (let a = parent[node]!; a >= 0; a = parent[a]!) if (flags[a]! & NodeFlag.DName) dname = a;
        for (let s = from; s < to; s++) {
          if (dname < 0 && (setType[s] === T.A || setType[s] === T.AAAA)) continue; // glue
          const by = dname >= 0 ? `the DNAME at ${keyToText(names.keyOf(dname))}` : 'a delegation';
          this.warnings.push({ ...this.at(setRecord[s]!), message: `${keyToText(names.keyOf(node))} ${typeToText(setType[s]!)} is occluded by ${by}` });
        }
      } else if (f & (NodeFlag.Apex | NodeFlag.Delegation)) {
        const ns = hasType(from, to, T.NS);
        if (ns >= 0) this.checkNsTargets(out, setOffset[ns]!, setOffset[ns + 1]!, nsRecords.get(ns)!, (target) => {
          const id = names.find(target);
          if (id < 0) return false;
          const t = setsOf(id);
          return hasType(t.from, t.to, T.A) >= 0 || hasType(t.from, t.to, T.AAAA) >= 0;
        });
      }
    }
    if (this.errors.length > 0) return null;

    return new CompactZone(
      this.originKey,
      {
        names,
        flags,
        firstSet: nodeFirstSet,
        setType: setType.subarray(0, setCount),
        setTtl: setTtl.subarray(0, setCount),
        setOffset: setOffset.subarray(0, setCount + 1),
        // Duplicates dropped leave a few unused octets at the end: cheaper than a second copy at peak memory.
        data: out.subarray(0, outLength),
      },
      kept,
      this.file,
    );
  }

  /** Frees what only the first pass needs (lines and files stay, for diagnostics), lowering the peak while the zone is laid out. */
  private releaseRecords(): void {
    this.recNode = new Uint32Array(0);
    this.recType = new Uint16Array(0);
    this.recTtl = new Uint32Array(0);
    this.recOffset = new Uint32Array(0);
    this.nodeStart = new Uint32Array(0);
    this.chunks = [];
    this.dataLength = 0;
  }

  /** Record indices ordered by owner id, then type, then file order (a counting sort, then short insertion sorts). */
  private groupByNameAndType(): Uint32Array {
    const n = this.n;
    const nodes = this.names.count;
    // pos[k] = where node k's records end; filling backwards moves it to where they start.
    const pos = new Uint32Array(nodes + 1);
    for (let i = 0; i < n; i++) pos[this.recNode[i]!]!++;
    for (let k = 1; k < nodes; k++) pos[k] = pos[k]! + pos[k - 1]!;
    const order = new Uint32Array(n);
    for (let i = n - 1; i >= 0; i--) order[--pos[this.recNode[i]!]!] = i;
    pos[nodes] = n;
    this.nodeStart = pos;
    for (let k = 0; k < nodes; k++) {
      const from = this.nodeStart[k]!;
      const to = this.nodeStart[k + 1]!;
      for (let a = from + 1; a < to; a++) {
        const v = order[a]!;
        const type = this.recType[v]!;
        let b = a - 1;
        while (b >= from && this.recType[order[b]!]! > type) {
          order[b + 1] = order[b]!;
          b--;
        }
        order[b + 1] = v;
      }
    }
    return order;
  }


  /** Adds a node for every missing ancestor up to the apex; returns each node's parent id (-1 for the apex). */
  private addEmptyNonTerminals(): Int32Array {
    const names = this.names;
    let parent = new Int32Array(names.count * 2);
    for (let id = 0; id < names.count; id++) {
      if (id === this.apexId) {
        parent[id] = -1;
        continue;
      }
      const arena = names.names;
      const off = names.offsets[id]!;
      const end = names.offsets[id + 1]!;
      const pStart = off + arena[off]! + 1;
      let p = names.findBytes(arena, pStart, end);
      if (p < 0) p = names.insertNewBytes(arena, pStart, end);
      if (id >= parent.length || p >= parent.length) parent = grow(parent, Math.max(id, p) + 1);
      parent[id] = p;
    }
    return parent.subarray(0, names.count);
  }

  /** Node ids ordered by label count, so every parent comes before its children. */
  private depthOrder(count: number): Uint32Array {
    const names = this.names;
    const depth = new Uint8Array(count);
    const perDepth = new Uint32Array(129);
    for (let id = 0; id < count; id++) {
      let d = 0;
      for (let i = names.offsets[id]!; names.names[i] !== 0; i += names.names[i]! + 1) d++;
      depth[id] = d;
      perDepth[d + 1]!++;
    }
    for (let d = 0; d < 128; d++) perDepth[d + 1] = perDepth[d + 1]! + perDepth[d]!;
    const order = new Uint32Array(count);
    for (let id = 0; id < count; id++) order[perDepth[depth[id]!]!++] = id;
    return order;
  }

  /** An NS target inside the zone must have an address, or resolvers can't reach the server. */
  private checkNsTargets(data: Buffer, from: number, to: number, records: number[], hasAddress: (key: string) => boolean): void {
    for (let p = from, k = 0; p < to; k++) {
      const len = data.readUInt16BE(p);
      const target = nameKey(data, p + 2);
      p += 2 + len;
      if (!keyIsAtOrBelow(target, this.originKey) || hasAddress(target)) continue;
      this.errors.push({ ...this.at(records[k]!), message: `NS '${keyToText(target).replace(/\.$/, '')}' has no address records (A or AAAA)` });
    }
  }
}

function minIndex(a: number, b: number): number {
  return a < 0 || b < a ? b : a;
}

/** Stable sort of `list[from..]` by file, then line. */
function sortFrom(list: Diagnostic[], from: number): void {
  const tail = list.splice(from).sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  list.push(...tail);
}
