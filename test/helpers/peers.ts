// Real DNS servers on loopback for tests and benchmarks: Knot DNS, BIND 9, NSD and anycast-dns
// itself, each started in the foreground as a child process on a free port, in its own temporary
// directory, serving the zone files given, and stopped by PID.
//
//   const knot = await startKnot([{ origin: 'example.com.', file: '/abs/example.com.zone' }]);
//   const reply = await dnsQuery(knot, { name: 'www.example.com', type: 'A' });
//   await knot.stop();
//
// Every start resolves only once the server answers an authoritative SOA query for every zone, so
// the caller can query at once. A missing binary is an error (never a skip): a test that needs a
// peer must fail where the peer is not installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { dnsQuery } from './dns-query.js';
import { CLI_JS, REPO_ROOT } from './paths.js';
import { SERVE_NODE_FLAGS } from '../../src/server/node-flags.js';
import { udpIoForTests } from './udp-paths.js';

export { dnsQuery } from './dns-query.js';
export type { QueryOptions, QueryReply, QueryTarget } from './dns-query.js';

export interface ZoneSpec {
  /** Absolute or relative origin (`example.com`, `example.com.`, `.` for the root). */
  origin: string;
  /** Path of the zone's master file (absolute, or relative to the current directory). */
  file: string;
}

export interface PeerOptions {
  /** The server's name for NSID, CH TXT `id.server` and `hostname.bind` (default `diff-pop`). */
  identity?: string;
  /** CH TXT `version.bind` (default `diff-version`). */
  version?: string;
  /** Pin the server to this CPU, or CPU list such as `0-3` (`taskset -c`), as benchmarks do. */
  cpu?: number | string;
  /** Worker threads or processes (default 1). */
  workers?: number;
  /** Also listen on [::1] on the same port (default true). */
  ipv6?: boolean;
  /** How long to wait for the server to answer for every zone (default 30 s; BIND reads the root zone in ~2 s). */
  startTimeoutMs?: number;
  /** BIND only: more statements for named.conf's `options { }`, e.g. a `rate-limit { ... };`. */
  namedOptions?: string[];
}

export interface AnycastOptions extends PeerOptions {
  /** More top-level config keys for anycast-dns (e.g. `{ edns_udp_size: 1232 }`), merged into the YAML. */
  extraConfig?: Record<string, unknown>;
  /** Serve this zones directory as it is (zone sync tests change it) instead of one of symlinks to the zone files. */
  zonesDir?: string;
  /** The Node.js binary to run it on (default: the one running this process), e.g. `NODE24`. */
  node?: string;
}

export interface RunningPeer {
  /** `knot`, `bind`, `nsd` or `anycast-dns`. */
  readonly name: string;
  /** UDP and TCP port on 127.0.0.1 (and [::1] unless `ipv6: false`). */
  readonly port: number;
  readonly pid: number;
  /** The server's temporary directory (config, pid file, logs); removed by stop(). */
  readonly dir: string;
  /** Everything the server wrote to stdout and stderr so far. */
  log(): string;
  /** Sends SIGTERM (SIGKILL after 5 s), waits for the exit and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Thrown when a server binary is not installed (the caller's test fails with this message). */
export class MissingPeerError extends Error {}

const DEFAULT_IDENTITY = 'diff-pop';
const DEFAULT_VERSION = 'diff-version';

/** Absolute path of `bin` on PATH (or in /usr/sbin, /sbin), or a MissingPeerError naming the Debian package. */
export function requireBinary(bin: string, debianPackage: string): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (d && existsSync(join(d, bin))) return join(d, bin);
  }
  throw new MissingPeerError(
    `${bin} is not installed (Debian package ${debianPackage}); the differential tests need the real server: apt-get install ${debianPackage}`,
  );
}

function absoluteOrigin(origin: string): string {
  const o = origin.trim().toLowerCase();
  if (o === '' || o === '.') return '.';
  return o.endsWith('.') ? o : o + '.';
}

function tryBind(kind: 'tcp4' | 'tcp6' | 'udp4' | 'udp6', port: number): Promise<number | null> {
  const host = kind.endsWith('6') ? '::1' : '127.0.0.1';
  return new Promise((done) => {
    if (kind.startsWith('tcp')) {
      const srv = createServer();
      srv.once('error', () => done(null));
      srv.listen({ host, port, exclusive: true }, () => {
        const got = (srv.address() as { port: number }).port;
        srv.close(() => done(got));
      });
    } else {
      const sock = createSocket(kind as 'udp4' | 'udp6');
      sock.once('error', () => {
        sock.close();
        done(null);
      });
      sock.bind({ address: host, port, exclusive: true }, () => {
        const got = sock.address().port;
        sock.close(() => done(got));
      });
    }
  });
}

