// Referrals written from a cut's template (src/wire/referral-template.ts) are the very bytes the writer
// makes for that query: checked against a handler without a cache (which never uses templates) over
// names below cuts of every shape: out-of-zone, in-bailiwick and sibling name servers, names that share
// a label with a name server's, mixed case, every query variant, sizes that truncate, a child zone served
// below a cut, and the rate-limiting bucket reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zoneFromText, zoneSet } from '../answer/helpers.js';
import { TCP, UDP, harness, query, type QueryOptions } from './helpers.js';

const PARENT = `
$TTL 3600
@          SOA   ns1 hostmaster 1 7200 3600 1209600 300
@          NS    ns1
ns1        A     192.0.2.53
; out-of-zone name servers only
out        NS    a.ns.example.net.
out        NS    b.ns.example.org.
; in-bailiwick name servers with glue, two below one label
kid        NS    ns1.nic.kid
kid        NS    ns2.nic.kid
kid        NS    Ns3.KID
ns1.nic.kid A    192.0.2.1
ns2.nic.kid A    192.0.2.2
ns2.nic.kid AAAA 2001:db8::2
ns3.kid    A     192.0.2.3
; a sibling's name server (optional glue)
sib        NS    ns.kid
sib        NS    ns1
ns.kid     A     192.0.2.9
; many name servers: the glue overflows small UDP sizes
${Array.from({ length: 14 }, (_, i) => `big NS ns${i}.a-rather-long-server-name-label.big\nns${i}.a-rather-long-server-name-label.big AAAA 2001:db8:1::${i + 1}`).join('\n')}
; a cut with a zone of its own served below it
deep       NS    ns1
`;

const CHILD = `
$TTL 60
@   SOA ns1.deep.example. h 1 7200 3600 1209600 300
@   NS  ns1.example.
www A   192.0.2.80
`;

const zones = zoneSet(zoneFromText('example.', PARENT), zoneFromText('sub.deep.example.', CHILD));

const NAMES = [
  'x.out.example', 'y.out.example', 'www.x.out.example', 'OUT.example', 'q.OuT.ExAmPlE',
  'a.kid.example', 'b.kid.example', 'nic.kid.example', 'x.nic.kid.example', 'ns1.nic.kid.example', 'NIC.kid.example',
  'ns3.kid.example', 'x.ns3.kid.example', 'ns.kid.example', 'zz.kid.example',
  'a.sib.example', 'b.c.sib.example', 'ns.sib.example',
  'a.big.example', 'b.big.example', 'ns0.a-rather-long-server-name-label.big.example',
  'a.deep.example', 'b.deep.example', 'www.sub.deep.example', 'x.sub.deep.example', 'sub.deep.example', 'c.deep.example',
];

const VARIANTS: { opts: QueryOptions; tcp: boolean }[] = [
  { opts: {}, tcp: false },
  { opts: { edns: 1232 }, tcp: false },
  { opts: { edns: 512 }, tcp: false },
  { opts: { edns: 4096, do: true, nsid: true }, tcp: false },
  { opts: { edns: 1232, rd: false }, tcp: true },
  { opts: {}, tcp: true },
];

test('referral templates: every referral below a cut is byte-identical to the writer\'s own', () => {
  const cached = harness(zones);
  const plain = harness(zones, { responseCacheBytes: 0 });
  let id = 1;
  // Twice over: the first pass makes the templates, the second is answered from them.
  for (let pass = 0; pass < 2; pass++) {
    for (const v of VARIANTS) {
      for (const name of NAMES) {
        for (const type of ['A', 'AAAA', 'MX', 'DS', 'NS']) {
          const q = query(name, { ...v.opts, type, id: id++ & 0xffff });
          const meta = v.tcp ? TCP : UDP;
          const a = cached.handler.handle(q, meta);
          const ai = { ...cached.handler.info };
          const b = plain.handler.handle(q, meta);
          assert.ok(a !== null && b !== null);
          assert.equal(a.toString('hex'), b.toString('hex'), `${name} ${type} ${JSON.stringify(v)} pass ${pass + 1}`);
          const bi = plain.handler.info;
          assert.deepEqual([ai.kind, ai.nameHash, ai.outcome, ai.rcode, ai.qtype, ai.zone], [bi.kind, bi.nameHash, bi.outcome, bi.rcode, bi.qtype, bi.zone], `${name} ${type}`);
        }
      }
    }
  }
});

test('referral templates: random names below one cut, in any order, each asked once', () => {
  const cached = harness(zones);
  const plain = harness(zones, { responseCacheBytes: 0 });
  for (let i = 0; i < 500; i++) {
    const cut = ['out', 'kid', 'sib', 'big', 'deep'][i % 5]!;
    const label = (i * 2654435761 >>> 0).toString(36);
    const name = i % 7 === 0 ? `nic.${label}.${cut}.example` : `${label}.${cut}.example`;
    const q = query(name, { edns: 1232, id: i });
    assert.equal(cached.handler.handle(q, UDP)!.toString('hex'), plain.handler.handle(q, UDP)!.toString('hex'), name);
  }
});
