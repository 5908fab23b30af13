// Truncation (RFC 2181 §9, RFC 9471 §3): whole RRsets only, optional additional data dropped first, TC
// only when required data doesn't fit, the OPT always kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TCP, UDP, decode, exampleZones, harness, header, opt, query } from './helpers.js';

const manyA = Array.from({ length: 60 }, (_, i) => `big A 10.0.${i >> 8}.${i & 0xff}`).join('\n');
const manyMx = Array.from({ length: 12 }, (_, i) => `@ MX ${i} mx${i}`).join('\n');
const mxAddrs = Array.from({ length: 12 }, (_, i) => `mx${i} AAAA 2001:db8::${i + 1}\nmx${i} A 192.0.2.${i + 100}`).join('\n');
// A delegation whose in-bailiwick glue can't fit in 512 octets.
const deleg = Array.from({ length: 14 }, (_, i) => `kid NS ns${i}.a-rather-long-server-name-label.kid\nns${i}.a-rather-long-server-name-label.kid AAAA 2001:db8:1::${i + 1}`).join('\n');
const zones = exampleZones(`\n${manyA}\n${deleg}\n$ORIGIN many.example.com.\n${manyMx}\n${mxAddrs}\n`);

test('truncation: an answer RRset that does not fit sets TC, keeps the OPT, drops whole RRsets', () => {
  const h = harness(zones);
  const r = h.handler.handle(query('big.example.com', { edns: 512 }), UDP)!;
  assert.ok(r.length <= 512);
  const hd = header(r);
  assert.equal(hd.tc, true);
  assert.equal(hd.an, 0, 'no partial RRset');
  assert.equal(hd.ar, 1, 'OPT kept');
  assert.ok(opt(decode(r)));
  assert.equal(h.infos.at(-1)!.truncated, true);
  // Over TCP, or with a big enough EDNS size, the whole RRset.
  const t = decode(h.handler.handle(query('big.example.com'), TCP));
  assert.equal(t.answers!.length, 60);
  assert.equal(t.flag_tc, false);
  const e = decode(h.handler.handle(query('big.example.com', { edns: 1232 }), UDP));
  assert.equal(e.answers!.length, 60);
  // Without EDNS the limit is 512.
  const n = h.handler.handle(query('big.example.com'), UDP)!;
  assert.ok(n.length <= 512);
  assert.equal(header(n).tc, true);
});

test('truncation: optional additional data goes first, without TC', () => {
  const h = harness(zones);
  const full = decode(h.handler.handle(query('many.example.com', { type: 'MX' }), TCP));
  assert.equal(full.answers!.length, 12);
  assert.equal(full.additionals!.length, 24);
  const r = h.handler.handle(query('many.example.com', { type: 'MX', edns: 512 }), UDP)!;
  assert.ok(r.length <= 512);
  const d = decode(r);
  assert.equal(d.flag_tc, false);
  assert.equal(d.answers!.length, 12);
  assert.ok(d.additionals!.length < 24 + 1, 'some additional data dropped');
  assert.ok(opt(d), 'OPT kept');
  // Whole RRsets: every owner present in additional has both its A and AAAA.
  const owners = new Map<string, number>();
  for (const a of d.additionals!) if (a.type !== 'OPT') owners.set(a.name, (owners.get(a.name) ?? 0) + 1);
  for (const [, n] of owners) assert.equal(n, 2);
});

test('truncation: required glue of a referral that does not fit sets TC (RFC 9471 §3)', () => {
  const h = harness(zones);
  const full = decode(h.handler.handle(query('www.kid.example.com'), TCP));
  assert.equal(full.authorities!.length, 14);
  assert.equal(full.additionals!.length, 14);
  assert.equal(full.flag_aa, false);
  const r = h.handler.handle(query('www.kid.example.com'), UDP)!;
  assert.ok(r.length <= 512);
  const d = decode(r);
  assert.equal(d.flag_tc, true);
  assert.equal(d.authorities!.length, 14, 'the NS RRset is kept whole');
});

test('truncation: the negative-answer SOA is required', () => {
  const h = harness(zones);
  const long = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(40)}.example.com`;
  const d = decode(h.handler.handle(query(long), UDP));
  assert.equal(d.rcode, 'NXDOMAIN');
  assert.equal(d.authorities!.length, 1);
  assert.equal(d.flag_tc, false);
});
