// In-process cost of QueryHandler.handle on the root zone: cache hits (also with the rate-limiting
// policy step UDP adds), misses (cache off), and an echo that only copies the query and flips QR
// (the floor any handler pays). Not a test; prints queries/s.
// Usage: node dist/bench/handler-micro.js [seconds-per-case]

import dnsPacket from 'dns-packet';
import { fileURLToPath } from 'node:url';
import { loadZoneFile } from '../src/zone/loader.js';
import { ZoneSet } from '../src/zone/zone.js';
import { createHandler } from '../src/wire/handler.js';
import type { QueryMeta } from '../src/wire/handler-types.js';
import { loadServerConfig } from '../src/ops/config.js';
import { createLogger } from '../src/ops/log.js';
import { ServerMetrics } from '../src/ops/metrics.js';
import { ResponsePolicy } from '../src/server/rrl-policy.js';

const seconds = Number(process.argv[2] ?? 2);
const rootFile = fileURLToPath(new URL('../../../shared/data/root-2018-03-12.zone', import.meta.url));
const root = loadZoneFile(rootFile, '.').zone!;
const zones = new ZoneSet(new Map([[root.origin, root]]));
const meta: QueryMeta = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: 5300 };

const names: [string, string][] = [
  ['com', 'A'], ['www.example.com', 'A'], ['org', 'NS'], ['nic.aaa', 'AAAA'], ['.', 'SOA'], ['.', 'NS'],
  ['.', 'DNSKEY'], ['com', 'DS'], ['junk-one', 'A'], ['junk-two.xyzzy', 'AAAA'],
];
const queries = names.map(([name, type], i) =>
  dnsPacket.encode({
    type: 'query',
    id: i,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as dnsPacket.RecordType }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer],
  }),
);

function run(label: string, handle: (q: Buffer) => Buffer | null): void {
  for (let i = 0; i < 20000; i++) handle(queries[i % queries.length]!);
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) handle(queries[i % queries.length]!);
    n += 1000;
  }
  console.log(`${label.padEnd(28)} ${Math.round(n / seconds).toLocaleString('en')} queries/s`);
}

run('echo (copy + QR)', (q) => {
  const out = Buffer.allocUnsafe(q.length);
  q.copy(out);
  out[2] = out[2]! | 0x80;
  return out;
});
const cached = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232 });
run('handler, cache hits', (q) => cached.handle(q, meta));
// What the UDP transport adds with rate limiting on: the policy step on every response (a limit far
// above the load, so every response is accounted and none limited).
const policy = new ResponsePolicy({ ...loadServerConfig(null).rrl, responsesPerSecond: 1_000_000 }, new ServerMetrics('bench'), createLogger({ pop: 'bench', component: 'bench', level: 'silent' }));
run('cache hits + rate limiting', (q) => {
  const r = cached.handle(q, meta)!;
  policy.decide(cached.info, r, meta.remoteAddress);
  return r;
});
policy.close();
const uncached = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232, responseCacheBytes: 0 });
run('handler, no cache (misses)', (q) => uncached.handle(q, meta));
