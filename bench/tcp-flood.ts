// A legitimate TCP client under a slow-connection flood, against anycast-dns, NSD, Knot DNS and BIND 9
// with their default TCP settings: the flood (test/helpers/slow-tcp-flood.ts, its own process) holds
// N connections from many loopback /24s, each with a partial frame, reopening what the server
// closes; meanwhile one client asks Q queries over TCP, one connection each, and we count the
// answers that came within 1 s and their latency. Also measured: what rate-limiter-flexible's
// memory limiter costs per accepted connection (anycast-dns asks it once per accept).
//
//   npm run build && node dist/bench/tcp-flood.js [--servers anycast-dns,nsd,knot,bind]
//       [--connections 4000] [--prefixes 200] [--queries 5] [--settle-ms 1500]
//       [--anycast-tcp new_connections_per_second_per_prefix=50]
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { BUNDLED_ZONES_DIR } from '../test/helpers/paths.js';
import { dnsQuery, startAnycastDns, startBind, startKnot, startNsd, type RunningPeer, type ZoneSpec } from '../test/helpers/peers.js';
import { startSlowFlood, type SlowFlood } from '../test/helpers/slow-tcp-flood.js';
import { sleep } from '../test/helpers/wait.js';
import { onInterrupt, runMain } from './cleanup.js';
import { OptionReader } from './options.js';

const STARTERS: Record<string, (zones: ZoneSpec[], o: Options) => Promise<RunningPeer>> = {
  'anycast-dns': (z, o) => startAnycastDns(z, { cpu: 0, ...(Object.keys(o.anycastTcp).length > 0 ? { extraConfig: { tcp: o.anycastTcp } } : {}) }),
  nsd: (z) => startNsd(z, { cpu: 0 }),
  knot: (z) => startKnot(z, { cpu: 0 }),
  bind: (z) => startBind(z, { cpu: 0 }),
};
const ANSWER_WITHIN_MS = 1000;
/** A reply later than this is not waited for (the client has given up long before). */
const GIVE_UP_MS = 3000;
const QUERY_GAP_MS = 200;

interface Options {
  servers: string[];
  connections: number;
  prefixes: number;
  queries: number;
  settleMs: number;
  /** anycast-dns `tcp:` keys to set instead of the defaults. */
  anycastTcp: Record<string, number>;
}

function parse(argv: string[]): Options {
  const o: Options = { servers: Object.keys(STARTERS), connections: 4000, prefixes: 200, queries: 5, settleMs: 1500, anycastTcp: {} };
  const r = new OptionReader(argv);
  for (const flag of r) {
    if (flag === '--servers') o.servers = r.value().split(',');
    else if (flag === '--connections') o.connections = r.int();
    else if (flag === '--prefixes') o.prefixes = r.int();
    else if (flag === '--queries') o.queries = r.int();
    else if (flag === '--settle-ms') o.settleMs = r.int();
    else if (flag === '--anycast-tcp') o.anycastTcp = r.settings();
    else throw new Error(`unknown option ${flag}`);
  }
  for (const s of o.servers) if (!(s in STARTERS)) throw new Error(`unknown server ${s} (one of ${Object.keys(STARTERS).join(', ')})`);
  return o;
}

/** ns per consume() with its promise settled, over `keys` distinct prefixes, all admitted. */
async function limiterCost(keys: number, calls: number): Promise<number> {
  const limiter = new RateLimiterMemory({ points: calls, duration: 1 });
  const names = Array.from({ length: keys }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
  const t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await limiter.consume(names[i % keys]!).then(() => true, () => false);
  return Number(process.hrtime.bigint() - t) / calls;
}

async function underFlood(name: string, o: Options, track: (stop: () => Promise<void>) => void): Promise<string> {
  const server = await STARTERS[name]!([{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }], o);
  track(() => server.stop());
  let flood: SlowFlood | null = null;
  try {
    flood = await startSlowFlood({ port: server.port, connections: o.connections, prefixes: o.prefixes, maxSeconds: 60 });
    const f = flood;
    track(() => f.stop());
    await sleep(o.settleMs);
    const latencies: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < o.queries; i++) {
      try {
        const r = await dnsQuery({ port: server.port }, { name: 'www.example.com', type: 'A', tcp: true, timeoutMs: GIVE_UP_MS });
        latencies.push(r.elapsedMs);
      } catch (err) {
        failures.push((err as Error).message.replace(/^dnsQuery: /, '').replace(/ from \S+ \(query of \d+ octets\)/, ''));
      }
      await sleep(QUERY_GAP_MS);
    }
    const s = flood.stats();
    const inTime = latencies.filter((ms) => ms <= ANSWER_WITHIN_MS).length;
    const shown = latencies.map((ms) => ms.toFixed(1)).join(', ');
    return (
      `${name.padEnd(12)} ${String(inTime).padStart(2)}/${o.queries} within ${ANSWER_WITHIN_MS} ms; latencies ms [${shown}]` +
      `${failures.length > 0 ? `; failed: ${[...new Set(failures)].join('; ')}` : ''}; flood: ${s.attempted} connects, ${s.closed} closed by the server`
    );
  } finally {
    await flood?.stop();
    await server.stop();
  }
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  console.log(`rate-limiter-flexible RateLimiterMemory.consume, per accepted connection:`);
  for (const keys of [1, 200, 10_000]) console.log(`  ${String(keys).padStart(6)} prefixes: ${(await limiterCost(keys, 100_000)).toFixed(0)} ns`);
  console.log(
    `flood: ${o.connections} connections from ${o.prefixes} /24s (127.10.0.0 up), partial frames, reopened when closed; ` +
      `servers on core 0 with default TCP settings (anycast-dns tcp: ${JSON.stringify(o.anycastTcp)}); ${o.queries} TCP queries from 127.0.0.1 after ${o.settleMs} ms, ${QUERY_GAP_MS} ms apart`,
  );
  const stops: (() => Promise<void>)[] = [];
  const unregister = onInterrupt(async () => {
    await Promise.allSettled(stops.map((s) => s()));
  });
  try {
    for (const name of o.servers) console.log(await underFlood(name, o, (s) => stops.push(s)));
  } finally {
    unregister();
  }
  return 0;
}

runMain('tcp-flood', main);
