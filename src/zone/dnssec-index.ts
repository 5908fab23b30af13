// What serving a signed zone needs beyond the compiled tables, derived from them once per load:
// signatures grouped by the type they cover (a node's RRSIG RRset holds them all together), the
// NSEC owners in canonical order and the NSEC3 owners of the zone's chain in hash order, so finding
// the record that covers a name is a binary search, not a scan (Knot keeps its NSEC3 nodes in a
// separate ordered tree for the same reason).

import { hash } from 'node:crypto';
import { canonicalSortKey, keyToWire } from './name.js';
import { NameTable } from './name-table.js';
import { base32HexUpper } from './rdata/presentation.js';
import { T } from './types.js';
import { WireRRset, type ZoneTables } from './rrset.js';

/** A DnssecIndex as typed arrays, carried in ZoneParts (see CompactZone.parts). */
export interface DnssecParts {
  /** Signature groups of node `i` are `sigFirst[i] .. sigFirst[i + 1] - 1`; empty for an unsigned zone. */
  sigFirst: Uint32Array;
  /** The type each group covers (RFC 4034 §3.1.1 Type Covered). */
  sigCovered: Uint16Array;
  /** Group `g` is `[RDLENGTH][RDATA]...` at `[sigStart[g], sigEnd[g])` of sigData, or of the zone's data when sigData is empty. */
  sigStart: Uint32Array;
  sigEnd: Uint32Array;
  sigData: Uint8Array;
  /** Ids of the nodes that own NSEC, in canonical order (RFC 4034 §6.1). */
  nsecOrder: Uint32Array;
  /** Ids of the nodes that own an NSEC3 of the NSEC3PARAM's chain, in hash order (RFC 5155 §7.1). */
  nsec3Order: Uint32Array;
  /** The apex NSEC3PARAM RDATA; empty without one. */
  nsec3Param: Uint8Array;
}

const EMPTY_U32 = new Uint32Array(0);
const NO_SALT = Buffer.alloc(0);

export class DnssecIndex {
  private readonly sigSrc: Buffer;
  /** NSEC3 hashing parameters of the chain served (RFC 5155 §4). */
  private readonly iterations: number;
  private readonly salt: Buffer;
  /** Per node id: 0 not looked up yet, -1 no NSEC3 of its own, else 1 + its NSEC3's index in nsec3Order. */
  private memo: Int32Array | undefined;

  private constructor(
    private readonly p: DnssecParts,
    zoneData: Buffer,
    private readonly names: NameTable,
    private readonly origin: string,
  ) {
    this.sigSrc = p.sigData.length > 0 ? Buffer.from(p.sigData.buffer, p.sigData.byteOffset, p.sigData.byteLength) : zoneData;
    const param = p.nsec3Param;
    this.iterations = param.length >= 5 ? (param[2]! << 8) | param[3]! : 0;
    this.salt = param.length >= 5 ? Buffer.from(param.subarray(5, 5 + param[4]!)) : NO_SALT;
  }

  /** The index of every unsigned zone: it holds nothing of a zone (each of its questions is asked only of a signed one). */
  private static unsignedIndex: DnssecIndex | undefined;

  static build(t: ZoneTables, origin: string): DnssecIndex {
    const p = buildParts(t, origin);
    return p === UNSIGNED ? DnssecIndex.unsigned() : new DnssecIndex(p, t.data, t.names, origin);
  }

  /** The index over parts made by parts(), or null for an unsigned zone; `zoneData()` gives the zone's data buffer (asked only of a signed zone). */
  static fromParts(p: DnssecParts | null, zoneData: () => Buffer, names: NameTable, origin: string): DnssecIndex {
    // Every unsigned zone shares one index over one set of empty arrays: a POP may hold 100,000 small unsigned zones.
    const unsigned = p === null || Object.values(p).every((a: ArrayBufferView) => a.byteLength === 0);
    return unsigned ? DnssecIndex.unsigned() : new DnssecIndex(p, zoneData(), names, origin);
  }

  private static unsigned(): DnssecIndex {
    return (DnssecIndex.unsignedIndex ??= new DnssecIndex(UNSIGNED, NO_SALT, new NameTable(0), ''));
  }

