// A busy resolver over TCP: every query on a connection of its own, as fast as the client can, a
// few connections at a time, all from 127.0.0.1, against anycast-dns, NSD, Knot DNS and BIND 9 with
// their default TCP settings; counts the queries answered, reset, and closed unanswered. Two loads:
// one name of the bundled example.com, and a mix of root-zone queries on the 2018 root zone (NSD is
// left out there: it refuses that file's repeated SOA).
//
//   npm run build && node dist/bench/tcp-per-query.js [--servers anycast-dns,nsd,knot,bind]
//       [--queries 1000] [--concurrency 4,16] [--anycast-tcp new_connections_per_second_per_prefix=50]
import { BUNDLED_ZONES_DIR, ROOT_ZONE_2018 } from '../test/helpers/paths.js';
import { startAnycastDns, startBind, startKnot, startNsd, type RunningPeer, type ZoneSpec } from '../test/helpers/peers.js';
import type { QueryOptions } from '../test/helpers/dns-query.js';
import { askEachOnItsOwnConnection, countOutcomes, rootZoneMix } from '../test/helpers/tcp-per-query.js';
import { sleep } from '../test/helpers/wait.js';
import { onInterrupt, runMain } from './cleanup.js';
import { OptionReader } from './options.js';

interface Options {
  servers: string[];
  queries: number;
  concurrency: number[];
  /** anycast-dns `tcp:` keys to set (e.g. the former default rate, for comparison). */
  anycastTcp: Record<string, number>;
}

type Starter = (zones: ZoneSpec[], o: Options) => Promise<RunningPeer>;
const STARTERS: Record<string, Starter> = {
  'anycast-dns': (z, o) => startAnycastDns(z, Object.keys(o.anycastTcp).length > 0 ? { extraConfig: { tcp: o.anycastTcp } } : {}),
  nsd: (z) => startNsd(z),
  knot: (z) => startKnot(z),
  bind: (z) => startBind(z),
};

function parse(argv: string[]): Options {
  const o: Options = { servers: Object.keys(STARTERS), queries: 1000, concurrency: [4, 16], anycastTcp: {} };
  const r = new OptionReader(argv);
  for (const flag of r) {
    if (flag === '--servers') o.servers = r.value().split(',');
    else if (flag === '--queries') o.queries = r.int();
    else if (flag === '--concurrency') o.concurrency = r.value().split(',').map(Number);
    else if (flag === '--anycast-tcp') o.anycastTcp = r.settings();
    else throw new Error(`unknown option ${flag}`);
  }
  for (const s of o.servers) if (!(s in STARTERS)) throw new Error(`unknown server ${s} (one of ${Object.keys(STARTERS).join(', ')})`);
  return o;
}

interface Load {
  name: string;
  zones: ZoneSpec[];
  queries: QueryOptions[];
  servers: string[];
}

async function run(load: Load, server: string, o: Options, track: (stop: () => Promise<void>) => void): Promise<void> {
  const peer = await STARTERS[server]!(load.zones, o);
  track(() => peer.stop());
  try {
    for (const c of o.concurrency) {
      const started = performance.now();
      const counts = countOutcomes(await askEachOnItsOwnConnection(peer, load.queries, c));
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${load.name.padEnd(9)} ${server.padEnd(12)} ${String(c).padStart(2)} at a time: ${String(counts.answered).padStart(5)} answered, ` +
          `${counts.reset} reset, ${counts.closed} closed unanswered, ${counts.timeout} timed out, ${counts.other} other; ${(load.queries.length / seconds).toFixed(0)} queries/s`,
      );
      // Let the server's TIME_WAIT and any per-second budget from this round run out.
      await sleep(1500);
    }
  } finally {
    await peer.stop();
  }
}

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  const loads: Load[] = [
    {
      name: 'one name',
      zones: [{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }],
      queries: Array.from({ length: o.queries }, () => ({ name: 'www.example.com', type: 'A' })),
      servers: o.servers,
    },
    { name: 'root mix', zones: [{ origin: '.', file: ROOT_ZONE_2018 }], queries: rootZoneMix(ROOT_ZONE_2018, o.queries), servers: o.servers.filter((s) => s !== 'nsd') },
  ];
  console.log(`${o.queries} queries over TCP, one connection each, from 127.0.0.1; anycast-dns tcp: ${JSON.stringify(o.anycastTcp)}`);
  const stops: (() => Promise<void>)[] = [];
  const unregister = onInterrupt(async () => {
    await Promise.allSettled(stops.map((s) => s()));
  });
  try {
    for (const load of loads) for (const server of load.servers) await run(load, server, o, (s) => stops.push(s));
  } finally {
    unregister();
  }
  return 0;
}

runMain('tcp-per-query', main);
