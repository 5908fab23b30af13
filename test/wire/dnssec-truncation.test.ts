// Truncation with DNSSEC (RFC 4035 §3.1.1): each RRSIG travels with the RRset it covers, optional
// additional data (and its signatures) goes first, and TC is set when a required RRset or its
// signatures don't fit. Without DO, no RRSIG is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TCP, UDP, decode, exampleZones, harness, query } from './helpers.js';

const SIG = (type: string, tag: number): string => `RRSIG ${type} 13 3 3600 20300101000000 20200101000000 ${tag} example.com. ${Buffer.alloc(64, tag).toString('base64')}`;
const mx = Array.from({ length: 10 }, (_, i) => `@ MX ${i} mx${i}\nmx${i} A 192.0.2.${i + 100}\nmx${i} ${SIG('A', i + 1)}`).join('\n');
const big = Array.from({ length: 40 }, (_, i) => `big A 10.0.0.${i}`).join('\n');
const zones = exampleZones(`
$ORIGIN many.example.com.
${mx}
@ ${SIG('MX', 99)}
$ORIGIN example.com.
${big}
big ${SIG('A', 7)}
`);

type Rec = { name: string; type: string };

/** Every RRSIG in a section follows an RRset of its owner (whole units), and every RRset of a signed owner has one. */
function unitsWhole(section: Rec[] | undefined): void {
  const owners = new Map<string, { data: number; sigs: number }>();
  for (const r of section ?? []) {
    if (r.type === 'OPT') continue;
    const o = owners.get(r.name) ?? { data: 0, sigs: 0 };
    if (r.type === 'RRSIG') o.sigs++;
    else o.data++;
    owners.set(r.name, o);
  }
  for (const [name, o] of owners) assert.ok(o.data > 0 && o.sigs > 0, `${name}: ${o.data} records, ${o.sigs} signatures`);
}

test('DNSSEC truncation: optional additional addresses go with their signatures, without TC', () => {
  const h = harness(zones);
  const full = decode(h.handler.handle(query('many.example.com', { type: 'MX', edns: 4096, do: true }), TCP));
  assert.equal(full.answers!.length, 11, '10 MX and their RRSIG');
  assert.equal(full.additionals!.filter((r) => r.type === 'RRSIG').length, 10);
  const r = h.handler.handle(query('many.example.com', { type: 'MX', edns: 700, do: true }), UDP)!;
  assert.ok(r.length <= 700);
  const d = decode(r);
  assert.equal(d.flag_tc, false);
  assert.equal(d.answers!.length, 11);
  const extra = d.additionals!.filter((a) => a.type !== 'OPT');
  assert.ok(extra.length > 0 && extra.length < 20, `some additional units dropped (${extra.length} records kept)`);
  unitsWhole(d.additionals as Rec[]);
});

test('DNSSEC truncation: an answer whose signatures do not fit sets TC and is not split from them', () => {
  const h = harness(zones);
  const unsigned = h.handler.handle(query('big.example.com', { edns: 700 }), UDP)!;
  assert.equal(decode(unsigned).flag_tc, false, '40 A records fit without their signature');
  const r = h.handler.handle(query('big.example.com', { edns: 700, do: true }), UDP)!;
  const d = decode(r);
  assert.equal(d.flag_tc, true);
  assert.equal(d.answers!.length, 0, 'no RRset without its RRSIG');
  const t = decode(h.handler.handle(query('big.example.com', { edns: 700, do: true }), TCP));
  assert.equal(t.answers!.length, 41);
});

test('without DO no RRSIG is added, with DO the covering ones are', () => {
  const h = harness(zones);
  const plain = decode(h.handler.handle(query('mx3.many.example.com', { edns: 1232 }), UDP));
  assert.deepEqual(plain.answers!.map((a) => a.type), ['A']);
  const signed = decode(h.handler.handle(query('mx3.many.example.com', { edns: 1232, do: true }), UDP));
  assert.deepEqual(signed.answers!.map((a) => a.type), ['A', 'RRSIG']);
});
