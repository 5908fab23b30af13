// CNAME (RFC 1034 §4.3.2 step 3a): chased within the zone that holds it, loops and long chains cut.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_CHAIN } from '../../src/answer/answer.js';
import { ask, runTable, zoneFromText, zoneSet } from './helpers.js';

const chain = Array.from({ length: 14 }, (_, i) => `c${i} CNAME c${i + 1}`).join('\n');
const ZONE = `
$TTL 3600
@        SOA   ns1 host 1 7200 3600 1209600 300
@        NS    ns1
ns1      A     192.0.2.1
www      A     192.0.2.80
alias    CNAME ftp
ftp      CNAME www
loop1    CNAME loop2
loop2    CNAME loop1
self     CNAME self
dangling CNAME nothing
other    CNAME www.example.org.
gone     CNAME www.example.net.
deleg    CNAME host.sub
sub      NS    ns.sub
ns.sub   A     192.0.2.9
${chain}
c14      A     192.0.2.14
`;
const ORG = `
$TTL 60
@        SOA   ns1.example. host.example. 1 7200 3600 1209600 30
@        NS    ns1.example.
www      A     198.51.100.80
`;
const zones = zoneSet(zoneFromText('example.', ZONE), zoneFromText('example.org.', ORG));
const SOA = 'example. 300 IN SOA ns1.example. host.example. 1 7200 3600 1209600 300';

test('cname: chains, loops, other zones, referrals', () => {
  runTable(zones, [
    {
      qname: 'alias.example',
      qtype: 'A',
      rcode: 0,
      aa: true,
      answer: ['alias.example. 3600 IN CNAME ftp.example.', 'ftp.example. 3600 IN CNAME www.example.', 'www.example. 3600 IN A 192.0.2.80'],
    },
    { name: 'CNAME asked for: not chased', qname: 'alias.example', qtype: 'CNAME', rcode: 0, aa: true, answer: ['alias.example. 3600 IN CNAME ftp.example.'] },
    { name: 'ANY matches the CNAME: not chased', qname: 'alias.example', qtype: 'ANY', rcode: 0, aa: true, answer: ['alias.example. 3600 IN CNAME ftp.example.'] },
    {
      name: 'loop: each link once, NOERROR',
      qname: 'loop1.example',
      qtype: 'A',
      rcode: 0,
      aa: true,
      answer: ['loop1.example. 3600 IN CNAME loop2.example.', 'loop2.example. 3600 IN CNAME loop1.example.'],
    },
    { qname: 'self.example', qtype: 'A', rcode: 0, aa: true, answer: ['self.example. 3600 IN CNAME self.example.'] },
    {
      name: 'target missing: NXDOMAIN with SOA (RFC 6604 §2.1)',
      qname: 'dangling.example',
      qtype: 'A',
      rcode: 3,
      aa: true,
      answer: ['dangling.example. 3600 IN CNAME nothing.example.'],
      authority: [SOA],
    },
    {
      // Knot and BIND stop at the edge of the zone holding the CNAME, even when they serve the target's zone.
      name: 'not followed into another zone we serve',
      qname: 'other.example',
      qtype: 'A',
      rcode: 0,
      aa: true,
      answer: ['other.example. 3600 IN CNAME www.example.org.'],
    },
    {
      name: 'the other zone\'s NODATA is not looked at either',
      qname: 'other.example',
      qtype: 'AAAA',
      rcode: 0,
      aa: true,
      answer: ['other.example. 3600 IN CNAME www.example.org.'],
    },
    { name: 'target outside our zones', qname: 'gone.example', qtype: 'A', rcode: 0, aa: true, answer: ['gone.example. 3600 IN CNAME www.example.net.'] },
    {
      name: 'target below a cut: CNAME then the referral, AA kept',
      qname: 'deleg.example',
      qtype: 'A',
      rcode: 0,
      aa: true,
      answer: ['deleg.example. 3600 IN CNAME host.sub.example.'],
      authority: ['sub.example. 3600 IN NS ns.sub.example.'],
      additional: ['ns.sub.example. 3600 IN A 192.0.2.9'],
    },
  ]);
});

test('cname: a chain longer than MAX_CHAIN stops after MAX_CHAIN links', () => {
  const p = ask(zones, 'c0.example', 'A');
  assert.equal(p.rcode, 0);
  assert.equal(p.answer.length, MAX_CHAIN);
  assert.ok(p.answer.every((r) => r.set.type === 5));
  const short = ask(zones, 'c4.example', 'A');
  assert.equal(short.answer.length, 11);
  assert.equal(short.answer.at(-1)!.set.type, 1);
});
