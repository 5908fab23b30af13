// `npm run bench:zones`: a POP serving many small customer zones (8 records each: SOA, two NS, A,
// www, mail, MX, TXT), anycast-dns beside NSD and Knot DNS in the same run, one worker each:
// - start: from the process's start until every zone answers its SOA (asked over UDP: a random
//   sample of those left while many are, then all that are left; `--probe all` asks all each round),
//   and the server's memory then (RSS of its processes, and PSS, which counts pages NSD's processes
//   share once);
// - anycast-dns only: one zone changed alone, then one zone changed while every other file is
//   rewritten unchanged (a `git checkout`): how long until the new serial is served;
// - anycast-dns only: SIGTERM during the load of every zone: how long until it exits, and its status.
// A `mix` case adds a few large zones to the small ones.
//
//   node dist/bench/many-zones-bench.js [--zones 1000,10000,100000] [--mix 10000] [--large-records 200000] [--servers anycast-dns,nsd,knot] [--limit-s 600] [--probe sample|all] [--rounds 1]
//
// --rounds N starts every server N times per case, in turn, and reports each round's ratios (each
// against NSD's start of the same round) and their median: on a shared machine one round's ratio
// moves with whatever else runs meanwhile.
//
// Targets (issue 23, same run, 10,000 zones): every zone served after start in at most 2x NSD's time;
// RSS at most NSD's; after every file was touched with one zone changed, that zone served within 2x
// a fresh start's time; one zone changed alone within settle_time + 1 s; 100,000 zones start in at
// most 12x the 10,000-zone time; SIGTERM during the load: exit within 5 s, status 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI_JS } from '../test/helpers/paths.js';
import { freePort, requireBinary } from '../test/helpers/peers.js';
import { SERVE_NODE_FLAGS } from '../src/server/node-flags.js';
import { onInterrupt, runMain } from './cleanup.js';
import { OptionReader } from './options.js';
import { table } from './report.js';

type ServerName = 'anycast-dns' | 'nsd' | 'knot';
const SETTLE_S = 1;

