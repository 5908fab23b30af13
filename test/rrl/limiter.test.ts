// The rate limiter as a pure table with a fake clock: token-bucket accounting, slip, per-kind and
// per-prefix buckets, and memory that stays at the table size whatever the number of sources.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressBytes } from '../../src/wire/address.js';
import { limiterMemory, RateLimiter, type LimiterConfig } from '../../src/rrl/limiter.js';
import { ResponseKind } from '../../src/wire/handler-types.js';
import { hashKey } from '../../src/zone/name-table.js';

const CFG: LimiterConfig = { responsesPerSecond: 10, window: 5, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, tableSize: 1024 };

function prefixOf(l: RateLimiter, text: string): [number, number] {
  const a = new AddressBytes();
  const n = a.parse(text);
  assert.ok(n > 0, text);
  return [l.prefixKey(a), n === 4 ? 4 : 6];
}

/** RateLimitVerdict counts for `count` responses at `nowMs`. */
function burst(l: RateLimiter, addr: string, kind: ResponseKind, name: number, count: number, nowMs: number): number[] {
  const [p, f] = prefixOf(l, addr);
  const out = [0, 0, 0];
  for (let i = 0; i < count; i++) out[l.decide(p, f, kind, name, nowMs)]!++;
  return out;
}

test('limiter: the rate is sent, the excess alternates slip and drop (slip 2)', () => {
  const l = new RateLimiter(CFG);
  const [send, slip, drop] = burst(l, '192.0.2.1', ResponseKind.Answer, 1, 30, 1_000_000);
  assert.deepEqual([send, slip, drop], [10, 10, 10]);
});

test('limiter: slip 0 drops every excess response, slip 1 truncates every one', () => {
  assert.deepEqual(burst(new RateLimiter({ ...CFG, slip: 0 }), '192.0.2.1', ResponseKind.Answer, 1, 30, 0), [10, 0, 20]);
  assert.deepEqual(burst(new RateLimiter({ ...CFG, slip: 1 }), '192.0.2.1', ResponseKind.Answer, 1, 30, 0), [10, 20, 0]);
  assert.deepEqual(burst(new RateLimiter({ ...CFG, slip: 3 }), '192.0.2.1', ResponseKind.Answer, 1, 40, 0), [10, 10, 20]);
});

test('limiter: a steady client at the rate is never limited', () => {
  const l = new RateLimiter(CFG);
  for (let s = 0; s < 60; s++) assert.deepEqual(burst(l, '192.0.2.1', ResponseKind.Answer, 1, 10, s * 1000 + 500), [10, 0, 0], `second ${s}`);
});

test('limiter: a flood runs up at most `window` seconds of debt, then is forgiven by quiet', () => {
  const l = new RateLimiter(CFG);
  // 1000 responses in one second: debt capped at rate × window = 50.
  burst(l, '192.0.2.1', ResponseKind.Answer, 1, 1000, 0);
  // Each following second earns 10: the debt of 50 is paid after 5 seconds of silence...
  assert.equal(burst(l, '192.0.2.1', ResponseKind.Answer, 1, 1, 3000)[0], 0, 'still limited after 3 s');
  const [send] = burst(l, '192.0.2.1', ResponseKind.Answer, 1, 10, 10_000);
  assert.equal(send, 10, 'answered again after the window');
});

test('limiter: prefixes group by /24 and /56; other prefixes are counted apart', () => {
  const l = new RateLimiter(CFG);
  assert.equal(burst(l, '192.0.2.1', ResponseKind.Answer, 1, 10, 0)[0], 10);
  assert.equal(burst(l, '192.0.2.200', ResponseKind.Answer, 1, 1, 0)[0], 0, 'same /24 shares the bucket');
  assert.equal(burst(l, '192.0.3.1', ResponseKind.Answer, 1, 10, 0)[0], 10, 'another /24 has its own');
  assert.equal(burst(l, '2001:db8:0:100::1', ResponseKind.Answer, 1, 10, 0)[0], 10);
  assert.equal(burst(l, '2001:db8:0:1ff:ffff::2', ResponseKind.Answer, 1, 1, 0)[0], 0, 'same /56');
  assert.equal(burst(l, '2001:db8:0:200::1', ResponseKind.Answer, 1, 10, 0)[0], 10, 'another /56');
});

