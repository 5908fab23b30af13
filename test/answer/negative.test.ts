// Negative answers carry the SOA with TTL = min(SOA TTL, SOA MINIMUM) (RFC 2308 §3).
import { test } from 'node:test';
import { runTable, zoneFromText, zoneSet } from './helpers.js';

const low = zoneFromText('low.', `
@   120 SOA ns host 1 7200 3600 1209600 900
@   120 NS  ns
ns  120 A   192.0.2.1
`);
const high = zoneFromText('high.', `
@   3600 SOA ns host 1 7200 3600 1209600 60
@   3600 NS  ns
ns  3600 A   192.0.2.1
`);
const zones = zoneSet(low, high);

test('negative: SOA TTL is the smaller of the SOA TTL and MINIMUM', () => {
  runTable(zones, [
    { name: 'SOA TTL smaller', qname: 'x.low', qtype: 'A', rcode: 3, aa: true, authority: ['low. 120 IN SOA ns.low. host.low. 1 7200 3600 1209600 900'] },
    { name: 'MINIMUM smaller', qname: 'x.high', qtype: 'A', rcode: 3, aa: true, authority: ['high. 60 IN SOA ns.high. host.high. 1 7200 3600 1209600 60'] },
    { name: 'NODATA too', qname: 'ns.high', qtype: 'TXT', rcode: 0, aa: true, authority: ['high. 60 IN SOA ns.high. host.high. 1 7200 3600 1209600 60'] },
    { name: 'NODATA at the apex', qname: 'low', qtype: 'MX', rcode: 0, aa: true, authority: ['low. 120 IN SOA ns.low. host.low. 1 7200 3600 1209600 900'] },
  ]);
});
