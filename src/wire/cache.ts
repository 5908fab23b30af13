// Whole responses kept for reuse while one zone set is served. The key holds everything a response
// depends on besides the message ID, the question's case and the RD/CD bits (patched on a hit): the
// lower-cased name, type, class, DO, EDNS present, NSID asked, and UDP or TCP. The size limit is checked
// against the entry. A cache belongs to one ZoneSet: the handler swaps the zones and a
// new cache in one assignment, so a reload never serves the old bytes.
//
// A hit is the hot path of the whole server, and on a real query mix it is bound by memory latency,
// not by instructions: the entry was last touched thousands of queries ago. So a hit reads as few
// places as it can, and the cache holds no object per entry for the garbage collector to trace:
// - the key's octets are hashed where the parser left them (no key string, no Map);
// - one Int32Array is the index (open addressing, linear probing), each bucket [address + 1, hash];
// - entries are written one after another into fixed-size segments: [header][key][response].
// When the budget is spent, a whole segment picked at random is emptied and refilled. Random, not
// oldest first: query mixes cycle through more names than fit (a dnsperf file, a scan), and
// oldest-first eviction would then miss on every query while random eviction keeps a share.

import { CacheUse, type ResponseInfo } from './handler-types.js';
import { Fit } from './encoder.js';
import { CookieStatus } from './cookies.js';

/** [key length][fit][limit: 2][info: 2][response length: 2][rate-limiting name hash: 4]. */
const HEADER = 12;
const DEFAULT_SEGMENT_BYTES = 256 * 1024;
/** The index doubles when entries pass half its buckets: probe runs stay short, and the index stays
 * as small as the entries allow (a smaller index stays in the CPU's caches more of the time). */
const BUCKETS_PER_ENTRY = 2;
const FIRST_BUCKETS = 1024;
/** Fields are 16 bits: larger responses (possible over TCP) and more infos are simply not kept. */
const MAX_FIELD = 0xffff;
/** Slots of the seen-once filter: 2^16 names asked once are remembered at a time. */
const SEEN_BITS = 16;

export class ResponseCache {
  private index: Int32Array;
  private mask: number;
  private readonly segments: Buffer[] = [];
  private readonly segmentFill: number[] = [];
  private readonly maxSegments: number;
  private readonly segmentBits: number;
  private readonly segmentBytes: number;
  /** An address is (segment << segmentBits) | offset. */
  private readonly offsetMask: number;
  /** The segment new entries go to. */
  private open = -1;
  /** Segments emptied to respect the entry cap, to be filled before any other. */
  private readonly emptied: number[] = [];
  private entries = 0;
  /** What a hit's ResponseInfo says besides its name hash: few distinct values, shared by many entries (never mutated). */
  private readonly infos: ResponseInfo[] = [];
  private readonly infoIds = new Map<string, number>();
  private seed = 0x9e3779b9;
  /** Hashes of keys offered once (see seenBefore): a fixed 256 KiB, whatever a flood sends. */
  private readonly seen = new Int32Array(1 << SEEN_BITS);

  /**
   * At most `maxEntries` entries in at most `maxBytes` of segments (at least two); `segmentBytes`, a
   * power of two, bounds the largest entry kept.
   */
  constructor(
    private readonly maxEntries: number,
    maxBytes: number,
    segmentBytes = DEFAULT_SEGMENT_BYTES,
  ) {
    this.segmentBytes = segmentBytes;
    this.offsetMask = segmentBytes - 1;
    this.segmentBits = Math.log2(segmentBytes);
    if (!Number.isInteger(this.segmentBits) || this.segmentBits > 20) throw new RangeError(`segment size ${segmentBytes}`);
    this.maxSegments = Math.max(2, Math.min(Math.floor(maxBytes / segmentBytes), 2 ** (31 - this.segmentBits) - 1));
    this.index = new Int32Array(FIRST_BUCKETS * 2);
    this.mask = FIRST_BUCKETS - 1;
  }

  /**
   * The address of the response cached for `key[0, keyLength)` that is usable under `limit` (a
   * complete one that fits, or one written for that very limit), or -1.
   */
  find(key: Buffer, keyLength: number, limit: number): number {
    const address = this.lookup(key, keyLength, hashKey(key, 0, keyLength));
    if (address < 0) return -1;
    const seg = this.segments[address >>> this.segmentBits]!;
    const at = address & this.offsetMask;
    if (seg[at + 1] === Fit.Complete) return ((seg[at + 6]! << 8) | seg[at + 7]!) <= limit ? address : -1;
    return ((seg[at + 2]! << 8) | seg[at + 3]!) === limit ? address : -1;
  }

