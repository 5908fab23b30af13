// wire → text → wire is the identity for every sample, in the type's own syntax and in RFC 3597 form.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { genericToText, typeFromText, typeToText, classFromText, classToText, descriptorFor } from '../../../src/zone/rdata/table.js';
import { SAMPLES } from './samples.js';
import { text, wire } from './helpers.js';

test('every sample survives wire → text → wire', () => {
  for (const [type, rdata] of SAMPLES) {
    const w = wire(type, rdata);
    const printed = text(type, w);
    assert.deepEqual(wire(type, printed), w, `${type} ${rdata} printed as ${printed}`);
  }
});

test('every sample survives wire → RFC 3597 generic text → wire', () => {
  for (const [type, rdata] of SAMPLES) {
    const w = wire(type, rdata);
    assert.deepEqual(wire(type, genericToText(w)), w, `${type} ${rdata}`);
  }
});

test('every listed type has a descriptor whose code and mnemonic agree with the mnemonic table', () => {
  const listed =
    'A AAAA NS CNAME SOA MX TXT PTR SRV DNAME SPF NAPTR CAA SSHFP TLSA SMIMEA HINFO RP LOC DS CDS DNSKEY CDNSKEY RRSIG NSEC NSEC3 NSEC3PARAM ZONEMD SVCB HTTPS URI CERT OPENPGPKEY AFSDB KX EUI48 EUI64 DHCID CSYNC IPSECKEY';
  for (const m of listed.split(' ')) {
    const code = typeFromText(m);
    assert.ok(code !== undefined, m);
    const d = descriptorFor(code);
    assert.ok(d, `descriptor for ${m}`);
    assert.equal(d.mnemonic, m);
    assert.equal(typeToText(code), m);
  }
});

test('type and class mnemonics: any case, RFC 3597 TYPEnnn/CLASSnnn, unknown codes printed numerically', () => {
  assert.equal(typeFromText('aaaa'), 28);
  assert.equal(typeFromText('Type65534'), 65534);
  assert.equal(typeFromText('TYPE1'), 1);
  assert.equal(typeFromText('TYPE65536'), undefined);
  assert.equal(typeFromText('TYPE'), undefined);
  assert.equal(typeFromText('BOGUS'), undefined);
  assert.equal(typeToText(65534), 'TYPE65534');
  assert.equal(typeToText(46), 'RRSIG');
  assert.equal(classFromText('in'), 1);
  assert.equal(classFromText('CHAOS'), 3);
  assert.equal(classFromText('ch'), 3);
  assert.equal(classFromText('HS'), 4);
  assert.equal(classFromText('NONE'), 254);
  assert.equal(classFromText('ANY'), 255);
  assert.equal(classFromText('CLASS42'), 42);
  assert.equal(classFromText('CLASS70000'), undefined);
  assert.equal(classFromText('XX'), undefined);
  assert.equal(classToText(3), 'CH');
  assert.equal(classToText(42), 'CLASS42');
});
