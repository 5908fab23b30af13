// `npm run bench:dnssec`: the generated 1,000,000-record zone signed with NSEC3 (ECDSA P-256, no salt,
// no extra iterations: RFC 9276 §3.1), served by anycast-dns, NSD and Knot DNS, each pinned to one core
// with one worker, and asked the zone's query mix with DO=0 and with DO=1 (dnsperf on the other core),
// alternating, in the same run. Reported per server: queries/s per mix, DO=1/DO=0, response sizes, and
// memory with the signed zone loaded; a spot check compares the DO=1 answers of the three servers.
//
//   node dist/bench/dnssec-bench.js [--duration S] [--warmup S] [--rounds N] [--servers anycast-dns,nsd,knot]
//     [--clients N] [--outstanding N] [--server-cpu N] [--client-cpu N] [--spot N] [--budget S] [--resign]
//     [--records N] (a smaller generated zone, for a trial: set ANYCAST_DNS_BENCH_DIR to another directory)
//
// Targets (issue 9): anycast-dns's DO=1 queries/s at least 80% of its DO=0 queries/s in the same run;
// its memory is reported against NSD's for the same signed zone.
//
// The signed zone and its keys are cached in the bench data directory under `signed/`, keyed by the
// SHA-256 of the unsigned file: signing takes minutes, so later runs reuse it until its signatures
// come within 7 days of expiring (or the unsigned zone changes, or --resign).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsQuery, requireBinary, type ZoneSpec } from '../test/helpers/peers.js';
import type { WireMessage, WireRecord } from '../test/helpers/dns-message.js';
import { sleep } from '../test/helpers/wait.js';
import { runMain, spawnGroup } from './cleanup.js';
import { OptionReader } from './options.js';
import { runDnsperf, type DnsperfResult } from './dnsperf.js';
import { ensureBenchData, type BenchData } from './gen-zone.js';
import { serverMemory, type ServerMemory } from './measure.js';
import { SAME_RUN_NOTE, machineLine, median, mib, rate, ratio, table, times, verdict } from './report.js';
import { runningServers, startServer, type BenchServer } from './servers.js';

const DO_SHARE_TARGET = 0.8;
/** Bump when the signing parameters change, so stale caches are re-signed. */
const SIGNER_VERSION = 1;
const VALIDITY_SECONDS = 30 * 86400;
const RESIGN_WITHIN_SECONDS = 7 * 86400;
const SIGN_TIME_LIMIT_MS = 30 * 60_000;

const SERVER_IDS = ['anycast-dns', 'nsd', 'knot'] as const;
type ServerId = (typeof SERVER_IDS)[number];
type Mix = 'DO=0' | 'DO=1';
const MIXES: readonly Mix[] = ['DO=0', 'DO=1'];

interface Options {
  seconds: number;
  /** Seconds of each mix per server before the rounds, not counted (JIT, response cache). */
  warmup: number;
  rounds: number;
  servers: ServerId[];
  clients: number;
  outstanding: number;
  serverCpu: number;
  clientCpu: number;
  spot: number;
  budgetMs: number;
  resign: boolean;
  /** Size of the generated zone (default 1,000,000; smaller for a quick trial in another --dir). */
  records?: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seconds: 10, warmup: 2, rounds: 3, servers: [...SERVER_IDS], clients: 8, outstanding: 1000, serverCpu: 0, clientCpu: 1, spot: 500, budgetMs: 30 * 60_000, resign: false };
  const opts = new OptionReader(argv);
  for (const a of opts) {
    if (a === '--duration') o.seconds = opts.int();
    else if (a === '--rounds') o.rounds = opts.int();
    else if (a === '--warmup') o.warmup = opts.int();
    else if (a === '--servers') o.servers = opts.value().split(',') as ServerId[];
    else if (a === '--clients') o.clients = opts.int();
    else if (a === '--outstanding') o.outstanding = opts.int();
    else if (a === '--server-cpu') o.serverCpu = opts.int();
    else if (a === '--client-cpu') o.clientCpu = opts.int();
    else if (a === '--spot') o.spot = opts.int();
    else if (a === '--budget') o.budgetMs = opts.int() * 1000;
    else if (a === '--resign') o.resign = true;
    else if (a === '--records') o.records = opts.int();
    else throw new Error(`unknown option ${a} (see the header of bench/dnssec-bench.ts)`);
  }
  for (const s of o.servers) if (!(SERVER_IDS as readonly string[]).includes(s)) throw new Error(`unknown server ${s} (${SERVER_IDS.join(', ')})`);
  if (o.seconds < 1 || o.rounds < 1) throw new Error('--duration and --rounds must be at least 1');
  return o;
}

