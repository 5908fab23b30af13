// `npm run bench`: queries/s, lost queries, latency and memory of anycast-dns against NSD, Knot DNS,
// BIND 9 and a Node.js UDP echo server, on loopback, every server pinned to one core (one worker)
// and dnsperf pinned to the other, alternating the servers several times in one run, on two query
// mixes: the 2018 root zone and a generated 1,000,000-record zone, and a random-name flood below the
// root (every query a new name). Every server loads both zones.
//
//   node dist/bench/serve-bench.js [--quick] [--duration S] [--rounds N] [--mixes root,big,root:random|root:apex,big:mx,...]
//     [--servers anycast-dns,anycast-dns-rrl,nsd,knot,bind,echo,echo-literal] [--rate QPS] [--fixed-rounds N] [--clients N] [--outstanding N]
//     [--server-cpus LIST] [--client-cpus LIST] [--workers 1,2,...] [--budget S] [--low-rate QPS] [--ecs]
//
// --ecs: every query carries an EDNS Client Subnet option (127.0.0.0/24), and with anycast-dns-ecs in
// the run (ECS on, geo rules on the root apex) its qps is compared with anycast-dns's (ECS off).
// Issue 22: ECS on with rules on one name of the root mix, at least 0.9x of ECS off.
// anycast-dns runs on the native UDP path (recvmmsg/sendmmsg), anycast-dns-dgram on node:dgram;
// echo-native is the echo server on the native path, the floor of the native path's cost.
// --low-rate (default 100, 0: off) runs anycast-dns on both paths (and NSD) at that rate after the
// fixed-rate runs, for the median latency of a quiet server: batching must not make it wait.
//
// The fixed-rate runs (latency) come after the full-speed ones, --fixed-rounds times (default: --rounds),
// rotating the order like them: one run's p99 is at the mercy of a few milliseconds of a noisy machine.
// Each fixed-rate run also reads the server's CPU time (every process and thread, /proc/<pid>/stat)
// before and after: CPU per answer compares servers that all reach dnsperf's own ceiling at full speed.
// --workers runs the whole comparison once per count, each server with that many workers (NSD
// server-count, Knot udp-workers, BIND -n; the echo servers only at 1), then a scaling table.
// --server-cpus 0-3 --client-cpus 4-7 pins the servers and dnsperf (one thread per client CPU) to
// disjoint core sets (--server-cpu N and --client-cpu N are the one-core forms).
//
// Targets (issue 3), one process on one core: at least 85% of the echo server's queries/s on both
// mixes and more than BIND's; zero lost queries at the fixed rate; RSS at most 1.5x NSD's.
// Issue 12: more than BIND's queries/s on the random-name flood too; p99 at the fixed rate at most
// 2x NSD's on every mix; with anycast-dns-rrl in the run, rate limiting on costs at most 10% of qps.
// Issue 19 (the native UDP path): on the root and 1M mixes at least 1.0x NSD's and 1.2x BIND's qps;
// on the random-name flood at least 1.0x NSD's; at the low rate, p50 no worse than the dgram path's.
import { OptionReader, cpuCount } from './options.js';
import { spawnSync } from 'node:child_process';
import { sleep } from '../test/helpers/wait.js';
import { runMain } from './cleanup.js';
import { runDnsperf, type DnsperfResult } from './dnsperf.js';
import { ensureBenchData, type BenchData } from './gen-zone.js';
import { serverCpuSeconds, serverMemory, type ServerMemory } from './measure.js';
import { SAME_RUN_NOTE, machineLine, median, mib, rate, ratio, table, times, verdict } from './report.js';
import { SERVER_IDS, hasWorkers, isServerId, runningServers, startServer, type ServerId } from './servers.js';

const ECHO_SHARE_TARGET = 0.85;
/** qps with rate limiting accounting every response, as a share of qps with it off. */
const RRL_SHARE_TARGET = 0.9;
/** qps with ECS on and geo rules on one name, as a share of qps with ECS off (issue 22). */
const ECS_SHARE_TARGET = 0.9;
/** The Client Subnet option --ecs adds: family 1, source /24, scope 0, 127.0.0 (RFC 7871 §6). */
const ECS_OPTION = '8:000118007f0000';
const RSS_VS_NSD_TARGET = 1.5;
/** p99 latency at the fixed rate, as a multiple of NSD's on the same mix (issue 12). */
const P99_VS_NSD_TARGET = 2;
const NSD_SHARE_TARGET = 1;
const BIND_SHARE_TARGET = 1.2;
/** Servers measured at the low rate: the two UDP paths, and NSD for reference. */
const LOW_RATE_SERVERS: ServerId[] = ['anycast-dns', 'anycast-dns-dgram', 'nsd'];