  /** Copies the response at `address` (from find) into `out` from `at` (responseLength octets), for the caller to patch and send. */
  copyResponse(address: number, out: Buffer, at: number): void {
    const seg = this.segments[address >>> this.segmentBits]!;
    const e = address & this.offsetMask;
    const start = e + HEADER + seg[e]!;
    seg.copy(out, at, start, start + ((seg[e + 6]! << 8) | seg[e + 7]!));
  }

  /**
   * The segment that holds the response at `address` (from find), to read in place with responseStart
   * and responseLength until the next set, never to keep. No view of it: on a referral template's hit
   * that would be an object per query.
   */
  segmentOf(address: number): Buffer {
    return this.segments[address >>> this.segmentBits]!;
  }

  responseStart(address: number): number {
    const at = address & this.offsetMask;
    return at + HEADER + this.segmentOf(address)[at]!;
  }

  responseLength(address: number): number {
    const seg = this.segmentOf(address);
    const at = address & this.offsetMask;
    return (seg[at + 6]! << 8) | seg[at + 7]!;
  }

  info(address: number): ResponseInfo {
    const seg = this.segments[address >>> this.segmentBits]!;
    const at = address & this.offsetMask;
    return this.infos[(seg[at + 4]! << 8) | seg[at + 5]!]!;
  }

  /** The entry's ResponseInfo.nameHash: per entry (positive answers are keyed by their own name), unlike the shared info. */
  nameHash(address: number): number {
    return this.segments[address >>> this.segmentBits]!.readUInt32BE((address & this.offsetMask) + 8);
  }

  /**
   * Whether `key[0, keyLength)` was offered here before (and since forgotten by no collision), noting it
   * if not. For responses made for one query name that need not exist (NXDOMAIN, a referral or
   * wildcard answer for a name below the cut or the `*`): under a random-name flood each such name is
   * asked once, and keeping each would evict the entries that are asked again. A name asked twice
   * within the last SEEN_SLOTS or so of these is kept from its second query on.
   */
  seenBefore(key: Buffer, keyLength: number): boolean {
    // Never 0, so an empty slot matches no key.
    const hash = hashKey(key, 0, keyLength) | 1;
    // The index's buckets use the low bits: the upper ones pick a slot independently of them.
    const slot = hash >>> (32 - SEEN_BITS);
    if (this.seen[slot] === hash) return true;
    this.seen[slot] = hash;
    return false;
  }

  /** Keeps `response[start, start + length)`, written for `limit`, under `key[0, keyLength)`, replacing what the key had. */
  set(key: Buffer, keyLength: number, response: Buffer, start: number, length: number, limit: number, fit: Fit, info: ResponseInfo): void {
    const size = HEADER + keyLength + length;
    if (size > this.segmentBytes || length > MAX_FIELD || keyLength > 0xff) return;
    const infoId = this.infoId(info);
    if (infoId < 0) return;
    const hash = hashKey(key, 0, keyLength);
    const old = this.lookup(key, keyLength, hash);
    // The old bytes stay in their segment, unreachable, until it is emptied.
    if (old >= 0) this.unindexAddress(old, hash);
    if (this.entries >= this.maxEntries) {
      const s = this.randomSegmentButOpen();
      this.emptySegment(s);
      this.emptied.push(s);
      // Every entry may sit in the segment being filled (a small cap, large segments): start it over.
      if (this.entries >= this.maxEntries) this.emptySegment(this.open);
    }
    if (this.open < 0 || this.segmentFill[this.open]! + size > this.segmentBytes) this.openSegment();
    const seg = this.segments[this.open]!;
    const at = this.segmentFill[this.open]!;
    seg[at] = keyLength;
    seg[at + 1] = fit;
    seg[at + 2] = limit >> 8;
    seg[at + 3] = limit & 0xff;
    seg[at + 4] = infoId >> 8;
    seg[at + 5] = infoId & 0xff;
    seg[at + 6] = length >> 8;
    seg[at + 7] = length & 0xff;
    seg.writeUInt32BE(info.nameHash >>> 0, at + 8);
    key.copy(seg, at + HEADER, 0, keyLength);
    response.copy(seg, at + HEADER + keyLength, start, start + length);
    this.segmentFill[this.open] = at + size;
    this.insert(((this.open << this.segmentBits) | at) + 1, hash);
    this.entries++;
    if (this.entries * BUCKETS_PER_ENTRY > this.mask + 1) this.grow();
  }

  private insert(addressPlusOne: number, hash: number): void {
    const index = this.index;
    let b = hash & this.mask;
    while (index[b * 2] !== 0) b = (b + 1) & this.mask;
    index[b * 2] = addressPlusOne;
    index[b * 2 + 1] = hash;
  }

  private grow(): void {
    const old = this.index;
    this.index = new Int32Array(old.length * 2);
    this.mask = old.length - 1;
    for (let b = 0; b < old.length; b += 2) if (old[b] !== 0) this.insert(old[b]!, old[b + 1]!);
  }

