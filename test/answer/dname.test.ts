// DNAME redirection (RFC 6672): synthesized CNAME with the DNAME's TTL, chased on; YXDOMAIN when too long.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ask, runTable, zoneFromText, zoneSet } from './helpers.js';

const L60 = 'x'.repeat(60);
const ZONE = `
$TTL 3600
@        SOA   ns1 host 1 7200 3600 1209600 300
@        NS    ns1
ns1      A     192.0.2.1
d        600   DNAME example.net.
d2       DNAME t.example.
a.t      A     192.0.2.5
long     DNAME ${L60}.${L60}.${L60}.example.
`;
const zones = zoneSet(zoneFromText('example.', ZONE));
const SOA = 'example. 300 IN SOA ns1.example. host.example. 1 7200 3600 1209600 300';

test('dname: substitution, synthesized CNAME, chase within our zones', () => {
  runTable(zones, [
    {
      name: 'target outside our zones',
      qname: 'a.b.d.example',
      qtype: 'A',
      rcode: 0,
      aa: true,
      answer: ['d.example. 600 IN DNAME example.net.', 'a.b.d.example. 600 IN CNAME a.b.example.net.'],
    },
    { name: 'the owner itself is not redirected', qname: 'd.example', qtype: 'A', rcode: 0, aa: true, authority: [SOA] },
    { qname: 'd.example', qtype: 'DNAME', rcode: 0, aa: true, answer: ['d.example. 600 IN DNAME example.net.'] },
    {
      name: 'target inside the zone',
      qname: 'a.d2.example',
      qtype: 'A',
      rcode: 0,
      aa: true,
      answer: [
        'd2.example. 3600 IN DNAME t.example.',
        'a.d2.example. 3600 IN CNAME a.t.example.',
        'a.t.example. 3600 IN A 192.0.2.5',
      ],
    },
    {
      name: 'target that does not exist: NXDOMAIN of the last name (RFC 6604 §2.1)',
      qname: 'b.d2.example',
      qtype: 'A',
      rcode: 3,
      aa: true,
      answer: ['d2.example. 3600 IN DNAME t.example.', 'b.d2.example. 3600 IN CNAME b.t.example.'],
      authority: [SOA],
    },
  ]);
});

test('dname: a substituted name over 255 octets is YXDOMAIN (RFC 6672 §2.2)', () => {
  const q = `${'y'.repeat(63)}.long.example`;
  const p = ask(zones, q, 'A');
  assert.equal(p.outcome, 'yxdomain');
  assert.equal(p.rcode, 6);
  assert.equal(p.aa, true);
  assert.deepEqual(p.answer.map((r) => r.set.type), [39]);
  assert.deepEqual(p.authority, []);
  // A shorter first label fits; the target is in this zone and doesn't exist.
  const ok = ask(zones, `${'y'.repeat(20)}.long.example`, 'A');
  assert.equal(ok.rcode, 3);
  assert.deepEqual(ok.answer.map((r) => r.set.type), [39, 5]);
});