interface Options {
  seconds: number;
  rounds: number;
  mixes: MixId[];
  servers: ServerId[];
  fixedRate?: number;
  fixedRounds?: number;
  clients: number;
  outstanding: number;
  /** taskset CPU lists. */
  serverCpu: string;
  clientCpu: string;
  workers: number[];
  budgetMs: number;
  lowRate: number;
  /** Every query carries ECS_OPTION. */
  ecs: boolean;
}

/** `root` or `big` (the mixed query files), or one category of either, e.g. `root:apex`, `big:mx`. */
type MixId = string;

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 10, rounds: 3, mixes: ['root', 'big', 'root:random'], servers: [...SERVER_IDS], clients: 8, outstanding: 1000, serverCpu: '0', clientCpu: '1', workers: [1], budgetMs: 30 * 60_000, lowRate: 100, ecs: false };
  const opts = new OptionReader(argv);
  for (const a of opts) {
    if (a === '--quick') {
      o.seconds = 2;
      o.rounds = 1;
    } else if (a === '--duration') o.seconds = opts.int();
    else if (a === '--rounds') o.rounds = opts.int();
    else if (a === '--mixes') o.mixes = opts.value().split(',') as MixId[];
    else if (a === '--servers') o.servers = opts.value().split(',') as ServerId[];
    else if (a === '--rate') o.fixedRate = opts.int();
    else if (a === '--fixed-rounds') o.fixedRounds = opts.int();
    else if (a === '--clients') o.clients = opts.int();
    else if (a === '--outstanding') o.outstanding = opts.int();
    else if (a === '--server-cpu' || a === '--server-cpus') o.serverCpu = opts.cpus();
    else if (a === '--client-cpu' || a === '--client-cpus') o.clientCpu = opts.cpus();
    else if (a === '--workers') o.workers = opts.value().split(',').map(Number);
    else if (a === '--budget') o.budgetMs = opts.int() * 1000;
    else if (a === '--low-rate') o.lowRate = opts.int();
    else if (a === '--ecs') o.ecs = true;
    else throw new Error(`unknown option ${a} (see the header of bench/serve-bench.ts)`);
  }
  for (const s of o.servers) if (!isServerId(s)) throw new Error(`unknown server ${s} (${SERVER_IDS.join(', ')})`);
  if (o.seconds < 1 || o.rounds < 1) throw new Error('--duration and --rounds must be at least 1');
  if (!o.workers.every((w) => Number.isInteger(w) && w >= 1)) throw new Error('--workers needs counts of 1 or more, e.g. 1,2');
  return o;
}

function queryFile(data: BenchData, mix: MixId): string {
  const [zone, category = 'mixed'] = mix.split(':');
  const files = zone === 'root' ? data.root.queries : zone === 'big' ? data.big.queries : undefined;
  const file = files?.[category];
  if (file === undefined) {
    throw new Error(`unknown mix ${mix}: root or big, optionally with a category (root: ${Object.keys(data.root.queries).join(', ')}; big: ${Object.keys(data.big.queries).join(', ')})`);
  }
  return file;
}

function dnsperfVersion(): string {
  // `dnsperf -h` prints its usage and version.
  const out = spawnSync('dnsperf', ['-h'], { encoding: 'utf8' });
  return /Version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
}

function rcodeText(r: Record<string, number>): string {
  return Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** Median over rounds of (a / b) measured in the same round (qps unless told): drift between rounds cancels out. */
function sameRoundRatio(a: (DnsperfResult | undefined)[], b: (DnsperfResult | undefined)[], of: (r: DnsperfResult) => number | undefined = (r) => r.qps): number {
  const rs: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i] && of(a[i]!);
    const y = b[i] && of(b[i]!);
    if (x !== undefined && y !== undefined && y > 0) rs.push(x / y);
  }
  return median(rs);
}