  parts(): DnssecParts {
    return this.p;
  }

  /** Whether the zone holds signatures: only then does a DO query get DNSSEC records. */
  get signed(): boolean {
    return this.p.sigFirst.length > 0;
  }

  /** Whether denial is proven with NSEC3 (the apex has an NSEC3PARAM whose chain exists). */
  get nsec3(): boolean {
    return this.p.nsec3Order.length > 0;
  }

  /** The RRSIGs at `key` covering `type`, as an RRset written with `ttl`, or undefined. */
  sigs(key: string, type: number, ttl: number): WireRRset | undefined {
    const p = this.p;
    const id = this.names.find(key);
    if (id < 0 || p.sigFirst.length === 0) return undefined;
    for (let g = p.sigFirst[id]!, end = p.sigFirst[id + 1]!; g < end; g++) {
      if (p.sigCovered[g] === type) return new WireRRset(T.RRSIG, ttl, this.sigSrc, p.sigStart[g]!, p.sigEnd[g]!);
    }
    return undefined;
  }

  /** Every group of RRSIGs at `key`, one per covered type, in the order the zone's file gave them. */
  sigGroups(key: string): { covered: number; start: number; end: number; src: Buffer }[] {
    const p = this.p;
    const id = this.names.find(key);
    if (id < 0 || p.sigFirst.length === 0) return [];
    const out = [];
    for (let g = p.sigFirst[id]!, end = p.sigFirst[id + 1]!; g < end; g++) out.push({ covered: p.sigCovered[g]!, start: p.sigStart[g]!, end: p.sigEnd[g]!, src: this.sigSrc });
    return out;
  }

  /** The keys of the NSEC owners, in canonical order (zone checks). */
  nsecOwners(): string[] {
    return Array.from(this.p.nsecOrder, (id) => this.names.keyOf(id));
  }

  /** The keys of the NSEC3 owners of the served chain, in hash order (zone checks). */
  nsec3Owners(): string[] {
    return Array.from(this.p.nsec3Order, (id) => this.names.keyOf(id));
  }

  /** The owner of the NSEC that covers `key` (RFC 4035 §3.1.3.2): the last owner before it in canonical order. */
  nsecCovering(key: string): string | undefined {
    const order = this.p.nsecOrder;
    if (order.length === 0) return undefined;
    const target = canonicalSortKey(key);
    let lo = 0;
    let hi = order.length; // first index whose owner sorts after or at target
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (canonicalSortKey(this.names.keyOf(order[mid]!)) < target) lo = mid + 1;
      else hi = mid;
    }
    // Before the apex cannot happen for a name in the zone; wrap to the last NSEC, which points back to the apex.
    return this.names.keyOf(order[lo === 0 ? order.length - 1 : lo - 1]!);
  }

  /** The owner name of `key`'s NSEC3 (RFC 5155 §5: the hash's base32hex, then the zone's name). */
  nsec3Owner(key: string): string {
    // RFC 5155 §5: IH(salt, x, 0) = H(x || salt), IH(salt, x, k) = H(IH(salt, x, k - 1) || salt).
    const salt = this.salt;
    const wire = keyToWire(key);
    let h = hash('sha1', salt.length === 0 ? wire : Buffer.concat([wire, salt]), 'buffer');
    for (let i = 0; i < this.iterations; i++) h = hash('sha1', salt.length === 0 ? h : Buffer.concat([h, salt]), 'buffer');
    const label = base32HexUpper(h, 0, h.length).toLowerCase(); // RFC 5155 §3.3; keys are lower-case
    return String.fromCharCode(label.length) + label + this.origin;
  }

  /**
   * The owner of the NSEC3 matching `key` (RFC 5155 §7.2.1), or undefined. Names of the zone's nodes are
   * hashed once, on first use, and remembered by node (Knot links each node to its NSEC3 at load).
   */
  nsec3Matching(key: string): string | undefined {
    const id = this.names.find(key);
    if (id < 0) return this.nsec3MatchingHash(this.nsec3Owner(key));
    const memo = (this.memo ??= new Int32Array(this.names.count));
    let m = memo[id]!;
    if (m === 0) {
      const i = this.nsec3Search(this.nsec3Owner(key));
      memo[id] = m = i >= 0 ? i + 1 : -1;
    }
    return m > 0 ? this.names.keyOf(this.p.nsec3Order[m - 1]!) : undefined;
  }

  private nsec3MatchingHash(hashedOwner: string): string | undefined {
    return this.nsec3Search(hashedOwner) >= 0 ? hashedOwner : undefined;
  }

  /** The owner of the NSEC3 that covers `hashedOwner`'s hash (RFC 5155 §7.2.1): the last one below it, wrapping. */
  nsec3Covering(hashedOwner: string): string {
    const order = this.p.nsec3Order;
    const i = this.nsec3Search(hashedOwner);
    const at = i >= 0 ? i : ~i; // index of the first hash above
    return this.names.keyOf(order[at === 0 ? order.length - 1 : at - 1]!);
  }

  /** Binary search by hash label: the index of the match, or ~(index of the first greater). */
  private nsec3Search(hashedOwner: string): number {
    const order = this.p.nsec3Order;
    const names = this.names.names;
    const offsets = this.names.offsets;
    const namesAt = this.names.namesAt;
    const offsetsAt = this.names.offsetsAt;
    const len = hashedOwner.charCodeAt(0);
    let lo = 0;
    let hi = order.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const off = namesAt + offsets[offsetsAt + order[mid]!]!;
      const c = compareLabel(names, off, hashedOwner, len);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return ~lo;
  }
}

