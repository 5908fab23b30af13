// Geo rules with query threads (workers: 2): every thread answers by the rules, SIGHUP has each read
// the rules file again (geo.watch off), and /metrics counts the threads' geo answers once, in the
// main thread's registry, and each load of the files once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { dnsQuery, type RunningPeer } from '../helpers/peers.js';
import { geoFixture, startGeoServer, type GeoFixture } from '../helpers/geo-fixture.js';
import { managementUrl, seriesValues } from '../helpers/management.js';
import { waitFor } from '../helpers/wait.js';

const rulesText = (a: string): string => `names:
  www.example.com.:
    rules:
      - id: ten
        networks: [198.51.100.0/24]
        A: ${a}
`;

let fixture: GeoFixture;
let server: RunningPeer;
/** Queries asked so far: each is answered by rule `ten`. */
let asked = 0;

before(async () => {
  fixture = geoFixture('geo-threads', rulesText('192.0.2.1'));
  server = await startGeoServer(fixture, { ecs: true, workers: 2, geo: { watch: false }, management: { listen: '127.0.0.1:0' } });
});

after(async () => {
  await server?.stop();
  fixture?.remove();
});

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
