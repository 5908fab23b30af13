// The 2018-03-12 root zone snapshot (../shared/data beside the repository): referrals with glue, DS at
// cuts answered with AA, NXDOMAIN for junk TLDs with the root SOA, apex NS/SOA/DNSKEY.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ask, rrLines, runTable, zoneFromFile, zoneSet } from './helpers.js';
import { ROOT_ZONE_2018 } from '../helpers/paths.js';

const zones = zoneSet(zoneFromFile(ROOT_ZONE_2018, '.'));
const ROOT_SOA = '. 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 2018031200 1800 900 604800 86400';
const GTLD = 'abcdefghijklm'.split('').map((l) => `com. 172800 IN NS ${l}.gtld-servers.net.`);

test('root: referral to com. with glue, for com. and below it', () => {
  for (const qname of ['com', 'www.example.com', 'WWW.Example.COM']) {
    const p = ask(zones, qname, 'A');
    assert.equal(p.outcome, 'referral', qname);
    assert.equal(p.aa, false);
    assert.equal(p.rcode, 0);
    assert.deepEqual(p.answer, []);
    assert.deepEqual(rrLines(p.authority, 1), [...GTLD].sort());
    const glue = rrLines(p.additional, 1);
    // Each gtld server's A and AAAA, found below the net. cut (sibling glue).
    assert.equal(glue.length, 26);
    assert.ok(glue.includes('a.gtld-servers.net. 172800 IN A 192.5.6.30'), glue.join('\n'));
    assert.ok(glue.includes('a.gtld-servers.net. 172800 IN AAAA 2001:503:a83e::2:30'));
    // Not below com.: optional (RFC 9471 §3 requires only in-bailiwick glue).
    assert.ok(p.additional.every((r) => r.optional));
  }
});

test('root: in-bailiwick glue is required', () => {
  const p = ask(zones, 'nic.aaa', 'A');
  assert.equal(p.outcome, 'referral');
  assert.equal(p.additional.length, 12);
  assert.ok(p.additional.every((r) => !r.optional));
});

test('root: DS at a cut answered with AA, NXDOMAIN with the SOA, apex data', () => {
  runTable(zones, [
    { qname: 'junk-tld-that-does-not-exist', qtype: 'A', rcode: 3, aa: true, authority: [ROOT_SOA] },
    { qname: 'www.junk-tld-that-does-not-exist', qtype: 'AAAA', rcode: 3, aa: true, authority: [ROOT_SOA] },
    { qname: '.', qtype: 'SOA', rcode: 0, aa: true, answer: [ROOT_SOA] },
    { name: 'NODATA at the apex', qname: '.', qtype: 'A', rcode: 0, aa: true, authority: [ROOT_SOA] },
  ]);
  const ds = ask(zones, 'com', 'DS');
  assert.equal(ds.outcome, 'answer');
  assert.equal(ds.aa, true);
  assert.deepEqual(rrLines(ds.answer, 1).map((l) => l.split(' ').slice(0, 4).join(' ')), ['com. 86400 IN DS']);
  const ns = ask(zones, '.', 'NS');
  assert.equal(ns.answer[0]!.set.rdatas.length, 13);
  assert.equal(ns.additional.length, 26, 'root server addresses from glue below net.');
  const dnskey = ask(zones, '.', 'DNSKEY');
  assert.equal(dnskey.aa, true);
  assert.equal(dnskey.answer[0]!.set.rdatas.length, 3);
});
