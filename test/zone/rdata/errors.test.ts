// Bad RDATA is an RdataError naming the field at fault, never a guess.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RdataError } from '../../../src/zone/rdata/descriptor.js';
import { descriptorFor } from '../../../src/zone/rdata/table.js';
import { fieldsOf, contextFor, wire } from './helpers.js';

function rejects(type: string, rdata: string, message: RegExp): void {
  assert.throws(
    () => wire(type, rdata),
    (e: unknown) => e instanceof RdataError && message.test(e.message),
    `${type} ${rdata}`,
  );
}

test('numbers out of range or not numbers', () => {
  rejects('MX', '65536 mail', /out of range/);
  rejects('SRV', '1 2 -3 sip', /not a number/);
  rejects('SOA', 'a b 4294967296 1 1 1 1', /serial.*out of range|bad SOA serial/);
  rejects('SOA', 'a b 1 1x 1 1 1', /refresh/);
  rejects('CAA', '256 issue "x"', /out of range/);
  rejects('NSEC3PARAM', '1 0 65536 -', /out of range/);
  rejects('RRSIG', 'A 13 2 1h 20240101000000 20231201000000 1 example.com. AA==', /original TTL/);
  rejects('RRSIG', 'A 13 2 3600 20241301000000 20231201000000 1 example.com. AA==', /expiration/);
  rejects('LOC', '91 N 0 E 0', /degrees out of range/);
  rejects('LOC', '52 60 N 0 E 0', /minutes out of range/);
  rejects('LOC', '52 N 0 E 0 90000001m', /size.*out of range/);
  rejects('LOC', '52 N 0 E -100000.01m', /altitude/);
});

test('bad addresses', () => {
  rejects('A', '192.0.2', /bad IPv4/);
  rejects('A', '192.0.2.256', /bad IPv4/);
  rejects('A', '192.0.02.1', /bad IPv4/);
  rejects('AAAA', '2001:db8::1::2', /bad IPv6/);
  rejects('AAAA', '2001:db8:1:2:3:4:5:6:7', /bad IPv6/);
  rejects('AAAA', '12345::', /bad IPv6/);
  rejects('AAAA', ':1::', /bad IPv6/);
  rejects('SVCB', '1 . ipv4hint=1.2.3', /bad IPv4/);
  rejects('EUI48', '00-00-5e-00-53', /bad EUI48/);
  rejects('EUI64', '00:00:5e:ef:10:00:00:2a', /bad EUI64/);
});

test('bad base64, hex and base32hex', () => {
  rejects('DNSKEY', '257 3 13 abc!', /bad base64/);
  rejects('DNSKEY', '257 3 13 abcde', /4-character groups/);
  rejects('DNSKEY', '257 3 13 ab=c', /bad base64/);
  rejects('OPENPGPKEY', 'a===', /padding/);
  rejects('DS', '1 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118B2BB183AF5F22588179A53BZ', /bad hex/);
  rejects('DS', '1 13 2 2BB', /odd number of hex digits/);
  rejects('DS', '1 13 2 2BB1', /needs 32 octets/);
  rejects('SSHFP', '1 1 xyz', /bad hex/);
  rejects('NSEC3', '1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3w A', /bad base32hex/);
  rejects('NSEC3', '1 0 0 - 2vptu5timamqttgl4luu9kg21e0aor3', /base32hex length/);
  rejects('TYPE65534', '\\# 4 0a0b0c', /does not match/);
  rejects('TYPE65534', '\\# 2 0g0b', /bad hex/);
  rejects('A', '\\# 3 0a0b0c', /not valid A data/);
});

test('unknown mnemonics', () => {
  rejects('NSEC', 'a.example.com. A BOGUS', /unknown type "BOGUS"/);
  rejects('RRSIG', 'BOGUS 13 2 3600 20240101000000 20231201000000 1 example.com. AA==', /unknown type/);
  rejects('CERT', 'XPKI 0 0 aGVsbG8=', /unknown certificate type/);
  rejects('DNSKEY', '257 3 RSAFOO AA==', /unknown algorithm/);
  rejects('DS', '1 13 SHA-999 00', /unknown digest type/);
  rejects('SVCB', '1 . bogus=1', /unknown SvcParamKey/);
  rejects('SVCB', '1 . ALPN=h2', /unknown SvcParamKey/);
  rejects('LOC', '52 X 0 E 0', /LOC latitude/);
});

test('wrong field counts', () => {
  rejects('A', '192.0.2.1 192.0.2.2', /needs 1 field/);
  rejects('MX', '10', /needs 2 fields/);
  rejects('SOA', 'a b 1 2 3 4', /needs 7 fields/);
  rejects('HINFO', '"PC"', /needs 2 fields/);
  rejects('CAA', '0 issue', /needs 3 fields/);
  rejects('NSEC', 'a.example.com.', /at least 2/);
  rejects('DS', '1 13 2', /at least 4/);
  rejects('TLSA', '3 1 1', /at least 4/);
  rejects('LOC', '52 N 4 E', /needs an altitude/);
  rejects('SVCB', '1', /at least 2/);
});

test('character-strings and escapes', () => {
  rejects('TXT', 'a'.repeat(256), /longer than 255/);
  rejects('TXT', 'a\\25', /bad \\DDD/);
  rejects('TXT', 'a\\256', /out of range/);
  rejects('TXT', 'a\\', /dangling/);
  rejects('CAA', '0 is-sue "x"', /letters and digits/);
  // A 255-octet string with escapes is fine.
  assert.equal(wire('TXT', '\\065'.repeat(255)).length, 256);
});

test('SVCB parameter rules of RFC 9460 §7 and §8', () => {
  rejects('SVCB', '1 . alpn=h2 alpn=h3', /appears twice/);
  rejects('SVCB', '1 . mandatory=port', /mandatory key port is missing/);
  rejects('SVCB', '1 . mandatory=mandatory', /may not list "mandatory"/);
  rejects('SVCB', '1 . mandatory=alpn,alpn alpn=h2', /twice/);
  rejects('SVCB', '1 . no-default-alpn', /needs alpn/);
  rejects('SVCB', '1 . no-default-alpn=x alpn=h2', /takes no value/);
  rejects('SVCB', '1 . alpn=a,,b', /empty item/);
  rejects('SVCB', '1 . port', /needs a value/);
  rejects('SVCB', '1 . dohpath=/x', /dohpath/);
  rejects('SVCB', '1 . key1=h2', /alpn value is malformed/);
  rejects('SVCB', '1 . key65536=x', /out of range/);
});

test('the error names the field at fault', () => {
  const fields = fieldsOf('10 20 bad sip');
  fields.forEach((f, i) => (f.line = i + 1));
  const srv = descriptorFor(33)!;
  try {
    srv.fromText(fields, contextFor());
    assert.fail('accepted a bad SRV');
  } catch (e) {
    assert.ok(e instanceof RdataError);
    assert.equal(e.field?.line, 3);
  }
});

test('base64 whose padding leaves non-zero bits is rejected (RFC 4648 §3.5)', async () => {
  const { loadZoneText } = await import('../../../src/zone/read-zone.js');
  const soa = '$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n';
  const bad = loadZoneText(`${soa}k CERT 1 12345 8 AwEAAa==\n`, 'example.com.', 'z');
  assert.deepEqual(bad.errors.map((e) => `${e.line}: ${e.message}`), ['5: bad base64 in certificate: non-zero padding bits']);
  assert.ok(loadZoneText(`${soa}k CERT 1 12345 8 AwEAAQ==\n`, 'example.com.', 'z').zone);
});
