// Probe I/O: DNS queries over UDP and TCP to the service address, the readiness URL and zone
// freshness (the server's /zones), each attempt bounded by a timeout. Results are plain values for the state machine.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { request } from 'node:http';
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { discoverZoneFiles } from '../sync/zone-files.js';
import type { HealthConfig } from './config.js';
import type { Attempt, CheckResult, Round } from './state-machine.js';

export interface DnsTarget {
  host: string;
  port: number;
}

function query(name: string): { id: number; bytes: Buffer } {
  const id = randomInt(0, 65536);
  // RD clear: an authoritative server is asked, not a resolver.
  const bytes = dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: 'SOA', name, class: 'IN' }] });
  return { id, bytes };
}

/** NOERROR, AA and an answer (RFC 1035 §4.1.1): what a client needs from the POP for this name. */
function judgeReply(id: number, bytes: Buffer, ms: number): Attempt {
  let reply: dnsPacket.DecodedPacket & { rcode?: string };
  try {
    reply = dnsPacket.decode(bytes) as dnsPacket.DecodedPacket & { rcode?: string };
  } catch (err) {
    return { outcome: 'bad', ms, detail: `unreadable reply: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (reply.id !== id) return { outcome: 'bad', ms, detail: 'reply ID does not match' };
  if (reply.rcode !== 'NOERROR') return { outcome: 'bad', ms, detail: `rcode ${reply.rcode ?? '?'}` };
  if (!reply.flag_aa) return { outcome: 'bad', ms, detail: 'not authoritative (AA clear)' };
  if (!reply.answers || reply.answers.length === 0) return { outcome: 'bad', ms, detail: 'empty answer' };
  return { outcome: 'ok', ms };
}

function errorAttempt(err: NodeJS.ErrnoException, ms: number): Attempt {
  // ECONNREFUSED on a connected UDP socket is the ICMP port unreachable: nobody listens, no need to wait.
  if (err.code === 'ECONNREFUSED') return { outcome: 'refused', ms, detail: 'connection refused' };
  return { outcome: 'bad', ms, detail: err.code ?? err.message };
}

export function udpAttempt(target: DnsTarget, name: string, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    const sock = createSocket(target.host.includes(':') ? 'udp6' : 'udp4');
    const q = query(name);
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
      finish(judgeReply(q.id, msg, elapsed()));
    });
    sock.connect(target.port, target.host, () => {
      sock.send(q.bytes, (err) => {
        if (err) finish(errorAttempt(err, elapsed()));
      });
    });
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
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(judgeReply(q.id, buf.subarray(2, 2 + buf.readUInt16BE(0)), elapsed()));
    });
    sock.on('end', () => finish({ outcome: 'bad', ms: elapsed(), detail: 'connection closed without a reply' }));
  });
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
 * Stale data is a definite failure: a POP serving old zones should not attract traffic. The age is
 * that of the newest zone version the server loaded (its /zones), so a POP whose sync stopped, or
 * whose new files all fail to load, goes stale, whatever the files' mtimes say.
 */
export function judgeFreshness(zones: readonly { loaded_at: string | null }[], maxAgeMs: number, now: number): Attempt {
  let newest = 0;
  for (const z of zones) if (z.loaded_at !== null) newest = Math.max(newest, Date.parse(z.loaded_at));
  if (newest === 0) return { outcome: 'bad', ms: 0, detail: 'the server serves no zone' };
  const age = now - newest;
  if (age > maxAgeMs) return { outcome: 'bad', ms: 0, detail: `newest zone version was loaded ${Math.round(age / 1000)} s ago` };
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
  const names = config.names.length > 0 ? config.names : zoneOrigins(config.zonesDir, config.zoneFiles);
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
  return { checks, maintenance: existsSync(config.maintenanceFile) };
}
