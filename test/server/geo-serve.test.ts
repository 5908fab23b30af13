// Geo rules as a server runs them: the rules file and the country database swapped when they change
// (an atomic rename, a file rewritten in place), a broken one leaving the last good serving; what
// `ctl geo` and /geo show; the metric by rule; the rule that answered in dnstap's `extra` field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundledCountryDb } from '../../src/sync/geo-source.js';
import { dnsQuery, type RunningPeer } from '../helpers/peers.js';
import { geoFixture, startGeoServer, type GeoFixture } from '../helpers/geo-fixture.js';
import { logRecords, managementUrl, seriesValues } from '../helpers/management.js';
import { CLI_JS } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

const rulesText = (a: string): string => `names:
  www.example.com.:
    rules:
      - id: ten
        networks: [198.51.100.0/24]
        A: ${a}
      - id: us
        countries: [US]
        A: 198.51.100.1
`;

let fixture: GeoFixture;
let dir: string;
let rulesFile: string;
let dbFile: string;
let tapFile: string;
let server: RunningPeer;

before(async () => {
  fixture = geoFixture('geo-serve', rulesText('192.0.2.1'));
  ({ dir, rulesFile } = fixture);
  dbFile = join(dir, 'country.mmdb');
  copyFileSync(bundledCountryDb(), dbFile);
  tapFile = join(dir, 'tap.fstrm');
  server = await startGeoServer(fixture, { ecs: true, geo: { database: dbFile }, management: { listen: '127.0.0.1:0' }, dnstap: { output: `file:${tapFile}` } });
});

after(async () => {
  await server?.stop();
  fixture?.remove();
});

/** The A addresses answered to a client in `subnet` (IPv4 /24). */
async function answerFor(subnet: number[]): Promise<string[]> {
  const r = await dnsQuery(server, { name: 'www.example.com', type: 'A', options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, ...subnet]) }] });
  return r.message.answer.map((rr) => [...rr.rdata].join('.'));
}

const logged = (msg: string): number => logRecords(server).filter((r) => r.msg === msg).length;

test('a rules file replaced by an atomic rename is swapped in', async () => {
  assert.deepEqual(await answerFor([198, 51, 100]), ['192.0.2.1']);
  const next = join(dir, '.geo.yaml.tmp');
  writeFileSync(next, rulesText('192.0.2.2'));
  renameSync(next, rulesFile);
  await waitFor(async () => (await answerFor([198, 51, 100]))[0] === '192.0.2.2', { timeoutMs: 10_000, what: 'the new rules to answer' });
});

test('a broken rules file is reported with file:line and the last good rules keep serving', async () => {
  const before = logged('geo rules not loaded: the last good rules keep serving');
  writeFileSync(rulesFile, 'names:\n  www.example.com.:\n    rules:\n      - networks: [198.51.100.0/24]\n        A: 192.0.2.300\n');
  await waitFor(() => logged('geo rules not loaded: the last good rules keep serving') > before, { timeoutMs: 10_000, what: 'the broken rules to be reported' });
  const record = logRecords(server)
    .filter((r) => r.msg === 'geo rules not loaded: the last good rules keep serving')
    .at(-1)!;
  assert.equal(record.error, `${rulesFile}:5: www.example.com.: bad IPv4 address "192.0.2.300"`);
  assert.deepEqual(await answerFor([198, 51, 100]), ['192.0.2.2']);
  const g = (await (await fetch(`${managementUrl(server)}/geo`)).json()) as { geo: { rulesErrors: string[] } };
  assert.deepEqual(g.geo.rulesErrors, [record.error]);
  writeFileSync(rulesFile, rulesText('192.0.2.3'));
  await waitFor(async () => (await answerFor([198, 51, 100]))[0] === '192.0.2.3', { timeoutMs: 10_000, what: 'the mended rules to answer' });
});

test('a broken country database is reported and the last good one keeps serving; a good one is read again', async () => {
  assert.deepEqual(await answerFor([8, 8, 8]), ['198.51.100.1']);
  const before = logged('geo country database not loaded: the last good one keeps serving');
  writeFileSync(dbFile, 'not a MaxMind database');
  await waitFor(() => logged('geo country database not loaded: the last good one keeps serving') > before, { timeoutMs: 10_000, what: 'the broken database to be reported' });
  assert.deepEqual(await answerFor([8, 8, 8]), ['198.51.100.1']);
  const loads = logged('geo country database loaded');
  copyFileSync(bundledCountryDb(), dbFile);
  await waitFor(() => logged('geo country database loaded') > loads, { timeoutMs: 10_000, what: 'the database to be read again' });
});

test('ctl geo and /geo show the rules, their file and the database build date; the metric counts by rule', async () => {
  const url = managementUrl(server);
  const { stdout } = await run(process.execPath, [CLI_JS, 'ctl', '--server', url.slice('http://'.length), 'geo']);
  assert.match(stdout, new RegExp(`^rules +${rulesFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +loaded 20`, 'm'));
  assert.match(stdout, /^database +\S+country\.mmdb +country ipvAll +built 20\d\d-\d\d-\d\dT/m);
  assert.match(stdout, /^www\.example\.com\. +ten us$/m);
  const g = (await (await fetch(`${url}/geo`)).json()) as { geo: { names: unknown[]; database: { buildDate: string } } };
  assert.deepEqual(g.geo.names, [{ name: 'www.example.com.', rules: ['ten', 'us'], default: false }]);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.ok(seriesValues(metrics, 'anycast_dns_geo_answers_total', 'name="www.example.com.",rule="ten"')[0]! >= 4);
  assert.ok(seriesValues(metrics, 'anycast_dns_geo_answers_total', 'name="www.example.com.",rule="us"')[0]! >= 2);
  assert.equal(seriesValues(metrics, 'anycast_dns_geo_loads_total', 'file="rules",result="error"')[0], 1);
});

test('dnstap: the response of a geo answer names the rule in the extra field', async () => {
  await answerFor([198, 51, 100]);
  await server.stop();
  const tap = readFileSync(tapFile);
  assert.ok(tap.includes(Buffer.from('geo www.example.com. ten')), 'the rule in a dnstap message');
  assert.ok(tap.includes(Buffer.from('geo www.example.com. us')), 'the country rule in a dnstap message');
});