/** Compares the first label at `names[off]` with the first label of `key` (length `len`), as octets. */
function compareLabel(names: Buffer, off: number, key: string, len: number): number {
  const l = names[off]!;
  const n = Math.min(l, len);
  for (let i = 1; i <= n; i++) {
    const d = names[off + i]! - key.charCodeAt(i);
    if (d !== 0) return d;
  }
  return l - len;
}

/** The parts of a zone without signatures. */
const UNSIGNED: DnssecParts = {
  sigFirst: EMPTY_U32,
  sigCovered: new Uint16Array(0),
  sigStart: EMPTY_U32,
  sigEnd: EMPTY_U32,
  sigData: new Uint8Array(0),
  nsecOrder: EMPTY_U32,
  nsec3Order: EMPTY_U32,
  nsec3Param: new Uint8Array(0),
};

function buildParts(t: ZoneTables, origin: string): DnssecParts {
  const count = t.names.count;
  let rrsigSets = 0;
  for (let s = 0; s < t.setType.length; s++) if (t.setType[s] === T.RRSIG) rrsigSets++;
  if (rrsigSets === 0) return UNSIGNED;
  const sigs = groupSignatures(t, count);
  return { ...sigs, nsecOrder: nsecOrder(t, count), ...nsec3Chain(t, origin) };
}

