// The response cache: a hit is the same response with this query's ID, RD/CD bits and question case;
// variants (DO, EDNS, NSID, transport, size) never mix; a new ZoneSet never sees the old bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseCache } from '../../src/wire/cache.js';
import { Fit } from '../../src/wire/encoder.js';
import { CacheUse } from '../../src/wire/handler-types.js';
import { zoneFromText, zoneSet } from '../answer/helpers.js';
import { TCP, UDP, decode, exampleZones, harness, header, query } from './helpers.js';

test('cache: a hit patches the ID and copies the question case', () => {
  const h = harness(exampleZones());
  const first = h.handler.handle(query('www.example.com', { id: 1 }), UDP)!;
  const q2 = query('WWW.EXAMPLE.COM', { id: 2, rd: false });
  const second = h.handler.handle(q2, UDP)!;
  assert.equal(header(second).id, 2);
  assert.equal(header(second).rd, false);
  assert.deepEqual(second.subarray(12, q2.length), q2.subarray(12));
  const d = decode(second);
  assert.equal(d.answers![0]!.name, 'WWW.EXAMPLE.COM');
  // Apart from ID, RD and the name's case, the bytes are the same.
  const a = Buffer.from(first);
  const b = Buffer.from(second);
  a[0] = b[0] = a[1] = b[1] = 0;
  a[2] = a[2]! & 0xfe;
  b[2] = b[2]! & 0xfe;
  assert.deepEqual(Buffer.from(a.toString('latin1').toLowerCase(), 'latin1'), Buffer.from(b.toString('latin1').toLowerCase(), 'latin1'));
  // onResponse is called for hits too, told it was one.
  assert.equal(h.infos.length, 2);
  assert.deepEqual({ ...h.infos[1], cache: 0 }, { ...h.infos[0], cache: 0 });
  assert.deepEqual([h.infos[0]!.cache, h.infos[1]!.cache], [CacheUse.Miss, CacheUse.Hit]);
});

test('cache: variants are kept apart', () => {
  const h = harness(exampleZones());
  const variants = [
    query('example.com', { type: 'NS' }),
    query('example.com', { type: 'NS', edns: 1232 }),
    query('example.com', { type: 'NS', edns: 1232, do: true }),
    query('example.com', { type: 'NS', edns: 1232, nsid: true }),
    query('example.com', { type: 'MX' }),
    query('example.com', { type: 'NS', class: 'CH' }),
  ];
  const firsts = variants.map((q) => Buffer.from(h.handler.handle(q, UDP)!));
  // Second round comes from the cache and must match the first round exactly.
  variants.forEach((q, i) => assert.deepEqual(h.handler.handle(q, UDP), firsts[i]));
  for (let i = 0; i < firsts.length; i++) for (let j = i + 1; j < firsts.length; j++) assert.notDeepEqual(firsts[i], firsts[j]);
});

test('cache: a complete response is reused under a larger limit, a truncated one only under the same limit', () => {
  const big = Array.from({ length: 60 }, (_, i) => `big A 10.0.0.${i}`).join('\n');
  const h = harness(exampleZones(`\n${big}\n`));
  const small = h.handler.handle(query('big.example.com', { edns: 512 }), UDP)!;
  assert.equal(header(small).tc, true);
  const large = h.handler.handle(query('big.example.com', { edns: 1232 }), UDP)!;
  assert.equal(header(large).tc, false);
  assert.equal(header(large).an, 60);
  assert.equal(header(h.handler.handle(query('big.example.com', { edns: 512 }), UDP)!).tc, true);
  assert.equal(header(h.handler.handle(query('big.example.com', { edns: 4096 }), UDP)!).an, 60);
  // TCP never gets the UDP bytes.
  assert.equal(header(h.handler.handle(query('big.example.com'), TCP)!).an, 60);
});

test('cache: a reload never serves the old zone set bytes', () => {
  const h = harness(exampleZones());
  const q = query('www.example.com');
  const addr = () => (decode(h.handler.handle(q, UDP)).answers![0] as { data: string }).data;
  assert.equal(addr(), '192.0.2.80');
  assert.equal(addr(), '192.0.2.80', 'from the cache');
  h.handler.setZones(zoneSet(zoneFromText('example.com.', '$TTL 60\n@ SOA ns host 2 1 1 1 60\n@ NS ns\nns A 192.0.2.9\nwww A 203.0.113.80\n')));
  assert.equal(addr(), '203.0.113.80');
  h.handler.setZones(zoneSet(zoneFromText('example.org.', '$TTL 60\n@ SOA ns host 2 1 1 1 60\n@ NS ns\nns A 192.0.2.9\n')));
  assert.equal(decode(h.handler.handle(q, UDP)).rcode, 'REFUSED');
});

test('cache: disabled with responseCacheBytes 0, answers unchanged', () => {
  const h = harness(exampleZones(), { responseCacheBytes: 0 });
  const a = h.handler.handle(query('www.example.com'), UDP)!;
  const b = h.handler.handle(query('www.example.com'), UDP)!;
  assert.deepEqual(a, b);
});

const INFO = { transport: 'udp' as const, rcode: 0, outcome: 'answer' as const, qtype: 1, zone: null, truncated: false, kind: 0, nameHash: 0, cookie: 0, cache: 0, geoRule: null };

/** Keys as the handler builds them: bytes in a reused buffer, of which only the first `length` count. */
function keyOf(text: string): [Buffer, number] {
  const b = Buffer.alloc(300, 0xee);
  return [b, b.write(text, 'latin1')];
}

