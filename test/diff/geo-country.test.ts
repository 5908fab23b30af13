// Geo rules by country against Knot DNS's geoip module in geodb mode, both reading the same .mmdb file
// (the bundled country database), fed the same rules: clients across countries, IPv4 and IPv6, networks
// the database has no record for, no ECS. rcode, AA and answers must be equal, and the scope (the
// database's own network for the address) where a rule giving the type matched. Where none did, Knot
// answers scope 0, which RFC 7871 §7.2.1 forbids (other networks are answered otherwise): ours must be
// at least Knot's (docs/reference.md, Geo rules: known differences).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openCountryDb } from '../../src/sync/geo-data.js';
import { bundledCountryDb } from '../../src/sync/geo-source.js';
import { parsePrefix } from '../../src/wire/address.js';
import type { GeoRuleSet } from '../../src/answer/geo.js';
import { typeCode } from '../helpers/dns-query.js';
import type { RunningPeer } from '../helpers/peers.js';
import { kdig, startGeoPair, type GeoPair } from './geo-kdig.js';

/** Beside GEO_ZONE_HEAD. */
const MORE = `www AAAA 2001:db8::1
`;

const RULES = `ttl: 60
names:
  www.example.com.:
    rules:
      - id: us
        countries: [US]
        A: 198.51.100.1
        AAAA: 2001:db8:1::1
      - id: eu
        countries: [DE, FR, NL]
        A: 198.51.100.2
      - id: asia
        countries: [JP, CN]
        A: 198.51.100.3
        AAAA: 2001:db8:3::1
`;

/** Networks of several registries and countries, and networks no database records (benchmarking, documentation). */
const SUBNETS = [
  '8.8.8.0/24',
  '1.1.1.0/24',
  '193.0.0.0/21',
  '194.25.0.0/16',
  '212.27.32.0/19',
  '133.0.0.0/8',
  '202.12.27.0/24',
  '200.160.0.0/20',
  '41.0.0.0/11',
  '198.18.0.0/15',
  '192.0.2.0/24',
  '2001:4860::/32',
  '2a00:1450:4000::/37',
  '2001:67c:2e8::/48',
  '2001:200::/32',
  '2001:db8::/32',
];

let pair: GeoPair;
let rules: GeoRuleSet;
let knot: RunningPeer;
let ours: RunningPeer;

before(async () => {
  const db = bundledCountryDb();
  pair = await startGeoPair('geo-country', RULES, MORE, 'geodb', ['mode: geodb', `geodb-file: "${db}"`, 'geodb-key: [ country_code ]'], { database: db });
  ({ rules, knot, ours } = pair);
});

after(() => pair?.stop());

test('the matrix reaches every rule and a network without a country', () => {
  const db = openCountryDb(bundledCountryDb());
  const hit = { country: null as string | null, prefix: 0 };
  const seen = new Set<string>();
  for (const s of SUBNETS) {
    const p = parsePrefix(s)!;
    db.lookup(p.bytes, p.length, hit);
    seen.add(hit.country ?? 'none');
  }
  for (const c of ['US', 'none']) assert.ok(seen.has(c), `no subnet of ${c} in the matrix (${[...seen].join(' ')})`);
  assert.ok(['DE', 'FR', 'NL'].some((c) => seen.has(c)) && ['JP', 'CN'].some((c) => seen.has(c)), `countries seen: ${[...seen].join(' ')}`);
});

test('geo rules by country answer as Knot geoip in geodb mode reading the same database', async () => {
  const problems: string[] = [];
  const cases = SUBNETS.flatMap((s) => [
    { type: 'A', subnet: s as string | null },
    { type: 'AAAA', subnet: s as string | null },
  ]);
  cases.push({ type: 'A', subnet: null });
  const db = openCountryDb(bundledCountryDb());
  const hit = { country: null as string | null, prefix: 0 };
  const www = [...rules.names.values()][0]!;
  /** Whether a rule giving the type answers this client: then the scopes must be equal. */
  const ruleAnswers = (subnet: string | null, type: string): boolean => {
    if (subnet === null) return false;
    const p = parsePrefix(subnet)!;
    db.lookup(p.bytes, p.length, hit);
    return www.rules.some((r) => hit.country !== null && r.countries.has(hit.country) && r.answers.has(typeCode(type)));
  };
  let narrower = 0;
  for (const c of cases) {
    const [k, o] = await Promise.all([kdig(knot, 'www.example.com', c.type, c.subnet), kdig(ours, 'www.example.com', c.type, c.subnet)]);
    const what = `www.example.com ${c.type} ${c.subnet ?? 'no ECS'}`;
    if (k.status !== o.status || k.aa !== o.aa) problems.push(`${what}: knot ${k.status} aa=${k.aa}, ours ${o.status} aa=${o.aa}`);
    if (k.answer.join('\n') !== o.answer.join('\n')) problems.push(`${what}: answers differ\n  knot: ${k.answer.join('\n        ')}\n  ours: ${o.answer.join('\n        ')}`);
    if (ruleAnswers(c.subnet, c.type) ? k.scope !== o.scope : (o.scope ?? 0) < (k.scope ?? 0)) problems.push(`${what}: scope knot /${k.scope}, ours /${o.scope}`);
    if ((o.scope ?? 0) > (k.scope ?? 0)) narrower++;
  }
  assert.ok(narrower > 0, 'no case where our scope is narrower than Knot’s');
  assert.deepEqual(problems, [], `${problems.length} of ${cases.length} cases differ:\n${problems.join('\n')}`);
});
