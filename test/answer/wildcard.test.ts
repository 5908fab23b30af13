// Wildcards (RFC 4592): closest encloser, no match where the name or an ENT exists, owner = qname.
import { test } from 'node:test';
import { runTable, zoneFromText, zoneSet } from './helpers.js';

const ZONE = `
$TTL 3600
@        SOA   ns1 host 1 7200 3600 1209600 300
@        NS    ns1
ns1      A     192.0.2.1
*.w      A     192.0.2.100
*.w      MX    10 mail
mail     A     192.0.2.25
sub.w    TXT   "exists"
a.ent.w  A     192.0.2.101
*.c      CNAME target
target   A     192.0.2.50
`;
const zones = zoneSet(zoneFromText('example.', ZONE));
const SOA = 'example. 300 IN SOA ns1.example. host.example. 1 7200 3600 1209600 300';

test('wildcard: synthesis from the closest encloser', () => {
  runTable(zones, [
    { qname: 'foo.w.example', qtype: 'A', rcode: 0, aa: true, answer: ['foo.w.example. 3600 IN A 192.0.2.100'] },
    { name: 'several labels below the encloser', qname: 'x.y.w.example', qtype: 'A', rcode: 0, aa: true, answer: ['x.y.w.example. 3600 IN A 192.0.2.100'] },
    { name: 'wildcard NODATA', qname: 'foo.w.example', qtype: 'AAAA', rcode: 0, aa: true, authority: [SOA] },
    {
      name: 'additional for a synthesized MX',
      qname: 'foo.w.example',
      qtype: 'MX',
      rcode: 0,
      aa: true,
      answer: ['foo.w.example. 3600 IN MX 10 mail.example.'],
      additional: ['mail.example. 3600 IN A 192.0.2.25'],
    },
    { name: 'the * name itself', qname: '*.w.example', qtype: 'A', rcode: 0, aa: true, answer: ['*.w.example. 3600 IN A 192.0.2.100'] },
    { name: 'an existing name blocks the wildcard', qname: 'sub.w.example', qtype: 'A', rcode: 0, aa: true, authority: [SOA] },
    { name: 'below an existing name with no * child', qname: 'x.sub.w.example', qtype: 'A', rcode: 3, aa: true, authority: [SOA] },
    { name: 'an ENT blocks the wildcard (RFC 4592 §2.2.2)', qname: 'ent.w.example', qtype: 'A', rcode: 0, aa: true, authority: [SOA] },
    { name: 'below an ENT with no * child', qname: 'x.ent.w.example', qtype: 'A', rcode: 3, aa: true, authority: [SOA] },
    {
      name: 'wildcard CNAME is followed',
      qname: 'foo.c.example',
      qtype: 'A',
      rcode: 0,
      aa: true,
      answer: ['foo.c.example. 3600 IN CNAME target.example.', 'target.example. 3600 IN A 192.0.2.50'],
    },
    { name: 'wildcard CNAME asked as CNAME', qname: 'foo.c.example', qtype: 'CNAME', rcode: 0, aa: true, answer: ['foo.c.example. 3600 IN CNAME target.example.'] },
  ]);
});
