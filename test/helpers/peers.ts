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
// peer must fail where the peer is not installed. Each server is a PeerKind (its program, config
// text and command line); startPeer starts any kind, the benchmarks' own servers too.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { WireMessage } from './dns-message.js';
import { dnsQuery } from './dns-query.js';
import { terminate } from './child.js';
import { waitFor } from './wait.js';
import { CLI_JS, REPO_ROOT } from './paths.js';
import { SERVE_NODE_FLAGS } from '../../src/server/node-flags.js';
import { udpIoForTests } from './udp-paths.js';

export { dnsQuery } from './dns-query.js';

export interface ZoneSpec {
  /** Absolute or relative origin (`example.com`, `example.com.`, `.` for the root). */
  origin: string;
  /** Path of the zone's master file (absolute, or relative to the current directory). */
  file: string;
  /** Knot only: more settings of this zone (e.g. `catalog-role: member`). */
  knot?: string[];
  /** The server does not answer for this zone (Knot's catalog zones): start-up does not wait for it. */
  unanswered?: boolean;
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
  /** BIND only: more statements for each primary zone's `zone { }`, e.g. `also-notify { ... };`. */
  namedZone?: string[];
  /**
   * Knot only: more lines for knot.conf: `server` settings (e.g. `edns-client-subnet: on`), whole
   * sections before `zone:` (e.g. a `mod-geoip:` list), and settings of every zone (e.g. `module: mod-geoip/geo`).
   */
  knot?: { server?: string[]; sections?: string[]; zone?: string[] };
  /** Knot and BIND: zone transfers (AXFR, IXFR) allowed only to requests signed with this TSIG key. */
  transferKey?: TransferKey;
  /**
   * Knot, BIND and NSD: every zone is a secondary of the primary on 127.0.0.1 at this port, transferred
   * with TSIG (the zone specs' files are then not read: the server keeps its copy in its own directory).
   */
  primary?: { port: number; key: TransferKey };
  /** Listen on this port (one freePort() gave) instead of a free one picked at start. */
  port?: number;
}

/** A TSIG key as the peers' configs take it (RFC 8945): name, algorithm (`hmac-sha256`...), base64 secret. */
export interface TransferKey {
  name: string;
  algorithm: string;
  secret: string;
}

