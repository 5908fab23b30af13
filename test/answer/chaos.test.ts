// Server identity in class CHAOS (RFC 4892): id.server, hostname.bind, version.bind; other names REFUSED.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerChaos, type ServerIdentity } from '../../src/answer/chaos.js';
import { answer } from '../../src/answer/answer.js';
import { check, keyOf, zoneFromText, zoneSet } from './helpers.js';

const SERVER: ServerIdentity = { identity: 'pop-ams1', version: 'anycast-dns 0.1.0' };
const CH = 3;
const TXT = 16;
const ask = (name: string, qtype = TXT, server = SERVER) =>
  answerChaos({ key: keyOf(name), qtype, qclass: CH, dnssecOk: false }, server);

test('chaos: identity and version', () => {
  check(ask('id.server'), { qname: 'id.server', qtype: 'TXT', rcode: 0, aa: true, answer: ['id.server. 0 CH TXT "pop-ams1"'] });
  check(ask('HOSTNAME.bind'), { qname: 'hostname.bind', qtype: 'TXT', rcode: 0, aa: true, answer: ['hostname.bind. 0 CH TXT "pop-ams1"'] });
  check(ask('version.bind'), { qname: 'version.bind', qtype: 'TXT', rcode: 0, aa: true, answer: ['version.bind. 0 CH TXT "anycast-dns 0.1.0"'] });
  check(ask('id.server', 255), { qname: 'id.server', qtype: 'ANY', rcode: 0, aa: true, answer: ['id.server. 0 CH TXT "pop-ams1"'] });
  check(ask('id.server', 1), { name: 'A in CHAOS: NODATA', qname: 'id.server', qtype: 'A', rcode: 0, aa: true });
});

test('chaos: hidden version, other names and classes are REFUSED', () => {
  check(ask('version.bind', TXT, { identity: 'x', version: null }), { qname: 'version.bind', qtype: 'TXT', rcode: 5, aa: false });
  check(ask('authors.bind'), { qname: 'authors.bind', qtype: 'TXT', rcode: 5, aa: false });
  check(ask('example.com'), { qname: 'example.com', qtype: 'TXT', rcode: 5, aa: false });
  const hs = answerChaos({ key: keyOf('id.server'), qtype: TXT, qclass: 4, dnssecOk: false }, SERVER);
  assert.equal(hs.rcode, 5);
});

test('chaos: zone data is never served in other classes', () => {
  const zones = zoneSet(zoneFromText('example.', '$TTL 60\n@ SOA ns host 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n'));
  for (const qclass of [CH, 4, 255]) {
    const p = answer(zones, { key: keyOf('ns.example'), qtype: 1, qclass, dnssecOk: false });
    assert.equal(p.outcome, 'refused');
    assert.equal(p.aa, false);
  }
});

test('chaos: a long identity is split into 255-octet character-strings', () => {
  const long = 'p'.repeat(300);
  const p = ask('id.server', TXT, { identity: long, version: null });
  const rd = p.answer[0]!.set.rdatas[0]!;
  assert.equal(rd[0], 255);
  assert.equal(rd[256], 45);
  assert.equal(rd.length, 302);
});
