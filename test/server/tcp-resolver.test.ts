// A busy resolver over TCP, with the default tcp settings: 1,000 root-zone queries from 127.0.0.1,
// each on a connection of its own, four connections at a time and each next one opened as soon as
// one finishes (a resolver retrying over TCP after TC=1 does this). Every one is answered, and
// answered as Knot DNS and BIND 9 answer it on the same zone (or within an allowed difference).
// Then more at a time than tcp.max_connections_per_address (32 and 64): every one is answered
// still, since the per-source caps hold only while the connection table is under pressure.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { QueryOptions } from '../helpers/dns-query.js';
import { ROOT_ZONE_2018 } from '../helpers/paths.js';
import { startAnycastDns, startBind, startKnot, type RunningPeer } from '../helpers/peers.js';
import { askEachOnItsOwnConnection, countOutcomes, rootZoneMix, type Outcome } from '../helpers/tcp-per-query.js';
import { judge } from '../diff/judge-responses.js';
import { normaliseResponse, type NormalResponse } from '../diff/normalise-response.js';

const ZONES = [{ origin: '.', file: ROOT_ZONE_2018 }];
const QUERIES = 1000;
const CONCURRENCY = 4;
/** Past the default tcp.max_connections_per_address (20), below half the default tcp.max_connections (1000). */
const BUSY_CONCURRENCY = [32, 64];

function answersOf(server: string, outcomes: readonly Outcome[]): NormalResponse[] {
  const counts = countOutcomes(outcomes);
  const failures = outcomes.flatMap((o, i) => ('reply' in o ? [] : [`#${i}: ${o.failure} (${o.detail})`]));
  assert.equal(counts.answered, outcomes.length, `${server}: ${JSON.stringify(counts)}; first failures:\n${failures.slice(0, 5).join('\n')}`);
  return outcomes.map((o) => normaliseResponse((o as { reply: Parameters<typeof normaliseResponse>[0] }).reply));
}

describe('TCP, one query per connection as fast as the client can (default tcp settings)', () => {
  const queries: QueryOptions[] = rootZoneMix(ROOT_ZONE_2018, QUERIES);
  let ours: RunningPeer;
  let knot: RunningPeer;
  let bind: RunningPeer;
  before(async () => {
    [ours, knot, bind] = await Promise.all([startAnycastDns(ZONES), startKnot(ZONES), startBind(ZONES)]);
  });
  after(async () => {
    await Promise.all([ours, knot, bind].map((p) => p?.stop()));
  });

  it(`answers all ${QUERIES} root-zone queries from one address, ${CONCURRENCY} connections at a time, as Knot and BIND do`, { timeout: 120_000 }, async (t) => {
    const started = performance.now();
    const got = answersOf('anycast-dns', await askEachOnItsOwnConnection(ours, queries, CONCURRENCY));
    t.diagnostic(`anycast-dns: ${QUERIES} answered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // The references answer every one too (else the comparison below would mean nothing).
    const fromKnot = answersOf('knot', await askEachOnItsOwnConnection(knot, queries, CONCURRENCY));
    const fromBind = answersOf('bind', await askEachOnItsOwnConnection(bind, queries, CONCURRENCY));
    const mismatches: string[] = [];
    queries.forEach((q, i) => {
      const refs = { knot: fromKnot[i]!, bind: fromBind[i]!, knotFull: fromKnot[i]!, bindFull: fromBind[i]! };
      const v = judge({ ...q, tcp: true }, got[i]!, refs);
      if (!v.ok) mismatches.push(`${q.name} ${String(q.type)}${q.dnssecOk ? ' +dnssec' : ''}:\n    ${v.problems.join('\n    ')}`);
    });
    assert.equal(mismatches.length, 0, `${mismatches.length} answers differ from Knot's and BIND's:\n${mismatches.slice(0, 5).join('\n')}`);
  });

  for (const concurrency of BUSY_CONCURRENCY) {
    it(`answers all ${QUERIES} from one address, ${concurrency} connections at a time`, { timeout: 120_000 }, async () => {
      answersOf('anycast-dns', await askEachOnItsOwnConnection(ours, queries, concurrency));
    });
  }
});
