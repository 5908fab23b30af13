// Probe I/O: DNS queries over UDP and TCP to the service address, the readiness URL and zone
// freshness (the server's /zones, and the peers' serials when it is stale), each attempt bounded by a
// timeout. Results are plain values for the state machine.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { discoverZoneFiles } from '../sync/zone-files.js';
import type { HealthConfig } from './config.js';
import { fresherPeer, type PeerSerials } from './peers.js';
import type { Attempt, CheckResult, Round } from './state-machine.js';

export interface DnsTarget {
  host: string;
  port: number;
}

/** EDNS option code of COOKIE (RFC 7873 §4). */
const COOKIE = 10;

/**
 * The probe's DNS cookies (RFC 7873): one client cookie for the process and the server cookie each
 * target last gave it. A valid server cookie proves the probe's source is not spoofed, so response
 * rate limiting never applies to it: a flood of spoofed queries from the probe's own /24 cannot make
 * a healthy POP look dead.
 */
export class ProbeCookies {
  private readonly client = randomBytes(8);
  private readonly server = new Map<string, Buffer>();

  option(target: DnsTarget): { code: number; data: Buffer } {
    const known = this.server.get(key(target));
    return { code: COOKIE, data: known === undefined ? this.client : Buffer.concat([this.client, known]) };
  }

  /** Keeps the server cookie of a reply that echoes our client cookie; true when it is new. */
  learn(target: DnsTarget, reply: dnsPacket.DecodedPacket): boolean {
    for (const rr of reply.additionals ?? []) {
      if (rr.type !== 'OPT') continue;
      for (const o of (rr as { options?: { code: number; data?: Buffer }[] }).options ?? []) {
        if (o.code !== COOKIE || o.data === undefined || o.data.length <= 8 || !o.data.subarray(0, 8).equals(this.client)) continue;
        const cookie = Buffer.from(o.data.subarray(8));
        const fresh = !cookie.equals(this.server.get(key(target)) ?? Buffer.alloc(0));
        this.server.set(key(target), cookie);
        return fresh;
      }
    }
    return false;
  }
}

const key = (t: DnsTarget): string => `${t.host}/${t.port}`;
const processCookies = new ProbeCookies();

function query(name: string, cookie?: { code: number; data: Buffer }): { id: number; bytes: Buffer } {
  const id = randomInt(0, 65536);
  // RD clear: an authoritative server is asked, not a resolver.
  const additionals: dnsPacket.Answer[] = cookie === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [cookie] } as dnsPacket.Answer];
  const bytes = dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: 'SOA', name, class: 'IN' }], additionals });
  return { id, bytes };
}

