// The servers the serve and DNSSEC benchmarks compare, each started on a free 127.0.0.1 port, pinned to the
// server cores, with one worker (or N: anycast-dns `workers`, NSD `server-count`, Knot `udp-workers`,
// BIND `-n`): anycast-dns on the native UDP path (rate limiting off, and on as anycast-dns-rrl) and on
// node:dgram (anycast-dns-dgram), NSD, Knot DNS, BIND 9 (via the test helpers that the differential
// tests use too) and the Node.js UDP echo server (the single-threaded Node ceiling), as a minimal
// program writes it (`echo`), with anycast-dns's dgram send path (`echo-literal`) and on the native
// path (`echo-native`).
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onInterrupt } from './cleanup.js';
import { REPO_ROOT } from '../test/helpers/paths.js';
import { dnsQuery, startAnycastDns, startBind, startKnot, startNsd, startPeer, type PeerKind, type PeerOptions, type RunningPeer, type ZoneSpec } from '../test/helpers/peers.js';

export interface BenchServer {
  id: ServerId;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export const SERVER_IDS = ['anycast-dns', 'anycast-dns-dgram', 'anycast-dns-rrl', 'anycast-dns-ecs', 'nsd', 'knot', 'bind', 'echo', 'echo-literal', 'echo-native'] as const;
type EchoId = 'echo' | 'echo-literal' | 'echo-native';

/**
 * anycast-dns-rrl: response rate limiting on, at a limit far above any load dnsperf makes (from one
 * /24, every response is accounted but none limited), to measure the limiter's cost against
 * anycast-dns, which runs with it off (test/helpers/peers.ts).
 */
const RRL_ACCOUNTING_ONLY = { responses_per_second: 1_000_000 };
export type ServerId = (typeof SERVER_IDS)[number];

/**
 * anycast-dns-ecs: EDNS Client Subnet on, and geo rules on one name of the root mix (the apex, which
 * the mix asks for SOA, NS and DNSKEY), to measure what ECS and rules cost against anycast-dns. The
 * root zone is signed, so the rules are looked up on every miss and then refused: what is measured is
 * ECS (with --ecs) and the lookup, not a rule's answer.
 */
const GEO_RULES = `names:\n  .:\n    rules:\n      - networks: [127.0.0.0/8]\n        TXT: '"bench"'\n`;

function geoRulesFile(): string {
  const file = join(tmpdir(), `anycast-dns-bench-geo-${process.pid}.yaml`);
  writeFileSync(file, GEO_RULES);
  return file;
}

export function isServerId(s: string): s is ServerId {
  return (SERVER_IDS as readonly string[]).includes(s);
}

const ECHO_JS = join(REPO_ROOT, 'dist', 'bench', 'echo-server.js');

/** The echo server: it answers every query with the query itself, QR set, so any reply shows it up. */
function echoKind(id: EchoId): PeerKind {
  return {
    name: id,
    program: () => process.execPath,
    args: ({ port }) => [ECHO_JS, '--address', '127.0.0.1', '--port', String(port), ...(id === 'echo-literal' ? ['--literal-lookup'] : id === 'echo-native' ? ['--native'] : [])],
    answering: (reply) => reply.qr,
  };
}

/** Whether the server runs more than one worker when asked (the echo servers are one process). */
export function hasWorkers(id: ServerId): boolean {
  return !id.startsWith('echo');
}

/** Starts one server with every zone loaded, pinned to `cpu` (a CPU or a taskset list), `workers` workers, IPv4 loopback only. */
export async function startServer(id: ServerId, zones: ZoneSpec[], cpu: number | string, startTimeoutMs: number, workers = 1): Promise<BenchServer> {
  const opts: PeerOptions = { cpu, workers, ipv6: false, startTimeoutMs, identity: 'bench' };
  const wrap = async (p: Promise<RunningPeer>): Promise<BenchServer> => {
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
    case 'anycast-dns-ecs': {
      const rules = geoRulesFile();
      const s = await wrap(startAnycastDns(zones, { ...opts, extraConfig: { workers, log_level: 'warn', udp_io: 'native', ecs: true, geo: { rules } } }));
      return { ...s, stop: () => s.stop().finally(() => rmSync(rules, { force: true })) };
    }
    case 'nsd':
      return wrap(startNsd(zones, opts));
    case 'knot':
      return wrap(startKnot(zones, opts));
    case 'bind':
      return wrap(startBind(zones, opts));
    case 'echo':
    case 'echo-literal':
    case 'echo-native':
      return wrap(startPeer(echoKind(id), zones, opts));
    default: {
      const never: never = id;
      throw new Error(`unknown server ${String(never)}`);
    }
  }
}

/** A map of the servers a benchmark started, each stopped on Ctrl-C or SIGTERM, and by stopAll() at the end. */
export function runningServers<Id extends string>(): { servers: Map<Id, BenchServer>; stopAll(): Promise<void> } {
  const servers = new Map<Id, BenchServer>();
  const stop = async (): Promise<void> => {
    await Promise.allSettled([...servers.values()].map((s) => s.stop()));
    servers.clear();
  };
  const unregister = onInterrupt(stop);
  return {
    servers,
    async stopAll() {
      await stop();
      unregister();
    },
  };
}

/** The SOA serial `port` on 127.0.0.1 serves for `origin`, or null when it does not answer one. */
export async function servedSerial(port: number, origin: string): Promise<number | null> {
  try {
    const r = await dnsQuery({ port }, { name: origin, type: 'SOA', timeoutMs: 500 });
    const rd = r.message.answer.find((a) => a.type === 6)?.rdata;
    return rd === undefined ? null : rd.readUInt32BE(rd.length - 20);
  } catch {
    return null;
  }
}
