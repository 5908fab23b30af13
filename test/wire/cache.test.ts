// The response cache: a hit is the same response with this query's ID, RD/CD bits and question case;
// variants (DO, EDNS, NSID, transport, size) never mix; a new ZoneSet never sees the old bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseCache } from '../../src/wire/cache.js';
import { Fit } from '../../src/wire/encoder.js';
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
  // onResponse is called for hits too.
  assert.equal(h.infos.length, 2);
  assert.deepEqual(h.infos[1], h.infos[0]);
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

test('cache: bounded in entries and octets', () => {
  const info = { transport: 'udp' as const, rcode: 0, outcome: 'answer', qtype: 1, zone: null, truncated: false, size: 100 };
  const c = new ResponseCache(10, 1000);
  for (let i = 0; i < 50; i++) c.set(`k${i}`, { bytes: Buffer.alloc(100), limit: 512, fit: Fit.Complete, info });
  assert.ok(c.size <= 9, `${c.size} entries`);
  assert.ok(c.get('k49', 512), 'the newest entry is kept');
  let kept = 0;
  for (let i = 0; i < 50; i++) if (c.get(`k${i}`, 512)) kept++;
  assert.equal(kept, c.size);
  const d = new ResponseCache(1000, 1000);
  for (let i = 0; i < 50; i++) d.set(`k${i}`, { bytes: Buffer.alloc(10), limit: 512, fit: Fit.Complete, info });
  assert.equal(d.size, 50);
  d.set('huge', { bytes: Buffer.alloc(5000), limit: 512, fit: Fit.Complete, info });
  assert.equal(d.get('huge', 65535), undefined, 'larger than the whole cache: not kept');
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
