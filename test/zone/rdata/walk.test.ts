// Embedded names found by the descriptor's wire blocks, and RFC 4034 §6.2 canonical RDATA.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalRdata } from '../../../src/zone/rdata/canonical.js';
import { walkRdata, type NameKind } from '../../../src/zone/rdata/walk.js';
import { COMPRESSIBLE_LAYOUTS } from '../../../src/zone/rdata/compressible.js';
import { descriptorFor, typeFromText } from '../../../src/zone/rdata/table.js';
import { nameToText } from '../../../src/zone/name.js';
import { text, wire } from './helpers.js';
import { SAMPLES } from './samples.js';

function names(type: string, rdata: Buffer): [string, NameKind][] {
  const out: [string, NameKind][] = [];
  const ok = walkRdata(descriptorFor(typeFromText(type)!)!.wire, rdata, (offset, length, kind) => {
    assert.equal(rdata[offset + length - 1], 0, 'a name ends in the root label');
    out.push([nameToText(rdata, offset), kind]);
  });
  assert.ok(ok, `${type} RDATA fits its layout`);
  return out;
}

test('names the encoder may compress are exactly those of RFC 3597 §4', () => {
  assert.deepEqual(names('SOA', wire('SOA', 'ns1 hostmaster 1 2 3 4 5')), [
    ['ns1.example.com.', 'compressible-name'],
    ['hostmaster.example.com.', 'compressible-name'],
  ]);
  assert.deepEqual(names('MX', wire('MX', '10 mail')), [['mail.example.com.', 'compressible-name']]);
  assert.deepEqual(names('NS', wire('NS', 'ns1')), [['ns1.example.com.', 'compressible-name']]);
  assert.deepEqual(names('SRV', wire('SRV', '0 5 5060 sip')), [['sip.example.com.', 'decompressible-name']]);
  assert.deepEqual(names('NAPTR', wire('NAPTR', '100 10 "S" "SIP+D2U" "" _sip._udp')), [['_sip._udp.example.com.', 'decompressible-name']]);
  assert.deepEqual(names('RRSIG', wire('RRSIG', 'A 13 2 3600 20240101000000 20231201000000 1 example.com. AA==')), [['example.com.', 'decompressible-name']]);
  assert.deepEqual(names('NSEC', wire('NSEC', 'next.example.com. A')), [['next.example.com.', 'fixed-name']]);
  assert.deepEqual(names('HTTPS', wire('HTTPS', '1 svc alpn=h2')), [['svc.example.com.', 'fixed-name']]);
  assert.deepEqual(names('A', wire('A', '192.0.2.1')), []);
});

test('the compressible layouts the encoder uses are the type table\'s, for every type below 16 with a compressible name', () => {
  for (let code = 0; code < 16; code++) {
    const wire = descriptorFor(code)?.wire;
    const expected = wire !== undefined && wire.includes('compressible-name') ? wire : undefined;
    assert.deepEqual(COMPRESSIBLE_LAYOUTS.get(code), expected, `type ${code}`);
  }
  for (const code of COMPRESSIBLE_LAYOUTS.keys()) assert.ok(code < 16, `type ${code} is an RFC 1035 type`);
});

test('every sample fits its own wire layout', () => {
  for (const [type, rdata] of SAMPLES) {
    const d = descriptorFor(typeFromText(type)!);
    if (!d) continue;
    assert.ok(walkRdata(d.wire, wire(type, rdata), () => {}), `${type} ${rdata}`);
  }
});

test('a short RDATA does not fit its layout', () => {
  const mx = wire('MX', '10 mail');
  assert.equal(walkRdata([2, 'compressible-name'], mx.subarray(0, mx.length - 1), () => {}), false);
  assert.equal(walkRdata([4], Buffer.alloc(3), () => {}), false);
  assert.equal(walkRdata([4], Buffer.alloc(5), () => {}), false);
});

test('canonical RDATA lower-cases the names RFC 4034 §6.2 lists, as narrowed by RFC 6840 §5.1', () => {
  const mx = wire('MX', '10 MAIL.Example.COM.');
  const c = canonicalRdata(15, mx);
  assert.equal(text('MX', c), '10 mail.example.com.');
  assert.equal(text('MX', mx), '10 MAIL.Example.COM.', 'the input is left alone');
  assert.equal(text('RRSIG', canonicalRdata(46, wire('RRSIG', 'A 13 2 3600 20340101000000 20231201000000 1 EXAMPLE.com. AA=='))).split(' ')[7], 'example.com.');
  assert.equal(text('SRV', canonicalRdata(33, wire('SRV', '0 5 5060 SIP.example.com.'))), '0 5 5060 sip.example.com.');
  // RFC 6840 §5.1: the NSEC next name keeps its case; SVCB's target is not in the list either.
  const nsec = wire('NSEC', 'Next.Example.COM. A');
  assert.equal(canonicalRdata(47, nsec), nsec);
  const svcb = wire('SVCB', '1 Svc.Example.COM.');
  assert.equal(canonicalRdata(64, svcb), svcb);
  // Text is not a name: TXT keeps its case, and the very same Buffer comes back.
  const txt = wire('TXT', 'ABC');
  assert.equal(canonicalRdata(16, txt), txt);
  const already = wire('NS', 'ns1.example.com.');
  assert.equal(canonicalRdata(2, already), already);
});

test('a range of a larger buffer is walked in place: offsets into the buffer, names held to the range', () => {
  const mx = wire('MX', '10 mail');
  const big = Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), mx, Buffer.from([0xff])]);
  const seen: number[] = [];
  assert.ok(walkRdata([2, 'compressible-name'], big, (offset, length) => seen.push(offset, length), 3, 3 + mx.length));
  assert.deepEqual(seen, [5, mx.length - 2]);
  // The name runs past the range's end: not this layout, even though the buffer goes on.
  assert.equal(walkRdata([2, 'compressible-name'], big, () => {}, 3, 3 + mx.length - 1), false);
});
