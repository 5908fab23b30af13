// Whole responses kept for reuse within one zone-set generation. The key holds everything a response
// depends on besides the message ID, the question's case and the RD/CD bits (patched on a hit): the
// lower-cased name, type, class, DO, EDNS present, NSID asked, and UDP or TCP. The size limit is checked
// against the entry. The cache belongs to one ZoneSet: a reload makes a new one, so old bytes die with it.

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

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private bytes = 0;

  constructor(
    readonly generation: number,
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  /** The cached response usable under `limit`: a complete one that fits, or one written for that very limit. */
  get(key: string, limit: number): CachedResponse | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.fit === Fit.Complete ? e.bytes.length <= limit : e.limit === limit) return e;
    return undefined;
  }

  set(key: string, entry: CachedResponse): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.bytes -= old.bytes.length + key.length;
      this.entries.delete(key);
    }
    const size = entry.bytes.length + key.length;
    if (size > this.maxBytes) return;
    // Oldest first (Map keeps insertion order): simple, and bounded whatever the query mix.
    while (this.entries.size >= this.maxEntries || this.bytes + size > this.maxBytes) {
      const [k, e] = this.entries.entries().next().value!;
      this.entries.delete(k);
      this.bytes -= e.bytes.length + k.length;
    }
    this.entries.set(key, entry);
    this.bytes += size;
  }

  get size(): number {
    return this.entries.size;
  }
}