function decodeReply(bytes: Buffer): (dnsPacket.DecodedPacket & { rcode?: string }) | Error {
  try {
    return dnsPacket.decode(bytes) as dnsPacket.DecodedPacket & { rcode?: string };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** NOERROR, AA and an answer (RFC 1035 §4.1.1): what a client needs from the POP for this name. */
function judgeReply(id: number, reply: (dnsPacket.DecodedPacket & { rcode?: string }) | Error, ms: number): Attempt {
  if (reply instanceof Error) return { outcome: 'bad', ms, detail: `unreadable reply: ${reply.message}` };
  if (reply.id !== id) return { outcome: 'bad', ms, detail: 'reply ID does not match' };
  if (reply.rcode !== 'NOERROR') return { outcome: 'bad', ms, detail: `rcode ${reply.rcode ?? '?'}` };
  if (!reply.flag_aa) return { outcome: 'bad', ms, detail: 'not authoritative (AA clear)' };
  if (!reply.answers || reply.answers.length === 0) return { outcome: 'bad', ms, detail: 'empty answer' };
  const soa = reply.answers.find((a) => a.type === 'SOA');
  return soa === undefined ? { outcome: 'ok', ms } : { outcome: 'ok', ms, serial: (soa.data as { serial: number }).serial };
}

function errorAttempt(err: NodeJS.ErrnoException, ms: number): Attempt {
  // ECONNREFUSED on a connected UDP socket is the ICMP port unreachable: nobody listens, no need to wait.
  if (err.code === 'ECONNREFUSED') return { outcome: 'refused', ms, detail: 'connection refused' };
  return { outcome: 'bad', ms, detail: err.code ?? err.message };
}

/**
 * One UDP query with a DNS cookie. A reply that brings a new server cookie but no answer (a truncated
 * "slip" or BADCOOKIE, RFC 7873 §5.3: the server did not know our cookie yet) is asked again at once
 * with that cookie, inside the same attempt and timeout.
 */
export function udpAttempt(target: DnsTarget, name: string, timeoutMs: number, cookies: ProbeCookies = processCookies): Promise<Attempt> {
  return new Promise((resolve) => {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    const sock = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    let q = query(name, cookies.option(target));
    let retried = false;
    let settled = false;
    const finish = (a: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.close();
      resolve(a);
    };
    const timer = setTimeout(() => finish({ outcome: 'timeout', ms: elapsed() }), timeoutMs);
    sock.on('error', (err) => finish(errorAttempt(err, elapsed())));
    sock.on('message', (msg) => {
      // A stray datagram with another ID (a late reply, spoofing) is ignored; the timeout still runs.
      if (msg.length >= 2 && msg.readUInt16BE(0) !== q.id) return;
      const reply = decodeReply(msg);
      const learned = !(reply instanceof Error) && cookies.learn(target, reply);
      if (learned && !retried && !(reply instanceof Error) && (reply.flag_tc || (reply.answers ?? []).length === 0)) {
        retried = true;
        q = query(name, cookies.option(target));
        send();
        return;
      }
      finish(judgeReply(q.id, reply, elapsed()));
    });
    const send = (): void =>
      sock.send(q.bytes, (err) => {
        if (err) finish(errorAttempt(err, elapsed()));
      });
    sock.connect(target.port, target.host, send);
  });
}

export function tcpAttempt(target: DnsTarget, name: string, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    const q = query(name);
    let buf = Buffer.alloc(0);
    let settled = false;
    const sock = connect({ host: target.host, port: target.port });
    const finish = (a: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => finish({ outcome: 'timeout', ms: elapsed() }), timeoutMs);
    sock.on('error', (err) => finish(errorAttempt(err, elapsed())));
    sock.on('connect', () => {
      // RFC 1035 §4.2.2: two-byte length prefix.
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.bytes.length);
      sock.write(Buffer.concat([len, q.bytes]));
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(judgeReply(q.id, decodeReply(buf.subarray(2, 2 + buf.readUInt16BE(0))), elapsed()));
    });
    sock.on('end', () => finish({ outcome: 'bad', ms: elapsed(), detail: 'connection closed without a reply' }));
  });
}

/**
 * An idle TCP connection to the server, held while it is healthy: when the server dies the kernel
 * closes it at once, and `onGone` runs the next round now instead of up to an interval later. Any
 * close (the server's idle timeout included) only brings a round forward; the round decides.
 */
export function watchServer(target: DnsTarget, onGone: () => void): { close(): void } {
  const sock = connect({ host: target.host, port: target.port });
  let gone = false;
  const lost = (): void => {
    if (gone) return;
    gone = true;
    sock.destroy();
    onGone();
  };
  sock.on('error', lost);
  sock.on('close', lost);
  sock.on('end', lost);
  return {
    close: () => {
      gone = true;
      sock.destroy();
    },
  };
}

export function readyAttempt(url: string, timeoutMs: number): Promise<Attempt> {
  return httpAttempt(url, timeoutMs, (code) => (code >= 200 && code < 300 ? { outcome: 'ok' } : { outcome: 'bad', detail: `HTTP ${code}` }));
}

/** One GET of `url`, bounded by `timeoutMs`; `judge` turns the status and body into the attempt's outcome. */
function httpAttempt(url: string, timeoutMs: number, judge: (code: number, body: string) => Omit<Attempt, 'ms'>): Promise<Attempt> {
  return new Promise((resolve) => {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    let settled = false;
    const finish = (a: Attempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(a);
    };
    const req = request(url, { method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => finish({ ...judge(res.statusCode ?? 0, body), ms: elapsed() }));
    });
    const timer = setTimeout(() => finish({ outcome: 'timeout', ms: elapsed() }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish(errorAttempt(err, elapsed())));
    req.end();
  });
}

/** Retries on timeout only: a refusal or a wrong answer is definite and ends the check at once. */
export async function runCheck(check: string, attempts: number, attempt: () => Promise<Attempt>): Promise<CheckResult> {
  const done: Attempt[] = [];
  for (let i = 0; i < attempts; i++) {
    const a = await attempt();
    done.push(a);
    if (a.outcome !== 'timeout') break;
  }
  return { check, attempts: done };
}