// ---- signing, cached ----

interface SignStamp {
  version: number;
  unsignedSha256: string;
  /** Signature expiration (Unix seconds) given to dnssec-signzone. */
  expires: number;
  signSeconds: number;
  records: number;
}

interface SignedBenchZone {
  origin: string;
  file: string;
  stamp: SignStamp;
  reused: boolean;
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Runs a BIND tool to completion, printing the elapsed time every 15 s; killed after `limitMs`. */
function runTool(file: string, args: string[], limitMs: number, log: (s: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const { child, kill, release } = spawnGroup(file, args);
    const t0 = Date.now();
    const ticker = setInterval(() => log(`  ${file.split('/').pop()}: ${((Date.now() - t0) / 1000).toFixed(0)} s ...`), 15_000);
    const limit = setTimeout(kill, limitMs);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (err.length < 20_000) err += s;
    });
    const done = (): void => {
      clearInterval(ticker);
      clearTimeout(limit);
      release();
    };
    child.on('error', (e) => {
      done();
      reject(e);
    });
    child.on('close', (code, signal) => {
      done();
      if (code === 0) resolve(out);
      else reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? code}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** Counts the records of a master file written with `-O full` (one record per line), in chunks: it is hundreds of MB. */
function countRecords(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let n = 0;
  let lineStart = true;
  try {
    for (let got; (got = readSync(fd, buf, 0, buf.length, null)) > 0; ) {
      for (let i = 0; i < got; i++) {
        const c = buf[i]!;
        // A record line starts with its owner name: not a comment, directive or blank line.
        if (lineStart && c !== 0x3b && c !== 0x24 && c !== 0x0a) n++;
        lineStart = c === 0x0a;
      }
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

/** YYYYMMDDHHMMSS (UTC), as dnssec-signzone's -e takes a fixed time. */
function signzoneTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The signed zone from the cache, or signed now with fresh keys (NSEC3, ECDSA P-256) and cached. */
async function signedBenchZone(data: BenchData, resign: boolean, log: (s: string) => void): Promise<SignedBenchZone> {
  const origin = data.big.origin;
  const dir = join(data.dir, 'signed');
  const file = join(dir, `${origin}signed`);
  const stampFile = join(dir, 'stamp.json');
  const t0 = Date.now();
  const unsignedSha256 = sha256File(data.big.file);
  const now = Math.floor(Date.now() / 1000);
  if (!resign && existsSync(stampFile) && existsSync(file)) {
    const s = JSON.parse(readFileSync(stampFile, 'utf8')) as SignStamp;
    if (s.version === SIGNER_VERSION && s.unsignedSha256 === unsignedSha256 && s.expires - now > RESIGN_WITHIN_SECONDS) {
      log(`reusing ${file} (signed in ${s.signSeconds.toFixed(0)} s; signatures expire ${new Date(s.expires * 1000).toISOString()})`);
      return { origin, file, stamp: s, reused: true };
    }
    log(`cached signed zone is stale (${s.unsignedSha256 !== unsignedSha256 ? 'the unsigned zone changed' : 'signatures expire within 7 days'}): re-signing`);
  }
  const keygen = requireBinary('dnssec-keygen', 'bind9-utils');
  const signzone = requireBinary('dnssec-signzone', 'bind9-utils');
  rmSync(dir, { recursive: true, force: true });
  const keys = join(dir, 'keys');
  mkdirSync(keys, { recursive: true });
  for (const role of [[], ['-f', 'KSK']]) await runTool(keygen, ['-q', '-K', keys, '-a', 'ECDSAP256SHA256', ...role, '-n', 'ZONE', origin], 60_000, log);
  const expires = now + VALIDITY_SECONDS;
  const partial = `${file}.partial`;
  log(`signing ${data.big.file} (${data.big.records} records) with NSEC3 (no salt, 0 iterations), 2 threads; takes minutes ...`);
  // -S: keys from the key directory; -N keep: the serial as generated, so every server agrees;
  // -O full: one record per line, to count them; -P: no post-signing verification (minutes on this zone; anycast-dns checks the NSEC3 chain on load).
  await runTool(
    signzone,
    ['-q', '-S', '-P', '-K', keys, '-d', dir, '-N', 'keep', '-O', 'full', '-3', '-', '-H', '0', '-e', signzoneTime(expires), '-n', '2', '-o', origin, '-f', partial, data.big.file],
    SIGN_TIME_LIMIT_MS,
    log,
  );
  renameSync(partial, file);
  const stamp: SignStamp = { version: SIGNER_VERSION, unsignedSha256, expires, signSeconds: (Date.now() - t0) / 1000, records: countRecords(file) };
  writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + '\n');
  log(`signed in ${stamp.signSeconds.toFixed(0)} s: ${stamp.records} records, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);
  return { origin, file, stamp, reused: false };
}

// ---- spot check of DO=1 answers ----

const recordKey = (r: WireRecord): string => `${r.name.toLowerCase()} ${r.class} ${r.type} ${r.ttl} ${r.rdata.toString('hex')}`;
const sectionKey = (rs: WireRecord[]): string => rs.map(recordKey).sort().join('\n');

/** Rcode, TC and the answer and authority sections as sets of records (RRSIGs included). */
function answerKey(m: WireMessage): string {
  return `rcode ${m.rcode} tc ${m.tc}\n${sectionKey(m.answer)}\n--\n${sectionKey(m.authority)}`;
}

interface SpotResult {
  asked: number;
  /** Per server: queries it did not answer within the time-out. */
  unanswered: Map<ServerId, number>;
  /** anycast-dns differs from each reference / from both. */
  differsFrom: Map<ServerId, number>;
  differsFromAll: number;
  examples: string[];
}

/** Asks the first `n` queries of the mix with DO=1 (EDNS 1232) one at a time, and compares. */
async function spotCheck(file: string, n: number, servers: Map<ServerId, BenchServer>): Promise<SpotResult> {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).slice(0, n);
  const refs = [...servers.keys()].filter((id) => id !== 'anycast-dns');
  const res: SpotResult = { asked: 0, unanswered: new Map(), differsFrom: new Map(), differsFromAll: 0, examples: [] };
  for (const line of lines) {
    const [name, type] = line.split(' ') as [string, string];
    const keys = new Map<ServerId, string>();
    for (const [id, s] of servers) {
      try {
        const r = await dnsQuery(s, { name, type, dnssecOk: true, udpSize: 1232, timeoutMs: 2000 });
        keys.set(id, answerKey(r.message));
      } catch {
        res.unanswered.set(id, (res.unanswered.get(id) ?? 0) + 1);
      }
    }
    res.asked++;
    const ours = keys.get('anycast-dns');
    if (ours === undefined) continue;
    const differing = refs.filter((id) => keys.has(id) && keys.get(id) !== ours);
    for (const id of differing) res.differsFrom.set(id, (res.differsFrom.get(id) ?? 0) + 1);
    if (refs.length > 0 && differing.length === refs.filter((id) => keys.has(id)).length && differing.length > 0) {
      res.differsFromAll++;
      if (res.examples.length < 5) res.examples.push(line);
    }
  }
  return res;
}

// ---- run ----

function rcodeText(r: Record<string, number>): string {
  return Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const log = (s: string): void => void process.stderr.write(s + '\n');
  const data = ensureBenchData({ log, ...(o.records !== undefined ? { records: o.records } : {}) });
  const signed = await signedBenchZone(data, o.resign, log);
  const zones: ZoneSpec[] = [{ origin: signed.origin, file: signed.file }];
  const queries = data.big.queries.mixed;
  const deadline = Date.now() + o.budgetMs;
  console.log(machineLine());
  console.log(`zone: ${signed.origin} from ${data.big.records} records, signed with NSEC3 (ECDSAP256SHA256, no salt, 0 iterations): ${signed.stamp.records} records, ${signed.file}${signed.reused ? ' (cached)' : ` (signed now in ${signed.stamp.signSeconds.toFixed(0)} s)`}`);
  console.log(`queries: ${queries}; dnsperf on core ${o.clientCpu}: -c ${o.clients} -q ${o.outstanding} -t 1 -e, with and without -D (DO), ${o.seconds} s per run after ${o.warmup} s of each uncounted, ${o.rounds} round(s); servers on core ${o.serverCpu}, one worker each`);

  const { servers, stopAll } = runningServers<ServerId>();
  const failures: string[] = [];
  const memory = new Map<ServerId, ServerMemory>();
  const loadSeconds = new Map<ServerId, number>();
  // results[`${mix}/${server}`][round]
  const results = new Map<string, (DnsperfResult | undefined)[]>();
  let spot: SpotResult | undefined;

  try {
    // One at a time, so each loads the zone without competing for the core.
    for (const id of o.servers) {
      const t0 = Date.now();
      try {
        // Loading ~3M signed records takes each server tens of seconds here.
        const s = await startServer(id, zones, o.serverCpu, 300_000);
        servers.set(id, s);
        loadSeconds.set(id, (Date.now() - t0) / 1000);
        log(`started ${id} (pid ${s.pid}, port ${s.port}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (e) {
        failures.push(`${id} did not start: ${(e as Error).message.split('\n')[0]}`);
        log(`${id} did not start: ${(e as Error).message}`);
      }
    }
    // Let start-up garbage settle before reading memory.
    await sleep(2000);
    for (const [id, s] of servers) memory.set(id, serverMemory(s.pid));

    if (o.spot > 0 && servers.has('anycast-dns')) {
      spot = await spotCheck(queries, o.spot, servers);
      log(`spot check: ${spot.asked} DO=1 queries asked of every server`);
    }

    const ids = [...servers.keys()];
    // A first run on a fresh server is slower (JIT, empty response cache): warm every server on both mixes, uncounted.
    if (o.warmup > 0) {
      for (const [id, s] of servers) {
        for (const mix of MIXES) {
          try {
            await runDnsperf({ port: s.port, queryFile: queries, seconds: o.warmup, clients: o.clients, outstanding: o.outstanding, timeoutSeconds: 1, cpu: o.clientCpu, dnssecOk: mix === 'DO=1' });
          } catch (e) {
            failures.push(`warm-up of ${id} (${mix}): ${(e as Error).message}`);
          }
        }
      }
    }
    rounds: for (let round = 0; round < o.rounds; round++) {
      for (let k = 0; k < ids.length; k++) {
        const id = ids[(k + round) % ids.length]!;
        // DO=0 and DO=1 back to back on the same server, the order swapped every round.
        for (let m = 0; m < MIXES.length; m++) {
          if (Date.now() > deadline) {
            failures.push(`time budget spent: stopped in round ${round + 1}`);
            break rounds;
          }
          const mix = MIXES[(m + round) % MIXES.length]!;
          const s = servers.get(id)!;
          const key = `${mix}/${id}`;
          const list = results.get(key) ?? [];
          try {
            const r = await runDnsperf({ port: s.port, queryFile: queries, seconds: o.seconds, clients: o.clients, outstanding: o.outstanding, timeoutSeconds: 1, cpu: o.clientCpu, dnssecOk: mix === 'DO=1' });
            log(`round ${round + 1} ${id.padEnd(11)} ${mix}  ${rate(r.qps)}/s  lost ${r.lost}/${r.sent}  response ${r.avgResponseBytes} B  [${rcodeText(r.rcodes)}]`);
            list[round] = r;
          } catch (e) {
            failures.push(`dnsperf against ${id} (${mix}): ${(e as Error).message}`);
          }
          results.set(key, list);
        }
      }
    }
  } finally {
    await stopAll();
  }

  // ---- report ----
  const ids = o.servers.filter((id) => memory.has(id));
  const runs = (mix: Mix, id: ServerId): (DnsperfResult | undefined)[] => results.get(`${mix}/${id}`) ?? [];
  const ok = (mix: Mix, id: ServerId): DnsperfResult[] => runs(mix, id).flatMap((r) => (r ? [r] : []));
  /** Median over rounds of DO=1 / DO=0 measured back to back on the same server. */
  const doShare = (id: ServerId): number => {
    const a = runs('DO=1', id);
    const b = runs('DO=0', id);
    return median(a.flatMap((x, i) => (x && b[i] && b[i]!.qps > 0 ? [x.qps / b[i]!.qps] : [])));
  };
  const qpsRows: string[][] = [['server', 'DO=0 qps', '(min-max)', 'DO=1 qps', '(min-max)', 'DO=1/DO=0', 'lost DO=0', 'lost DO=1', 'response DO=0', 'DO=1', 'rcodes DO=1 (last run)']];
  for (const id of ids) {
    const cell = (mix: Mix): [string, string] => {
      const q = ok(mix, id).map((r) => r.qps);
      return q.length ? [rate(median(q)), `${rate(Math.min(...q))}-${rate(Math.max(...q))}`] : ['failed', ''];
    };
    const last = (mix: Mix): DnsperfResult | undefined => ok(mix, id).at(-1);
    qpsRows.push([
      id,
      ...cell('DO=0'),
      ...cell('DO=1'),
      times(doShare(id)),
      String(median(ok('DO=0', id).map((r) => r.lost))),
      String(median(ok('DO=1', id).map((r) => r.lost))),
      `${last('DO=0')?.avgResponseBytes ?? 'n/a'} B`,
      `${last('DO=1')?.avgResponseBytes ?? 'n/a'} B`,
      rcodeText(last('DO=1')?.rcodes ?? {}),
    ]);
  }
  console.log(`\nqueries/s, medians over rounds (DO=1/DO=0: median of the ratios measured back to back on one server)`);
  console.log(table(qpsRows));
  const verdicts: boolean[] = [];
  if (ids.includes('anycast-dns')) {
    const share = doShare('anycast-dns');
    const pass = Number.isFinite(share) ? share >= DO_SHARE_TARGET : undefined;
    verdicts.push(pass === true);
    console.log(`target anycast-dns DO=1 >= ${DO_SHARE_TARGET * 100}% of DO=0: ${times(share)} ${verdict(pass)}`);
  }

  const nsdRss = memory.get('nsd')?.treeRssKiB ?? NaN;
  const memRows: string[][] = [['server', 'RSS loaded', 'vs nsd', 'PSS loaded', 'processes', 'load time']];
  for (const id of ids) {
    const m = memory.get(id)!;
    memRows.push([id, mib(m.treeRssKiB), times(ratio(m.treeRssKiB, nsdRss)), mib(m.pssKiB), String(m.processes), `${loadSeconds.get(id)!.toFixed(1)} s`]);
  }
  console.log("\nmemory with the signed zone loaded (RSS of the server's process tree, shared pages counted once)");
  console.log(table(memRows));

  if (spot) {
    const refs = [...spot.differsFrom.keys()];
    const un = [...spot.unanswered].map(([id, n]) => `${id} ${n}`).join(', ') || 'none';
    console.log(`\nspot check, ${spot.asked} DO=1 queries of the mix (rcode, TC, answer and authority records with their RRSIGs): unanswered: ${un}`);
    console.log(`anycast-dns differs from ${ids.filter((id) => id !== 'anycast-dns').map((id) => `${id} in ${spot!.differsFrom.get(id) ?? 0}`).join(', ') || 'no reference'}; from every reference in ${spot.differsFromAll}${spot.examples.length ? `: e.g. ${spot.examples.join('; ')}` : ''}`);
    if (spot.differsFromAll > 0) failures.push(`${spot.differsFromAll} DO=1 answers differ from every reference (${refs.join(', ')})`);
  }
  if (failures.length) {
    console.log('\nfailures:');
    for (const f of failures) console.log(`  ${f}`);
  }
  console.log(`\n${SAME_RUN_NOTE}`);
  return failures.length === 0 && verdicts.every(Boolean) ? 0 : 1;
}

runMain('dnssec-bench', main);
