// Response rate limiting (RRL): the decision for one finished UDP response, as BIND 9 and NSD make it.
// Responses are counted per client prefix and per kind of response in buckets keyed by the name the
// kind calls for (see ResponseKind). Each bucket earns `responsesPerSecond` credits a second, holds at
// most one second's worth, and owes at most `window` seconds' worth, so a prefix that floods stays
// limited until it has been quiet or slow for a while (BIND's accounting window). Over the limit, every
// `slip`-th response goes out as a minimal truncated reply (a real client behind a spoofed flood retries
// over TCP); the rest are dropped.
//
// The table is fixed at construction: `tableSize` entries in one SharedArrayBuffer, whatever the
// number of sources (a spoofed flood can use millions of prefixes). An entry is looked for in a short
// run of slots from its hash; a new key takes an empty or stale slot of the run (stale: its credit
// would be full again, so forgetting it changes no decision), else the least recently used one, as
// BIND reuses its oldest entry and NSD overwrites a colliding bucket. Losing an entry only forgets a
// debt: the next response of an evicted flood starts a new bucket and is limited again a second later.
//
// One table per POP: every answering thread decides over the same memory, so a prefix gets the
// configured rate whatever the number of threads. Over shared memory each entry carries a lock word
// taken with Atomics.compareExchange around its update (docs/design.md, One rate limiter per POP);
// the search for a slot reads without it and checks again once the lock is held. A limiter over its
// own memory has no other thread to wait for, and takes no lock.
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

// An entry's Int32 fields, side by side so that a probe run reads neighbouring memory.
/** The client prefix the entry counts. */
const PREFIX = 0;
/** Kind, family and name of the entry. */
const NAME = 1;
/** Credit left (negative: debt), in responses. */
const BALANCE = 2;
/** Second of the last response counted, plus one (0: empty slot). */
const STAMP = 3;
/** Bit 0: the entry is being updated; above it, limited responses since the last slip. */
const GUARD = 4;
const FIELDS = 5;
const LOCKED = 1;

/**
 * Tries for the lock of an entry another thread holds. Its holder runs a few dozen instructions
 * under it, so spinning a little finds it free; a holder the scheduler has paused (threads may
 * outnumber cores) gets the core by our sleeping; a holder that died under it (a thread stopped
 * mid-update) never gives it back, so past the last sleep, far longer than any scheduler pause,
 * the lock is taken over: at worst one update is lost, a response more or less, where waiting on
 * would stop every thread that meets the entry.
 */
const SPINS = 200;
const SLEEPS = 100;
const SLEEP_MS = 1;

/** The memory of a limiter for `cfg`: shared by every thread that decides for the POP. */
export function limiterMemory(cfg: LimiterConfig): SharedArrayBuffer {
  return new SharedArrayBuffer(cfg.tableSize * FIELDS * 4);
}

export class RateLimiter {
  /** tableSize entries of FIELDS words each. */
  private readonly table: Int32Array;
  private readonly rate: number;
  private readonly maxDebt: number;
  private readonly slip: number;
  private readonly v4Bits: number;
  private readonly v6Bits: number;
  private readonly size: number;
  private readonly masked = new Uint8Array(16);
  /** Other threads decide over the same memory: entries are locked while updated. */
  private readonly shared: boolean;
  /** The table slot the last decide() counted in: lets the caller tell limiting episodes apart. */
  lastSlot = -1;

  /** A limiter over `memory` (from limiterMemory of the same table size), shared with other threads; its own when not given. */
  constructor(cfg: LimiterConfig, memory?: SharedArrayBuffer) {
    this.shared = memory !== undefined;
    memory ??= limiterMemory(cfg);
    if (memory.byteLength !== cfg.tableSize * FIELDS * 4) {
      throw new RangeError(`rate limiter memory of ${memory.byteLength} octets does not hold ${cfg.tableSize} entries`);
    }
    this.size = cfg.tableSize;
    this.table = new Int32Array(memory);
    this.rate = cfg.responsesPerSecond;
    this.maxDebt = cfg.responsesPerSecond * cfg.window;
    this.slip = cfg.slip;
    this.v4Bits = cfg.ipv4PrefixLength;
    this.v6Bits = cfg.ipv6PrefixLength;
  }

