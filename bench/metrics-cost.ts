// What the metrics cost a server answering UDP: queries/s of one answering process with the metrics
// as shipped (counters, both histograms, two clock reads per query), the same with every count and
// observation a no-op, and the build in ../main (counters only, no clock reads) — in one run,
// alternating, each pinned to its own core with dnsperf on another. Not a test; prints figures.
// Usage: node dist/bench/metrics-cost.js [seconds-per-run] [rounds]
//        (it starts itself with `--serve ROOT MODE PORT` for each server)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runDnsperf } from './dnsperf.js';
import { freePort } from '../test/helpers/peers.js';
import { withTimeout } from '../test/helpers/wait.js';

const HERE = fileURLToPath(import.meta.url);
const OWN_DIST = resolve(HERE, '../..');
const MAIN_DIST = resolve(OWN_DIST, '../../main/dist');

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  await compare(Number(process.argv[2] ?? 5), Number(process.argv[3] ?? 2));
}

/** One answering process on 127.0.0.1:port from the build in `root`; mode "off" makes every count a no-op. */
async function serve(root: string, mode: string, port: number): Promise<void> {
  // Modules of another build, whose types this build cannot know.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const imp = (p: string): Promise<Record<string, any>> => import(pathToFileURL(join(root, p)).href);
  const { loadServerConfig, BUNDLED_ZONES_DIR } = await imp('src/ops/config.js');
  const { loadZoneFile } = await imp('src/zone/read-zone.js');
  const { ZoneSet } = await imp('src/zone/zone.js');
  const { ServerMetrics } = await imp('src/ops/metrics.js');
  const { Responder } = await imp('src/server/responder.js');
  const { createLogger } = await imp('src/log.js');
  const cfg = loadServerConfig(null, { listen: [`127.0.0.1:${port}`], identity: 'bench' });
  cfg.rrl.responsesPerSecond = 0;
  const zone = loadZoneFile(join(BUNDLED_ZONES_DIR, 'example.com.zone'), 'example.com.').zone;
  const metrics = new ServerMetrics('bench');
  if (mode === 'off') Object.assign(metrics, { onResponse: () => {}, sent: () => {} });
  const log = createLogger({ pop: 'bench', component: 'bench', level: 'silent' });
  await Responder.start(cfg, new ZoneSet(new Map([[zone.origin, zone]])), log, metrics, { reusePort: false });
  process.send?.('ready');
}

async function compare(seconds: number, rounds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-metrics-cost-'));
  const queryFile = join(dir, 'queries.txt');
  writeFileSync(queryFile, ['example.com SOA', 'www.example.com A', 'example.com MX', 'ns1.example.com AAAA', 'nowhere.example.com A', 'example.com NS'].join('\n') + '\n');
  const variants: [string, string, string][] = [
    ['metrics on (this build)', OWN_DIST, 'on'],
    ['everything off (this build)', OWN_DIST, 'off'],
    ['counters only (../main)', MAIN_DIST, 'on'],
  ];
  const results = new Map<string, number[]>(variants.map(([label]) => [label, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [label, root, mode] of variants) {
        const port = await freePort(false);
        const child: ChildProcess = spawn('taskset', ['-c', '0', process.execPath, HERE, '--serve', root, mode, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        try {
          const ready = new Promise<void>((ok, fail) => {
            child.once('message', () => ok());
            child.once('exit', (code) => fail(new Error(`${label}: server exited (${code})`)));
          });
          await withTimeout(ready, 60_000, `${label} to start`);
          const res = await runDnsperf({ port, queryFile, seconds, clients: 4, outstanding: 200, timeoutSeconds: 1, cpu: 1 });
          results.get(label)!.push(res.qps);
          console.log(`round ${r + 1}  ${label.padEnd(30)} ${Math.round(res.qps).toLocaleString('en')} queries/s (lost ${res.lost})`);
        } finally {
          child.kill('SIGKILL');
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const best = (label: string): number => Math.max(...results.get(label)!);
  const off = best('everything off (this build)');
  for (const [label] of variants) console.log(`${label.padEnd(30)} best ${Math.round(best(label)).toLocaleString('en')} queries/s, ${((best(label) / off) * 100).toFixed(1)}% of everything off`);
}
