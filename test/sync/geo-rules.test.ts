// The geo rules file: what reads well, every problem as `file:line: message`, and the checks against
// the zones (a signed zone, a delegation, CNAME beside other data).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkAgainstZones, parseGeoRules } from '../../src/sync/geo-rules.js';
import { T } from '../../src/zone/types.js';
import { keyOf, zoneFromFile, zoneFromText, zoneSet } from '../answer/helpers.js';
import { signZone } from '../helpers/signed-zones.js';

const F = 'geo.yaml';

describe('a good rules file', () => {
  test('names, rules in order, networks, countries, records with their TTLs, the default', () => {
    const r = parseGeoRules(
      F,
      `ttl: 120
names:
  WWW.Example.COM.:
    ttl: 30
    rules:
      - id: eu
        networks: [192.0.2.0/24, 2001:db8::/32]
        A: [192.0.2.1, 192.0.2.2]
      - countries: [DE, FR]
        ttl: 10
        AAAA: 2001:db8::1
    default:
      A: 198.51.100.1
  alias.example.com.:
    rules:
      - networks: [198.51.100.0/24]
        CNAME: www
`,
    );
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const www = r.rules.names.get(keyOf('www.example.com.'))!;
    assert.equal(www.name, 'WWW.Example.COM.');
    assert.deepEqual(
      www.rules.map((x) => x.id),
      ['eu', '2'],
    );
    assert.deepEqual(
      www.rules[0]!.networks.map((n) => n.bits),
      [24, 32],
    );
    assert.deepEqual([...www.rules[1]!.countries], ['DE', 'FR']);
    assert.equal(www.rules[0]!.answers.get(T.A)!.set.ttl, 30);
    assert.equal(www.rules[0]!.answers.get(T.A)!.set.rdatas.length, 2);
    assert.equal(www.rules[1]!.answers.get(T.AAAA)!.set.ttl, 10);
    assert.equal(www.fallback?.id, 'default');
    assert.deepEqual([...www.types].sort(), [T.A, T.AAAA].sort());
    assert.ok(www.usesCountries);
    assert.equal(www.rules[0]!.tag, 'WWW.Example.COM. eu');
    // Relative names in RDATA are relative to the rule's name.
    const alias = r.rules.names.get(keyOf('alias.example.com.'))!;
    assert.equal(alias.rules[0]!.answers.get(T.CNAME)!.set.rdatas[0]!.toString('latin1'), '\x03www\x05alias\x07example\x03com\x00');
  });

  test('an empty file is no rules', () => {
    const r = parseGeoRules(F, '# nothing yet\n');
    assert.ok(r.ok);
    assert.equal(r.rules.names.size, 0);
  });
});