const p99 = (r: DnsperfResult): number | undefined => r.p99LatencyMs;
const p50 = (r: DnsperfResult): number | undefined => r.p50LatencyMs;
/** The server's CPU time per answer in a fixed-rate run (µs): what separates servers when the load generator, not the server, sets the maximum. */
const cpuPerAnswer = new WeakMap<DnsperfResult, number>();
const cpuUs = (r: DnsperfResult): number | undefined => cpuPerAnswer.get(r);

interface Measured {
  workers: number;
  code: number;
  /** Median maximum qps by `${mix}/${server}`. */
  qps: Map<string, number>;
  rssKiB: Map<ServerId, number>;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const all: Measured[] = [];
  for (const w of o.workers) all.push(await measure(o, w));
  if (all.length > 1) printScaling(o, all);
  return all.every((m) => m.code === 0) ? 0 : 1;
}

/** One worker count against another, per server: figures from different minutes of the run, so only large differences count. */
function printScaling(o: Options, all: Measured[]): void {
  const rows: string[][] = [['server', 'workers', ...o.mixes.map((m) => `${m} max qps`), ...o.mixes.map((m) => `${m} vs ${all[0]!.workers}`), 'RSS', 'RSS vs ' + all[0]!.workers]];
  for (const id of o.servers.filter(hasWorkers)) {
    for (const m of all) {
      const base = all[0]!;
      rows.push([
        id,
        String(m.workers),
        ...o.mixes.map((mix) => rate(m.qps.get(`${mix}/${id}`) ?? NaN)),
        ...o.mixes.map((mix) => times(ratio(m.qps.get(`${mix}/${id}`) ?? NaN, base.qps.get(`${mix}/${id}`) ?? NaN))),
        mib(m.rssKiB.get(id) ?? NaN),
        times(ratio(m.rssKiB.get(id) ?? NaN, base.rssKiB.get(id) ?? NaN)),
      ]);
    }
  }
  console.log(`\nscaling: servers on cores ${o.serverCpu}, dnsperf on ${o.clientCpu}; median max qps, RSS of the process tree with both zones loaded`);
  console.log(table(rows));
}

