// Choosing a geo rule and its scope (RFC 7871 §7.2.1): longest prefix, the scope narrowed so it covers
// no network answered otherwise, countries after networks with the database's own prefix, the default.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRule, type CountryDb, type CountryHit, type GeoChoice, type NameRules } from '../../src/answer/geo.js';
import { parseGeoRules } from '../../src/sync/geo-rules.js';
import { parsePrefix } from '../../src/wire/address.js';
import { T } from '../../src/zone/types.js';

const RULES = `names:
  www.example.:
    rules:
      - id: outer
        networks: [198.18.0.0/15]
        A: 198.18.0.1
      - id: mid
        networks: [198.19.0.0/18, 2001:db8::/32]
        A: 198.19.0.1
        AAAA: 2001:db8::1
      - id: inner
        networks: [198.19.2.0/24]
        A: 198.19.2.1
      - id: de
        countries: [DE]
        A: 192.0.2.49
    default:
      A: 203.0.113.1
`;

const parsed = parseGeoRules('geo.yaml', RULES);
assert.ok(parsed.ok);
const www: NameRules = [...parsed.rules.names.values()][0]!;

/** A database that puts 192.0.0.0/16 and 198.19.0.0/16 in DE and knows nothing else, each in a /16 (IPv4) or /32 (IPv6). */
const db: CountryDb = {
  path: 'fake',
  buildDate: new Date(0),
  lookup(bytes: Uint8Array, length: number, out: CountryHit): void {
    out.country = length === 4 && ((bytes[0] === 192 && bytes[1] === 0) || (bytes[0] === 198 && bytes[1] === 19)) ? 'DE' : null;
    out.prefix = length === 4 ? 16 : 32;
  },
};

function choose(client: string, qtype: number, withDb = true): string {
  const p = parsePrefix(client)!;
  const out: GeoChoice = { rule: null, scope: -1 };
  if (!chooseRule(www, qtype, p.bytes, p.length, withDb ? db : null, { country: null, prefix: 0 }, out)) return 'independent';
  return `${out.rule?.id ?? 'zone'}/${out.scope}`;
}

describe('by network', () => {
  const cases: [string, number, string][] = [
    // A network no rule nests in: its own prefix.
    ['198.19.2.9', T.A, 'inner/24'],
    ['198.19.2.0/24', T.A, 'inner/24'],
    // A network with a rule inside: narrowed to just past where the client parts from it.
    ['198.19.3.0/24', T.A, 'mid/24'],
    ['198.19.4.0/24', T.A, 'mid/22'],
    ['198.19.32.0/24', T.A, 'mid/19'],
    ['198.19.64.0/24', T.A, 'outer/18'],
    ['198.18.0.0/16', T.A, 'outer/16'],
    // The default: narrowed so it covers no rule's network; the country database's prefix too.
    ['198.20.0.0/24', T.A, 'default/16'],
    ['203.0.113.0/24', T.A, 'default/16'],
    // IPv6 and IPv4 rules apart.
    ['2001:db8:1::/48', T.AAAA, 'mid/32'],
    ['2001:db9::/48', T.AAAA, 'default/32'],
    // A type one rule gives: the zone answers a client whose rule lacks it, scope as for the rule.
    ['198.19.2.0/24', T.AAAA, 'inner/24'],
    ['198.20.0.0/24', T.AAAA, 'default/16'],
    // Types no rule gives: the answer does not depend on the client.
    ['198.19.2.0/24', T.TXT, 'independent'],
  ];
  for (const [client, qtype, expected] of cases) test(`${client} type ${qtype}: ${expected}`, () => assert.equal(choose(client, qtype), expected));

  test('without a database the default is narrowed by the networks alone', () => {
    assert.equal(choose('203.0.113.0/24', T.A, false), 'default/5');
    assert.equal(choose('192.0.2.0/24', T.A, false), 'default/6');
  });
});

describe('by country', () => {
  test('a client no network rule matches is chosen by country, scope the database network', () => {
    assert.equal(choose('192.0.2.0/24', T.A), 'de/16');
  });
  test('a network rule wins over a country', () => {
    // The fake database puts 198.19.0.0/16 in DE.
    assert.equal(choose('198.19.2.0/24', T.A), 'inner/24');
  });
});