describe('every problem is file:line: message', () => {
  const cases: [string, string, string[]][] = [
    ['not YAML', 'names: [\n', [`${F}:2:`]],
    ['unknown top key', 'nams: {}\n', [`${F}:1: unknown key "nams" (expected ttl, names)`]],
    ['relative name', 'names:\n  www.example.com:\n    rules: []\n', [`${F}:2: "www.example.com" is not an absolute name (it must end with a dot)`]],
    ['listed twice', 'names:\n  a.example.:\n    default: {A: 192.0.2.1}\n  A.example.:\n    default: {A: 192.0.2.1}\n', [`${F}:4: A.example. is listed twice`]],
    ['bad network', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.0/33]\n        A: 192.0.2.1\n', [`${F}:4: a.example.: "198.51.100.0/33" is not a network (ADDRESS/LENGTH)`]],
    ['host bits', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.1/24]\n        A: 192.0.2.1\n', [`${F}:4: a.example.: 198.51.100.1/24 has bits set past its prefix length`]],
    ['bad country', 'names:\n  a.example.:\n    rules:\n      - countries: [de]\n        A: 192.0.2.1\n', [`${F}:4: a.example.: "de" is not an ISO 3166 alpha-2 country code (two capital letters)`]],
    ['bad RDATA', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.0/24]\n        A: 192.0.2.300\n', [`${F}:5: a.example.: bad IPv4 address "192.0.2.300"`]],
    ['unknown type', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.0/24]\n        AA: 192.0.2.1\n', [`${F}:5: a.example.: unknown key or type "AA" (expected id, networks, countries, ttl or a record type)`]],
    ['zone-only type', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.0/24]\n        NS: ns.example.\n', [`${F}:5: a.example.: NS records belong to the zone, not to geo rules`]],
    ['CNAME beside A', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.0/24]\n        CNAME: b.example.\n        A: 192.0.2.1\n', [`${F}:4: a.example.: a CNAME can't be beside other types (RFC 1034 §3.6.2)`]],
    ['no selector', 'names:\n  a.example.:\n    rules:\n      - A: 192.0.2.1\n', [`${F}:4: a.example.: rule 1 has neither networks nor countries`]],
    ['no records', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.0/24]\n', [`${F}:4: a.example.: rule 1 gives no records`]],
    ['a network twice', 'names:\n  a.example.:\n    rules:\n      - networks: [198.51.100.0/24]\n        A: 192.0.2.1\n      - networks: [198.51.100.0/24]\n        A: 192.0.2.2\n', [`${F}:6: a.example.: a network of this rule is also in the rule on line 4`]],
    ['an id twice', 'names:\n  a.example.:\n    rules:\n      - id: x\n        networks: [198.51.100.0/24]\n        A: 192.0.2.1\n      - id: x\n        networks: [203.0.113.0/24]\n        A: 192.0.2.2\n', [`${F}:7: a.example.: rule id "x" is used twice`]],
    ['bad id', 'names:\n  a.example.:\n    rules:\n      - id: "a b"\n        networks: [198.51.100.0/24]\n        A: 192.0.2.1\n', [`${F}:4: a.example.: rule id "a b" must be 1 to 32 letters, digits, - or _`]],
    ['default with networks', 'names:\n  a.example.:\n    default:\n      networks: [198.51.100.0/24]\n      A: 192.0.2.1\n', [`${F}:4: a.example.: the default has no networks`]],
    ['bad ttl', 'ttl: -1\nnames: {}\n', [`${F}:1: ttl must be a whole number of seconds from 0 to 2147483647`]],
  ];
  for (const [what, text, expected] of cases) {
    test(what, () => {
      const r = parseGeoRules(F, text);
      assert.ok(!r.ok, 'rejected');
      if (expected[0]!.endsWith(':')) assert.ok(r.errors[0]!.startsWith(expected[0]!), r.errors.join('\n'));
      else assert.deepEqual(r.errors, expected);
    });
  }
});

describe('against the zones', () => {
  const zone = zoneFromText(
    'example.com.',
    `$TTL 300
@ SOA ns1 h 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
alias CNAME www
sub NS ns.sub
ns.sub A 192.0.2.54
`,
  );
  const rules = (body: string) => {
    const r = parseGeoRules(F, body);
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    return r.rules;
  };

  test('a name the zone holds reads well', () => {
    assert.deepEqual(checkAgainstZones(rules('names:\n  www.example.com.:\n    default: {A: 192.0.2.1}\n'), zoneSet(zone)), { errors: [], warnings: [] });
  });

  test('names in no zone, or not in their zone, answer nothing: warnings', () => {
    const c = checkAgainstZones(rules('names:\n  www.example.org.:\n    default: {A: 192.0.2.1}\n  nope.example.com.:\n    default: {A: 192.0.2.1}\n'), zoneSet(zone));
    assert.deepEqual(c.errors, []);
    assert.deepEqual(c.warnings, [
      `${F}:2: www.example.org.: in no zone served: its rules answer nothing`,
      `${F}:4: nope.example.com.: zone example.com. holds no records at this name: its rules answer nothing`,
    ]);
  });

  test('a delegation, a CNAME beside rule data, a rule CNAME beside zone data: errors', () => {
    const c = checkAgainstZones(
      rules('names:\n  ns.sub.example.com.:\n    default: {A: 192.0.2.1}\n  alias.example.com.:\n    default: {A: 192.0.2.1}\n  www.example.com.:\n    default: {CNAME: ns1}\n'),
      zoneSet(zone),
    );
    assert.deepEqual(c.errors, [
      `${F}:2: ns.sub.example.com.: at or below a delegation in zone example.com.: the child zone answers for it`,
      `${F}:4: alias.example.com.: zone example.com. has a CNAME here: a rule can't give other types beside it (RFC 1034 §3.6.2)`,
      `${F}:6: www.example.com.: a rule gives a CNAME where zone example.com. has other records (RFC 1034 §3.6.2)`,
    ]);
  });

  test('a signed zone refuses rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geo-signed-'));
    try {
      const signed = signZone(dir, 'signed.test.', '$TTL 300\n@ SOA ns1 h 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.1\n', 'nsec');
      const c = checkAgainstZones(rules('names:\n  www.signed.test.:\n    default: {A: 192.0.2.1}\n'), zoneSet(zoneFromFile(signed.file, 'signed.test.')));
      assert.deepEqual(c.errors, [`${F}:2: www.signed.test.: zone signed.test. is signed: geo rules are refused for signed zones (their answers would carry no valid signature)`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
