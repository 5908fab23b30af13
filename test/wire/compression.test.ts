// Name compression (RFC 1035 §4.1.4): every response expands to exactly the records of its plan; owners
// and the RFC 1035 types' RDATA names are compressed, other types' RDATA names never (RFC 3597 §4); the
// question is copied as sent (case kept).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { readZoneDir } from '../../src/sync/zone-files.js';
import type { ZoneSet } from '../../src/zone/zone.js';
import { ask, zoneFromFile, zoneSet } from '../answer/helpers.js';
import { BUNDLED_ZONES_DIR, ROOT_ZONE_2018 } from '../helpers/paths.js';
import { expandResponse, planRecords } from './expand.js';
import { TCP, UDP, decode, exampleZones, harness, query } from './helpers.js';

function checkAgainstPlan(zones: ZoneSet, names: string[], types: string[]): number {
  const h = harness(zones);
  let n = 0;
  for (const name of names)
    for (const type of types) {
      const r = h.handler.handle(query(name, { type, edns: 4096 }), TCP)!;
      const p = ask(zones, name, type);
      const what = `${name} ${type}`;
      assert.deepEqual(
        expandResponse(r),
        [planRecords(p.answer, 1), planRecords(p.authority, 1), planRecords(p.additional, 1)],
        what,
      );
      // dns-packet reads it too (an independent decoder).
      const d = decode(r);
      assert.equal(d.questions![0]!.name, name, what);
      n++;
    }
  return n;
}

test('compression: responses expand to their plans, for the bundled zones', () => {
  const { zones } = readZoneDir(BUNDLED_ZONES_DIR);
  const names = ['example.com', 'www.example.com', 'alias.example.com', 'x.apps.example.com', 'b.deep.example.com', 'www.sub.example.com', 'nope.example.com', '_sip._udp.example.com', '1.2.0.192.in-addr.arpa', '2.0.192.in-addr.arpa'];
  const types = ['A', 'AAAA', 'NS', 'MX', 'SOA', 'TXT', 'SRV', 'PTR', 'CAA', 'DS', 'ANY'];
  assert.equal(checkAgainstPlan(zones, names, types), names.length * types.length);
});

test('compression: root zone referrals, DS, DNSKEY and NXDOMAIN expand to their plans', () => {
  const zones = zoneSet(zoneFromFile(ROOT_ZONE_2018, '.'));
  checkAgainstPlan(zones, ['.', 'com', 'www.example.com', 'org', 'xn--p1ai', 'nic.aaa', 'junk-tld-xyz'], ['A', 'NS', 'DS', 'DNSKEY', 'SOA']);
});

test('compression: names point back, RDATA names of RFC 1035 types only', () => {
  const h = harness(exampleZones());
  const r = h.handler.handle(query('example.com', { type: 'MX' }), UDP)!;
  // "example.com" appears once in full (the question); everything else points to it.
  const full = Buffer.from('\x07example\x03com\x00', 'latin1');
  assert.equal(r.indexOf(full), 12);
  assert.equal(r.indexOf(full, 13), -1);
  const srv = h.handler.handle(query('_sip._udp.example.com', { type: 'SRV' }), UDP)!;
  // The SRV target is not compressed (RFC 2782, RFC 3597 §4): written in full.
  assert.ok(srv.indexOf(Buffer.from('\x03sip\x07example\x03com\x00', 'latin1')) > 12);
  const d = dnsPacket.decode(srv);
  assert.equal((d.answers![0] as { data: { target: string } }).data.target, 'sip.example.com');
});

test('compression: the question keeps its case; answers owned by it point to it', () => {
  const h = harness(exampleZones());
  const q = query('WwW.ExAmPlE.cOm');
  const r = h.handler.handle(q, UDP)!;
  assert.deepEqual(r.subarray(12, q.length), q.subarray(12));
  const d = decode(r);
  assert.equal(d.questions![0]!.name, 'WwW.ExAmPlE.cOm');
  assert.equal(d.answers![0]!.name, 'WwW.ExAmPlE.cOm');
  assert.equal(r[q.length], 0xc0);
  assert.equal(r[q.length + 1], 12);
});
