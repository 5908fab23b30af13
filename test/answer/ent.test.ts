// Empty non-terminals are names that exist (RFC 4592 §2.2.2, RFC 8020): NODATA, never NXDOMAIN.
import { test } from 'node:test';
import { runTable, zoneFromText, zoneSet } from './helpers.js';

const ZONE = `
$TTL 3600
@        SOA  ns1 host 1 7200 3600 1209600 300
@        NS   ns1
ns1      A    192.0.2.1
a.b.deep A    192.0.2.102
`;
const zones = zoneSet(zoneFromText('example.', ZONE));
const SOA = 'example. 300 IN SOA ns1.example. host.example. 1 7200 3600 1209600 300';

test('ent: NODATA at empty non-terminals, NXDOMAIN beside them', () => {
  runTable(zones, [
    { qname: 'b.deep.example', qtype: 'A', rcode: 0, aa: true, authority: [SOA] },
    { qname: 'deep.example', qtype: 'A', rcode: 0, aa: true, authority: [SOA] },
    { qname: 'deep.example', qtype: 'ANY', rcode: 0, aa: true, authority: [SOA] },
    { qname: 'a.b.deep.example', qtype: 'A', rcode: 0, aa: true, answer: ['a.b.deep.example. 3600 IN A 192.0.2.102'] },
    { qname: 'x.b.deep.example', qtype: 'A', rcode: 3, aa: true, authority: [SOA] },
    { qname: 'c.deep.example', qtype: 'A', rcode: 3, aa: true, authority: [SOA] },
  ]);
});
