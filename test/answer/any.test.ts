// qtype ANY (RFC 8482 §4.1): one RRset the node holds (the lowest type), never the whole node.
import { test } from 'node:test';
import { runTable, zoneFromText, zoneSet } from './helpers.js';

const ZONE = `
$TTL 3600
@        SOA   ns1 host 1 7200 3600 1209600 300
@        NS    ns1
@        TXT   "apex"
ns1      A     192.0.2.1
www      TXT   "hello"
www      AAAA  2001:db8::80
*.w      MX    10 ns1
`;
const zones = zoneSet(zoneFromText('example.', ZONE));
const SOA = 'example. 300 IN SOA ns1.example. host.example. 1 7200 3600 1209600 300';

test('any: one RRset, lowest type', () => {
  runTable(zones, [
    { name: 'apex: NS (2) before SOA (6)', qname: 'example', qtype: 'ANY', rcode: 0, aa: true, answer: ['example. 3600 IN NS ns1.example.'], additional: ['ns1.example. 3600 IN A 192.0.2.1'] },
    { qname: 'www.example', qtype: 'ANY', rcode: 0, aa: true, answer: ['www.example. 3600 IN TXT "hello"'] },
    { name: 'through a wildcard', qname: 'x.w.example', qtype: 'ANY', rcode: 0, aa: true, answer: ['x.w.example. 3600 IN MX 10 ns1.example.'], additional: ['ns1.example. 3600 IN A 192.0.2.1'] },
    { qname: 'nope.example', qtype: 'ANY', rcode: 3, aa: true, authority: [SOA] },
  ]);
});
