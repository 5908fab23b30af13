// SipHash-2-4 against the reference vectors, server cookies against RFC 9018 Appendix A, cookie ages
// (RFC 9018 §4.3), secret rotation, and the address parser the cookies and the limiter read.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressBytes, parsePrefix, prefixContains } from '../../src/wire/address.js';
import { CookieStatus, ServerCookies, cookieLengthOk } from '../../src/wire/cookies.js';
import { SipKey, sipHash24 } from '../../src/wire/siphash.js';

// SipHash paper, Appendix A / the reference vectors.h: key 00..0f, message 00..(n-1).
const SIP_VECTORS: Record<number, string> = {
  0: '310e0edd47db6f72',
  1: 'fd67dc93c539f874',
  2: '5a4fa9d909806c0d',
  7: '37d1018bf50002ab',
  8: '6224939a79f5f593',
  15: 'e545be4961ca29a1',
};

test('siphash: reference vectors', () => {
  const key = new SipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  const out = new Uint8Array(8);
  for (const [n, want] of Object.entries(SIP_VECTORS)) {
    const msg = Uint8Array.from({ length: Number(n) }, (_, i) => i);
    sipHash24(key, msg, 0, msg.length, out, 0);
    assert.equal(Buffer.from(out).toString('hex'), want, `length ${n}`);
  }
});

