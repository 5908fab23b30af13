// DNS cookies through the handler (RFC 7873 §5.2, RFC 9018), the rate-limiting bucket each response
// carries in its ResponseInfo (from a fresh answer and from the cache alike), and the minimal replies
// the transport slips instead of a limited response.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressBytes } from '../../src/wire/address.js';
import { CookieStatus, ServerCookies } from '../../src/wire/cookies.js';
import { ResponseKind, type QueryMeta } from '../../src/wire/handler-types.js';
import { hashKey } from '../../src/zone/name-table.js';
import { UDP, decode, exampleZones, harness, header, query } from './helpers.js';

const SECRET = Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex');
const NOW = 1_700_000_000_000;
const CLIENT = Buffer.from('2464c4abcf10c957', 'hex');
const OTHER: QueryMeta = { transport: 'udp', remoteAddress: '192.0.2.77', remotePort: 5353 };

function cookieHarness(now = NOW) {
  return harness(exampleZones('*.apps A 192.0.2.100\nsub NS ns.sub\nns.sub A 192.0.2.9\n'), {
    cookies: new ServerCookies(SECRET),
    now: () => now,
  });
}

/** The COOKIE option data of a response, or null. */
function cookieOf(r: Buffer): Buffer | null {
  const opt = decode(r).additionals!.find((a) => a.type === 'OPT') as unknown as { options: { code: number; data: Buffer }[] } | undefined;
  return opt?.options.find((o) => o.code === 10)?.data ?? null;
}

test('cookies: a client cookie is answered with a server cookie of ours, which is then accepted', () => {
  const h = cookieHarness();
  const r1 = h.handler.handle(query('www.example.com', { edns: 1232, cookie: CLIENT }), UDP)!;
  assert.equal(h.infos.at(-1)!.cookie, CookieStatus.ClientOnly);
  const c = cookieOf(r1)!;
  assert.equal(c.length, 24);
  assert.deepEqual(c.subarray(0, 8), CLIENT);
  assert.equal(c[8], 1, 'RFC 9018 version 1');
  assert.equal(c.readUInt32BE(12), NOW / 1000, 'timestamp');
  const a = new AddressBytes();
  a.parse(UDP.remoteAddress);
  assert.equal(new ServerCookies(SECRET).check(c, 0, 24, a, NOW / 1000), CookieStatus.Valid);
  assert.equal(decode(r1).answers!.length, 1, 'answered normally (RFC 7873 §5.2.3)');
  // The second query, with the cookie: valid, and the same server cookie comes back while fresh.
  const r2 = h.handler.handle(query('www.example.com', { edns: 1232, cookie: c }), UDP)!;
  assert.equal(h.infos.at(-1)!.cookie, CookieStatus.Valid);
  assert.deepEqual(cookieOf(r2), c);
});

test('cookies: a bad server cookie is answered normally with a new one (RFC 7873 §5.2.4)', () => {
  const h = cookieHarness();
  const forged = Buffer.concat([CLIENT, Buffer.from('010000006553f10000112233445566778', 'hex').subarray(0, 16)]);
  const r = h.handler.handle(query('www.example.com', { edns: 1232, cookie: forged }), UDP)!;
  assert.equal(h.infos.at(-1)!.cookie, CookieStatus.Invalid);
  assert.equal(header(r).rcode, 0);
  assert.equal(decode(r).answers!.length, 1);
  assert.notDeepEqual(cookieOf(r), forged);
  // A cookie issued to another address is not valid from this one.
  const theirs = cookieOf(h.handler.handle(query('www.example.com', { edns: 1232, cookie: CLIENT }), OTHER)!)!;
  h.handler.handle(query('www.example.com', { edns: 1232, cookie: theirs }), UDP);
  assert.equal(h.infos.at(-1)!.cookie, CookieStatus.Invalid);
});

test('cookies: a malformed COOKIE option is FORMERR (RFC 7873 §5.2.2)', () => {
  const h = cookieHarness();
  for (const n of [0, 7, 9, 15, 41]) {
    const r = h.handler.handle(query('www.example.com', { edns: 1232, cookie: Buffer.alloc(n, 1) }), UDP)!;
    assert.equal(header(r).rcode, 1, `length ${n}`);
    assert.deepEqual([header(r).qd, header(r).an, header(r).ar], [1, 0, 1], 'question and OPT, as BIND answers');
    assert.equal(cookieOf(r), null);
  }
});