/**
 * A port free right now for UDP and TCP on 127.0.0.1 (and ::1 when `ipv6`): the kernel picks a TCP
 * port, then the other three sockets are tried on it. Another process may still take it before the
 * server binds; the readiness check then fails loudly rather than talking to a stranger.
 */
export async function freePort(ipv6 = true): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryBind('tcp4', 0);
    if (port === null) continue;
    const others: ('udp4' | 'tcp6' | 'udp6')[] = ipv6 ? ['udp4', 'tcp6', 'udp6'] : ['udp4'];
    let ok = true;
    for (const k of others) if ((await tryBind(k, port)) === null) ok = false;
    if (ok) return port;
  }
  throw new Error('freePort: no port free for both UDP and TCP after 50 attempts');
}

/** Children still running: killed synchronously if the test process exits without stopping them. */
const live = new Map<number, { child: ChildProcess; dir: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const [pid, { dir }] of live) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

interface LaunchSpec {
  name: string;
  command: string;
  args: string[];
  dir: string;
  port: number;
  zones: ZoneSpec[];
  opts: PeerOptions;
  cwd?: string;
}

async function launch(spec: LaunchSpec): Promise<RunningPeer> {
  installExitHook();
  const logPath = join(spec.dir, 'server.log');
  const logFd = openSync(logPath, 'a');
  // Output goes to a file, never a pipe nobody reads (a full pipe would stall the server).
  const [cmd, args] = spec.opts.cpu === undefined ? [spec.command, spec.args] : ['taskset', ['-c', String(spec.opts.cpu), spec.command, ...spec.args]];
  const child = spawn(cmd, args, { cwd: spec.cwd ?? spec.dir, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(spec.dir, { recursive: true, force: true });
    throw new Error(`${spec.name}: could not start ${cmd}`);
  }
  live.set(pid, { child, dir: spec.dir });
  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitPromise = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(pid);
      done();
    });
  });
  const log = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      rmSync(spec.dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const peer: RunningPeer = { name: spec.name, port: spec.port, pid, dir: spec.dir, log, stop };

  const deadline = Date.now() + (spec.opts.startTimeoutMs ?? 30_000);
  const pending = new Set(spec.zones.map((z) => absoluteOrigin(z.origin)));
  let lastProblem = 'no reply yet';
  while (pending.size > 0) {
    if (exited !== null) {
      const { code, signal } = exited;
      const text = log();
      await stop();
      throw new Error(`${spec.name} exited during start-up (code ${code}, signal ${signal}); its output:\n${text.slice(-4000)}`);
    }
    if (Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`${spec.name} did not answer SOA for ${[...pending].join(' ')} within ${spec.opts.startTimeoutMs ?? 30_000} ms (${lastProblem}); its output:\n${text.slice(-4000)}`);
    }
    for (const origin of [...pending]) {
      try {
        const r = await dnsQuery({ port: spec.port }, { name: origin, type: 'SOA', timeoutMs: 300 });
        if (r.message.rcode === 0 && r.message.aa && r.message.answer.some((rr) => rr.type === 6)) pending.delete(origin);
        else lastProblem = `${origin} SOA: rcode ${r.message.rcode}, aa ${r.message.aa}`;
      } catch (err) {
        lastProblem = (err as Error).message;
      }
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
  return peer;
}

function newDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `anycast-dns-${name}-`));
}

function zoneFiles(zones: ZoneSpec[]): { origin: string; file: string }[] {
  if (zones.length === 0) throw new Error('a peer needs at least one zone');
  return zones.map((z) => ({ origin: absoluteOrigin(z.origin), file: resolve(z.file) }));
}

