// Whole responses kept for reuse while one zone set is served. The key holds everything a response
// depends on besides the message ID, the question's case and the RD/CD bits (patched on a hit): the
// lower-cased name, type, class, DO, EDNS present, NSID asked, and UDP or TCP. The size limit is checked
// against the entry. A cache belongs to one ZoneSet: the handler swaps the zones and a
// new cache in one assignment, so a reload never serves the old bytes.
//
// A hit is the hot path of the whole server, and on a real query mix it is bound by memory latency,
// not by instructions: the entries were last touched thousands of queries ago. So a hit reads as few
// places as it can: the key's bytes are hashed where the parser left them (no key string, no Map), one
// Int32Array holds the index, and each entry is one Buffer with its key, its size limit and its
// response side by side.

import type { ResponseInfo } from './handler-types.js';
import { Fit } from './encoder.js';

/** Entry layout: [key length][fit][limit, 2 octets][key][response]. */
const ENTRY_HEADER = 4;
/** Keys are a name (≤ 255 octets) and 5 octets: the length fits the one octet the header gives it. */
const MAX_KEY_LENGTH = 0xff;
/** Index buckets per entry at most: keeps probe runs short. */
const LOAD_FACTOR_INVERSE = 2;

export class ResponseCache {
  /** Open addressing with linear probing: bucket b is [slot + 1 (0 = empty), hash]. */
  private readonly index: Int32Array;
  private readonly mask: number;
  /** Each live slot's entry and what onResponse is told when it is served (never mutated). */
  private readonly entries: Buffer[] = [];
  private readonly infos: ResponseInfo[] = [];
  private readonly hashes: number[] = [];
  private bytes = 0;
  private seed = 0x9e3779b9;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {
    let buckets = 16;
    while (buckets < maxEntries * LOAD_FACTOR_INVERSE) buckets *= 2;
    this.index = new Int32Array(buckets * 2);
    this.mask = buckets - 1;
  }

  /**
   * The slot of the response cached for `key[0, keyLength)` that is usable under `limit` (a complete
   * one that fits, or one written for that very limit), or -1.
   */
  find(key: Buffer, keyLength: number, limit: number): number {
    const slot = this.lookup(key, keyLength, hashKey(key, keyLength));
    if (slot < 0) return -1;
    const e = this.entries[slot]!;
    const entryLimit = (e[2]! << 8) | e[3]!;
    const responseLength = e.length - ENTRY_HEADER - keyLength;
    return (e[1] === Fit.Complete ? responseLength <= limit : entryLimit === limit) ? slot : -1;
  }

  /** A copy of the response in `slot` (from find), for the caller to patch and send. */
  response(slot: number): Buffer {
    const e = this.entries[slot]!;
    const start = ENTRY_HEADER + e[0]!;
    const out = Buffer.allocUnsafe(e.length - start);
    e.copy(out, 0, start);
    return out;
  }

  info(slot: number): ResponseInfo {
    return this.infos[slot]!;
  }

  /** Keeps `response`, written for `limit`, under `key[0, keyLength)`, replacing what the key had. */
  set(key: Buffer, keyLength: number, response: Buffer, limit: number, fit: Fit, info: ResponseInfo): void {
    if (keyLength > MAX_KEY_LENGTH) return;
    const hash = hashKey(key, keyLength);
    const old = this.lookup(key, keyLength, hash);
    if (old >= 0) this.remove(old);
    const size = ENTRY_HEADER + keyLength + response.length;
    if (size > this.maxBytes) return;
    // Full: evict at random. Query mixes cycle through more names than fit (a dnsperf file, a scan);
    // oldest-first eviction would then miss on every query, random eviction keeps a share of them.
    while (this.entries.length >= this.maxEntries || this.bytes + size > this.maxBytes) {
      this.remove(this.random() % this.entries.length);
    }
    const e = Buffer.allocUnsafe(size);
    e[0] = keyLength;
    e[1] = fit;
    e[2] = limit >> 8;
    e[3] = limit & 0xff;
    key.copy(e, ENTRY_HEADER, 0, keyLength);
    response.copy(e, ENTRY_HEADER + keyLength);
    const slot = this.entries.length;
    this.entries.push(e);
    this.infos.push(info);
    this.hashes.push(hash);
    this.bytes += size;
    let b = hash & this.mask;
    while (this.index[b * 2] !== 0) b = (b + 1) & this.mask;
    this.index[b * 2] = slot + 1;
    this.index[b * 2 + 1] = hash;
  }

  get size(): number {
    return this.entries.length;
  }

  private lookup(key: Buffer, keyLength: number, hash: number): number {
    const index = this.index;
    for (let b = hash & this.mask; ; b = (b + 1) & this.mask) {
      const s = index[b * 2]!;
      if (s === 0) return -1;
      if (index[b * 2 + 1] === hash) {
        const e = this.entries[s - 1]!;
        if (e[0] === keyLength && sameKey(e, key, keyLength)) return s - 1;
      }
    }
  }

  /** The index bucket holding `slot`. */
  private bucketOf(slot: number): number {
    for (let b = this.hashes[slot]! & this.mask; ; b = (b + 1) & this.mask) {
      if (this.index[b * 2] === slot + 1) return b;
    }
  }

  /** Frees `slot`, moving the last slot into its place so the slots stay dense for random eviction. */
  private remove(slot: number): void {
    this.unindex(this.bucketOf(slot));
    this.bytes -= this.entries[slot]!.length;
    const last = this.entries.length - 1;
    if (slot !== last) {
      this.index[this.bucketOf(last) * 2] = slot + 1;
      this.entries[slot] = this.entries[last]!;
      this.infos[slot] = this.infos[last]!;
      this.hashes[slot] = this.hashes[last]!;
    }
    this.entries.pop();
    this.infos.pop();
    this.hashes.pop();
  }

  /**
   * Empties bucket `hole` and shifts later members of its probe run back into it (deletion without
   * tombstones, so lookups never slow down as entries come and go).
   */
  private unindex(hole: number): void {
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

/** FNV-1a over the key's octets. */
function hashKey(key: Buffer, length: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < length; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h;
}

function sameKey(entry: Buffer, key: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) if (entry[ENTRY_HEADER + i] !== key[i]) return false;
  return true;
}
