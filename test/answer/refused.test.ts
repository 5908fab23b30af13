// Outside every zone we serve: REFUSED, AA clear (we never recurse); zone transfers are refused too.
import { test } from 'node:test';
import { runTable, zoneFromText, zoneSet } from './helpers.js';

const zones = zoneSet(zoneFromText('example.', '$TTL 60\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n'));

test('refused: names outside our zones', () => {
  runTable(zones, [
    { qname: 'example.org', qtype: 'A', rcode: 5, aa: false },
    { qname: '.', qtype: 'NS', rcode: 5, aa: false },
    { name: 'a name ending like ours but not below it', qname: 'notexample', qtype: 'A', rcode: 5, aa: false },
    { qname: 'example', qtype: 'AXFR', rcode: 5, aa: false },
    { qname: 'example', qtype: 'IXFR', rcode: 5, aa: false },
  ]);
});