/** Quoted for Knot's YAML-like config and BIND's/NSD's config: a double-quoted string with \ and " escaped. */
function q(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/**
 * Knot DNS (`knotd -c conf`, foreground). Semantic checks off and no journal or zone-file writes, so
 * it serves exactly what the files say; timers, journal and KASP databases live in the temp dir.
 */
export async function startKnot(zones: ZoneSpec[], opts: PeerOptions = {}): Promise<RunningPeer> {
  const knotd = requireBinary('knotd', 'knot');
  const files = zoneFiles(zones);
  const ipv6 = opts.ipv6 ?? true;
  const port = await freePort(ipv6);
  const dir = newDir('knot');
  const workers = opts.workers ?? 1;
  const listen = [`127.0.0.1@${port}`, ...(ipv6 ? [`::1@${port}`] : [])];
  const conf = [
    'server:',
    `    rundir: ${q(dir)}`,
    `    pidfile: ${q(join(dir, 'knot.pid'))}`,
    `    listen: [ ${listen.join(', ')} ]`,
    `    identity: ${q(opts.identity ?? DEFAULT_IDENTITY)}`,
    `    version: ${q(opts.version ?? DEFAULT_VERSION)}`,
    `    nsid: ${q(opts.identity ?? DEFAULT_IDENTITY)}`,
    `    udp-workers: ${workers}`,
    `    tcp-workers: ${workers}`,
    '    background-workers: 1',
    'log:',
    '  - target: stderr',
    '    any: notice',
    'database:',
    `    storage: ${q(dir)}`,
    'template:',
    '  - id: default',
    `    storage: ${q(dir)}`,
    '    semantic-checks: off',
    '    zonefile-sync: -1',
    '    zonefile-load: whole',
    '    journal-content: none',
    'zone:',
    ...files.flatMap((z) => [`  - domain: ${q(z.origin)}`, `    file: ${q(z.file)}`]),
    '',
  ].join('\n');
  const confPath = join(dir, 'knot.conf');
  writeFileSync(confPath, conf);
  return launch({ name: 'knot', command: knotd, args: ['-c', confPath], dir, port, zones: files, opts });
}

/**
 * BIND 9 (`named -g`, foreground, no rndc). Recursion off; zone-load checks off so it serves the files
 * as written. `minimal-responses` is left at BIND's default (`no-auth-recursive` in 9.18): to a query
 * without RD, positive answers carry the apex NS in authority and its addresses in additional.
 */
export async function startBind(zones: ZoneSpec[], opts: PeerOptions = {}): Promise<RunningPeer> {
  const named = requireBinary('named', 'bind9');
  const files = zoneFiles(zones);
  const ipv6 = opts.ipv6 ?? true;
  const port = await freePort(ipv6);
  const dir = newDir('bind');
  const identity = opts.identity ?? DEFAULT_IDENTITY;
  const conf = [
    'options {',
    `  directory ${q(dir)};`,
    `  pid-file ${q(join(dir, 'named.pid'))};`,
    `  session-keyfile ${q(join(dir, 'session.key'))};`,
    `  managed-keys-directory ${q(dir)};`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    ipv6 ? `  listen-on-v6 port ${port} { ::1; };` : '  listen-on-v6 { none; };',
    '  recursion no;',
    '  allow-query { any; };',
    '  notify no;',
    '  dnssec-validation no;',
    '  check-names primary ignore;',
    '  check-integrity no;',
    '  check-mx ignore;',
    '  check-mx-cname ignore;',
    '  check-srv-cname ignore;',
    '  check-wildcard no;',
    '  check-sibling no;',
    '  check-dup-records ignore;',
    '  check-spf ignore;',
    `  server-id ${q(identity)};`,
    `  hostname ${q(identity)};`,
    `  version ${q(opts.version ?? DEFAULT_VERSION)};`,
    ...(opts.namedOptions ?? []).map((line) => `  ${line}`),
    '};',
    'controls { };',
    ...files.map((z) => `zone ${q(z.origin)} { type primary; file ${q(z.file)}; };`),
    '',
  ].join('\n');
  const confPath = join(dir, 'named.conf');
  writeFileSync(confPath, conf);
  return launch({ name: 'bind', command: named, args: ['-g', '-c', confPath, '-n', String(opts.workers ?? 1)], dir, port, zones: files, opts });
}

/**
 * NSD (`nsd -d`, foreground), no database file, no privilege drop, state files in the temp dir.
 * NSD keeps one name table for all its zones (it answers `test. A` NOERROR when serving the root
 * and `tricky.test`): don't use it as the reference for multi-zone answers. It also refuses a zone
 * whose file repeats the SOA (as AXFR dumps such as the 2018 root zone do).
 */
export async function startNsd(zones: ZoneSpec[], opts: PeerOptions = {}): Promise<RunningPeer> {
  const nsd = requireBinary('nsd', 'nsd');
  const files = zoneFiles(zones);
  const ipv6 = opts.ipv6 ?? true;
  const port = await freePort(ipv6);
  const dir = newDir('nsd');
  const identity = opts.identity ?? DEFAULT_IDENTITY;
  const conf = [
    'server:',
    `  ip-address: 127.0.0.1@${port}`,
    ...(ipv6 ? [`  ip-address: ::1@${port}`] : []),
    `  port: ${port}`,
    `  server-count: ${opts.workers ?? 1}`,
    '  username: ""',
    '  database: ""',
    `  pidfile: ${q(join(dir, 'nsd.pid'))}`,
    `  zonesdir: ${q(dir)}`,
    `  xfrdfile: ${q(join(dir, 'xfrd.state'))}`,
    `  xfrdir: ${q(dir)}`,
    `  zonelistfile: ${q(join(dir, 'zone.list'))}`,
    `  cookie-secret-file: ${q(join(dir, 'cookiesecrets.txt'))}`,
    `  identity: ${q(identity)}`,
    `  nsid: ${q('ascii_' + identity)}`,
    `  version: ${q(opts.version ?? DEFAULT_VERSION)}`,
    '  verbosity: 1',
    // Debian builds NSD with response rate limiting on (200 responses/s per source): tests and
    // benchmarks on 127.0.0.1 would measure the limiter, not the server.
    '  rrl-ratelimit: 0',
    '  rrl-whitelist-ratelimit: 0',
    'remote-control:',
    '  control-enable: no',
    ...files.flatMap((z) => ['zone:', `  name: ${q(z.origin)}`, `  zonefile: ${q(z.file)}`]),
    '',
  ].join('\n');
  const confPath = join(dir, 'nsd.conf');
  writeFileSync(confPath, conf);
  return launch({ name: 'nsd', command: nsd, args: ['-d', '-c', confPath], dir, port, zones: files, opts });
}

/**
 * anycast-dns itself (`node dist/src/cli.js serve --config <tmp yaml>`; build first with `npx tsc -p .`).
 * The zone files are symlinked into a zones directory as `<origin>.zone` (`root.zone` for the root);
 * a `$INCLUDE` is then resolved against that directory, so pass zones without includes.
 */
export async function startAnycastDns(zones: ZoneSpec[], opts: AnycastOptions = {}): Promise<RunningPeer> {
  if (!existsSync(CLI_JS)) throw new MissingPeerError(`${CLI_JS} is missing: build anycast-dns first (npx tsc -p .)`);
  const files = zoneFiles(zones);
  const ipv6 = opts.ipv6 ?? true;
  const port = await freePort(ipv6);
  const dir = newDir('anycast');
  let zonesDir = opts.zonesDir;
  if (zonesDir === undefined) {
    zonesDir = join(dir, 'zones');
    mkdirSync(zonesDir);
    for (const z of files) {
      const base = z.origin === '.' ? 'root.zone' : `${z.origin.slice(0, -1)}.zone`;
      symlinkSync(isAbsolute(z.file) ? z.file : resolve(z.file), join(zonesDir, base));
    }
  }
  const config: Record<string, unknown> = {
    identity: opts.identity ?? DEFAULT_IDENTITY,
    listen: [`127.0.0.1:${port}`, ...(ipv6 ? [`[::1]:${port}`] : [])],
    zones: zonesDir,
    version: opts.version ?? DEFAULT_VERSION,
    ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    // Response rate limiting is on by default (200 responses/s per /24): tests and benchmarks that
    // ask from 127.0.0.1 would measure the limiter, as with NSD above. extraConfig can turn it on.
    rrl: { responses_per_second: 0 },
    // The management endpoint is on by default at one fixed loopback port, which servers started
    // side by side would share: off, unless extraConfig gives it a port (0 for any free one).
    management: { listen: null },
    // The UDP path the suite runs on (scripts/test.sh runs the UDP tests on each).
    ...udpIoForTests(),
    ...opts.extraConfig,
  };
  const confPath = join(dir, 'anycast-dns.yaml');
  writeFileSync(confPath, stringify(config));
  return launch({ name: 'anycast-dns', command: opts.node ?? process.execPath, args: [...SERVE_NODE_FLAGS, CLI_JS, 'serve', '--config', confPath], dir, port, zones: files, opts, cwd: REPO_ROOT });
}
