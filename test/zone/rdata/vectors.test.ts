// Presentation → wire against independent encodings: dns-packet's encoder for the types it encodes
// correctly, and the RFCs' own examples (RFC 9460 Appendix D, RFC 1876, RFC 8976, RFC 4034, RFC 5155).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import { wire } from './helpers.js';

/** dns-packet's RDATA for a record (its encoder writes RDLENGTH first). */
function packet(type: string, data: unknown): Buffer {
  const encoders = dnsPacket as unknown as { record(type: string): { encode(data: unknown): Buffer } };
  return encoders.record(type).encode(data).subarray(2);
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

test('core types encode as dns-packet encodes them', () => {
  const cases: [string, string, unknown][] = [
    ['A', '192.0.2.1', '192.0.2.1'],
    ['AAAA', '2001:db8::1', '2001:db8::1'],
    ['AAAA', '::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['NS', 'ns1', 'ns1.example.com'],
    ['CNAME', 'Target.Example.NET.', 'Target.Example.NET'],
    ['PTR', '@', 'example.com'],
    ['DNAME', 'other.org.', 'other.org'],
    ['MX', '10 mail', { preference: 10, exchange: 'mail.example.com' }],
    ['SRV', '0 5 5060 sip', { priority: 0, weight: 5, port: 5060, target: 'sip.example.com' }],
    ['TXT', '"hello world" abc ""', ['hello world', 'abc', '']],
    ['HINFO', '"PC" "Linux os"', { cpu: 'PC', os: 'Linux os' }],
    ['RP', 'mbox.example.com. txt', { mbox: 'mbox.example.com', txt: 'txt.example.com' }],
    [
      'SOA',
      'ns1 hostmaster 2024010101 1h 30m 2w 300',
      { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2024010101, refresh: 3600, retry: 1800, expire: 1209600, minimum: 300 },
    ],
    ['CAA', '0 issue "letsencrypt.org"', { flags: 0, tag: 'issue', value: 'letsencrypt.org' }],
    ['CAA', '128 iodef "mailto:a@b.example"', { flags: 128, tag: 'iodef', value: 'mailto:a@b.example' }],
    ['SSHFP', '1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac', { algorithm: 1, hash: 1, fingerprint: 'dd465c09cfa51fb45020cc83316fff21b9ec74ac' }],
    [
      'NAPTR',
      '100 10 "S" "SIP+D2U" "" _sip._udp',
      { order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.com' },
    ],
    [
      'TLSA',
      '3 1 1 0123456789abcdef',
      { usage: 3, selector: 1, matchingType: 1, certificate: hex('0123456789abcdef') },
    ],
    [
      'DS',
      '12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118B2BB183AF5F22588179A53BA',
      { keyTag: 12345, algorithm: 13, digestType: 2, digest: hex('2BB183AF5F22588179A53B0A98631FAD1A292118B2BB183AF5F22588179A53BA') },
    ],
    [
      'DNSKEY',
      '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+ KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
      {
        flags: 257,
        algorithm: 13,
        key: Buffer.from('mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==', 'base64'),
      },
    ],
    [
      'RRSIG',
      'A 13 2 3600 20240101000000 20231201000000 12345 example.com. oJB1W6WNGv+ldvQ3',
      {
        typeCovered: 'A',
        algorithm: 13,
        labels: 2,
        originalTTL: 3600,
        expiration: Date.UTC(2024, 0, 1) / 1000,
        inception: Date.UTC(2023, 11, 1) / 1000,
        keyTag: 12345,
        signersName: 'example.com',
        signature: Buffer.from('oJB1W6WNGv+ldvQ3', 'base64'),
      },
    ],
    // (dns-packet drops TYPEnnn from bitmaps; the RFC 4034 example below covers that.)
    ['NSEC', 'host.example.com. A MX RRSIG NSEC CAA', { nextDomain: 'host.example.com', rrtypes: ['A', 'MX', 'RRSIG', 'NSEC', 'CAA'] }],
  ];
  for (const [type, text, data] of cases) {
    assert.deepEqual(wire(type, text), packet(type, data), `${type} ${text}`);
  }
});

test('NSEC bitmap of RFC 4034 §4.3 example', () => {
  // alfa.example.com. NSEC host.example.com. A MX RRSIG NSEC TYPE1234
  const expect = hex(
    '04 68 6f 73 74 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00' +
      '00 06 40 01 00 00 00 03 04 1b' +
      '00'.repeat(26) +
      '20',
  );
  assert.deepEqual(wire('NSEC', 'host.example.com. A MX RRSIG NSEC TYPE1234'), expect);
});

test('NSEC3 of RFC 5155 Appendix A', () => {
  // 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG
  const w = wire('NSEC3', '1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG');
  assert.deepEqual(w.subarray(0, 9), hex('01 01 000c 04 aabbccdd'));
  assert.equal(w[9], 20);
  // base32hex "2t7b4g4vsa5smi47k61mv5bv1a22bojr" decodes to these 20 octets (RFC 4648 §7 alphabet).
  assert.deepEqual(w.subarray(10, 30), hex('174eb2409fe28bcb4887a1836f957f0a8425e27b'));
  // Window 0: NS SOA MX RRSIG DNSKEY NSEC3PARAM → bits 2 6 15 46 48 51.
  assert.deepEqual(w.subarray(30), hex('00 07 22 01 00 00 00 02 90'));
});

test('SVCB and HTTPS of RFC 9460 Appendix D', () => {
  const foo = '03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00';
  const fooOrg = '03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 6f 72 67 00';
  const cases: [string, string, string][] = [
    ['HTTPS', '0 foo.example.com.', '00 00' + foo],
    ['SVCB', '1 .', '00 01 00'],
    ['SVCB', '16 foo.example.com. port=53', '00 10' + foo + '00 03 00 02 00 35'],
    ['SVCB', '1 foo.example.com. key667=hello', '00 01' + foo + '02 9b 00 05 68 65 6c 6c 6f'],
    ['SVCB', '1 foo.example.com. key667="hello\\210qoo"', '00 01' + foo + '02 9b 00 09 68 65 6c 6c 6f d2 71 6f 6f'],
    [
      'SVCB',
      '1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"',
      '00 01' + foo + '00 06 00 20 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00 00 00 00 53 00 01',
    ],
    [
      'SVCB',
      '1 example.com. ipv6hint="2001:db8:ffff:ffff:ffff:ffff:198.51.100.100"',
      '00 01 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 06 00 10 20 01 0d b8 ff ff ff ff ff ff ff ff c6 33 64 64',
    ],
    [
      'SVCB',
      '16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1',
      '00 10' + fooOrg + '00 00 00 04 00 01 00 04 00 01 00 09 02 68 32 05 68 33 2d 31 39 00 04 00 04 c0 00 02 01',
    ],
    ['SVCB', '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"', '00 10' + fooOrg + '00 01 00 0c 08 66 5c 6f 6f 2c 62 61 72 02 68 32'],
    ['SVCB', '16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2', '00 10' + fooOrg + '00 01 00 0c 08 66 5c 6f 6f 2c 62 61 72 02 68 32'],
  ];
  for (const [type, text, want] of cases) assert.deepEqual(wire(type, text), hex(want), `${type} ${text}`);
});

test('LOC of RFC 1876 examples', () => {
  // cambridge-net.kei.com. LOC 42 21 54 N 71 06 18 W -24m 30m
  const w = wire('LOC', '42 21 54 N 71 06 18 W -24m 30m');
  assert.equal(w[0], 0); // version
  assert.equal(w[1], 0x33); // size 30 m = 3e3 cm
  assert.equal(w[2], 0x16); // default horizontal precision 10000 m
  assert.equal(w[3], 0x13); // default vertical precision 10 m
  assert.equal(w.readUInt32BE(4), 2 ** 31 + (42 * 3600 + 21 * 60 + 54) * 1000);
  assert.equal(w.readUInt32BE(8), 2 ** 31 - (71 * 3600 + 6 * 60 + 18) * 1000);
  assert.equal(w.readUInt32BE(12), 10000000 - 2400);
});

test('ZONEMD of RFC 8976 Appendix A.1', () => {
  const digest = 'c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c';
  const w = wire('ZONEMD', `2018031900 1 1 ${digest.substring(0, 48)} ${digest.substring(48)}`);
  assert.deepEqual(w, Buffer.concat([hex('78 48 b9 1c 01 01'), hex(digest)]));
});

test('RFC 3597 generic RDATA gives the same wire as the type syntax', () => {
  assert.deepEqual(wire('A', '\\# 4 c0000201'), wire('A', '192.0.2.1'));
  assert.deepEqual(wire('TYPE65534', '\\# 4 0a 0b0c 0d'), hex('0a0b0c0d'));
  assert.deepEqual(wire('TYPE65534', '\\# 0'), Buffer.alloc(0));
});
