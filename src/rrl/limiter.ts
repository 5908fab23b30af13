// Response rate limiting (RRL): the decision for one finished UDP response, as BIND 9 and NSD make it.
// Responses are counted per client prefix and per kind of response in buckets keyed by the name the
// kind calls for (see ResponseKind). Each bucket earns `responsesPerSecond` credits a second, holds at
// most one second's worth, and owes at most `window` seconds' worth, so a prefix that floods stays
// limited until it has been quiet or slow for a while (BIND's accounting window). Over the limit, every
// `slip`-th response goes out as a minimal truncated reply (a real client behind a spoofed flood retries
// over TCP); the rest are dropped.
//
// The table is fixed at construction: typed arrays of `tableSize` entries, whatever the number of
// sources (a spoofed flood can use millions of prefixes). An entry is looked for in a short run of
// slots from its hash; a new key takes an empty or stale slot of the run (stale: its credit would be
// full again, so forgetting it changes no decision), else the least recently used one, as BIND reuses
// its oldest entry and NSD overwrites a colliding bucket. Losing an entry only forgets a debt: the next
// response of an evicted flood starts a new bucket and is limited again a second later.
//
// Pure: the caller passes `now` (milliseconds) and the client's address octets.

import { hashBytes } from '../zone/name-table.js';
import type { AddressBytes } from '../wire/address.js';
import type { ResponseKind } from '../wire/handler-types.js';

/** What to do with a response. */
export const enum RateLimitVerdict {
  Send = 0,
  /** Send a minimal reply with TC=1 (question only) instead. */
  Slip = 1,
  Drop = 2,
}

export interface LimiterConfig {
  /** Credits a bucket earns per second, and the most it holds (> 0). */
  responsesPerSecond: number;
  /** Seconds of debt a bucket can run up: a flood stays limited until it has paid it back. */
  window: number;
  /** Every slip-th limited response is a truncated reply; 0 drops all, 1 truncates all. */
  slip: number;
  ipv4PrefixLength: number;
  ipv6PrefixLength: number;
  /** Entries in the table. */
  tableSize: number;
}

/** Slots searched for a key from its hash. */
const PROBE = 4;

export class RateLimiter {
  /** The client prefix an entry counts. */
  private readonly prefixKeys: Int32Array;
  /** Kind, family and name of the entry. */
  private readonly nameKeys: Int32Array;
  /** Credit left (negative: debt), in responses. */
  private readonly balances: Int32Array;
  /** Second of the last response counted, plus one (0: empty slot). */
  private readonly stamps: Int32Array;
  /** Limited responses since the last slip. */
  private readonly slipCounts: Uint8Array;
  private readonly rate: number;
  private readonly window: number;
  private readonly maxDebt: number;
  private readonly slip: number;
  private readonly v4Bits: number;
  private readonly v6Bits: number;
  private readonly size: number;
  private readonly masked = new Uint8Array(16);
  /** The table slot the last decide() counted in: lets the caller tell limiting episodes apart. */
  lastSlot = -1;

  constructor(cfg: LimiterConfig) {
    this.size = cfg.tableSize;
    this.prefixKeys = new Int32Array(cfg.tableSize);
    this.nameKeys = new Int32Array(cfg.tableSize);
    this.balances = new Int32Array(cfg.tableSize);
    this.stamps = new Int32Array(cfg.tableSize);
    this.slipCounts = new Uint8Array(cfg.tableSize);
    this.rate = cfg.responsesPerSecond;
    this.window = cfg.window;
    this.maxDebt = cfg.responsesPerSecond * cfg.window;
    this.slip = cfg.slip;
    this.v4Bits = cfg.ipv4PrefixLength;
    this.v6Bits = cfg.ipv6PrefixLength;
  }

  /** Octets the table holds: fixed at construction. */
  get bytes(): number {
    return this.size * (4 * 4 + 1);
  }

  /** The prefix key of `addr`: the /N itself for IPv4, a hash of the /N for IPv6. */
  prefixKey(addr: AddressBytes): number {
    const b = addr.bytes;
    if (addr.length === 4) {
      const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      return this.v4Bits === 0 ? 0 : (v >>> (32 - this.v4Bits)) | 0;
    }
    const bits = this.v6Bits;
    const m = this.masked;
    const whole = bits >> 3;
    for (let i = 0; i < whole; i++) m[i] = b[i]!;
    const rest = bits & 7;
    if (rest !== 0) m[whole] = b[whole]! & (0xff << (8 - rest));
    return hashBytes(m, 0, whole + (rest === 0 ? 0 : 1)) | 0;
  }

  /**
   * Counts one response of `kind` to the prefix `prefixKey` (from prefixKey) in the bucket of `nameHash`
   * (0 for errors), at `nowMs`, and decides its fate. `family` is 4 or 6.
   */
  decide(prefixKey: number, family: number, kind: ResponseKind, nameHash: number, nowMs: number): RateLimitVerdict {
    const now = Math.floor(nowMs / 1000) + 1;
    // 24 bits of the name's hash beside the exact kind and family: kinds never share a bucket.
    const nameKey = (Math.imul(nameHash ^ (nameHash >>> 16), 0x01000193) << 8) | (family << 4) | kind;
    let h = Math.imul(prefixKey ^ Math.imul(nameKey, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 15;
    const home = (h >>> 0) % this.size;
    const stamps = this.stamps;
    const balances = this.balances;
    const rate = this.rate;
    let slot = -1;
    let spare = -1;
    let spareStamp = 0x7fffffff;
    for (let p = 0, s = home; p < PROBE; p++, s = s + 1 === this.size ? 0 : s + 1) {
      const stamp = stamps[s]!;
      if (stamp !== 0 && this.prefixKeys[s] === prefixKey && this.nameKeys[s] === nameKey) {
        slot = s;
        break;
      }
      // Empty, or stale (its credit would be full again), beats the least recently used.
      const age = stamp === 0 ? Infinity : now - stamp;
      const rank = age === Infinity || balances[s]! + age * rate >= rate ? -1 : stamp;
      if (rank < spareStamp) {
        spare = s;
        spareStamp = rank;
      }
    }
    if (slot < 0) {
      slot = spare;
      this.prefixKeys[slot] = prefixKey;
      this.nameKeys[slot] = nameKey;
      balances[slot] = rate;
      stamps[slot] = now;
      this.slipCounts[slot] = 0;
    }
    this.lastSlot = slot;
    const elapsed = now - stamps[slot]!;
    let balance = balances[slot]!;
    if (elapsed > 0) {
      // A second's credit per second, never more than one second's worth banked.
      balance = elapsed > this.window ? rate : Math.min(rate, balance + elapsed * rate);
      stamps[slot] = now;
    }
    balance--;
    if (balance < -this.maxDebt) balance = -this.maxDebt;
    balances[slot] = balance;
    if (balance >= 0) return RateLimitVerdict.Send;
    if (this.slip === 0) return RateLimitVerdict.Drop;
    const n = this.slipCounts[slot]! + 1;
    if (n >= this.slip) {
      this.slipCounts[slot] = 0;
      return RateLimitVerdict.Slip;
    }
    this.slipCounts[slot] = n;
    return RateLimitVerdict.Drop;
  }
}