test('limiter: each kind and each name has its own bucket', () => {
  const l = new RateLimiter(CFG);
  const a = '198.51.100.7';
  assert.equal(burst(l, a, ResponseKind.Answer, 1, 20, 0)[0], 10);
  for (const kind of [ResponseKind.Wildcard, ResponseKind.Nxdomain, ResponseKind.Nodata, ResponseKind.Referral, ResponseKind.Error]) {
    assert.equal(burst(l, a, kind, 1, 20, 0)[0], 10, `kind ${kind}`);
  }
  assert.equal(burst(l, a, ResponseKind.Answer, 2, 20, 0)[0], 10, 'another name');
});

test('limiter: random names under one wildcard share the bucket of its owner', () => {
  const l = new RateLimiter(CFG);
  const owner = hashKey('\u0001*\u0007example\u0003com\u0000');
  // What the handler keys a wildcard answer by: the owner, whatever name was asked.
  let sent = 0;
  for (let i = 0; i < 100; i++) sent += burst(l, '203.0.113.9', ResponseKind.Wildcard, owner, 1, 0)[0]!;
  assert.equal(sent, 10);
});

test('limiter: a flood from 1,000,000 prefixes leaves the table at its size, and evicts stale entries first', () => {
  const l = new RateLimiter({ ...CFG, tableSize: 4096 });
  const before = l.bytes;
  const heapBefore = process.memoryUsage().arrayBuffers;
  const a = new AddressBytes();
  a.length = 4;
  for (let i = 0; i < 1_000_000; i++) {
    a.bytes[0] = 10 + (i >>> 16);
    a.bytes[1] = (i >>> 8) & 0xff;
    a.bytes[2] = i & 0xff;
    l.decide(l.prefixKey(a), 4, ResponseKind.Nxdomain, 7, 1000 + Math.floor(i / 1000));
  }
  assert.equal(l.bytes, before);
  assert.ok(process.memoryUsage().arrayBuffers - heapBefore < 1024 * 1024, 'no typed array grew');
  // A key seen only once, long ago, gives way; a client still flooding keeps being limited.
  const flood = burst(l, '192.0.2.1', ResponseKind.Answer, 9, 30, 2_000_000);
  assert.equal(flood[0], 10);
});

test('limiter: a colliding new key takes a stale slot before a live one', () => {
  // A table of 4 slots and a probe run of 4: every key meets every slot.
  const l = new RateLimiter({ ...CFG, tableSize: 4 });
  const now = 100_000;
  // A stale entry (one response long ago) and three live, limited ones (deep in debt).
  burst(l, '192.0.1.1', ResponseKind.Answer, 1, 1, now - 60_000);
  for (let i = 2; i <= 4; i++) burst(l, `192.0.${i}.1`, ResponseKind.Answer, 1, 100, now + (i - 2) * 1000);
  // A new key takes the stale slot: the limited ones stay limited.
  burst(l, '192.0.5.1', ResponseKind.Answer, 1, 1, now + 2000);
  for (let i = 2; i <= 4; i++) assert.equal(burst(l, `192.0.${i}.1`, ResponseKind.Answer, 1, 1, now + 3000)[0], 0, `entry ${i} kept`);
  // The next new key takes the least recently used slot (192.0.5.1's), never a limited one.
  burst(l, '192.0.6.1', ResponseKind.Answer, 1, 1, now + 3000);
  for (let i = 2; i <= 4; i++) assert.equal(burst(l, `192.0.${i}.1`, ResponseKind.Answer, 1, 1, now + 3000)[0], 0, `entry ${i} still kept`);
});

test('limiter: over shared memory, a lock left held by a thread that died mid-update is taken over and released', () => {
  const memory = limiterMemory(CFG);
  const l = new RateLimiter(CFG, memory);
  assert.equal(burst(l, '192.0.2.1', ResponseKind.Answer, 1, 1, 0)[0], 1);
  // The entry's guard word (the last of its five) with its lock bit set, as a dead holder leaves it.
  const words = new Int32Array(memory);
  const guard = l.lastSlot * 5 + 4;
  words[guard]! |= 1;
  assert.deepEqual(burst(l, '192.0.2.1', ResponseKind.Answer, 1, 1, 0), [1, 0, 0], 'decided in spite of the lock');
  assert.equal(words[guard]! & 1, 0, 'and released it');
  assert.deepEqual(burst(l, '192.0.2.1', ResponseKind.Answer, 1, 10, 0), [8, 1, 1], 'counting on where it was');
});

test('limiter: refuses memory made for another table size', () => {
  assert.throws(() => new RateLimiter(CFG, limiterMemory({ ...CFG, tableSize: 2048 })), /memory of 40960 octets does not hold 1024 entries/);
});
