// Geo rules with query threads (workers: 2): the main thread alone reads the files and hands them on,
// so every thread answers by the same rules; SIGHUP swaps in a new rules file (geo.watch off) and a
// broken one leaves every thread on the last good; a replaced thread answers by the rules in force;
// /metrics counts the threads' geo answers once, in the main thread's registry, and each load of the
// files once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsQuery, type RunningPeer } from '../helpers/peers.js';
import { geoFixture, startGeoServer, type GeoFixture } from '../helpers/geo-fixture.js';
import { logRecords, managementUrl, seriesValues } from '../helpers/management.js';
import { waitFor } from '../helpers/wait.js';

const rulesText = (a: string): string => `names:
  www.example.com.:
    rules:
      - id: ten
        networks: [198.51.100.0/24]
        A: ${a}
`;

/** Where the test-only fault hook looks (src/server/test-faults.ts). */
const faults = (): string => join(fixture.dir, 'faults');

let fixture: GeoFixture;
let server: RunningPeer;
/** Queries asked so far: each is answered by rule `ten`. */
let asked = 0;

before(async () => {
  fixture = geoFixture('geo-threads', rulesText('192.0.2.1'));
  mkdirSync(faults());
  process.env['ANYCAST_DNS_TEST_FAULTS'] = faults();
  try {
    server = await startGeoServer(fixture, { ecs: true, workers: 2, geo: { watch: false }, management: { listen: '127.0.0.1:0' } });
  } finally {
    delete process.env['ANYCAST_DNS_TEST_FAULTS'];
  }
});

after(async () => {
  await server?.stop();
  fixture?.remove();
});

const logged = (msg: string): number => logRecords(server).filter((r) => r.msg === msg).length;

/** The A addresses answered to a client in 198.51.100.0/24, each query from a new source port (so over both threads). */
async function answers(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    asked++;
    const r = await dnsQuery(server, { name: 'www.example.com', type: 'A', options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 198, 51, 100]) }] });
    out.push(r.message.answer.map((rr) => [...rr.rdata].join('.')).join(','));
  }
  return out;
}

async function metric(series: string, labels: string): Promise<number> {
  const text = await (await fetch(`${managementUrl(server)}/metrics`)).text();
  return seriesValues(text, series, labels)[0] ?? 0;
}

test('every query thread answers by the rules, and SIGHUP has each read them again', async () => {
  assert.deepEqual(new Set(await answers(40)), new Set(['192.0.2.1']));
  writeFileSync(fixture.rulesFile, rulesText('192.0.2.2'));
  // geo.watch is off: the change waits for SIGHUP.
  assert.deepEqual(new Set(await answers(10)), new Set(['192.0.2.1']));
  process.kill(server.pid, 'SIGHUP');
  await waitFor(async () => (await answers(40)).every((a) => a === '192.0.2.2'), { timeoutMs: 10_000, what: 'every thread to answer by the new rules' });
});

test('the geo answers of every thread are counted in one registry; each load of the rules once', async () => {
  await answers(30);
  // Each thread hands its counts to the main thread every second.
  await waitFor(async () => (await metric('anycast_dns_geo_answers_total', 'name="www.example.com.",rule="ten"')) === asked, { timeoutMs: 5000, what: `the ${asked} answers to be counted` });
  // Read at start and on the SIGHUP: twice, not once per thread.
  assert.equal(await metric('anycast_dns_geo_loads_total', 'file="rules",result="ok"'), 2);
});

test('a broken rules file on SIGHUP is reported once, and every thread keeps the last good rules', async () => {
  const before = logged('geo rules not loaded: the last good rules keep serving');
  writeFileSync(fixture.rulesFile, 'names: [\n');
  process.kill(server.pid, 'SIGHUP');
  await waitFor(() => logged('geo rules not loaded: the last good rules keep serving') > before, { timeoutMs: 10_000, what: 'the broken rules to be reported' });
  assert.deepEqual(new Set(await answers(40)), new Set(['192.0.2.2']));
  // One reader: the error is said once, not once per thread.
  assert.equal(logged('geo rules not loaded: the last good rules keep serving'), before + 1);
  assert.equal(await metric('anycast_dns_geo_loads_total', 'file="rules",result="error"'), 1);
});

test('a query thread that crashes is replaced by one answering by the rules in force', async () => {
  writeFileSync(fixture.rulesFile, rulesText('192.0.2.3'));
  process.kill(server.pid, 'SIGHUP');
  await waitFor(async () => (await answers(20)).every((a) => a === '192.0.2.3'), { timeoutMs: 10_000, what: 'every thread to answer by the third rules' });
  const listening = logged('listening');
  writeFileSync(join(faults(), 'crash'), '');
  await waitFor(() => !existsSync(join(faults(), 'crash')), { timeoutMs: 5000, what: 'a query thread to take the crash' });
  await waitFor(() => logged('listening') > listening, { timeoutMs: 10_000, what: 'the replacement to listen' });
  assert.deepEqual(new Set(await answers(40)), new Set(['192.0.2.3']));
});