async function measure(all: Options, workers: number): Promise<Measured> {
  // The echo servers are one process whatever the count.
  const o: Options = { ...all, servers: workers === 1 ? all.servers : all.servers.filter(hasWorkers) };
  const data = ensureBenchData({ log: (s) => process.stderr.write(s + '\n') });
  const zones = [
    { origin: data.root.origin, file: data.root.file },
    { origin: data.big.origin, file: data.big.file },
  ];
  for (const mix of o.mixes) queryFile(data, mix);
  const deadline = Date.now() + o.budgetMs;
  const perRun = o.seconds + 1;
  const fixedRounds = o.fixedRounds ?? o.rounds;
  const estimate = o.servers.length * o.mixes.length * perRun * (o.rounds + fixedRounds);
  console.log(machineLine());
  console.log(`dnsperf ${dnsperfVersion()} on cores ${o.clientCpu} (-T ${cpuCount(o.clientCpu)}): -c ${o.clients} -q ${o.outstanding} -t 1 -e, ${o.seconds} s per run; servers on cores ${o.serverCpu}, ${workers} worker(s) each, 127.0.0.1 only`);
  console.log(`zones in every server: ${data.root.source} (${data.root.records} records, trailing duplicate SOA removed) and ${data.big.origin} (${data.big.records} records)`);
  console.log(`plan: ${o.rounds} round(s) x ${o.mixes.length} mix(es) x ${o.servers.length} server(s) at full speed, then ${fixedRounds} fixed-rate round(s); ~${estimate} s of load`);

  const { servers, stopAll } = runningServers<ServerId>();
  const failures: string[] = [];
  const memory = new Map<ServerId, { loaded: ServerMemory; after?: ServerMemory }>();
  // results[mix][server][round]
  const full = new Map<string, (DnsperfResult | undefined)[]>();
  // results[mix][server][round] at the fixed rate
  const fixed = new Map<string, (DnsperfResult | undefined)[]>();
  const fixedRates = new Map<MixId, number>();
  // results[server][round] at the low rate, on the first mix
  const low = new Map<ServerId, (DnsperfResult | undefined)[]>();
  const alive = (id: ServerId): boolean => {
    const s = servers.get(id);
    if (!s) return false;
    try {
      process.kill(s.pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  try {
    // Start one at a time, so each loads its zones without competing for the core.
    for (const id of o.servers) {
      const t0 = Date.now();
      try {
        // Loading both zones takes each server 3-15 s here; two minutes without answers is a failure.
        const s = await startServer(id, zones, o.serverCpu, 120_000, workers);
        servers.set(id, s);
        process.stderr.write(`started ${id} (pid ${s.pid}, port ${s.port}) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      } catch (e) {
        failures.push(`${id} did not start: ${(e as Error).message.split('\n')[0]}`);
        process.stderr.write(`${id} did not start: ${(e as Error).message}\n`);
      }
    }
    // Let start-up garbage settle before reading memory.
    await sleep(2000);
    for (const [id, s] of servers) memory.set(id, { loaded: serverMemory(s.pid) });

    const run = async (mix: MixId, id: ServerId, rateQps?: number): Promise<DnsperfResult | undefined> => {
      const s = servers.get(id);
      if (!s || !alive(id)) {
        failures.push(`${id} is not running (${mix}${rateQps ? ' fixed rate' : ''})`);
        return undefined;
      }
      try {
        const cpuBefore = serverCpuSeconds(s.pid);
        const r = await runDnsperf({
          port: s.port,
          queryFile: queryFile(data, mix),
          seconds: o.seconds,
          clients: o.clients,
          outstanding: o.outstanding,
          timeoutSeconds: 1,
          cpu: o.clientCpu,
          threads: cpuCount(o.clientCpu),
          ...(o.ecs ? { ednsOption: ECS_OPTION } : {}),
          ...(rateQps !== undefined ? { rate: rateQps, latencies: true } : {}),
        });
        if (rateQps !== undefined && r.completed > 0) cpuPerAnswer.set(r, ((serverCpuSeconds(s.pid) - cpuBefore) * 1e6) / r.completed);
        const lat = r.p99LatencyMs !== undefined ? `  avg ${r.avgLatencyMs.toFixed(3)} ms p99 ${r.p99LatencyMs.toFixed(3)} ms` : '';
        process.stderr.write(`${mix.padEnd(4)} ${id.padEnd(11)} ${rateQps ? `@${rate(rateQps)}/s` : 'max'}  ${rate(r.qps)}/s  lost ${r.lost}/${r.sent}${lat}  [${rcodeText(r.rcodes)}]\n`);
        return r;
      } catch (e) {
        failures.push(`dnsperf against ${id} (${mix}): ${(e as Error).message}`);
        return undefined;
      }
    };

    const ids = [...servers.keys()];
    rounds: for (let round = 0; round < o.rounds; round++) {
      for (const mix of o.mixes) {
        // Rotate the order each round, so no server always runs first or right after the same one.
        for (let k = 0; k < ids.length; k++) {
          if (Date.now() > deadline) {
            failures.push(`time budget spent: stopped in round ${round + 1}`);
            break rounds;
          }
          const id = ids[(k + round) % ids.length]!;
          const key = `${mix}/${id}`;
          const list = full.get(key) ?? [];
          list[round] = await run(mix, id);
          full.set(key, list);
        }
      }
    }

    // Latency and loss at a load every server should carry: half the slowest server's maximum.
    for (const mix of o.mixes) {
      const maxima = ids.map((id) => median((full.get(`${mix}/${id}`) ?? []).flatMap((r) => (r ? [r.qps] : [])))).filter((x) => Number.isFinite(x));
      const r = o.fixedRate ?? (maxima.length ? Math.floor(Math.min(...maxima) / 2) : 0);
      if (r > 0) fixedRates.set(mix, r);
    }
    fixedRounds: for (let round = 0; round < fixedRounds; round++) {
      for (const [mix, r] of fixedRates) {
        for (let k = 0; k < ids.length; k++) {
          if (Date.now() > deadline) {
            failures.push(`time budget spent: fixed-rate runs stopped in round ${round + 1}`);
            break fixedRounds;
          }
          const id = ids[(k + round) % ids.length]!;
          const key = `${mix}/${id}`;
          const list = fixed.get(key) ?? [];
          list[round] = await run(mix, id, r);
          fixed.set(key, list);
        }
      }
    }
    const lowIds = LOW_RATE_SERVERS.filter((id) => servers.has(id));
    lowRounds: for (let round = 0; o.lowRate > 0 && round < fixedRounds; round++) {
      for (let k = 0; k < lowIds.length; k++) {
        if (Date.now() > deadline) {
          failures.push(`time budget spent: low-rate runs stopped in round ${round + 1}`);
          break lowRounds;
        }
        const id = lowIds[(k + round) % lowIds.length]!;
        const list = low.get(id) ?? [];
        list[round] = await run(o.mixes[0]!, id, o.lowRate);
        low.set(id, list);
      }
    }
    for (const [id, s] of servers) {
      const m = memory.get(id);
      if (m && alive(id)) m.after = serverMemory(s.pid);
    }
  } finally {
    await stopAll();
  }

  // ---- report ----
  const ids = o.servers.filter((id) => memory.has(id));
  const verdicts: boolean[] = [];
  for (const mix of o.mixes) {
    const results = (id: ServerId): (DnsperfResult | undefined)[] => full.get(`${mix}/${id}`) ?? [];
    const ok = (id: ServerId): DnsperfResult[] => results(id).flatMap((r) => (r ? [r] : []));
    const atRate = (id: ServerId): (DnsperfResult | undefined)[] => fixed.get(`${mix}/${id}`) ?? [];
    const rows: string[][] = [['server', 'max qps', '(min-max)', 'lost@max', 'vs echo', 'vs echo-literal', 'vs bind', 'vs nsd', `avg@${rate(fixedRates.get(mix) ?? NaN)}/s`, 'p99', '(min-max)', 'p99 vs nsd', 'cpu/answer', 'cpu vs nsd', 'lost@fixed', 'rcodes@max (last run)']];
    for (const id of ids) {
      const rs = ok(id);
      const qps = rs.map((r) => r.qps);
      const fs = atRate(id).flatMap((r) => (r ? [r] : []));
      const p99s = fs.flatMap((r) => (r.p99LatencyMs !== undefined ? [r.p99LatencyMs] : []));
      rows.push([
        id,
        rs.length ? rate(median(qps)) : 'failed',
        rs.length ? `${rate(Math.min(...qps))}-${rate(Math.max(...qps))}` : '',
        rs.length ? String(median(rs.map((r) => r.lost))) : '',
        times(sameRoundRatio(results(id), results('echo'))),
        times(sameRoundRatio(results(id), results('echo-literal'))),
        times(sameRoundRatio(results(id), results('bind'))),
        times(sameRoundRatio(results(id), results('nsd'))),
        fs.length ? `${median(fs.map((r) => r.avgLatencyMs)).toFixed(3)} ms` : 'n/a',
        p99s.length ? `${median(p99s).toFixed(3)} ms` : 'n/a',
        p99s.length ? `${Math.min(...p99s).toFixed(2)}-${Math.max(...p99s).toFixed(2)}` : '',
        times(sameRoundRatio(atRate(id), atRate('nsd'), p99)),
        fs.some((r) => cpuPerAnswer.has(r)) ? `${median(fs.flatMap((r) => cpuPerAnswer.get(r) ?? [])).toFixed(2)} µs` : 'n/a',
        times(sameRoundRatio(atRate(id), atRate('nsd'), cpuUs)),
        fs.length ? `${fs.reduce((n, r) => n + r.lost, 0)}/${fs.reduce((n, r) => n + r.sent, 0)}` : 'n/a',
        rs.length ? rcodeText(rs[rs.length - 1]!.rcodes) : '',
      ]);
    }
    console.log(`\nmix ${mix} (${queryFile(data, mix)}), ${ok(ids[0] ?? 'echo').length}/${o.rounds} rounds at full speed, ${atRate(ids[0] ?? 'echo').filter(Boolean).length}/${fixedRounds} at the fixed rate; ratios are medians of same-round ratios`);
    console.log(table(rows));
    if (ids.includes('anycast-dns')) {
      const vsEcho = sameRoundRatio(results('anycast-dns'), results('echo'));
      const vsBind = sameRoundRatio(results('anycast-dns'), results('bind'));
      const fs = atRate('anycast-dns').flatMap((r) => (r ? [r] : []));
      const lost = fs.reduce((n, r) => n + r.lost, 0);
      // The echo target is the root and 1M mixes' (issue 3); on the random-name flood the target is BIND.
      const echoTarget = !mix.endsWith(':random');
      const e = echoTarget && Number.isFinite(vsEcho) ? vsEcho >= ECHO_SHARE_TARGET : undefined;
      const b = Number.isFinite(vsBind) ? vsBind > 1 : undefined;
      const l = fs.length ? lost === 0 : undefined;
      verdicts.push(!echoTarget || e === true, b === true, l === true);
      const vsLiteral = sameRoundRatio(results('anycast-dns'), results('echo-literal'));
      const echoLine = echoTarget ? `target >= ${ECHO_SHARE_TARGET * 100}% of echo qps: ${times(vsEcho)} ${verdict(e)}` : `of echo qps: ${times(vsEcho)} (no target on this mix)`;
      console.log(`${echoLine} (of echo-literal: ${times(vsLiteral)}); more than BIND: ${times(vsBind)} ${verdict(b)}; zero lost at fixed rate: ${fs.length ? lost : 'n/a'} ${verdict(l)}`);
      const vsNsd = sameRoundRatio(atRate('anycast-dns'), atRate('nsd'), p99);
      if (Number.isFinite(vsNsd)) {
        const p = vsNsd <= P99_VS_NSD_TARGET;
        verdicts.push(p);
        // The echo server answers nothing: its p99 is what Node.js's UDP sockets and collector cost alone.
        const floor = sameRoundRatio(atRate('echo-literal'), atRate('nsd'), p99);
        const vsFloor = sameRoundRatio(atRate('anycast-dns'), atRate('echo-literal'), p99);
        console.log(`p99 at the fixed rate vs NSD's: ${times(vsNsd)}, target <= ${P99_VS_NSD_TARGET} ${verdict(p)} (echo-literal's vs NSD's: ${times(floor)}; anycast-dns's vs echo-literal's: ${times(vsFloor)})`);
      }
    }
    if (ids.includes('anycast-dns')) {
      const vsNsd = sameRoundRatio(results('anycast-dns'), results('nsd'));
      const vsBind = sameRoundRatio(results('anycast-dns'), results('bind'));
      const n = Number.isFinite(vsNsd) ? vsNsd >= NSD_SHARE_TARGET : undefined;
      const flood = mix.endsWith(':random');
      const b = flood ? undefined : Number.isFinite(vsBind) ? vsBind >= BIND_SHARE_TARGET : undefined;
      verdicts.push(n === true, flood || b === true);
      const bindLine = flood ? '' : `; >= ${BIND_SHARE_TARGET}x BIND's: ${times(vsBind)} ${verdict(b)}`;
      const native = sameRoundRatio(results('anycast-dns'), results('anycast-dns-dgram'));
      const floors = sameRoundRatio(results('echo-native'), results('echo-literal'));
      console.log(`native path: qps >= ${NSD_SHARE_TARGET}x NSD's: ${times(vsNsd)} ${verdict(n)}${bindLine}; native vs dgram: ${times(native)} (echo-native vs echo-literal: ${times(floors)})`);
      // At the maximum every server can be held back by dnsperf's one core (the echo servers reach the
      // same figure): the CPU each answer costs the server at the fixed rate still tells them apart.
      const cpu = sameRoundRatio(atRate('anycast-dns'), atRate('nsd'), cpuUs);
      if (Number.isFinite(cpu)) console.log(`CPU per answer at the fixed rate vs NSD's: ${times(cpu)} (echo-native's: ${times(sameRoundRatio(atRate('echo-native'), atRate('nsd'), cpuUs))})`);
    }
    if (ids.includes('anycast-dns') && ids.includes('anycast-dns-rrl')) {
      const vsOff = sameRoundRatio(results('anycast-dns-rrl'), results('anycast-dns'));
      const r = Number.isFinite(vsOff) ? vsOff >= RRL_SHARE_TARGET : undefined;
      verdicts.push(r === true);
      console.log(`rate limiting on (every response accounted, none limited) vs off: ${times(vsOff)}, target >= ${RRL_SHARE_TARGET} ${verdict(r)}`);
    }
    if (ids.includes('anycast-dns') && ids.includes('anycast-dns-ecs')) {
      const vsOff = sameRoundRatio(results('anycast-dns-ecs'), results('anycast-dns'));
      const r = Number.isFinite(vsOff) ? vsOff >= ECS_SHARE_TARGET : undefined;
      verdicts.push(r === true);
      console.log(`ECS on with geo rules on one name vs ECS off${o.ecs ? ' (every query with ECS)' : ''}: ${times(vsOff)}, target >= ${ECS_SHARE_TARGET} ${verdict(r)}`);
    }
  }

  if (low.size > 0) {
    const lowRows: string[][] = [['server', 'p50', '(min-max)', 'p99', 'p50 vs anycast-dns-dgram', 'lost']];
    for (const [id, rs] of low) {
      const ok = rs.flatMap((r) => (r ? [r] : []));
      const p50s = ok.map((r) => r.p50LatencyMs!);
      lowRows.push([
        id,
        ok.length ? `${median(p50s).toFixed(3)} ms` : 'failed',
        ok.length ? `${Math.min(...p50s).toFixed(3)}-${Math.max(...p50s).toFixed(3)}` : '',
        ok.length ? `${median(ok.map((r) => r.p99LatencyMs!)).toFixed(3)} ms` : '',
        times(sameRoundRatio(rs, low.get('anycast-dns-dgram') ?? [], p50)),
        `${ok.reduce((n, r) => n + r.lost, 0)}/${ok.reduce((n, r) => n + r.sent, 0)}`,
      ]);
    }
    console.log(`\nlow rate: ${o.lowRate} queries/s of mix ${o.mixes[0]}, ${fixedRounds} round(s); ratios are medians of same-round ratios`);
    console.log(table(lowRows));
    const vsDgram = sameRoundRatio(low.get('anycast-dns') ?? [], low.get('anycast-dns-dgram') ?? [], p50);
    if (Number.isFinite(vsDgram)) {
      const ok = vsDgram <= 1;
      verdicts.push(ok);
      console.log(`p50 at ${o.lowRate}/s, native vs dgram: ${times(vsDgram)}, target <= 1 ${verdict(ok)}`);
    }
  }

  const memRows: string[][] = [['server', 'RSS loaded', 'vs nsd', 'RSS after runs', 'PSS loaded', 'processes']];
  const nsdRss = memory.get('nsd')?.loaded.treeRssKiB ?? NaN;
  for (const id of ids) {
    const m = memory.get(id)!;
    memRows.push([id, mib(m.loaded.treeRssKiB), times(ratio(m.loaded.treeRssKiB, nsdRss)), m.after ? mib(m.after.treeRssKiB) : 'n/a', mib(m.loaded.pssKiB), String(m.loaded.processes)]);
  }
  console.log("\nmemory with both zones loaded (RSS of the server's process tree, pages its processes share counted once)");
  console.log(table(memRows));
  if (ids.includes('anycast-dns')) {
    const rr = ratio(memory.get('anycast-dns')!.loaded.treeRssKiB, nsdRss);
    const ok = Number.isFinite(rr) ? rr <= RSS_VS_NSD_TARGET : undefined;
    verdicts.push(ok === true);
    console.log(`target RSS <= ${RSS_VS_NSD_TARGET}x NSD: ${times(rr)} ${verdict(ok)}`);
  }
  if (failures.length) {
    console.log('\nfailures:');
    for (const f of failures) console.log(`  ${f}`);
  }
  console.log(`\n${SAME_RUN_NOTE}`);
  const qps = new Map([...full].map(([k, rs]) => [k, median(rs.flatMap((r) => (r ? [r.qps] : [])))]));
  const rssKiB = new Map([...memory].map(([id, m]) => [id, m.loaded.treeRssKiB]));
  // The targets are set for one worker against the echo server, which runs only then.
  return { workers, code: failures.length === 0 && (workers > 1 || verdicts.every(Boolean)) ? 0 : 1, qps, rssKiB };
}

runMain('serve-bench', main);