  /** Entries that can be found. */
  get size(): number {
    return this.entries;
  }

  private lookup(key: Buffer, keyLength: number, hash: number): number {
    const index = this.index;
    for (let b = hash & this.mask; ; b = (b + 1) & this.mask) {
      const a = index[b * 2]!;
      if (a === 0) return -1;
      if (index[b * 2 + 1] !== hash) continue;
      const seg = this.segments[(a - 1) >>> this.segmentBits]!;
      const at = (a - 1) & this.offsetMask;
      if (seg[at] === keyLength && sameOctets(seg, at + HEADER, key, keyLength)) return a - 1;
    }
  }

  private infoId(info: ResponseInfo): number {
    const text = `${info.transport} ${info.rcode} ${info.outcome} ${info.qtype} ${info.truncated} ${info.kind} ${info.zone ?? ''} ${info.geoRule ?? ''}`;
    let id = this.infoIds.get(text);
    if (id === undefined) {
      if (this.infos.length > MAX_FIELD) return -1;
      id = this.infos.length;
      // A copy: the handler reuses its info object. The cookie status is the query's, not the entry's.
      this.infos.push(copyInfo(info));
      this.infoIds.set(text, id);
    }
    return id;
  }

  /** Starts filling a segment: one emptied for the entry cap, a new one while the budget allows, else one emptied now. */
  private openSegment(): void {
    let s = -1;
    while (s < 0 && this.emptied.length > 0) {
      const e = this.emptied.pop()!;
      if (e !== this.open && this.segmentFill[e] === 0) s = e;
    }
    if (s < 0 && this.segments.length < this.maxSegments) {
      this.segments.push(Buffer.allocUnsafeSlow(this.segmentBytes));
      this.segmentFill.push(0);
      s = this.segments.length - 1;
    }
    if (s < 0) {
      s = this.randomSegmentButOpen();
      this.emptySegment(s);
    }
    this.open = s;
  }

  private randomSegmentButOpen(): number {
    const n = this.segments.length;
    if (this.open < 0 || n === 1) return this.random() % n;
    const r = this.random() % (n - 1);
    return r >= this.open ? r + 1 : r;
  }

  /** Drops every entry still indexed in segment `s`. */
  private emptySegment(s: number): void {
    const seg = this.segments[s]!;
    const fill = this.segmentFill[s]!;
    for (let at = 0; at < fill; ) {
      const keyLength = seg[at]!;
      this.unindexAddress((s << this.segmentBits) | at, hashKey(seg, at + HEADER, keyLength));
      at += HEADER + keyLength + ((seg[at + 6]! << 8) | seg[at + 7]!);
    }
    this.segmentFill[s] = 0;
  }

  /** Removes `address` from the index if it is there (an entry replaced by a newer one is not). */
  private unindexAddress(address: number, hash: number): void {
    const index = this.index;
    for (let b = hash & this.mask; index[b * 2] !== 0; b = (b + 1) & this.mask) {
      if (index[b * 2] === address + 1) {
        this.unindexBucket(b);
        this.entries--;
        return;
      }
    }
  }

  /**
   * Empties bucket `hole` and shifts later members of its probe run back into it (deletion without
   * tombstones, so lookups never slow down as entries come and go).
   */
  private unindexBucket(hole: number): void {
    const index = this.index;
    const mask = this.mask;
    for (let b = (hole + 1) & mask; index[b * 2] !== 0; b = (b + 1) & mask) {
      const home = index[b * 2 + 1]! & mask;
      // Move b into the hole unless its home lies cyclically in (hole, b]: then it must stay put.
      if (((b - home) & mask) >= ((b - hole) & mask)) {
        index[hole * 2] = index[b * 2]!;
        index[hole * 2 + 1] = index[b * 2 + 1]!;
        hole = b;
      }
    }
    index[hole * 2] = 0;
    index[hole * 2 + 1] = 0;
  }

  /** xorshift32: eviction only needs to be unbiased, not unpredictable. */
  private random(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed;
  }
}

/** The fields of `info` a hit shares, in one object shape with the handler's own (monomorphic reads). */
function copyInfo(info: ResponseInfo): ResponseInfo {
  return {
    transport: info.transport,
    rcode: info.rcode,
    outcome: info.outcome,
    qtype: info.qtype,
    zone: info.zone,
    truncated: info.truncated,
    kind: info.kind,
    nameHash: 0,
    cookie: CookieStatus.None,
    cache: CacheUse.Hit,
    geoRule: info.geoRule,
  };
}

/** FNV-1a over `length` octets of `buf` from `start`. */
function hashKey(buf: Buffer, start: number, length: number): number {
  let h = 0x811c9dc5;
  for (let i = start, end = start + length; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h;
}

function sameOctets(a: Buffer, aStart: number, b: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[i]) return false;
  return true;
}
