// Referrals (RFC 1034 §4.3.2 step 3b) and DS at a cut (RFC 4035 §3.1.4.1).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyToText } from '../../src/zone/name.js';
import { ask, runTable, zoneFromText, zoneSet } from './helpers.js';

const ZONE = `
$TTL 3600
@        SOA  ns1 host 1 7200 3600 1209600 300
@        NS   ns1
ns1      A    192.0.2.1
sub      NS   ns1.sub
sub      NS   ns.other
sub      DS   12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D5E6A6A9B2E8F2E5A64A4B9A
ns1.sub  A    192.0.2.10
ns1.sub  AAAA 2001:db8::10
other    NS   ns.other
ns.other A    192.0.2.20
out      NS   ns.elsewhere.net.
`;
const zones = zoneSet(zoneFromText('example.', ZONE));
const REFERRAL = {
  rcode: 0,
  aa: false,
  authority: ['sub.example. 3600 IN NS ns1.sub.example.', 'sub.example. 3600 IN NS ns.other.example.'],
  additional: [
    'ns1.sub.example. 3600 IN A 192.0.2.10',
    'ns1.sub.example. 3600 IN AAAA 2001:db8::10',
    'ns.other.example. 3600 IN A 192.0.2.20',
  ],
};
const SOA = 'example. 300 IN SOA ns1.example. host.example. 1 7200 3600 1209600 300';

test('delegation: referral at and below a cut, DS answered from the parent side', () => {
  runTable(zones, [
    { qname: 'sub.example', qtype: 'A', ...REFERRAL },
    { qname: 'www.sub.example', qtype: 'AAAA', ...REFERRAL },
    { name: 'NS at the cut is a referral, not an answer', qname: 'sub.example', qtype: 'NS', ...REFERRAL },
    { qname: 'sub.example', qtype: 'ANY', ...REFERRAL },
    { name: 'glue is not authoritative data', qname: 'ns1.sub.example', qtype: 'A', ...REFERRAL },
    { name: 'DS below the cut belongs to the child', qname: 'x.sub.example', qtype: 'DS', ...REFERRAL },
    {
      qname: 'sub.example',
      qtype: 'DS',
      rcode: 0,
      aa: true,
      // Digests print split as named-compilezone prints them.
      answer: ['sub.example. 3600 IN DS 12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D5E6A6A9B2E8F2E5 A64A4B9A'],
    },
    { name: 'DS absent at a cut: NODATA from the parent', qname: 'other.example', qtype: 'DS', rcode: 0, aa: true, authority: [SOA] },
    { name: 'out-of-zone NS target: no glue', qname: 'out.example', qtype: 'A', rcode: 0, aa: false, authority: ['out.example. 3600 IN NS ns.elsewhere.net.'] },
  ]);
});

test('delegation: glue for targets below the cut is required, sibling glue optional (RFC 9471 §3)', () => {
  const p = ask(zones, 'www.sub.example', 'A');
  assert.equal(p.outcome, 'referral');
  assert.deepEqual(p.authority.map((r) => r.optional), [false]);
  assert.deepEqual(
    p.additional.map((r) => `${keyToText(r.ownerKey)} ${r.optional}`).sort(),
    ['ns.other.example. true', 'ns1.sub.example. false', 'ns1.sub.example. false'],
  );
});
