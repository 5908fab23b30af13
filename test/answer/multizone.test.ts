// Several zones at once: the most specific zone wins, DS at a child apex comes from the parent we also
// serve (RFC 4035 §3.1.4.1), and each zone keeps its own tree (no shared name table).
import { test } from 'node:test';
import { runTable, zoneFromText, zoneSet } from './helpers.js';

const PARENT = `
$TTL 3600
@          SOA   ns1 host 1 7200 3600 1209600 300
@          NS    ns1
ns1        A     192.0.2.1
child      NS    ns.child
child      DS    1 8 2 AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899
ns.child   A     192.0.2.2
www.child  A     192.0.2.99
`;
const CHILD = `
$TTL 600
@          SOA   ns host 2 7200 3600 1209600 100
@          NS    ns
ns         A     192.0.2.2
www        A     192.0.2.80
`;
const ROOT = `
$TTL 86400
@          SOA   a.root host 1 1800 900 604800 86400
@          NS    a.root
a.root     A     192.0.2.53
`;
const TRICKY = `
$TTL 60
@          SOA   ns host 1 1 1 1 60
@          NS    ns
ns         A     192.0.2.7
`;
const zones = zoneSet(
  zoneFromText('example.', PARENT),
  zoneFromText('child.example.', CHILD),
  zoneFromText('.', ROOT),
  zoneFromText('tricky.test.', TRICKY),
);

test('multi-zone: parent and child', () => {
  runTable(zones, [
    { name: 'child data from the child zone, AA', qname: 'www.child.example', qtype: 'A', rcode: 0, aa: true, answer: ['www.child.example. 600 IN A 192.0.2.80'] },
    { name: 'child apex NS from the child', qname: 'child.example', qtype: 'NS', rcode: 0, aa: true, answer: ['child.example. 600 IN NS ns.child.example.'], additional: ['ns.child.example. 600 IN A 192.0.2.2'] },
    {
      name: 'DS at the child apex from the parent',
      qname: 'child.example',
      qtype: 'DS',
      rcode: 0,
      aa: true,
      answer: ['child.example. 3600 IN DS 1 8 2 AABBCCDDEEFF00112233445566778899AABBCCDDEEFF001122334455 66778899'],
    },
    { name: 'child NXDOMAIN with the child SOA', qname: 'nope.child.example', qtype: 'A', rcode: 3, aa: true, authority: ['child.example. 100 IN SOA ns.child.example. host.child.example. 2 7200 3600 1209600 100'] },
    { name: 'root and a deep zone: test. is NXDOMAIN in the root', qname: 'test', qtype: 'A', rcode: 3, aa: true, authority: ['. 86400 IN SOA a.root. host. 1 1800 900 604800 86400'] },
    { qname: 'ns.tricky.test', qtype: 'A', rcode: 0, aa: true, answer: ['ns.tricky.test. 60 IN A 192.0.2.7'] },
    { name: 'DS of the root: no parent, from the root zone', qname: '.', qtype: 'DS', rcode: 0, aa: true, authority: ['. 86400 IN SOA a.root. host. 1 1800 900 604800 86400'] },
  ]);
});
