// The bundled zones/ directory, as `anycast-dns serve` serves it with no config.
import { test } from 'node:test';
import { readZoneDir } from '../../src/sync/zone-files.js';
import { runTable } from './helpers.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';

const { zones } = readZoneDir(BUNDLED_ZONES_DIR);
const SOA = 'example.com. 300 IN SOA ns1.example.com. hostmaster.example.com. 2026112501 7200 3600 1209600 300';

test('bundled zones: example.com and its reverse zone', () => {
  runTable(zones, [
    { qname: 'www.example.com', qtype: 'A', rcode: 0, aa: true, answer: ['www.example.com. 3600 IN A 192.0.2.80'] },
    {
      qname: 'alias.example.com',
      qtype: 'AAAA',
      rcode: 0,
      aa: true,
      answer: ['alias.example.com. 3600 IN CNAME ftp.example.com.', 'ftp.example.com. 3600 IN CNAME www.example.com.', 'www.example.com. 3600 IN AAAA 2001:db8::80'],
    },
    { qname: 'external.example.com', qtype: 'A', rcode: 0, aa: true, answer: ['external.example.com. 3600 IN CNAME www.example.net.'] },
    { qname: 'x.apps.example.com', qtype: 'A', rcode: 0, aa: true, answer: ['x.apps.example.com. 3600 IN A 192.0.2.100'] },
    { qname: 'special.apps.example.com', qtype: 'TXT', rcode: 0, aa: true, authority: [SOA] },
    { qname: 'b.deep.example.com', qtype: 'A', rcode: 0, aa: true, authority: [SOA] },
    { qname: 'nope.example.com', qtype: 'A', rcode: 3, aa: true, authority: [SOA] },
    {
      qname: 'host.sub.example.com',
      qtype: 'A',
      rcode: 0,
      aa: false,
      authority: ['sub.example.com. 3600 IN NS ns1.sub.example.com.', 'sub.example.com. 3600 IN NS ns2.sub.example.com.'],
      additional: ['ns1.sub.example.com. 3600 IN A 192.0.2.201', 'ns2.sub.example.com. 3600 IN A 192.0.2.202', 'ns2.sub.example.com. 3600 IN AAAA 2001:db8::202'],
    },
    {
      qname: 'example.com',
      qtype: 'MX',
      rcode: 0,
      aa: true,
      answer: ['example.com. 3600 IN MX 10 mail.example.com.', 'example.com. 3600 IN MX 20 mail2.example.net.'],
      additional: ['mail.example.com. 3600 IN A 192.0.2.25', 'mail.example.com. 3600 IN AAAA 2001:db8::25'],
    },
    { qname: '80.2.0.192.in-addr.arpa', qtype: 'PTR', rcode: 0, aa: true, answer: ['80.2.0.192.in-addr.arpa. 3600 IN PTR www.example.com.'] },
    { qname: '2.0.192.in-addr.arpa', qtype: 'NS', rcode: 0, aa: true, answer: ['2.0.192.in-addr.arpa. 3600 IN NS ns1.example.com.', '2.0.192.in-addr.arpa. 3600 IN NS ns2.example.com.'] },
    { qname: 'example.net', qtype: 'A', rcode: 5, aa: false },
  ]);
});
