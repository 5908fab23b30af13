// Additional-section addresses for NS, MX and SRV targets we serve (RFC 1035 §3.3.9, §3.3.11, RFC 2782).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ask, runTable, zoneFromText, zoneSet } from './helpers.js';

const ZONE = `
$TTL 3600
@        SOA   ns1 host 1 7200 3600 1209600 300
@        NS    ns1
@        NS    ns.sub
@        NS    ns.elsewhere.net.
@        MX    10 mail
@        MX    20 mx.sub
@        MX    30 nothing
ns1      A     192.0.2.1
ns1      AAAA  2001:db8::1
mail     A     192.0.2.25
_sip._udp SRV  10 60 5060 sip
sip      AAAA  2001:db8::60
sub      NS    ns.sub
ns.sub   A     192.0.2.9
mx.sub   A     192.0.2.10
`;
const zones = zoneSet(zoneFromText('example.', ZONE));

test('glue: addresses for NS, MX, SRV targets', () => {
  runTable(zones, [
    {
      name: 'apex NS: in-zone addresses and glue below a cut',
      qname: 'example',
      qtype: 'NS',
      rcode: 0,
      aa: true,
      answer: ['example. 3600 IN NS ns1.example.', 'example. 3600 IN NS ns.sub.example.', 'example. 3600 IN NS ns.elsewhere.net.'],
      additional: ['ns1.example. 3600 IN A 192.0.2.1', 'ns1.example. 3600 IN AAAA 2001:db8::1', 'ns.sub.example. 3600 IN A 192.0.2.9'],
    },
    {
      name: 'MX: authoritative addresses only, never glue',
      qname: 'example',
      qtype: 'MX',
      rcode: 0,
      aa: true,
      answer: ['example. 3600 IN MX 10 mail.example.', 'example. 3600 IN MX 20 mx.sub.example.', 'example. 3600 IN MX 30 nothing.example.'],
      additional: ['mail.example. 3600 IN A 192.0.2.25'],
    },
    {
      qname: '_sip._udp.example',
      qtype: 'SRV',
      rcode: 0,
      aa: true,
      answer: ['_sip._udp.example. 3600 IN SRV 10 60 5060 sip.example.'],
      additional: ['sip.example. 3600 IN AAAA 2001:db8::60'],
    },
    { name: 'A answers get no additional', qname: 'ns1.example', qtype: 'A', rcode: 0, aa: true, answer: ['ns1.example. 3600 IN A 192.0.2.1'] },
  ]);
});

test('glue: additional data of positive answers is optional', () => {
  const p = ask(zones, 'example', 'NS');
  assert.ok(p.additional.length > 0);
  assert.ok(p.additional.every((r) => r.optional));
  assert.ok(p.answer.every((r) => !r.optional));
});
