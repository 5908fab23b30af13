// The servers the serve benchmark compares, each started on a free 127.0.0.1 port, pinned to the
// server cores, with one worker (or N: anycast-dns `workers`, NSD `server-count`, Knot `udp-workers`,
// BIND `-n`): anycast-dns on the native UDP path (rate limiting off, and on as anycast-dns-rrl) and on
// node:dgram (anycast-dns-dgram), NSD, Knot DNS, BIND 9 (via the test helpers that the differential
// tests use too) and the Node.js UDP echo server (the single-threaded Node ceiling), as a minimal
// program writes it (`echo`), with anycast-dns's dgram send path (`echo-literal`) and on the native
// path (`echo-native`).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startAnycastDns, startBind, startKnot, startNsd, type PeerOptions, type ZoneSpec } from '../test/helpers/peers.js';
import { REPO_ROOT } from './paths.js';

export interface BenchServer {
  id: ServerId;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export const SERVER_IDS = ['anycast-dns', 'anycast-dns-dgram', 'anycast-dns-rrl', 'nsd', 'knot', 'bind', 'echo', 'echo-literal', 'echo-native'] as const;
type EchoId = 'echo' | 'echo-literal' | 'echo-native';

/**
 * anycast-dns-rrl: response rate limiting on, at a limit far above any load dnsperf makes (from one
 * /24, every response is accounted but none limited), to measure the limiter's cost against
 * anycast-dns, which runs with it off (test/helpers/peers.ts).
 */
const RRL_ACCOUNTING_ONLY = { responses_per_second: 1_000_000 };
export type ServerId = (typeof SERVER_IDS)[number];

export function isServerId(s: string): s is ServerId {
  return (SERVER_IDS as readonly string[]).includes(s);
}

const ECHO_JS = join(REPO_ROOT, 'dist', 'bench', 'echo-server.js');

/** The echo server under taskset; resolves once it printed its port. */
function startEcho(id: EchoId, cpu: number | string, startTimeoutMs: number): Promise<BenchServer> {
  return new Promise((resolve, reject) => {
    const args = [ECHO_JS, '--address', '127.0.0.1', '--port', '0', ...(id === 'echo-literal' ? ['--literal-lookup'] : id === 'echo-native' ? ['--native'] : [])];
    const child = spawn('taskset', ['-c', String(cpu), process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = child.pid;
    if (pid === undefined) return reject(new Error('echo server: could not start'));
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
    };
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`echo server did not report its port within ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo server exited during start-up (code ${code})`));
    });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const m = /^listening \S+ (\d+)$/.exec(line);
      if (!m) {
        void stop();
        return reject(new Error(`echo server said "${line}"`));
      }
      resolve({ id, port: Number(m[1]), pid, stop });
    });
  });
}

/** Whether the server runs more than one worker when asked (the echo servers are one process). */
export function hasWorkers(id: ServerId): boolean {
  return !id.startsWith('echo');
}

/** Starts one server with every zone loaded, pinned to `cpu` (a CPU or a taskset list), `workers` workers, IPv4 loopback only. */
export async function startServer(id: ServerId, zones: ZoneSpec[], cpu: number | string, startTimeoutMs: number, workers = 1): Promise<BenchServer> {
  const opts: PeerOptions = { cpu, workers, ipv6: false, startTimeoutMs, identity: 'bench' };
  const wrap = async (p: Promise<{ port: number; pid: number; stop(): Promise<void> }>): Promise<BenchServer> => {
    const peer = await p;
    return { id, port: peer.port, pid: peer.pid, stop: () => peer.stop() };
  };
  switch (id) {
    case 'anycast-dns':
      return wrap(startAnycastDns(zones, { ...opts, extraConfig: { workers, log_level: 'warn', udp_io: 'native' } }));
    case 'anycast-dns-dgram':
      return wrap(startAnycastDns(zones, { ...opts, extraConfig: { workers, log_level: 'warn', udp_io: 'dgram' } }));
    case 'anycast-dns-rrl':
      return wrap(startAnycastDns(zones, { ...opts, extraConfig: { workers, log_level: 'warn', udp_io: 'native', rrl: RRL_ACCOUNTING_ONLY } }));
    case 'nsd':
      return wrap(startNsd(zones, opts));
    case 'knot':
      return wrap(startKnot(zones, opts));
    case 'bind':
      return wrap(startBind(zones, opts));
    case 'echo':
    case 'echo-literal':
    case 'echo-native':
      return startEcho(id, cpu, startTimeoutMs);
    default: {
      const never: never = id;
      throw new Error(`unknown server ${String(never)}`);
    }
  }
}