/** The zones the server is configured to serve, found as the server finds them (the default names to probe). */
export function zoneOrigins(dir: string, files: ReadonlyMap<string, string> | null): string[] {
  const found = discoverZoneFiles(dir, files);
  return found instanceof Error ? [] : [...found.keys()].sort();
}

/**
 * The age is that of the newest zone version the server loaded (its /zones), so a POP whose sync
 * stopped, or whose new files all fail to load, goes stale, whatever the files' mtimes say. Stale is
 * not a failure by itself (the cause may be every POP's): probeRound asks the peers whose it is.
 */
export function judgeFreshness(zones: readonly { loaded_at: string | null }[], maxAgeMs: number, now: number): Attempt {
  let newest = 0;
  for (const z of zones) if (z.loaded_at !== null) newest = Math.max(newest, Date.parse(z.loaded_at));
  if (newest === 0) return { outcome: 'bad', ms: 0, detail: 'the server serves no zone' };
  const age = now - newest;
  if (age > maxAgeMs) return { outcome: 'stale', ms: 0, detail: `newest zone version was loaded ${Math.round(age / 1000)} s ago` };
  return { outcome: 'ok', ms: 0 };
}

export function freshnessAttempt(url: string, maxAgeMs: number, timeoutMs: number): Promise<Attempt> {
  return httpAttempt(url, timeoutMs, (code, body) => {
    if (code !== 200) return { outcome: 'bad', detail: `HTTP ${code}` };
    try {
      return judgeFreshness((JSON.parse(body) as { zones: { loaded_at: string | null }[] }).zones, maxAgeMs, Date.now());
    } catch {
      return { outcome: 'bad', detail: 'unreadable /zones reply' };
    }
  });
}

/** One probe round: every check in parallel, so a round lasts at most attempts × timeout. */
export async function probeRound(config: HealthConfig): Promise<Round> {
  const names = config.names.length > 0 ? config.names : [...zoneOrigins(config.zonesDir, config.zoneFiles), ...config.secondaryZones].sort();
  const jobs: Promise<CheckResult>[] = [];
  for (const name of names) {
    jobs.push(runCheck(`udp ${name} SOA`, config.attempts, () => udpAttempt(config.server, name, config.timeout)));
    if (config.tcp) jobs.push(runCheck(`tcp ${name} SOA`, config.attempts, () => tcpAttempt(config.server, name, config.timeout)));
  }
  const readyUrl = config.readyUrl;
  if (readyUrl !== null) jobs.push(runCheck('ready', config.attempts, () => readyAttempt(readyUrl, config.timeout)));
  const zonesUrl = config.zonesUrl;
  if (config.freshnessMaxAge > 0 && zonesUrl !== null) {
    jobs.push(runCheck('freshness', config.attempts, () => freshnessAttempt(zonesUrl, config.freshnessMaxAge * 1000, config.timeout)));
  }
  const checks = await Promise.all(jobs);
  await blameStaleness(checks, names, config);
  return { checks, maintenance: existsSync(config.maintenanceFile) };
}

/** A stale freshness check becomes a failure when a reachable peer serves a newer serial than this POP. */
async function blameStaleness(checks: CheckResult[], names: readonly string[], config: HealthConfig): Promise<void> {
  const freshness = checks.find((c) => c.check === 'freshness');
  const last = freshness?.attempts[freshness.attempts.length - 1];
  if (last?.outcome !== 'stale' || config.peers.length === 0) return;
  const own = new Map<string, number>();
  for (const c of checks) {
    const serial = c.attempts[c.attempts.length - 1]?.serial;
    const name = names.find((n) => c.check === `udp ${n} SOA`);
    if (serial !== undefined && name !== undefined) own.set(name, serial);
  }
  const peers = await Promise.all(config.peers.map((p) => peerSerials(p, names, config)));
  const evidence = fresherPeer(own, peers);
  if (evidence !== null) freshness!.attempts.push({ outcome: 'bad', ms: 0, detail: `${last.detail ?? 'stale'}, and behind its peers: ${evidence}` });
}

async function peerSerials(peer: DnsTarget, names: readonly string[], config: HealthConfig): Promise<PeerSerials> {
  const serials = new Map<string, number>();
  await Promise.all(
    names.map(async (name) => {
      const r = await runCheck(name, config.attempts, () => udpAttempt(peer, name, config.timeout));
      const serial = r.attempts[r.attempts.length - 1]?.serial;
      if (serial !== undefined) serials.set(name, serial);
    }),
  );
  return { peer: `${peer.host}:${peer.port}`, serials };
}
