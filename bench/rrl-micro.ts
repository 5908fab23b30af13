// Response rate limiting in-process, per packet: rate-limiter-flexible's in-memory limiter against the
// fixed table of src/rrl/limiter.ts (memory per key, timers, calls per second), and the cost of a
// cookie's SipHash-2-4. Not a test; prints figures for bench/README.md. Bounded: about 10 s, one core.
// Usage: node --expose-gc dist/bench/rrl-micro.js [distinct-keys]
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AddressBytes } from '../src/wire/address.js';
import { limiterMemory, RateLimiter } from '../src/rrl/limiter.js';
import { ResponseKind } from '../src/wire/handler-types.js';
import { SipKey, sipHash24 } from '../src/wire/siphash.js';

const keys = Number(process.argv[2] ?? 200_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.log('(run with --expose-gc for steady memory figures)');

function heap(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Timers the limiter holds: one per key in its store (unref'd, so process.getActiveResourcesInfo misses them). */
function flexibleTimers(rl: RateLimiterMemory): number {
  // Internal field of rate-limiter-flexible 11 (MemoryStorage._storage: Map<key, Record { timeoutId }>).
  const storage = (rl as unknown as { _memoryStorage: { _storage: Map<string, { timeoutId?: unknown }> } })._memoryStorage._storage;
  let n = 0;
  for (const r of storage.values()) if (r.timeoutId !== undefined) n++;
  return n;
}

function perSecond(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;
}

async function flexible(): Promise<void> {
  // The per-packet shape: one key per (prefix, kind, name), points = responses per second.
  const rl = new RateLimiterMemory({ points: 200, duration: 1 });
  const before = heap();
  let t = performance.now();
  for (let i = 0; i < keys; i++) {
    await rl.consume(`10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.0/24|2|${i}`).catch(() => undefined);
  }
  const distinctMs = performance.now() - t;
  const grown = heap() - before;
  console.log(
    `rate-limiter-flexible ${keys.toLocaleString('en')} distinct keys: ${perSecond(keys, distinctMs)}, heap +${(grown / 1048576).toFixed(1)} MiB ` +
      `(${Math.round(grown / keys)} B/key), ${flexibleTimers(rl).toLocaleString('en')} timers pending`,
  );
  // One hot key, as a flood of one name: a Promise per call; the caller can't decide before it settles.
  const n = 1_000_000;
  t = performance.now();
  let limited = 0;
  for (let i = 0; i < n; i += 1000) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < 1000; j++) batch.push(rl.consume('192.0.2.0/24|0|www.example.com/A').catch(() => limited++));
    await Promise.all(batch);
  }
  console.log(`rate-limiter-flexible one hot key: ${perSecond(n, performance.now() - t)} (${limited.toLocaleString('en')} over the limit)`);
}

function table(): void {
  const cfg = { responsesPerSecond: 200, window: 15, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, tableSize: 393_241 };
  const l = new RateLimiter(cfg);
  const a = new AddressBytes();
  const before = heap();
  const t = performance.now();
  for (let i = 0; i < keys; i++) {
    a.parse(`10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.1`);
    l.decide(l.prefixKey(a), 4, ResponseKind.Nxdomain, i, 1000);
  }
  const distinctMs = performance.now() - t;
  console.log(
    `fixed table ${keys.toLocaleString('en')} distinct keys: ${perSecond(keys, distinctMs)}, heap +${((heap() - before) / 1048576).toFixed(1)} MiB, ` +
      `table ${(l.bytes / 1048576).toFixed(1)} MiB whatever the keys (${cfg.tableSize.toLocaleString('en')} entries), no timers`,
  );
  console.log(`fixed table, parse + decide, 1,024 hot keys: ${hotKeys(l, a)}`);
  // Over the POP's memory, as each of several answering threads decides: every entry locked while updated.
  console.log(`fixed table shared by threads (one deciding), parse + decide, 1,024 hot keys: ${hotKeys(new RateLimiter(cfg, limiterMemory(cfg)), a)}`);
}

/** The policy's per-packet work: parse the sender's address, its prefix, the decision; in decisions per second. */
function hotKeys(l: RateLimiter, a: AddressBytes): string {
  const n = 5_000_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    a.parse('192.0.2.77');
    l.decide(l.prefixKey(a), 4, ResponseKind.Answer, i & 1023, 2000 + i / 1000);
  }
  return perSecond(n, performance.now() - t);
}

function siphash(): void {
  const key = new SipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  // A cookie's input: client cookie, version, reserved, timestamp, IPv4 address.
  const msg = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
  const out = new Uint8Array(8);
  const n = 2_000_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    msg[0] = i;
    sipHash24(key, msg, 0, 20, out, 0);
  }
  const ms = performance.now() - t;
  console.log(`SipHash-2-4 of a 20-octet cookie input: ${perSecond(n, ms)} (${((ms * 1e6) / n).toFixed(0)} ns each)`);
}

table();
siphash();
await flexible();
