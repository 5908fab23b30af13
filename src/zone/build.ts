// Builds a compiled zone from parsed records and makes the checks named-checkzone and kzonecheck
// make. Records are collected into flat arrays as they arrive (no object per record); finish()
// groups them by name and type, checks them, adds empty non-terminals as real nodes, computes the
// node flags once and lays everything out as a CompactZone.

import { keyIsAtOrBelow, keyToText, nameKey } from './name.js';
import { NameCollector, type NameTable } from './name-table.js';
import type { Diagnostic, RecordSink } from './parser.js';
import { canonicalRdata } from './rdata/canonical.js';
import { descriptorFor, typeToText } from './rdata/table.js';
import { T } from './types.js';
import { CompactZone, NodeFlag, type Zone } from './zone.js';

/** Size of the chunks records are collected in: any RDATA (at most 65535 octets) fits one. */
const CHUNK_SIZE = 1 << 20;
const FIRST_CHUNK_SIZE = 4096;

/** Up to this many octets a loop copies faster than TypedArray.set (most RDATA: A, AAAA, short names). */
const SHORT_COPY = 16;

/** The per-record arrays and first chunk of a builder, used only while it runs. */
interface RecordArrays {
  recNode: Uint32Array;
  recType: Uint16Array;
  recTtl: Uint32Array;
  recOffset: Uint32Array;
  recLine: Uint32Array;
  recFile: Uint8Array;
  firstChunk: Buffer | null;
}

/**
 * A finished builder's record arrays, for the next builder of this thread: a loader thread builds
 * hundreds of small zones in a row, and a new set of arrays for each (each with memory of its own
 * outside the JS heap) was much of the garbage it made. Only a small zone's are kept, so a large
 * zone's megabytes are not held after it.
 */
let spare: RecordArrays | null = null;
const SPARE_MAX_RECORDS = 4096;
const SPARE_MAX_CHUNK = 64 * 1024;
/** What a builder's released arrays become (empty: nothing is written to them). */
const NO_U32 = new Uint32Array(0);
const NO_U16 = new Uint16Array(0);

