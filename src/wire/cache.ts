// Whole responses kept for reuse while one zone set is served. The key holds everything a response
// depends on besides the message ID, the question's case and the RD/CD bits (patched on a hit): the
// lower-cased name, type, class, DO, EDNS present, NSID asked, and UDP or TCP. The size limit is checked
// against the entry. A cache belongs to one ZoneSet: the handler swaps the zones and a
// new cache in one assignment, so a reload never serves the old bytes.

import type { ResponseInfo } from './handler-types.js';
import { Fit } from './encoder.js';

export interface CachedResponse {
  readonly bytes: Buffer;
  /** The size limit the response was written for. */
  readonly limit: number;
  readonly fit: Fit;
  /** What onResponse is told on a hit (never mutated). */
  readonly info: ResponseInfo;
}

interface Slot {
  readonly key: string;
  readonly entry: CachedResponse;
  /** Index in `slots`, for removal by swapping with the last one. */
  index: number;
}

export class ResponseCache {
  private readonly entries = new Map<string, Slot>();
  private readonly slots: Slot[] = [];
  private bytes = 0;
  private seed = 0x9e3779b9;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  /** The cached response usable under `limit`: a complete one that fits, or one written for that very limit. */
  get(key: string, limit: number): CachedResponse | undefined {
    const s = this.entries.get(key);
    if (s === undefined) return undefined;
    const e = s.entry;
    if (e.fit === Fit.Complete ? e.bytes.length <= limit : e.limit === limit) return e;
    return undefined;
  }

  set(key: string, entry: CachedResponse): void {
    const old = this.entries.get(key);
    if (old !== undefined) this.remove(old);
    const size = entry.bytes.length + key.length;
    if (size > this.maxBytes) return;
    // Full: evict at random. Query mixes cycle through more names than fit (a dnsperf file, a scan);
    // oldest-first eviction would then miss on every query, random eviction keeps a share of them.
    while (this.slots.length >= this.maxEntries || this.bytes + size > this.maxBytes) {
      this.remove(this.slots[this.random() % this.slots.length]!);
    }
    const slot: Slot = { key, entry, index: this.slots.length };
    this.slots.push(slot);
    this.entries.set(key, slot);
    this.bytes += size;
  }

  get size(): number {
    return this.slots.length;
  }

  private remove(s: Slot): void {
    const last = this.slots.pop()!;
    if (last !== s) {
      this.slots[s.index] = last;
      last.index = s.index;
    }
    this.entries.delete(s.key);
    this.bytes -= s.entry.bytes.length + s.key.length;
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