function put(c: ResponseCache, text: string, response: Buffer, limit = 512, fit = Fit.Complete): void {
  const [k, n] = keyOf(text);
  c.set(k, n, response, 0, response.length, limit, fit, INFO);
}

/** The response kept for `text`, or null. */
function got(c: ResponseCache, text: string, limit = 65535): string | null {
  const [k, n] = keyOf(text);
  const at = c.find(k, n, limit);
  if (at < 0) return null;
  const out = Buffer.alloc(c.responseLength(at));
  c.copyResponse(at, out, 0);
  return out.toString('latin1');
}

/** Checks that exactly `c.size` of `keys` are found, each with the response it was last set to. */
function assertExact(c: ResponseCache, keys: Map<string, string>): number {
  let found = 0;
  for (const [k, v] of keys) {
    const r = got(c, k);
    if (r === null) continue;
    found++;
    assert.equal(r, v, `${k} finds its own latest response`);
  }
  assert.equal(found, c.size, 'every entry reachable, none twice');
  return found;
}

test('cache: bounded in entries', () => {
  const c = new ResponseCache(10, 1 << 20, 4096);
  const kept = new Map<string, string>();
  for (let i = 0; i < 50; i++) {
    put(c, `k${i}`, Buffer.alloc(100, i));
    kept.set(`k${i}`, Buffer.alloc(100, i).toString('latin1'));
    assert.ok(c.size <= 10, `${c.size} entries`);
  }
  assert.notEqual(got(c, 'k49'), null, 'the newest entry is kept');
  assertExact(c, kept);
});

test('cache: bounded in octets; an entry larger than a segment is not kept', () => {
  // Four 1 KiB segments; each entry takes 8 + 3 + 100 octets, so at most 4 x 9 fit.
  const c = new ResponseCache(10_000, 4096, 1024);
  const kept = new Map<string, string>();
  for (let i = 100; i < 400; i++) {
    put(c, `k${i}`, Buffer.alloc(100, i));
    kept.set(`k${i}`, Buffer.alloc(100, i).toString('latin1'));
    assert.ok(c.size <= 36, `${c.size} entries`);
  }
  assert.ok(c.size >= 27, `${c.size} entries: only a whole segment at a time is emptied`);
  assert.notEqual(got(c, 'k399'), null, 'the newest entry is kept');
  assertExact(c, kept);
  put(c, 'huge', Buffer.alloc(1100));
  assert.equal(got(c, 'huge'), null);
});

test('cache: keys differ by length and octets, a key set again replaces its entry', () => {
  const c = new ResponseCache(100, 100_000, 4096);
  put(c, 'abc', Buffer.from('one'));
  put(c, 'abcd', Buffer.from('two'));
  put(c, 'abd', Buffer.from('three'));
  assert.equal(got(c, 'abc'), 'one');
  assert.equal(got(c, 'ab'), null);
  put(c, 'abc', Buffer.from('four'));
  assert.equal(c.size, 3);
  assert.equal(got(c, 'abc'), 'four');
  // A truncated response serves only the limit it was written for.
  put(c, 'tc', Buffer.alloc(40), 512, Fit.Truncated);
  assert.notEqual(got(c, 'tc', 512), null);
  assert.equal(got(c, 'tc', 1232), null);
  // A complete one serves any limit it fits under.
  put(c, 'big', Buffer.alloc(600));
  assert.equal(got(c, 'big', 512), null);
  assert.notEqual(got(c, 'big', 600), null);
});

test('cache: the index grows with the entries and finds every one', () => {
  const c = new ResponseCache(100_000, 1 << 24, 4096);
  const kept = new Map<string, string>();
  for (let i = 0; i < 5000; i++) {
    put(c, `grow${i}`, Buffer.from(`r${i}`));
    kept.set(`grow${i}`, `r${i}`);
  }
  assert.equal(c.size, 5000);
  assert.equal(assertExact(c, kept), 5000);
});

test('cache: the index stays exact under heavy eviction (keys found if and only if kept)', () => {
  // Few entries, small segments, keys set again and again with responses of changing size: every
  // eviction empties segments holding live and replaced entries, and every removal shifts probe runs.
  for (const [maxEntries, maxBytes] of [[64, 1 << 20], [100_000, 8 * 1024]] as const) {
    const c = new ResponseCache(maxEntries, maxBytes, 1024);
    const latest = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const text = `n${(i * 7919) % 300}`;
      const response = `${text}:${i}:${'x'.repeat(i % 97)}`;
      put(c, text, Buffer.from(response, 'latin1'));
      latest.set(text, response);
      if (i % 1000 === 999) assert.ok(assertExact(c, latest) > 0);
    }
    assert.ok(c.size <= maxEntries);
  }
});

test('cache: a repeated question is answered from the cache, not recomputed', () => {
  const zones = exampleZones();
  const h = harness(zones);
  const q = query('www.example.com');
  assert.equal(decode(h.handler.handle(q, UDP)).rcode, 'NOERROR');
  // Emptying the (normally immutable) zone map shows where the second answer comes from.
  (zones.zones as Map<string, unknown>).clear();
  assert.equal(decode(h.handler.handle(q, UDP)).rcode, 'NOERROR');
  assert.equal(decode(h.handler.handle(query('www.example.com', { type: 'AAAA' }), UDP)).rcode, 'REFUSED');
});