function freshRecordArrays(): RecordArrays {
  return {
    recNode: new Uint32Array(64),
    recType: new Uint16Array(64),
    recTtl: new Uint32Array(64),
    recOffset: new Uint32Array(64),
    recLine: new Uint32Array(64),
    recFile: new Uint8Array(64),
    firstChunk: null,
  };
}

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
  return (canonicalNames[type] ??= descriptorFor(type)?.wire.some((b) => b === 'compressible-name' || b === 'decompressible-name') ?? false);
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
  /** Owners as records arrive; indexed into `names` when the zone is compiled. */
  private owners: NameCollector | null = new NameCollector();
  private names!: NameTable;
  private readonly originKey: string;
  private readonly apexId: number;
  /** Per record, in file order: owner id, type, TTL, where its `[RDLENGTH][RDATA]` starts, line, file. */
  private n = 0;
  // Sized for a small zone and doubled as records come: most zones of a POP are small.
  private recNode: Uint32Array;
  private recType: Uint16Array;
  private recTtl: Uint32Array;
  private recOffset: Uint32Array;
  private recLine: Uint32Array;
  private recFile: Uint8Array;
  /** A spare first chunk (taken from the last builder), used when it has room. */
  private firstChunk: Buffer | null;
  /** The arrays releaseRecords let go of, kept for the next builder when small (handed over by finish). */
  private released: RecordArrays | null = null;
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
  private lastOwner: string;
  private lastOwnerId: number;
  /** Where each owner's records start in the grouped order (set by groupByNameAndType). */
  private nodeStart = NO_U32;

  constructor(
    origin: Buffer,
    private readonly file: string,
    private readonly errors: Diagnostic[],
    private readonly warnings: Diagnostic[],
  ) {
    const a = spare ?? freshRecordArrays();
    spare = null;
    this.recNode = a.recNode;
    this.recType = a.recType;
    this.recTtl = a.recTtl;
    this.recOffset = a.recOffset;
    this.recLine = a.recLine;
    this.recFile = a.recFile;
    this.firstChunk = a.firstChunk;
    this.originKey = nameKey(origin);
    this.apexId = this.owners!.add(this.originKey);
    // The apex's own records (usually the first) then reuse its entry.
    this.lastOwner = this.originKey;
    this.lastOwnerId = this.apexId;
  }

  add(owner: string, type: number, ttl: number, rdata: Buffer, file: string, line: number): void {
    if (type === T.SOA && owner !== this.originKey) {
      this.errors.push({ file, line, message: `SOA record not at top of zone (${keyToText(owner)})` });
      return;
    }
    if (owner !== this.lastOwner) {
      this.lastOwner = owner;
      this.lastOwnerId = this.owners!.add(owner);
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
    let chunk = this.chunks[this.chunks.length - 1];
    if (chunk === undefined || this.chunkUsed + need > chunk.length) chunk = this.room(need);
    this.recOffset[i] = (this.chunks.length - 1) * CHUNK_SIZE + this.chunkUsed;
    chunk.writeUInt16BE(rdata.length, this.chunkUsed);
    if (rdata.length > SHORT_COPY) chunk.set(rdata, this.chunkUsed + 2);
    else for (let k = 0, at = this.chunkUsed + 2; k < rdata.length; k++) chunk[at + k] = rdata[k]!;
    this.chunkUsed += need;
    this.dataLength += need;
  }

  /**
   * The chunk with room for `need` more octets: the first chunk starts small and doubles up to
   * CHUNK_SIZE (a small zone never allocates a megabyte), later ones are CHUNK_SIZE from the start.
   */
  private room(need: number): Buffer {
    const first = this.chunks.length === 1 ? this.chunks[0]! : null;
    if (first !== null && first.length < CHUNK_SIZE && this.chunkUsed + need <= CHUNK_SIZE) {
      const bigger = Buffer.allocUnsafe(Math.min(CHUNK_SIZE, Math.max(first.length * 2, this.chunkUsed + need)));
      first.copy(bigger, 0, 0, this.chunkUsed);
      this.chunks[0] = bigger;
      return bigger;
    }
    const reuse = this.chunks.length === 0 && this.firstChunk !== null && this.firstChunk.length >= need ? this.firstChunk : null;
    this.firstChunk = null;
    const chunk = reuse ?? Buffer.allocUnsafe(this.chunks.length === 0 ? Math.max(FIRST_CHUNK_SIZE, need) : CHUNK_SIZE);
    this.chunks.push(chunk);
    this.chunkUsed = 0;
    return chunk;
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
    if (this.released !== null && this.recLine.length <= SPARE_MAX_RECORDS) spare = { ...this.released, recLine: this.recLine, recFile: this.recFile };
    this.released = null;
    return this.errors.length > 0 ? null : zone;
  }

  /**
   * The compiled zone, or null on errors. Each step computes one thing from the previous ones; a
   * check that needs a name's records together runs while its RRsets are built, the others once the
   * tree (ENTs, flags) exists.
   */
  private compile(): Zone | null {
    this.indexOwners();
    const sets = this.buildRRsets(this.groupByNameAndType());
    this.releaseRecords();
    if (!this.checkApex(sets)) return null;
    const parent = this.addEmptyNonTerminals();
    const firstSet = this.coverEmptyNonTerminals(sets.firstSet);
    const byDepth = this.depthOrder(this.names.count);
    const flags = this.nodeFlags(sets, firstSet, parent, byDepth);
    this.checkOccludedData(sets, firstSet, flags, parent, byDepth);
    this.checkNameServerAddresses(sets, firstSet, flags, byDepth);
    if (this.errors.length > 0) return null;
    return CompactZone.compiled(
      this.originKey,
      {
        names: this.names,
        flags,
        firstSet,
        setType: sets.type.subarray(0, sets.count),
        setTtl: sets.ttl.subarray(0, sets.count),
        setOffset: sets.offset.subarray(0, sets.count + 1),
        // Duplicates dropped leave a few unused octets at the end: cheaper than a second copy at peak memory.
        data: sets.data.subarray(0, sets.dataLength),
      },
      sets.kept,
      this.file,
    );
  }

  /** The table of owner names, each record pointing at its owner's id in it. */
  private indexOwners(): void {
    const { names, idOf } = this.owners!.table();
    this.owners = null;
    this.names = names;
    // Records point at collector entries; entries of a repeated owner become that owner's one id.
    if (names.count < idOf.length) for (let i = 0; i < this.n; i++) this.recNode[i] = idOf[this.recNode[i]!]!;
  }

  /**
   * One RRset per name and type, from the records in grouped order, with the checks that need all
   * of a name's records: duplicates dropped (a warning), a second record of a singleton type and
   * CNAME beside other data (errors), TTLs that differ within an RRset (a warning; the first wins).
   */
  private buildRRsets(order: Uint32Array): RRsetTables {
    const recordNodes = this.names.count;
    // There are never more RRsets than records: size the set arrays once, no growing copies at peak memory.
    const cap = Math.max(16, this.n);
    const sets: RRsetTables = {
      count: 0,
      type: new Uint16Array(cap),
      ttl: new Uint32Array(cap),
      offset: new Uint32Array(cap + 1),
      record: new Uint32Array(cap),
      firstSet: new Uint32Array(recordNodes + 1),
      data: Buffer.allocUnsafe(this.dataLength),
      dataLength: 0,
      kept: 0,
      nsRecords: new Map(),
    };
    const copy = new RunCopy(this.chunks, sets.data);
    for (let node = 0; node < recordNodes; node++) {
      sets.firstSet[node] = sets.count;
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
        this.addRRset(sets, copy, node, type, order, g, ge);
        g = ge;
      }
      // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME owner has no other data. Reported at whichever came second.
      if (firstCname >= 0 && firstOther >= 0) {
        this.errors.push({ ...this.at(Math.max(firstCname, firstOther)), message: `${keyToText(this.names.keyOf(node))}: CNAME and other data` });
      }
    }
    copy.flush();
    sets.firstSet[recordNodes] = sets.count;
    sets.offset[sets.count] = sets.dataLength;
    return sets;
  }

  /** Appends the RRset of records `order[from, to)` (one name, one type) to `sets`, with the TTL of its first record (RFC 2181 §5.2, as BIND: "set to prior TTL"). */
  private addRRset(sets: RRsetTables, copy: RunCopy, node: number, type: number, order: Uint32Array, from: number, to: number): void {
    const s = sets.count++;
    const first = order[from]!;
    sets.type[s] = type;
    sets.ttl[s] = this.recTtl[first]!;
    sets.offset[s] = sets.dataLength;
    sets.record[s] = first;
    const canon = to - from > 1 ? new Set<string>() : null;
    const withNames = canon !== null && hasCanonicalNames(type);
    const nsKept: number[] | null = type === T.NS ? [] : null;
    for (let k = from; k < to; k++) {
      const i = order[k]!;
      if (canon !== null) {
        const c = this.canonical(i, withNames);
        if (canon.has(c)) {
          this.warnings.push({ ...this.at(i), message: `duplicate ${typeToText(type)} record at ${keyToText(this.names.keyOf(node))} ignored` });
          continue;
        }
        if (canon.size > 0 && isSingleton(type)) {
          this.errors.push({ ...this.at(i), message: `${keyToText(this.names.keyOf(node))}: multiple RRs of singleton type ${typeToText(type)}` });
          continue;
        }
        // RRSIGs of one name cover different types, each signature with its covered RRset's TTL
        // (RFC 4034 §3): their TTLs differ by design, and answers use the covered RRset's.
        if (this.recTtl[i] !== sets.ttl[s] && type !== T.RRSIG) {
          this.warnings.push({ ...this.at(i), message: `${keyToText(this.names.keyOf(node))} ${typeToText(type)}: TTL ${this.recTtl[i]} differs from the RRset's; set to prior TTL (${sets.ttl[s]})` });
        }
        canon.add(c);
      }
      const off = this.recOffset[i]!;
      const c = Math.floor(off / CHUNK_SIZE);
      const start = off % CHUNK_SIZE;
      const end = start + 2 + this.chunks[c]!.readUInt16BE(start);
      copy.add(c, start, end);
      sets.dataLength += end - start;
      sets.kept++;
      nsKept?.push(i);
    }
    if (nsKept !== null) sets.nsRecords.set(s, nsKept);
  }

  /** The zone has its SOA and NS at the apex (RFC 1035 §5.2); without a SOA nothing else is checked. */
  private checkApex(sets: RRsetTables): boolean {
    const from = sets.firstSet[this.apexId]!;
    const to = sets.firstSet[this.apexId + 1]!;
    const soa = setOfType(sets, from, to, T.SOA);
    if (soa < 0) {
      this.errors.push({ file: this.file, line: 1, message: `zone ${keyToText(this.originKey)} has no SOA record` });
      return false;
    }
    if (setOfType(sets, from, to, T.NS) < 0) {
      this.errors.push({ ...this.at(sets.record[soa]!), message: `zone ${keyToText(this.originKey)} has no NS records at the apex` });
    }
    return true;
  }

  /** `firstSet` extended to the nodes added since (the empty non-terminals, which own no RRsets). */
  private coverEmptyNonTerminals(firstSet: Uint32Array): Uint32Array {
    const recordNodes = firstSet.length - 1;
    const all = new Uint32Array(this.names.count + 1);
    all.set(firstSet);
    all.fill(firstSet[recordNodes]!, recordNodes);
    return all;
  }

  /** Every node's flags (NodeFlag), parents before children: cuts and DNAMEs mark what lies below them. */
  private nodeFlags(sets: RRsetTables, firstSet: Uint32Array, parent: Int32Array, byDepth: Uint32Array): Uint8Array {
    const names = this.names;
    const flags = new Uint8Array(names.count);
    // Nodes added after the records' owners are the empty non-terminals.
    flags.fill(NodeFlag.EmptyNonTerminal, sets.firstSet.length - 1);
    for (const node of byDepth) {
      let f = flags[node]!;
      const from = firstSet[node]!;
      const to = firstSet[node + 1]!;
      if (node === this.apexId) f |= NodeFlag.Apex;
      else if (setOfType(sets, from, to, T.NS) >= 0) f |= NodeFlag.Delegation;
      if (setOfType(sets, from, to, T.DNAME) >= 0) f |= NodeFlag.DName;
      const p = parent[node]!;
      if (p >= 0) {
        if (flags[p]! & (NodeFlag.Delegation | NodeFlag.DName | NodeFlag.BelowCut)) f |= NodeFlag.BelowCut;
        const off = names.offsets[node]!;
        if (names.names[off] === 1 && names.names[off + 1] === 0x2a) flags[p] = flags[p]! | NodeFlag.WildcardChild;
      }
      flags[node] = f;
    }
    return flags;
  }

  /** Frees what only the first pass needs (lines and files stay, for diagnostics), lowering the peak while the zone is laid out. */
  private releaseRecords(): void {
    const first = this.chunks.length === 1 ? this.chunks[0]! : null;
    if (this.recNode.length <= SPARE_MAX_RECORDS) {
      const firstChunk = first !== null && first.length <= SPARE_MAX_CHUNK ? first : this.firstChunk;
      this.released = { recNode: this.recNode, recType: this.recType, recTtl: this.recTtl, recOffset: this.recOffset, recLine: this.recLine, recFile: this.recFile, firstChunk };
    }
    this.recNode = NO_U32;
    this.recType = NO_U16;
    this.recTtl = NO_U32;
    this.recOffset = NO_U32;
    this.nodeStart = NO_U32;
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
    let last = this.apexId;
    for (let id = 0; id < names.count; id++) {
      if (id === this.apexId) {
        parent[id] = -1;
        continue;
      }
      const arena = names.names;
      const off = names.offsets[id]!;
      const end = names.offsets[id + 1]!;
      const pStart = off + arena[off]! + 1;
      // Names usually follow their siblings: try the last parent before the index.
      let p = sameBytes(arena, pStart, end, names.offsets[last]!, names.offsets[last + 1]!) ? last : names.findBytes(arena, pStart, end);
      if (p < 0) p = names.insertNewBytes(arena, pStart, end);
      last = p;
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

  /** Data hidden by a delegation or a DNAME above it, or beside a delegation's NS, is never served: a warning, as kzonecheck gives. */
  private checkOccludedData(sets: RRsetTables, firstSet: Uint32Array, flags: Uint8Array, parent: Int32Array, byDepth: Uint32Array): void {
    const names = this.names;
    for (const node of byDepth) {
      const f = flags[node]!;
      const from = firstSet[node]!;
      const to = firstSet[node + 1]!;
      if (f & NodeFlag.Delegation) {
        for (let s = from; s < to; s++) {
          if (mayBeAtCut(sets.type[s]!)) continue;
          this.warnings.push({ ...this.at(sets.record[s]!), message: `${keyToText(names.keyOf(node))} ${typeToText(sets.type[s]!)} is occluded by the delegation at the same name` });
        }
      }
      if (f & NodeFlag.BelowCut) {
        let dname = -1;
        for (let a = parent[node]!; a >= 0; a = parent[a]!) if (flags[a]! & NodeFlag.DName) dname = a;
        for (let s = from; s < to; s++) {
          if (dname < 0 && (sets.type[s] === T.A || sets.type[s] === T.AAAA)) continue; // glue
          const by = dname >= 0 ? `the DNAME at ${keyToText(names.keyOf(dname))}` : 'a delegation';
          this.warnings.push({ ...this.at(sets.record[s]!), message: `${keyToText(names.keyOf(node))} ${typeToText(sets.type[s]!)} is occluded by ${by}` });
        }
      }
    }
  }

  /** An NS target inside the zone, at the apex or a delegation, must have an address or resolvers can't reach the server: an error, as BIND's check-integrity makes it. */
  private checkNameServerAddresses(sets: RRsetTables, firstSet: Uint32Array, flags: Uint8Array, byDepth: Uint32Array): void {
    const names = this.names;
    const hasAddress = (target: string): boolean => {
      const id = names.find(target);
      if (id < 0) return false;
      const from = firstSet[id]!;
      const to = firstSet[id + 1]!;
      return setOfType(sets, from, to, T.A) >= 0 || setOfType(sets, from, to, T.AAAA) >= 0;
    };
    for (const node of byDepth) {
      const f = flags[node]!;
      if (f & NodeFlag.BelowCut || !(f & (NodeFlag.Apex | NodeFlag.Delegation))) continue;
      const ns = setOfType(sets, firstSet[node]!, firstSet[node + 1]!, T.NS);
      if (ns < 0) continue;
      const records = sets.nsRecords.get(ns)!;
      for (let p = sets.offset[ns]!, end = sets.offset[ns + 1]!, k = 0; p < end; k++) {
        const len = sets.data.readUInt16BE(p);
        const target = nameKey(sets.data, p + 2);
        p += 2 + len;
        if (!keyIsAtOrBelow(target, this.originKey) || hasAddress(target)) continue;
        this.errors.push({ ...this.at(records[k]!), message: `NS '${keyToText(target).replace(/\.$/, '')}' has no address records (A or AAAA)` });
      }
    }
  }
}

/** The RRsets compile builds: per node a run of sets sorted by type, per set its records' `[RDLENGTH][RDATA]` in `data`. */
interface RRsetTables {
  count: number;
  type: Uint16Array;
  ttl: Uint32Array;
  /** Records of set `s` are `data[offset[s], offset[s + 1])`. */
  offset: Uint32Array;
  /** The record (file order) each set began with: diagnostics about the set name its line. */
  record: Uint32Array;
  /** Sets of node `i` are `firstSet[i] .. firstSet[i + 1] - 1`, for the nodes that own records (ENTs come later). */
  firstSet: Uint32Array;
  data: Buffer;
  dataLength: number;
  /** Records kept once duplicates are dropped. */
  kept: number;
  /** The NS records kept, by set: the missing-address check names the NS record's line. */
  nsRecords: Map<number, number[]>;
}

/**
 * Copies records from the chunks they were collected in to the RRsets' data, in the order given,
 * joining records that lie next to each other in their chunk into one copy: a zone written grouped
 * by name is mostly one copy per chunk instead of one per record.
 */
class RunCopy {
  private chunk = -1;
  private from = 0;
  private to = 0;
  private at = 0;

  constructor(
    private readonly chunks: readonly Buffer[],
    private readonly out: Buffer,
  ) {}

  /** Appends `chunks[chunk][start, end)` to what was added before. */
  add(chunk: number, start: number, end: number): void {
    if (chunk === this.chunk && start === this.to) {
      this.to = end;
      return;
    }
    const at = this.at + this.to - this.from;
    this.flush();
    this.chunk = chunk;
    this.from = start;
    this.to = end;
    this.at = at;
  }

  flush(): void {
    if (this.chunk >= 0) this.chunks[this.chunk]!.copy(this.out, this.at, this.from, this.to);
    this.at += this.to - this.from;
    this.from = this.to;
  }
}

/** The set of `type` among sets `from .. to - 1`, or -1. */
function setOfType(sets: RRsetTables, from: number, to: number, type: number): number {
  for (let s = from; s < to; s++) if (sets.type[s] === type) return s;
  return -1;
}

/** Whether `b[from, to)` and `b[otherFrom, otherTo)` hold the same octets. */
function sameBytes(b: Uint8Array, from: number, to: number, otherFrom: number, otherTo: number): boolean {
  if (to - from !== otherTo - otherFrom) return false;
  for (let i = 0; i < to - from; i++) if (b[from + i] !== b[otherFrom + i]) return false;
  return true;
}

function minIndex(a: number, b: number): number {
  return a < 0 || b < a ? b : a;
}

/** Stable sort of `list[from..]` by file, then line. */
function sortFrom(list: Diagnostic[], from: number): void {
  const tail = list.splice(from).sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  list.push(...tail);
}
