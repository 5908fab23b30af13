// The DNSSEC index derived from a compiled zone: NSEC3 hashes (RFC 5155 Appendix A's values), the
// NSEC3 record matching or covering a hash, the NSEC covering a name in canonical order (RFC 4034
// §6.1's example list), signatures by covered type, and the index surviving parts()/fromParts().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactZone, type Zone } from '../../src/zone/zone.js';
import { keyToText } from '../../src/zone/name.js';
import { keyOf, zoneFromText } from '../answer/helpers.js';

const SIG = '13 2 3600 20300101000000 20200101000000 12345 example. AAAA';

/** RFC 5155 Appendix A: the zone `example` hashed with salt aabbccdd and 12 iterations. */
const HASHES: Record<string, string> = {
  'example.': '0p9mhaveqvm6t7vbl5lop2u3t2rp3tom',
  'a.example.': '35mthgpgcu1qg68fab165klnsnk3dpvl',
  'ai.example.': 'gjeqe526plbf1g8mklp59enfd789njgi',
  'ns1.example.': '2t7b4g4vsa5smi47k61mv5bv1a22bojr',
  'w.example.': 'k8udemvp1j2f7eg6jebps17vp3n8i58h',
  '*.w.example.': 'r53bq7cc2uvmubfu5ocmm6pers9tk9en',
  'x.w.example.': 'b4um86eghhds6nea196smvmlo4ors995',
  'xx.example.': 't644ebqk9bibcna874givr6joj62mlhv',
};

function nsec3Zone(): Zone {
  // The chain holds four of the hashes; the others fall between them.
  const chain = ['0p9mhaveqvm6t7vbl5lop2u3t2rp3tom', '2t7b4g4vsa5smi47k61mv5bv1a22bojr', 'k8udemvp1j2f7eg6jebps17vp3n8i58h', 'r53bq7cc2uvmubfu5ocmm6pers9tk9en'];
  const lines = chain.map((h, i) => `${h} NSEC3 1 1 12 aabbccdd ${chain[(i + 1) % chain.length]!.toUpperCase()} A RRSIG`);
  return zoneFromText(
    'example.',
    `$TTL 3600
@ SOA ns1 host 1 7200 3600 1209600 300
@ NS ns1
@ NSEC3PARAM 1 0 12 aabbccdd
@ RRSIG SOA ${SIG}
ns1 A 192.0.2.1
; another chain (different salt) is not the one served
zzzz NSEC3 1 1 12 00 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom A
${lines.join('\n')}
`,
  );
}

test('NSEC3 owner names hash as RFC 5155 Appendix A lists them', () => {
  const idx = nsec3Zone().dnssec!;
  assert.ok(idx.signed && idx.nsec3);
  for (const [name, hash] of Object.entries(HASHES)) assert.equal(keyToText(idx.nsec3Owner(keyOf(name))), `${hash}.example.`, name);
});

test('the NSEC3 matching a hash, and the one covering it, wrapping past the last', () => {
  const idx = nsec3Zone().dnssec!;
  const owner = (name: string): string => idx.nsec3Owner(keyOf(name));
  const text = (k: string | undefined): string | undefined => (k === undefined ? undefined : keyToText(k).split('.')[0]);
  // ns1 is a node of the zone (hashed once, then remembered); a.example is not.
  for (let i = 0; i < 2; i++) assert.equal(text(idx.nsec3Matching(keyOf('ns1.example.'))), '2t7b4g4vsa5smi47k61mv5bv1a22bojr');
  assert.equal(idx.nsec3Matching(keyOf('a.example.')), undefined);
  assert.equal(idx.nsec3Matching(keyOf('example.')), '\u00200p9mhaveqvm6t7vbl5lop2u3t2rp3tom\u0007example\u0000');
  // 35mt… lies between 2t7b… and k8ud…; gjeq… too; b4um… also; t644… is past the last (r53b…): the last covers it.
  assert.equal(text(idx.nsec3Covering(owner('a.example.'))), '2t7b4g4vsa5smi47k61mv5bv1a22bojr');
  assert.equal(text(idx.nsec3Covering(owner('ai.example.'))), '2t7b4g4vsa5smi47k61mv5bv1a22bojr');
  assert.equal(text(idx.nsec3Covering(owner('x.w.example.'))), '2t7b4g4vsa5smi47k61mv5bv1a22bojr');
  assert.equal(text(idx.nsec3Covering(owner('xx.example.'))), 'r53bq7cc2uvmubfu5ocmm6pers9tk9en');
});

test('the NSEC covering a name is the one before it in canonical order (RFC 4034 §6.1)', () => {
  // RFC 4034 §6.1's names, in order, each with an NSEC.
  const names = ['@', 'a', 'yljkjljk.a', 'Z.a', 'zABC.a', 'z', '\\001.z', '*.z', '\\200.z'];
  const body = names.map((n, i) => `${n} NSEC ${names[(i + 1) % names.length] === '@' ? 'example.' : names[(i + 1) % names.length] + '.example.'} A RRSIG`);
  const zone = zoneFromText('example.', `$TTL 3600\n@ SOA ns1 host 1 7200 3600 1209600 300\n@ NS ns.example.net.\n@ RRSIG SOA ${SIG}\n${body.join('\n')}\n`);
  const idx = zone.dnssec!;
  const cover = (name: string): string => keyToText(idx.nsecCovering(keyOf(name))!);
  assert.equal(cover('0.example.'), 'example.');
  assert.equal(cover('b.a.example.'), 'a.example.');
  assert.equal(cover('yljkjljl.a.example.'), 'yljkjljk.a.example.');
  assert.equal(cover('zab.a.example.'), 'z.a.example.');
  assert.equal(cover('zabd.a.example.'), 'zabc.a.example.');
  assert.equal(cover('b.example.'), 'zabc.a.example.');
  assert.equal(cover('\\002.z.example.'), '\\001.z.example.');
  assert.equal(cover('zz.example.'), '\\200.z.example.');
});

test('signatures are found by the type they cover, interleaved in the file or not, and survive parts()', () => {
  const zone = zoneFromText(
    'example.',
    `$TTL 3600
@ SOA ns1 host 1 7200 3600 1209600 300
@ NS ns1
www A 192.0.2.1
www TXT "t"
www RRSIG TXT 13 2 3600 20300101000000 20200101000000 1 example. AAAA
www RRSIG A 13 2 3600 20300101000000 20200101000000 2 example. AAAA
www RRSIG TXT 13 2 3600 20300101000000 20200101000000 3 example. AAAA
ns1 A 192.0.2.2
ns1 RRSIG A ${SIG}
`,
  );
  const tags = (z: Zone, name: string, type: number): number[] =>
    z.dnssec!.sigs(keyOf(name), type, 60)?.rdatas.map((r) => r.readUInt16BE(16)) ?? [];
  const copy = CompactZone.fromParts((zone as CompactZone).parts());
  for (const z of [zone, copy]) {
    assert.deepEqual(tags(z, 'www.example.', 16), [1, 3]);
    assert.deepEqual(tags(z, 'www.example.', 1), [2]);
    assert.deepEqual(tags(z, 'ns1.example.', 1), [12345]);
    assert.deepEqual(tags(z, 'ns1.example.', 16), []);
    assert.equal(z.dnssec!.nsec3, false);
  }
});

test('an unsigned zone has an empty index: DO queries get nothing extra', () => {
  const zone = zoneFromText('example.', `$TTL 3600\n@ SOA ns1 host 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n`);
  assert.equal(zone.dnssec!.signed, false);
  assert.equal(zone.dnssec!.sigs(keyOf('ns1.example.'), 1, 60), undefined);
});