interface Started {
  child: ChildProcess;
  port: number;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

function zoneName(i: number): string {
  return `customer${i}.example`;
}

function smallZone(origin: string, serial: number): string {
  return [
    '$TTL 3600',
    `@ IN SOA ns1.example.net. hostmaster.${origin}. ${serial} 7200 3600 1209600 300`,
    '@ IN NS ns1.example.net.',
    '@ IN NS ns2.example.net.',
    '@ IN A 192.0.2.1',
    'www IN A 192.0.2.2',
    'mail IN A 192.0.2.3',
    `@ IN MX 10 mail.${origin}.`,
    '@ IN TXT "v=spf1 mx -all"',
    '',
  ].join('\n');
}

function largeZone(origin: string, records: number): string {
  const lines = [smallZone(origin, 1)];
  for (let i = 0; i < records; i++) lines.push(`h${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  return lines.join('\n') + '\n';
}

/** Writes the zones into a new directory; returns it and the origins (without the final dot). */
function writeZones(small: number, large: number, largeRecords: number): { dir: string; origins: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-many-zones-'));
  const origins: string[] = [];
  for (let i = 0; i < small; i++) {
    const o = zoneName(i);
    writeFileSync(join(dir, `${o}.zone`), smallZone(o, 1));
    origins.push(o);
  }
  for (let i = 0; i < large; i++) {
    const o = `large${i}.example`;
    writeFileSync(join(dir, `${o}.zone`), largeZone(o, largeRecords));
    origins.push(o);
  }
  return { dir, origins };
}

function launch(name: ServerName, dir: string, origins: string[], work: string, port: number): ChildProcess {
  if (name === 'anycast-dns') {
    const config = { identity: 'bench', listen: [`127.0.0.1:${port}`], zones: dir, log_level: 'warn', rrl: { responses_per_second: 0 }, zone_sync: { settle_time: SETTLE_S } };
    writeFileSync(join(work, 'anycast-dns.yaml'), stringify(config));
    return spawn(process.execPath, [...SERVE_NODE_FLAGS, CLI_JS, 'serve', '--config', join(work, 'anycast-dns.yaml')], { stdio: 'ignore' });
  }
  if (name === 'nsd') {
    const conf = ['server:', `  ip-address: 127.0.0.1@${port}`, `  port: ${port}`, '  server-count: 1', '  username: ""', '  database: ""', `  pidfile: "${work}/nsd.pid"`, `  zonesdir: "${work}"`, `  xfrdfile: "${work}/xfrd.state"`, `  xfrdir: "${work}"`, `  zonelistfile: "${work}/zone.list"`, `  cookie-secret-file: "${work}/cookiesecrets.txt"`, '  verbosity: 1', '  rrl-ratelimit: 0', 'remote-control:', '  control-enable: no'];
    for (const o of origins) conf.push('zone:', `  name: "${o}."`, `  zonefile: "${dir}/${o}.zone"`);
    writeFileSync(join(work, 'nsd.conf'), conf.join('\n') + '\n');
    return spawn(requireBinary('nsd', 'nsd'), ['-d', '-c', join(work, 'nsd.conf')], { stdio: 'ignore' });
  }
  const conf = ['server:', `    rundir: "${work}"`, `    pidfile: "${work}/knot.pid"`, `    listen: [ 127.0.0.1@${port} ]`, '    udp-workers: 1', '    tcp-workers: 1', '    background-workers: 1', 'log:', '  - target: stderr', '    any: error', 'database:', `    storage: "${work}"`, 'template:', '  - id: default', `    storage: "${work}"`, '    semantic-checks: off', '    zonefile-sync: -1', '    zonefile-load: whole', '    journal-content: none', 'zone:'];
  for (const o of origins) conf.push(`  - domain: "${o}."`, `    file: "${dir}/${o}.zone"`);
  writeFileSync(join(work, 'knot.conf'), conf.join('\n') + '\n');
  return spawn(requireBinary('knotd', 'knot'), ['-c', join(work, 'knot.conf')], { stdio: 'ignore' });
}

function start(name: ServerName, dir: string, origins: string[], port: number): Started {
  const work = mkdtempSync(join(tmpdir(), `anycast-dns-many-${name}-`));
  const child = launch(name, dir, origins, work, port);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> | null = null;
  const stop = (): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> =>
    (stopping ??= (async () => {
      const t = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const r = await exited;
      clearTimeout(kill);
      rmSync(work, { recursive: true, force: true });
      return { ...r, ms: Date.now() - t };
    })());
  onInterrupt(async () => void (await stop()));
  return { child, port, stop };
}

function soaQuery(id: number, name: string): Buffer {
  const parts = [Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of name.split('.')) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0, 0, 6, 0, 1]));
  return Buffer.concat(parts);
}

/** The SOA serial in a NOERROR answer whose first record is a SOA, or null. */
function answeredSerial(msg: Buffer): number | null {
  if ((msg[3]! & 15) !== 0 || msg.readUInt16BE(6) === 0) return null;
  let p = 12;
  while (msg[p] !== 0) p += msg[p]! + 1;
  p += 5;
  // The answer's owner: a compression pointer, or labels.
  if ((msg[p]! & 0xc0) === 0xc0) p += 2;
  else {
    while (msg[p] !== 0) p += msg[p]! + 1;
    p++;
  }
  if (msg.readUInt16BE(p) !== 6) return null;
  const end = p + 10 + msg.readUInt16BE(p + 8);
  return msg.readUInt32BE(end - 20);
}

/**
 * How the start is watched. `all`: every zone not yet answered is asked, again and again (each round
 * of 10,000 zones is 10,000 queries). `sample`: while many are left, each round asks a random sample
 * of them, and only once a whole sample has answered are all that are left asked. A POP that is
 * loading has its route withdrawn and gets no queries, so the watching should cost the server as
 * little as it can: `all` keeps a server that answers while it loads (SERVFAIL for what is not in
 * yet) busy answering, where a server that listens only once loaded (NSD) pays the kernel's
 * port-unreachable alone.
 */
type Probe = 'all' | 'sample';
/** Zones asked in a sampled round. */
const SAMPLE = 100;
/** The pause between rounds. */
const ROUND_PAUSE_MS = 20;

/**
 * Asks origins' SOAs (as `probe` says) until each has answered (with `serial` when given) or
 * `limitMs` passed; resolves with the time it took, or null.
 */
async function untilAllAnswer(port: number, origins: string[], limitMs: number, serial: number | null = null, exited?: () => boolean, probe: Probe = 'all'): Promise<number | null> {
  const t0 = Date.now();
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const pending = new Set(origins.map((_, i) => i));
  const inflight = new Map<number, number>();
  let id = 0;
  sock.on('message', (m) => {
    const z = inflight.get(m.readUInt16BE(0));
    if (z === undefined) return;
    inflight.delete(m.readUInt16BE(0));
    const got = answeredSerial(m);
    if (got !== null && (serial === null || got === serial)) pending.delete(z);
  });
  /** The last round asked a sample, every zone of which has answered: ask all that are left. */
  let sampleAnswered = false;
  try {
    while (pending.size > 0 && Date.now() - t0 < limitMs && !(exited?.() ?? false)) {
      inflight.clear();
      const left = [...pending];
      const sampled: boolean = probe === 'sample' && left.length > SAMPLE && !sampleAnswered;
      const list: number[] = sampled ? randomSample(left, SAMPLE) : left;
      for (let k = 0; k < list.length; k += 100) {
        for (const z of list.slice(k, k + 100)) {
          id = (id % 0xffff) + 1;
          inflight.set(id, z);
          sock.send(soaQuery(id, origins[z]!), port, '127.0.0.1');
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      await new Promise((r) => setTimeout(r, probe === 'sample' ? ROUND_PAUSE_MS : 50));
      sampleAnswered = sampled && list.every((z) => !pending.has(z));
    }
  } finally {
    sock.close();
  }
  return pending.size === 0 ? Date.now() - t0 : null;
}

/** `n` distinct items of `from`, at random. */
function randomSample(from: number[], n: number): number[] {
  const a = from.slice();
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (a.length - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}

function processTree(pid: number): number[] {
  const out = [pid];
  try {
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(/\s+/)) if (c !== '') out.push(...processTree(Number(c)));
  } catch {
    // gone
  }
  return out;
}

/** RSS and PSS of a process and its children, in MiB (smaps_rollup). */
function memory(pid: number): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const p of processTree(pid)) {
    try {
      const t = readFileSync(`/proc/${p}/smaps_rollup`, 'latin1');
      rss += Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0) / 1024;
      pss += Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0) / 1024;
    } catch {
      // gone
    }
  }
  return { rss, pss };
}

interface StartResult {
  server: ServerName;
  zones: string;
  round: number;
  servedMs: number | null;
  rss: number;
  pss: number;
}

async function measureStart(name: ServerName, label: string, round: number, dir: string, origins: string[], limitMs: number, probe: Probe): Promise<{ result: StartResult; server: Started }> {
  const port = await freePort(false);
  const server = start(name, dir, origins, port);
  const exited = (): boolean => server.child.exitCode !== null || server.child.signalCode !== null;
  const servedMs = await untilAllAnswer(port, origins, limitMs, null, exited, probe);
  // Memory once every zone is served and the loading is over (anycast-dns ends idle loader threads).
  await new Promise((r) => setTimeout(r, 12_000));
  const mem = memory(server.child.pid!);
  return { result: { server: name, zones: label, round, servedMs, rss: mem.rss, pss: mem.pss }, server };
}

/**
 * Rewrites every zone file of `dir` (the same bytes), zone `changed` with serial 2; resolves with the
 * time from the first write until the change is served (with 100,000 files the writing itself takes
 * seconds, and the server sees the first events meanwhile).
 */
async function touchAllChangeOne(port: number, dir: string, origins: string[], changed: number, limitMs: number): Promise<number | null> {
  const t0 = Date.now();
  for (let i = 0; i < origins.length; i++) {
    const o = origins[i]!;
    const file = join(dir, `${o}.zone`);
    writeFileSync(file, i === changed ? smallZone(o, 2) : readFileSync(file));
  }
  const served = await untilAllAnswer(port, [origins[changed]!], limitMs, 2);
  return served === null ? null : Date.now() - t0;
}

async function sigtermDuringLoad(dir: string, origins: string[]): Promise<{ afterMs: number; exitMs: number; code: number | null; signal: NodeJS.Signals | null }> {
  const port = await freePort(false);
  const t0 = Date.now();
  const server = start('anycast-dns', dir, origins, port);
  // Sent once the first zone answers: the load is under way.
  await untilAllAnswer(port, [origins[0]!], 60_000);
  const afterMs = Date.now() - t0;
  const r = await server.stop();
  return { afterMs, exitMs: r.ms, code: r.code, signal: r.signal };
}

async function main(argv: string[]): Promise<number> {
  let sizes = [1000, 10_000];
  let mix = 10_000;
  let largeRecords = 200_000;
  let servers: ServerName[] = ['anycast-dns', 'nsd', 'knot'];
  let limitMs = 600_000;
  let probe: Probe = 'sample';
  let rounds = 1;
  const opts = new OptionReader(argv);
  for (const flag of opts) {
    if (flag === '--zones') sizes = opts.value().split(',').map(Number);
    else if (flag === '--mix') mix = opts.int();
    else if (flag === '--large-records') largeRecords = opts.int();
    else if (flag === '--servers') servers = opts.value().split(',') as ServerName[];
    else if (flag === '--limit-s') limitMs = opts.int() * 1000;
    else if (flag === '--probe') probe = opts.oneOf(['all', 'sample']);
    else if (flag === '--rounds') rounds = opts.int();
    else throw new Error(`unknown option ${flag}`);
  }
  const starts: StartResult[] = [];
  const changes: string[][] = [];
  const cases: { label: string; small: number; large: number }[] = sizes.map((n) => ({ label: n.toLocaleString('en'), small: n, large: 0 }));
  if (mix > 0) cases.push({ label: `${mix.toLocaleString('en')} + 3 large`, small: mix, large: 3 });
  for (const c of cases) {
    const { dir, origins } = writeZones(c.small, c.large, largeRecords);
    onInterrupt(() => rmSync(dir, { recursive: true, force: true }));
    try {
      for (let round = 1; round <= rounds; round++) {
        for (const name of servers) {
          process.stderr.write(`${c.label} zones: ${name}${rounds > 1 ? `, round ${round}` : ''} ...\n`);
          const { result, server } = await measureStart(name, c.label, round, dir, origins, limitMs, probe);
          starts.push(result);
          if (name === 'anycast-dns' && round === 1 && c.large === 0 && result.servedMs !== null) {
            const one = Math.floor(c.small / 2);
            // One zone alone first, while the server is idle (the rewrite of every file below leaves a scan running for a while).
            writeFileSync(join(dir, `${origins[one + 1]!}.zone`), smallZone(origins[one + 1]!, 2));
            const alone = await untilAllAnswer(server.port, [origins[one + 1]!], limitMs, 2);
            const touched = await touchAllChangeOne(server.port, dir, origins, one, limitMs);
            changes.push([c.label, ms(touched), ms(result.servedMs), ratio(touched, result.servedMs), ms(alone), `${SETTLE_S + 1} s`]);
            // Back to serial 1 for the other servers.
            for (const i of [one, one + 1]) writeFileSync(join(dir, `${origins[i]!}.zone`), smallZone(origins[i]!, 1));
          }
          await server.stop();
        }
      }
      if (servers.includes('anycast-dns') && c.small === 10_000 && c.large === 0) {
        const s = await sigtermDuringLoad(dir, origins);
        process.stdout.write(`\nSIGTERM during the load of ${c.label} zones (sent ${s.afterMs} ms after start, once the first zone answered): exited in ${s.exitMs} ms, status ${s.code ?? s.signal}\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const nsdOf = (r: StartResult): StartResult | undefined => starts.find((s) => s.server === 'nsd' && s.zones === r.zones && s.round === r.round);
  process.stdout.write('\nEvery zone served after start (same run):\n\n');
  process.stdout.write(
    table([
      ['zones', 'round', 'server', 'served after', 'vs NSD', 'RSS MiB', 'PSS MiB', 'RSS vs NSD'],
      ...starts.map((s) => [s.zones, String(s.round), s.server, ms(s.servedMs), ratio(s.servedMs, nsdOf(s)?.servedMs ?? null), s.rss.toFixed(1), s.pss.toFixed(1), ratio(s.rss, nsdOf(s)?.rss ?? null)]),
    ]) + '\n',
  );
  if (rounds > 1) {
    const medians: string[][] = [];
    for (const c of cases) {
      for (const name of servers.filter((n) => n !== 'nsd')) {
        const mine = starts.filter((s) => s.zones === c.label && s.server === name);
        const times = mine.map((s) => quotient(s.servedMs, nsdOf(s)?.servedMs ?? null));
        const rss = mine.map((s) => quotient(s.rss, nsdOf(s)?.rss ?? null));
        medians.push([c.label, name, times.map(times1).join(', '), times1(median(times)), rss.map(times1).join(', '), times1(median(rss))]);
      }
    }
    process.stdout.write(`\nAgainst NSD's start of the same round, ${rounds} rounds:\n\n`);
    process.stdout.write(table([['zones', 'server', 'served after, each round', 'median', 'RSS, each round', 'median'], ...medians]) + '\n');
  }
  const a = (n: string): number | null => starts.find((s) => s.server === 'anycast-dns' && s.zones === n && s.round === 1)?.servedMs ?? null;
  if (a('100,000') !== null) process.stdout.write(`\nanycast-dns 100,000 zones start vs 10,000: ${ratio(a('100,000'), a('10,000'))} (target at most 12x)\n`);
  if (changes.length > 0) {
    process.stdout.write('\nanycast-dns, one zone changed (settle_time 1 s):\n\n');
    process.stdout.write(table([['zones', 'every file touched, one changed: served after', 'fresh start', 'ratio', 'one changed alone: served after', 'target'], ...changes]) + '\n');
  }
  return 0;
}

function ms(v: number | null): string {
  return v === null ? 'timed out' : `${(v / 1000).toFixed(2)} s`;
}

function ratio(a: number | null, b: number | null): string {
  return times1(quotient(a, b));
}

function quotient(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

function times1(q: number | null): string {
  return q === null ? '-' : `${q.toFixed(2)}x`;
}

/** The median of the values known (null when none is). */
function median(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null).sort((x, y) => x - y);
  if (known.length === 0) return null;
  const mid = known.length >> 1;
  return known.length % 2 === 1 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
}

runMain('bench:zones', () => main(process.argv.slice(2)));