export interface AnycastOptions extends PeerOptions {
  /** More top-level config keys for anycast-dns (e.g. `{ edns_udp_size: 1232 }`), merged into the YAML. */
  extraConfig?: Record<string, unknown>;
  /** Serve this zones directory as it is (zone sync tests change it) instead of one of symlinks to the zone files. */
  zonesDir?: string;
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
class MissingPeerError extends Error {}

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

/** What a server is started with: its temporary directory, port and zones, and the caller's options. */
interface PeerSetup<O extends PeerOptions = PeerOptions> {
  port: number;
  dir: string;
  ipv6: boolean;
  /** Origins absolute, files absolute. */
  zones: ZoneSpec[];
  /** The options' identity, version and workers, defaults filled in. */
  identity: string;
  version: string;
  workers: number;
  opts: O;
  /** Where the config file goes (in `dir`; empty for a server without one). */
  configPath: string;
}

/** One kind of server: only its program, config text and command line; startPeer does the rest. */
export interface PeerKind<O extends PeerOptions = PeerOptions> {
  /** `knot`, `bind`...: names the server in messages and its temporary directory. */
  name: string;
  /** The program to run; throws MissingPeerError where it is not installed. */
  program(opts: O): string;
  /** The config file: its name in the temporary directory and its text (none for a server that takes none). */
  config?: { file: string; text(s: PeerSetup<O>): string };
  args(s: PeerSetup<O>): string[];
  /** The working directory (default: the temporary directory). */
  cwd?: string;
  /** Whether a reply to the SOA query for a zone shows the server up (default: an authoritative SOA answer). */
  answering?(reply: WireMessage): boolean;
}

function answersSoa(m: WireMessage): boolean {
  return m.rcode === 0 && m.aa && m.answer.some((rr) => rr.type === 6);
}

/**
 * Starts a server of `kind` in the foreground on a free port, in its own temporary directory, and
 * resolves once it answers the SOA query of every zone; a server that exits or stays silent is
 * stopped and the error carries its output.
 */
export async function startPeer<O extends PeerOptions>(kind: PeerKind<O>, zones: ZoneSpec[], opts: O): Promise<RunningPeer> {
  const command = kind.program(opts);
  const files = zoneFiles(zones);
  const ipv6 = opts.ipv6 ?? true;
  const port = opts.port ?? (await freePort(ipv6));
  const dir = mkdtempSync(join(tmpdir(), `anycast-dns-${kind.name}-`));
  const setup: PeerSetup<O> = {
    port,
    dir,
    ipv6,
    zones: files,
    identity: opts.identity ?? DEFAULT_IDENTITY,
    version: opts.version ?? DEFAULT_VERSION,
    workers: opts.workers ?? 1,
    opts,
    configPath: kind.config ? join(dir, kind.config.file) : '',
  };
  let args: string[];
  try {
    if (kind.config) writeFileSync(setup.configPath, kind.config.text(setup));
    args = kind.args(setup);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const peer = spawnPeer(kind.name, command, args, dir, port, opts.cpu, kind.cwd ?? dir);
  const answering = kind.answering ?? answersSoa;
  const pending = new Set(files.filter((z) => z.unanswered !== true).map((z) => z.origin));
  let lastProblem = 'no reply yet';
  try {
    await waitFor(
      async () => {
        if (peer.exited() !== null) throw new Error(`${kind.name} exited during start-up (${peer.exited()}); its output:\n${peer.log().slice(-4000)}`);
        for (const origin of [...pending]) {
          try {
            const r = await dnsQuery({ port }, { name: origin, type: 'SOA', timeoutMs: 300 });
            if (answering(r.message)) pending.delete(origin);
            else lastProblem = `${origin} SOA: rcode ${r.message.rcode}, aa ${r.message.aa}`;
          } catch (err) {
            lastProblem = (err as Error).message;
          }
        }
        return pending.size === 0;
      },
      {
        timeoutMs: opts.startTimeoutMs ?? 30_000,
        intervalMs: 100,
        what: `${kind.name} to answer SOA for every zone`,
        detail: () => `none yet for ${[...pending].join(' ')} (${lastProblem}); its output:\n${peer.log().slice(-4000)}`,
      },
    );
  } catch (err) {
    await peer.stop();
    throw err;
  }
  return peer;
}

/** Spawns the server with its output to a log file in `dir`; stop() ends it and removes `dir`. */
function spawnPeer(name: string, command: string, args: string[], dir: string, port: number, cpu: number | string | undefined, cwd: string): RunningPeer & { exited(): string | null } {
  installExitHook();
  const logPath = join(dir, 'server.log');
  const logFd = openSync(logPath, 'a');
  // Output goes to a file, never a pipe nobody reads (a full pipe would stall the server).
  const [cmd, argv] = cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]];
  const child = spawn(cmd, argv, { cwd, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${name}: could not start ${cmd}`);
  }
  live.set(pid, { child, dir });
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `code ${code}, signal ${signal}`;
    live.delete(pid);
  });
  let stopping: Promise<void> | null = null;
  return {
    name,
    port,
    pid,
    dir,
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    exited: () => exited,
    stop(): Promise<void> {
      stopping ??= (async () => {
        await terminate(child);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function zoneFiles(zones: ZoneSpec[]): ZoneSpec[] {
  if (zones.length === 0) throw new Error('a peer needs at least one zone');
  return zones.map((z) => ({ ...z, origin: absoluteOrigin(z.origin), file: resolve(z.file) }));
}

/** The keys given, each name once. */
function uniqueKeys(...keys: (TransferKey | undefined)[]): TransferKey[] {
  const out = new Map<string, TransferKey>();
  for (const k of keys) if (k !== undefined) out.set(k.name, k);
  return [...out.values()];
}

/** Quoted for Knot's YAML-like config and BIND's/NSD's config: a double-quoted string with \ and " escaped. */
function q(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** A server installed from a Debian package and run on one config file: its config text and command line. */
function installedPeer(name: string, binary: string, debianPackage: string, configFile: string, how: { text: (s: PeerSetup) => string; args: (s: PeerSetup) => string[] }): PeerKind {
  return { name, program: () => requireBinary(binary, debianPackage), config: { file: configFile, text: how.text }, args: how.args };
}

/**
 * Knot DNS (`knotd -c conf`, foreground). Semantic checks off and no journal or zone-file writes, so
 * it serves exactly what the files say; timers, journal and KASP databases live in the temp dir.
 */
const KNOT = installedPeer('knot', 'knotd', 'knot', 'knot.conf', {
  text: ({ port, dir, ipv6, zones, identity, version, workers, opts }) => {
    const listen = [`127.0.0.1@${port}`, ...(ipv6 ? [`::1@${port}`] : [])];
    const extra = opts.knot ?? {};
    const key = opts.transferKey;
    const primary = opts.primary;
    const keys = uniqueKeys(key, primary?.key);
    return [
      'server:',
      `    rundir: ${q(dir)}`,
      `    pidfile: ${q(join(dir, 'knot.pid'))}`,
      `    listen: [ ${listen.join(', ')} ]`,
      `    identity: ${q(identity)}`,
      `    version: ${q(version)}`,
      `    nsid: ${q(identity)}`,
      `    udp-workers: ${workers}`,
      `    tcp-workers: ${workers}`,
      '    background-workers: 1',
      ...(extra.server ?? []).map((line) => `    ${line}`),
      'log:',
      '  - target: stderr',
      '    any: info',
      ...(keys.length > 0 ? ['key:', ...keys.flatMap((k) => [`  - id: ${q(k.name)}`, `    algorithm: ${k.algorithm}`, `    secret: ${k.secret}`])] : []),
      ...(primary ? ['remote:', '  - id: primary', `    address: 127.0.0.1@${primary.port}`, `    key: ${q(primary.key.name)}`] : []),
      ...(key || primary ? ['acl:'] : []),
      ...(key ? ['  - id: transfer', `    key: ${q(key.name)}`, '    action: transfer'] : []),
      ...(primary ? ['  - id: notify', '    address: 127.0.0.1', `    key: ${q(primary.key.name)}`, '    action: notify'] : []),
      'database:',
      `    storage: ${q(dir)}`,
      'template:',
      '  - id: default',
      `    storage: ${q(dir)}`,
      '    semantic-checks: off',
      '    zonefile-sync: -1',
      '    zonefile-load: whole',
      '    journal-content: none',
      // The template's: before any section that follows.
      ...(key ? ['    acl: transfer'] : []),
      ...(extra.sections ?? []),
      'zone:',
      ...zones.flatMap((z) =>
        primary
          ? [`  - domain: ${q(z.origin)}`, `    file: ${q(join(dir, `${z.origin}zone`))}`, '    master: primary', key ? '    acl: [ notify, transfer ]' : '    acl: notify', '    zonefile-load: none']
          : [`  - domain: ${q(z.origin)}`, `    file: ${q(z.file)}`, ...[...(extra.zone ?? []), ...(z.knot ?? [])].map((line) => `    ${line}`)],
      ),
      '',
    ].join('\n');
  },
  args: ({ configPath }) => ['-c', configPath],
});

/**
 * BIND 9 (`named -g`, foreground, no rndc). Recursion off; zone-load checks off so it serves the files
 * as written. `minimal-responses` is left at BIND's default (`no-auth-recursive` in 9.18): to a query
 * without RD, positive answers carry the apex NS in authority and its addresses in additional.
 */
const BIND = installedPeer('bind', 'named', 'bind9', 'named.conf', {
  text: ({ port, dir, ipv6, zones, identity, version, opts }) =>
    [
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
      `  version ${q(version)};`,
      ...(opts.namedOptions ?? []).map((line) => `  ${line}`),
      ...(opts.transferKey ? [`  allow-transfer { key ${q(opts.transferKey.name)}; };`] : []),
      '};',
      ...uniqueKeys(opts.transferKey, opts.primary?.key).map((k) => `key ${q(k.name)} { algorithm ${k.algorithm}; secret ${q(k.secret)}; };`),
      'controls { };',
      ...zones.map((z) =>
        opts.primary
          ? `zone ${q(z.origin)} { type secondary; primaries port ${opts.primary.port} { 127.0.0.1 key ${q(opts.primary.key.name)}; }; file ${q(join(dir, `${z.origin}db`))}; allow-notify { 127.0.0.1; }; };`
          : `zone ${q(z.origin)} { type primary; file ${q(z.file)}; ${(opts.namedZone ?? []).join(' ')} };`,
      ),
      '',
    ].join('\n'),
  args: ({ configPath, workers }) => ['-g', '-c', configPath, '-n', String(workers)],
});

/**
 * NSD (`nsd -d`, foreground), no database file, no privilege drop, state files in the temp dir.
 * NSD keeps one name table for all its zones (it answers `test. A` NOERROR when serving the root
 * and `tricky.test`): don't use it as the reference for multi-zone answers. It also refuses a zone
 * whose file repeats the SOA (as AXFR dumps such as the 2018 root zone do).
 */
const NSD = installedPeer('nsd', 'nsd', 'nsd', 'nsd.conf', {
  text: ({ port, dir, ipv6, zones, identity, version, workers, opts }) =>
    [
      'server:',
      `  ip-address: 127.0.0.1@${port}`,
      ...(ipv6 ? [`  ip-address: ::1@${port}`] : []),
      `  port: ${port}`,
      `  server-count: ${workers}`,
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
      `  version: ${q(version)}`,
      '  verbosity: 1',
      // Debian builds NSD with response rate limiting on (200 responses/s per source): tests and
      // benchmarks on 127.0.0.1 would measure the limiter, not the server.
      '  rrl-ratelimit: 0',
      '  rrl-whitelist-ratelimit: 0',
      'remote-control:',
      '  control-enable: no',
      ...(opts.primary ? ['key:', `  name: ${q(opts.primary.key.name)}`, `  algorithm: ${opts.primary.key.algorithm}`, `  secret: ${q(opts.primary.key.secret)}`] : []),
      ...zones.flatMap((z) =>
        opts.primary
          ? [
              'zone:',
              `  name: ${q(z.origin)}`,
              `  zonefile: ${q(join(dir, `${z.origin}zone`))}`,
              `  request-xfr: 127.0.0.1@${opts.primary.port} ${opts.primary.key.name}`,
              `  allow-notify: 127.0.0.1 ${opts.primary.key.name}`,
              // So a test can read back what it took, with the same key.
              `  provide-xfr: 127.0.0.1 ${opts.primary.key.name}`,
            ]
          : ['zone:', `  name: ${q(z.origin)}`, `  zonefile: ${q(z.file)}`],
      ),
      '',
    ].join('\n'),
  args: ({ configPath }) => ['-d', '-c', configPath],
});

/**
 * anycast-dns itself (`node dist/src/cli.js serve --config <tmp yaml>`; build first with `npx tsc -p .`).
 * The zone files are symlinked into a zones directory as `<origin>.zone` (`root.zone` for the root);
 * a `$INCLUDE` is then resolved against that directory, so pass zones without includes.
 */
const ANYCAST_DNS: PeerKind<AnycastOptions> = {
  name: 'anycast-dns',
  program: () => {
    if (!existsSync(CLI_JS)) throw new MissingPeerError(`${CLI_JS} is missing: build anycast-dns first (npx tsc -p .)`);
    return process.execPath;
  },
  config: {
    file: 'anycast-dns.yaml',
    text: ({ port, dir, ipv6, zones, identity, version, opts }) => {
      let zonesDir = opts.zonesDir;
      if (zonesDir === undefined) {
        zonesDir = join(dir, 'zones');
        mkdirSync(zonesDir);
        for (const z of zones) symlinkSync(z.file, join(zonesDir, z.origin === '.' ? 'root.zone' : `${z.origin.slice(0, -1)}.zone`));
      }
      const config: Record<string, unknown> = {
        identity,
        listen: [`127.0.0.1:${port}`, ...(ipv6 ? [`[::1]:${port}`] : [])],
        zones: zonesDir,
        version,
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
      return stringify(config);
    },
  },
  args: ({ configPath }) => [...SERVE_NODE_FLAGS, CLI_JS, 'serve', '--config', configPath],
  cwd: REPO_ROOT,
};

export function startKnot(zones: ZoneSpec[], opts: PeerOptions = {}): Promise<RunningPeer> {
  return startPeer(KNOT, zones, opts);
}

export function startBind(zones: ZoneSpec[], opts: PeerOptions = {}): Promise<RunningPeer> {
  return startPeer(BIND, zones, opts);
}

export function startNsd(zones: ZoneSpec[], opts: PeerOptions = {}): Promise<RunningPeer> {
  return startPeer(NSD, zones, opts);
}

export function startAnycastDns(zones: ZoneSpec[], opts: AnycastOptions = {}): Promise<RunningPeer> {
  return startPeer(ANYCAST_DNS, zones, opts);
}
