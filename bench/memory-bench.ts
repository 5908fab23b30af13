// `npm run bench:memory`: the resident memory of each server with the generated 1,000,000-record zone
// loaded, at 1, 2, 4 and 8 workers (anycast-dns `workers`, NSD `server-count`, Knot `udp-workers`),
// each against its own figure at one worker, measured once the zone is served and again after a
// burst of queries over many source ports (so every worker has answered; anycast-dns's response
// cache grows with use, per worker).
//
//   node dist/bench/memory-bench.js [--workers 1,2,4,8] [--servers anycast-dns,nsd,knot] [--queries N]
//
// Target (issue 18): anycast-dns at every count at most 1.2x its RSS at workers 1.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { runMain } from './cleanup.js';
import { ensureBenchData } from './gen-zone.js';
import { serverMemory } from './measure.js';
import { OptionReader } from './options.js';
import { SAME_RUN_NOTE, machineLine, mib, table, times, verdict } from './report.js';
import { isServerId, runningServers, startServer, type ServerId } from './servers.js';
import { sleep } from '../test/helpers/wait.js';

const RSS_TARGET = 1.2;
const SOCKETS = 64;

interface Sample {
  server: ServerId;
  workers: number;
  loadedKiB: number;
  askedKiB: number;
  processes: number;
}

/** Sends `total` queries of `names` (type A) from SOCKETS source ports, a window of them at a time; resolves once they are answered or given up. */
async function burst(port: number, names: readonly string[], total: number): Promise<void> {
  const sockets = Array.from({ length: SOCKETS }, () => createSocket('udp4'));
  let answered = 0;
  for (const s of sockets) s.on('message', () => answered++);
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()))));
  for (let i = 0; i < total; i++) {
    const q = query(names[i % names.length]!, i & 0xffff);
    sockets[i % SOCKETS]!.send(q, port, '127.0.0.1');
    // A window of 256 in flight: a burst, not a flood the kernel drops.
    if (i % 256 === 255) for (let t = 0; t < 100 && i + 1 - answered > 128; t++) await sleep(1);
  }
  await sleep(500);
  for (const s of sockets) s.close();
}

function query(name: string, id: number): Buffer {
  const labels = name.replace(/\.$/, '').split('.');
  const q = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 1) + 4);
  q.writeUInt16BE(id, 0);
  q.writeUInt16BE(1, 4);
  let at = 12;
  for (const l of labels) {
    q[at++] = l.length;
    at += q.write(l, at, 'latin1');
  }
  q[at++] = 0;
  q.writeUInt16BE(1, at);
  q.writeUInt16BE(1, at + 2);
  return q;
}

function serverId(s: string): ServerId {
  if (!isServerId(s)) throw new Error(`unknown server ${s}`);
  return s;
}

async function main(): Promise<number> {
  let counts = [1, 2, 4, 8];
  let ids: ServerId[] = ['anycast-dns', 'nsd', 'knot'];
  let total = 50_000;
  const opts = new OptionReader(process.argv.slice(2));
  for (const flag of opts) {
    if (flag === '--workers') counts = opts.value().split(',').map(Number);
    else if (flag === '--servers') ids = opts.value().split(',').map(serverId);
    else if (flag === '--queries') total = opts.int();
    else throw new Error(`unknown option ${flag}`);
  }
  const data = ensureBenchData({ log: (s) => process.stderr.write(s + '\n') });
  // The query file's names: `name type` per line.
  const names = readFileSync(data.big.queries.mixed, 'latin1')
    .split('\n')
    .flatMap((l) => (l.trim() === '' ? [] : [l.split(/\s+/)[0]!]));
  const samples: Sample[] = [];
  const running = runningServers<ServerId>();
  try {
    for (const workers of counts) {
      for (const id of ids) {
        process.stderr.write(`${id}, ${workers} worker(s)\n`);
        const s = await startServer(id, [{ origin: data.big.origin, file: data.big.file }], '0-1', 300_000, workers);
        running.servers.set(id, s);
        await sleep(3000); // settle after start-up
        const loaded = serverMemory(s.pid);
        await burst(s.port, names, total);
        await sleep(2000);
        const asked = serverMemory(s.pid);
        samples.push({ server: id, workers, loadedKiB: loaded.treeRssKiB, askedKiB: asked.treeRssKiB, processes: asked.processes });
        await running.stopAll();
      }
    }
  } finally {
    await running.stopAll();
  }
  let pass = true;
  const rows: string[][] = [['server', 'workers', 'processes', 'RSS loaded', 'vs 1 worker', `RSS after ${total} queries`, 'vs 1 worker']];
  for (const id of ids) {
    const one = samples.find((x) => x.server === id && x.workers === 1);
    for (const x of samples.filter((y) => y.server === id)) {
      const loadedRatio = one === undefined ? NaN : x.loadedKiB / one.loadedKiB;
      const askedRatio = one === undefined ? NaN : x.askedKiB / one.askedKiB;
      if (id === 'anycast-dns') pass &&= loadedRatio <= RSS_TARGET;
      rows.push([id, String(x.workers), String(x.processes), mib(x.loadedKiB), times(loadedRatio), mib(x.askedKiB), times(askedRatio)]);
    }
  }
  process.stdout.write(`${machineLine()}\nRSS of the server's process tree (shared pages once) with ${data.big.origin} (${data.big.records} records)\n`);
  process.stdout.write(table(rows));
  process.stdout.write(`\n${SAME_RUN_NOTE}\ntarget: anycast-dns loaded at most ${RSS_TARGET}x its workers-1 RSS at every count: ${verdict(pass)}\n`);
  return 0;
}

runMain('memory-bench', main);