/** Each node's signatures grouped by covered type, as views of the zone's data when the file kept each type's signatures together. */
function groupSignatures(t: ZoneTables, count: number): Pick<DnssecParts, 'sigFirst' | 'sigCovered' | 'sigStart' | 'sigEnd' | 'sigData'> {
  const sigFirst = new Uint32Array(count + 1);
  const covered: number[] = [];
  const start: number[] = [];
  const end: number[] = [];
  let scattered = false;
  const data = t.data;
  for (let id = 0; id < count; id++) {
    sigFirst[id] = covered.length;
    for (let s = t.firstSet[id]!, se = t.firstSet[id + 1]!; s < se; s++) {
      if (t.setType[s] !== T.RRSIG) continue;
      const first = covered.length;
      for (let p = t.setOffset[s]!, pe = t.setOffset[s + 1]!; p < pe; p += 2 + data.readUInt16BE(p)) {
        const type = data.readUInt16BE(p + 2);
        const next = p + 2 + data.readUInt16BE(p);
        const last = covered.length - 1;
        if (last >= first && covered[last] === type && end[last] === p) {
          end[last] = next;
          continue;
        }
        for (let g = first; g < covered.length; g++) if (covered[g] === type) scattered = true;
        covered.push(type);
        start.push(p);
        end.push(next);
      }
    }
  }
  sigFirst[count] = covered.length;
  if (!scattered) {
    return { sigFirst, sigCovered: Uint16Array.from(covered), sigStart: Uint32Array.from(start), sigEnd: Uint32Array.from(end), sigData: new Uint8Array(0) };
  }
  // Signatures of one type interleaved with others in the file: copy them together, type by type.
  const out = Buffer.allocUnsafeSlow(end.reduce((n, e, g) => n + e - start[g]!, 0));
  const gCovered: number[] = [];
  const gStart: number[] = [];
  const gEnd: number[] = [];
  let pos = 0;
  for (let id = 0; id < count; id++) {
    const from = sigFirst[id]!;
    const to = sigFirst[id + 1]!;
    sigFirst[id] = gCovered.length;
    const types = [...new Set(covered.slice(from, to))];
    for (const type of types) {
      gCovered.push(type);
      gStart.push(pos);
      for (let g = from; g < to; g++) if (covered[g] === type) pos += data.copy(out, pos, start[g]!, end[g]!);
      gEnd.push(pos);
    }
  }
  sigFirst[count] = gCovered.length;
  return { sigFirst, sigCovered: Uint16Array.from(gCovered), sigStart: Uint32Array.from(gStart), sigEnd: Uint32Array.from(gEnd), sigData: out };
}

function hasType(t: ZoneTables, id: number, type: number): number {
  for (let s = t.firstSet[id]!, se = t.firstSet[id + 1]!; s < se; s++) if (t.setType[s] === type) return s;
  return -1;
}

function nsecOrder(t: ZoneTables, count: number): Uint32Array {
  const ids: number[] = [];
  for (let id = 0; id < count; id++) if (hasType(t, id, T.NSEC) >= 0) ids.push(id);
  const keys = ids.map((id) => canonicalSortKey(t.names.keyOf(id)));
  const order = ids.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  return Uint32Array.from(order, (i) => ids[i]!);
}

/** The NSEC3 owners of the chain the apex NSEC3PARAM names (RFC 5155 §4: same algorithm, iterations and salt), by hash. */
function nsec3Chain(t: ZoneTables, origin: string): Pick<DnssecParts, 'nsec3Order' | 'nsec3Param'> {
  const apex = t.names.find(origin);
  const ps = apex < 0 ? -1 : hasType(t, apex, T.NSEC3PARAM);
  if (ps < 0) return { nsec3Order: EMPTY_U32, nsec3Param: new Uint8Array(0) };
  const data = t.data;
  const pOff = t.setOffset[ps]! + 2;
  // Its own memory, not a slice of Node's shared pool: the parts are cloned to other threads.
  const param = Buffer.allocUnsafeSlow(data.readUInt16BE(pOff - 2));
  data.copy(param, 0, pOff, pOff + param.length);
  const saltEnd = 5 + param[4]!;
  const ids: number[] = [];
  const labels: string[] = [];
  for (let id = 0; id < t.names.count; id++) {
    const s = hasType(t, id, T.NSEC3);
    if (s < 0) continue;
    const key = t.names.keyOf(id);
    // The chain's owners are one hash label directly below the apex (RFC 5155 §7.1).
    if (key.length !== key.charCodeAt(0) + 1 + origin.length || !key.endsWith(origin)) continue;
    const r = t.setOffset[s]! + 2;
    const sameParams = data[r] === param[0] && data[r + 2] === param[2] && data[r + 3] === param[3] && data.compare(param, 4, saltEnd, r + 4, r + saltEnd) === 0;
    if (!sameParams) continue;
    ids.push(id);
    labels.push(key.substring(1, 1 + key.charCodeAt(0)));
  }
  const order = ids.map((_, i) => i).sort((a, b) => (labels[a]! < labels[b]! ? -1 : labels[a]! > labels[b]! ? 1 : 0));
  return { nsec3Order: Uint32Array.from(order, (i) => ids[i]!), nsec3Param: param };
}