test('cookies: cached responses never carry another client\'s cookie', () => {
  const h = cookieHarness();
  const other = Buffer.from('0102030405060708', 'hex');
  const r1 = h.handler.handle(query('www.example.com', { edns: 1232, cookie: CLIENT }), UDP)!;
  const r2 = h.handler.handle(query('www.example.com', { edns: 1232, cookie: other }), OTHER)!;
  assert.deepEqual(cookieOf(r2)!.subarray(0, 8), other);
  assert.notDeepEqual(cookieOf(r2)!.subarray(8), cookieOf(r1)!.subarray(8));
  const a = new AddressBytes();
  a.parse(OTHER.remoteAddress);
  assert.equal(new ServerCookies(SECRET).check(cookieOf(r2)!, 0, 24, a, NOW / 1000), CookieStatus.Valid);
  // Without a cookie the cached answer has none; with EDNS but no cookie, none either.
  assert.equal(cookieOf(h.handler.handle(query('www.example.com', { edns: 1232 }), UDP)!), null);
  assert.equal(decode(h.handler.handle(query('www.example.com'), UDP)!).additionals!.length, 0);
});

test('cookies: an old cookie is renewed, an expired one replaced', () => {
  const issued = cookieOf(cookieHarness().handler.handle(query('www.example.com', { edns: 1232, cookie: CLIENT }), UDP)!)!;
  const later = cookieHarness(NOW + 2000 * 1000);
  const renewed = cookieOf(later.handler.handle(query('www.example.com', { edns: 1232, cookie: issued }), UDP)!)!;
  assert.equal(later.infos.at(-1)!.cookie, CookieStatus.Valid);
  assert.equal(renewed.readUInt32BE(12), NOW / 1000 + 2000);
  const expired = cookieHarness(NOW + 3700 * 1000);
  expired.handler.handle(query('www.example.com', { edns: 1232, cookie: issued }), UDP);
  assert.equal(expired.infos.at(-1)!.cookie, CookieStatus.Invalid);
});

test('slip: a limited response becomes TC=1 with the question only, or BADCOOKIE for a cookie client', () => {
  const h = cookieHarness();
  const r = h.handler.slip(h.handler.handle(query('www.example.com', { edns: 1232 }), UDP)!);
  const d = header(r);
  assert.equal(d.tc, true);
  assert.equal(d.aa, true, 'as BIND: the answer was authoritative');
  assert.deepEqual([d.qd, d.an, d.ns, d.ar], [1, 0, 0, 1]);
  assert.equal(decode(r).questions![0]!.name, 'www.example.com');
  const plain = h.handler.slip(h.handler.handle(query('nope.example.com'), UDP)!);
  assert.deepEqual([header(plain).tc, header(plain).ar, header(plain).rcode], [true, 0, 3]);
  // RFC 7873 §5.2.3: the client cookie gets a server cookie and BADCOOKIE (23 = 7 + 16 × 1 in the OPT).
  const b = h.handler.slip(h.handler.handle(query('www.example.com', { edns: 1232, cookie: CLIENT }), UDP)!);
  assert.equal(header(b).tc, false);
  assert.equal(header(b).rcode, 7);
  assert.equal(header(b).aa, false);
  // The OPT is the question's only follower: root name, type 41, class, then the extended rcode octet.
  const opt = b.length - (11 + 4 + 24);
  assert.equal(b.readUInt16BE(opt + 1), 41);
  assert.equal(b[opt + 5], 1, 'upper bits of BADCOOKIE');
  assert.equal(cookieOf(b)!.length, 24);
  assert.equal(header(b).an, 0);
});

test('buckets: each response names its kind and the name it is counted under, fresh or cached', () => {
  const h = cookieHarness();
  const wild = hashKey('\u0001*\u0004apps\u0007example\u0003com\u0000');
  const zone = hashKey('\u0007example\u0003com\u0000');
  const cases: [string, string, ResponseKind, number][] = [
    ['random1.apps.example.com', 'A', ResponseKind.Wildcard, wild],
    ['random2.apps.example.com', 'A', ResponseKind.Wildcard, wild],
    ['nope.example.com', 'A', ResponseKind.Nxdomain, zone],
    ['www.example.com', 'MX', ResponseKind.Nodata, zone],
    ['host.sub.example.com', 'A', ResponseKind.Referral, hashKey('\u0003sub\u0007example\u0003com\u0000')],
    ['www.example.org', 'A', ResponseKind.Error, 0],
  ];
  for (let pass = 0; pass < 2; pass++) {
    for (const [name, type, kind, hash] of cases) {
      h.handler.handle(query(name, { type }), UDP);
      assert.equal(h.handler.info.kind, kind, `${name} pass ${pass}`);
      assert.equal(h.handler.info.nameHash, hash, `${name} pass ${pass}`);
    }
  }
  h.handler.handle(query('www.example.com', { type: 'A' }), UDP);
  const a = h.handler.info.nameHash;
  assert.equal(h.handler.info.kind, ResponseKind.Answer);
  h.handler.handle(query('WWW.example.com', { type: 'A' }), UDP);
  assert.equal(h.handler.info.nameHash, a, 'from the cache, same key');
  h.handler.handle(query('www.example.com', { type: 'AAAA' }), UDP);
  assert.notEqual(h.handler.info.nameHash, a, 'qtype is part of a positive answer\'s key');
});