  /** Octets the table holds: fixed at construction. */
  get bytes(): number {
    return this.table.byteLength;
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
    const t = this.table;
    const rate = this.rate;
    let slot: number;
    let at: number;
    let guard: number;
    for (let look = 0; ; look++) {
      const found = this.find(home, prefixKey, nameKey, now);
      slot = found < 0 ? ~found : found;
      at = slot * FIELDS;
      guard = this.shared ? this.lock(at) : t[at + GUARD]!;
      // Under the lock: the slot may have changed hands since the search read it.
      if (t[at + STAMP] !== 0 && t[at + PREFIX] === prefixKey && t[at + NAME] === nameKey) break;
      // Our entry was just evicted: look once more, else take the slot found.
      if (found >= 0 && look === 0) {
        this.unlock(at, guard);
        continue;
      }
      t[at + PREFIX] = prefixKey;
      t[at + NAME] = nameKey;
      t[at + BALANCE] = rate;
      t[at + STAMP] = now;
      guard = 0;
      break;
    }
    this.lastSlot = slot;
    const elapsed = now - t[at + STAMP]!;
    let balance = t[at + BALANCE]!;
    if (elapsed > 0) {
      // A second's credit per second, never more than one second's worth banked.
      balance = Math.min(rate, balance + elapsed * rate);
      t[at + STAMP] = now;
    }
    balance--;
    if (balance < -this.maxDebt) balance = -this.maxDebt;
    t[at + BALANCE] = balance;
    let verdict = RateLimitVerdict.Send;
    if (balance < 0) {
      verdict = RateLimitVerdict.Drop;
      if (this.slip !== 0) {
        const n = (guard >> 1) + 1;
        if (n >= this.slip) {
          guard = 0;
          verdict = RateLimitVerdict.Slip;
        } else guard = n << 1;
      }
    }
    this.unlock(at, guard);
    return verdict;
  }

  /**
   * The slot of the entry for (prefixKey, nameKey) in the run from `home`; else ~ the slot a new
   * entry takes: an empty or stale one (its credit would be full again), else the least recently used.
   */
  private find(home: number, prefixKey: number, nameKey: number, now: number): number {
    const t = this.table;
    const rate = this.rate;
    let spare = 0;
    let spareRank = 0x7fffffff;
    for (let p = 0, s = home; p < PROBE; p++, s = s + 1 === this.size ? 0 : s + 1) {
      const at = s * FIELDS;
      const stamp = t[at + STAMP]!;
      if (stamp !== 0 && t[at + PREFIX] === prefixKey && t[at + NAME] === nameKey) return s;
      const rank = stamp === 0 || t[at + BALANCE]! + (now - stamp) * rate >= rate ? -1 : stamp;
      if (rank < spareRank) {
        spare = s;
        spareRank = rank;
      }
    }
    return ~spare;
  }

  /** Takes the lock of the entry at `at`; returns its guard word without the lock bit. */
  private lock(at: number): number {
    const t = this.table;
    for (let tries = 0; ; tries++) {
      const guard = t[at + GUARD]! & ~LOCKED;
      if (Atomics.compareExchange(t, at + GUARD, guard, guard | LOCKED) === guard) return guard;
      if (tries < SPINS) continue;
      if (tries === SPINS + SLEEPS) return guard;
      Atomics.wait(t, at + GUARD, guard | LOCKED, SLEEP_MS);
    }
  }

  /** Writes the guard word of the entry at `at`, which releases its lock: the writes made under it are seen by whoever takes it next. */
  private unlock(at: number, guard: number): void {
    if (this.shared) Atomics.store(this.table, at + GUARD, guard);
    else this.table[at + GUARD] = guard;
  }
}
