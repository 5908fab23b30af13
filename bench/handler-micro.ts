// In-process cost of QueryHandler.handle on the root zone: cache hits (also with the rate-limiting
// policy step UDP adds), misses (cache off), a random-name flood (cache on, every query a new name,
// from the serve benchmark's root-random file) and an echo that only copies the query and flips QR
// (the floor any handler pays). Handlers classify for rate limiting as the server's do. Then EDNS
// Client Subnet: the same queries each with an ECS option, to a handler with ECS off and to one with
// ECS on and geo rules on one name of the mix (the apex), hits and misses, alternating. Not a test;
// prints queries/s.
// Usage: node dist/bench/handler-micro.js [seconds-per-case]

import { performance } from 'node:perf_hooks';
import { loadZoneFile } from '../src/zone/read-zone.js';
import { ZoneSet } from '../src/zone/zone.js';
import { bucketOf } from '../src/rrl/classify.js';
import { createHandler } from '../src/wire/handler.js';
import { ResponseBuffers } from '../src/wire/response-buffers.js';
import type { QueryMeta } from '../src/wire/handler-types.js';
import { loadServerConfig } from '../src/ops/config.js';
import { createLogger } from '../src/log.js';
import { ServerMetrics } from '../src/ops/metrics.js';
import { ResponsePolicy } from '../src/rrl/policy.js';
import { MessageType, dnstapFrame, dnstapHeader, type TapEvent } from '../src/wire/dnstap.js';
import { ensureBenchData } from './gen-zone.js';
import { encodeQuery } from '../test/helpers/dns-query.js';
import { ROOT_ZONE_2018 } from '../test/helpers/paths.js';
import { readFileSync } from 'node:fs';
import { parseGeoRules } from '../src/sync/geo-rules.js';
import { queriesPerSecond } from './report.js';

const seconds = Number(process.argv[2] ?? 2);
const root = loadZoneFile(ROOT_ZONE_2018, '.').zone!;
const zones = new ZoneSet(new Map([[root.origin, root]]));
const meta: QueryMeta = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: 5300 };

const names: [string, string][] = [
  ['com', 'A'], ['www.example.com', 'A'], ['org', 'NS'], ['nic.aaa', 'AAAA'], ['.', 'SOA'], ['.', 'NS'],
  ['.', 'DNSKEY'], ['com', 'DS'], ['junk-one', 'A'], ['junk-two.xyzzy', 'AAAA'],
];
const queries = names.map(([name, type], i) => encodeQuery({ name, type, recursionDesired: true }, i));

function run(label: string, handle: (q: Buffer) => Buffer | null): void {
  queriesPerSecond(label, seconds, queries, handle);
}

run('echo (copy + QR)', (q) => {
  const out = Buffer.allocUnsafe(q.length);
  q.copy(out);
  out[2] = out[2]! | 0x80;
  return out;
});
// Responses written into reused buffers, as the server does (src/server/responder.ts).
const cached = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232, bucketOf, responseMemory: new ResponseBuffers() });
run('handler, cache hits', (q) => cached.handle(q, meta));
// What the metrics add to a hit, as the UDP transport counts it: the counters (onResponse), two clock
// reads and both histograms.
const metrics = new ServerMetrics('bench');
const counted = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232, bucketOf, onResponse: metrics.onResponse, responseMemory: new ResponseBuffers() });
run('cache hits + metrics', (q) => {
  const startedAt = performance.now();
  const r = counted.handle(q, meta)!;
  metrics.sent('udp', startedAt, performance.now(), r.length);
  return r;
});
run('handler, cache hits (again)', (q) => cached.handle(q, meta));
// What dnstap adds per query: both messages encoded as Frame Streams frames (the writing is batched
// per event-loop turn, not measured here).
const header = dnstapHeader('bench', 'anycast-dns bench');
const address = new Uint8Array([127, 0, 0, 1]);
const tap: TapEvent = { type: MessageType.AuthQuery, tcp: false, address, addressLength: 4, port: 5300, queryTimeMs: 0, responseTimeMs: 0, message: queries[0]!, extra: null };
run('cache hits + dnstap frames', (q) => {
  const r = cached.handle(q, meta)!;
  const now = Date.now();
  tap.type = MessageType.AuthQuery;
  tap.message = q;
  tap.queryTimeMs = tap.responseTimeMs = now;
  dnstapFrame(header, tap);
  tap.type = MessageType.AuthResponse;
  tap.message = r;
  dnstapFrame(header, tap);
  return r;
});
// What the UDP transport adds with rate limiting on: the policy step on every response (a limit far
// above the load, so every response is accounted and none limited).
const policy = new ResponsePolicy({ ...loadServerConfig(null).rrl, responsesPerSecond: 1_000_000 }, new ServerMetrics('bench'), createLogger({ pop: 'bench', component: 'bench', level: 'silent' }));
run('cache hits + rate limiting', (q) => {
  const r = cached.handle(q, meta)!;
  policy.decide(cached.info, r, 0, r.length, meta.remoteAddress);
  return r;
});
policy.close();
const uncached = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232, bucketOf, responseCacheBytes: 0, responseMemory: new ResponseBuffers() });
run('handler, no cache (misses)', (q) => uncached.handle(q, meta));

// Each query once, in the file's order, with the cache on as served: what a random-name flood costs.
const FLOOD_NAMES = 300_000;
const flood = readFileSync(ensureBenchData().root.queries.random!, 'latin1')
  .split('\n', FLOOD_NAMES)
  .map((line, i) => {
    const [name, type] = line.split(' ') as [string, string];
    return encodeQuery({ name, type }, i & 0xffff);
  });
for (let pass = 0; pass < 3; pass++) {
  const fresh = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232, bucketOf, responseMemory: new ResponseBuffers() });
  const t0 = process.hrtime.bigint();
  for (const q of flood) fresh.handle(q, meta);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${`random names, pass ${pass + 1}`.padEnd(28)} ${Math.round(flood.length / s).toLocaleString('en')} queries/s`);
}

// ECS off against ECS on with geo rules on the apex (signed: looked up on each miss, then refused),
// every query with a Client Subnet option (127.0.0.0/24), alternating twice.
const ecsQueries = names.map(([name, type], i) => encodeQuery({ name, type, recursionDesired: true, options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 127, 0, 0]) }] }, i));
const geoRules = parseGeoRules('bench-geo.yaml', "names:\n  .:\n    rules:\n      - networks: [127.0.0.0/8]\n        TXT: '\"bench\"'\n");
if (!geoRules.ok) throw new Error(geoRules.errors.join('\n'));
const ecsHandler = (ecs: boolean, responseCacheBytes?: number) => {
  const h = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232, bucketOf, ecs, responseMemory: new ResponseBuffers(), ...(responseCacheBytes === undefined ? {} : { responseCacheBytes }) });
  if (ecs) h.setGeo({ rules: geoRules.rules, db: null });
  return h;
};
const [offHits, onHits, offMisses, onMisses] = [ecsHandler(false), ecsHandler(true), ecsHandler(false, 0), ecsHandler(true, 0)];
for (let pass = 0; pass < 2; pass++) {
  queriesPerSecond('ECS off, hits', seconds, ecsQueries, (q) => offHits.handle(q, meta));
  queriesPerSecond('ECS on + rules, hits', seconds, ecsQueries, (q) => onHits.handle(q, meta));
  queriesPerSecond('ECS off, misses', seconds, ecsQueries, (q) => offMisses.handle(q, meta));
  queriesPerSecond('ECS on + rules, misses', seconds, ecsQueries, (q) => onMisses.handle(q, meta));
}