function ip(text: string): AddressBytes {
  const a = new AddressBytes();
  assert.ok(a.parse(text) > 0, text);
  return a;
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// RFC 9018 Appendix A: client cookie, address, secret, time → server cookie.
const A = [
  { client: '2464c4abcf10c957', ip: '198.51.100.100', secret: 'e5e973e5a6b2a43f48e7dc849e37bfcf', at: 1559731985, server: '010000005cf79f111f8130c3eee29480' },
  { client: '2464c4abcf10c957', ip: '198.51.100.100', secret: 'e5e973e5a6b2a43f48e7dc849e37bfcf', at: 1559734385, server: '010000005cf7a871d4a564a1442aca77' },
  { client: 'fc93fc62807ddb86', ip: '203.0.113.203', secret: 'e5e973e5a6b2a43f48e7dc849e37bfcf', at: 1559734700, server: '010000005cf7a9acf73a7810aca2381e' },
  { client: '22681ab97d52c298', ip: '2001:db8:220:1:59de:d0f4:8769:82b8', secret: '445536bcd2513298075a5d379663c962', at: 1559741961, server: '010000005cf7c609a6bb79d16625507a' },
];

test('cookies: server cookies match RFC 9018 Appendix A', () => {
  for (const v of A) {
    const jar = new ServerCookies(hex(v.secret));
    const out = Buffer.alloc(16);
    jar.issue(hex(v.client), 0, ip(v.ip), v.at, out, 0);
    assert.equal(out.toString('hex'), v.server, v.ip);
    // And the cookie verifies when the client sends it back.
    assert.equal(jar.check(hex(v.client + v.server), 0, 24, ip(v.ip), v.at + 10), CookieStatus.Valid);
  }
});

test('cookies: RFC 9018 A.3 — reserved octets the client set are part of the hash', () => {
  const jar = new ServerCookies(hex('e5e973e5a6b2a43f48e7dc849e37bfcf'));
  const cookie = hex('fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5');
  assert.equal(jar.check(cookie, 0, 24, ip('203.0.113.203'), 0x5cf78f71 + 60), CookieStatus.Valid);
  assert.equal(jar.check(cookie, 0, 24, ip('203.0.113.204'), 0x5cf78f71 + 60), CookieStatus.Invalid, 'bound to the address');
});

test('cookies: RFC 9018 A.4 — the previous secret is still accepted during a rotation, and renewed', () => {
  const cookie = hex('22681ab97d52c298010000005cf7c57926556bd0934c72f8');
  const addr = ip('2001:db8:220:1:59de:d0f4:8769:82b8');
  const now = 0x5cf7c579 + 100;
  const newOnly = new ServerCookies(hex('445536bcd2513298075a5d379663c962'));
  assert.equal(newOnly.check(cookie, 0, 24, addr, now), CookieStatus.Invalid);
  const rotating = new ServerCookies(hex('445536bcd2513298075a5d379663c962'), hex('dd3bdf9344b678b185a6f5cb60fca715'));
  assert.equal(rotating.check(cookie, 0, 24, addr, now), CookieStatus.Valid);
  assert.equal(rotating.renew, true);
});

test('cookies: ages — an hour old at most, five minutes ahead at most, renewed past half an hour', () => {
  const jar = new ServerCookies(hex('e5e973e5a6b2a43f48e7dc849e37bfcf'));
  const addr = ip('192.0.2.1');
  const client = hex('0102030405060708');
  const made = 1_700_000_000;
  const cookie = Buffer.alloc(24);
  client.copy(cookie);
  jar.issue(client, 0, addr, made, cookie, 8);
  const at = (age: number): [CookieStatus, boolean] => [jar.check(cookie, 0, 24, addr, made + age), jar.renew];
  assert.deepEqual(at(0), [CookieStatus.Valid, false]);
  assert.deepEqual(at(1800), [CookieStatus.Valid, false]);
  assert.deepEqual(at(1801), [CookieStatus.Valid, true]);
  assert.deepEqual(at(3600), [CookieStatus.Valid, true]);
  assert.equal(at(3601)[0], CookieStatus.Invalid);
  assert.equal(at(-300)[0], CookieStatus.Valid);
  assert.equal(at(-301)[0], CookieStatus.Invalid);
  // Serial arithmetic: a cookie made just before the 32-bit wrap is an hour old just after it.
  const wrapped = Buffer.alloc(24);
  client.copy(wrapped);
  jar.issue(client, 0, addr, 0xffffff00, wrapped, 8);
  assert.equal(jar.check(wrapped, 0, 24, addr, 0x100), CookieStatus.Valid);
});

test('cookies: only a client cookie, or a server cookie of another length or version, is not valid', () => {
  const jar = new ServerCookies(hex('e5e973e5a6b2a43f48e7dc849e37bfcf'));
  const addr = ip('192.0.2.1');
  assert.equal(jar.check(Buffer.alloc(8), 0, 8, addr, 1), CookieStatus.ClientOnly);
  assert.equal(jar.check(Buffer.alloc(16), 0, 16, addr, 1), CookieStatus.Invalid);
  assert.equal(jar.check(Buffer.alloc(40), 0, 40, addr, 1), CookieStatus.Invalid);
  const v2 = hex('2464c4abcf10c957020000005cf79f111f8130c3eee29480');
  assert.equal(jar.check(v2, 0, 24, ip('198.51.100.100'), 1559731985), CookieStatus.Invalid);
});

test('cookies: option lengths RFC 7873 §5.2.2 accepts', () => {
  const ok = [8, 16, 24, 40];
  const bad = [0, 7, 9, 15, 41];
  for (const n of ok) assert.equal(cookieLengthOk(n), true, String(n));
  for (const n of bad) assert.equal(cookieLengthOk(n), false, String(n));
});

test('address: IPv4, IPv6 (compressed, embedded IPv4, zone) and prefixes', () => {
  const a = new AddressBytes();
  assert.equal(a.parse('127.1.2.3'), 4);
  assert.deepEqual([...a.bytes.subarray(0, 4)], [127, 1, 2, 3]);
  assert.equal(a.parse('::1'), 16);
  assert.equal(Buffer.from(a.bytes).toString('hex'), '00000000000000000000000000000001');
  assert.equal(a.parse('2001:db8::8:800:200c:417a'), 16);
  assert.equal(Buffer.from(a.bytes).toString('hex'), '20010db80000000000080800200c417a');
  assert.equal(a.parse('::ffff:192.0.2.1'), 16);
  assert.equal(Buffer.from(a.bytes).toString('hex'), '00000000000000000000ffffc0000201');
  assert.equal(a.parse('fe80::1%eth0'), 16);
  assert.equal(a.parse('1:2:3:4:5:6:7:8'), 16);
  assert.equal(Buffer.from(a.bytes).toString('hex'), '00010002000300040005000600070008');
  for (const bad of ['', '1.2.3', '256.1.1.1', '1.2.3.4.5', '1::2::3', '1:2:3:4:5:6:7:8:9', 'x']) assert.equal(a.parse(bad), 0, bad);
  const p = parsePrefix('192.0.2.0/23')!;
  assert.ok(prefixContains(p, ip('192.0.3.255')));
  assert.ok(!prefixContains(p, ip('192.0.4.0')));
  assert.ok(!prefixContains(p, ip('::1')));
  assert.ok(prefixContains(parsePrefix('2001:db8::/32')!, ip('2001:db8:ffff::1')));
  assert.ok(prefixContains(parsePrefix('203.0.113.7')!, ip('203.0.113.7')));
  assert.equal(parsePrefix('198.51.100.0/33'), null);
  assert.equal(parsePrefix('nope/8'), null);
});
