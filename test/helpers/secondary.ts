// anycast-dns as a secondary of a real primary (Knot, BIND) in tests: the zone's text at a serial,
// the secondary's config, the serial it serves, and its /zones and /metrics.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dnsQuery } from './dns-query.js';
import { managementUrl } from './management.js';
import { requireBinary, type TransferKey } from './peers.js';

const run = promisify(execFile);

export const KEY: TransferKey = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: 'tVRlPQFBJ+uoqQ5E3RTLTUg5u4o7rLjzVfVdJV8kaZo=' };
export const ORIGIN = 'sec.example.';

/**
 * The zone at `serial`: SOA REFRESH 2 s, RETRY 1 s, EXPIRE 6 s (so a test sees refresh, retry and
 * expiry happen), a record that changes with the serial, `hosts` more, and any `extra` lines.
 */
export function zoneText(serial: number, opts: { hosts?: number; extra?: string[] } = {}): string {
  const lines = ['$ORIGIN sec.example.', '$TTL 300', `@ SOA ns hostmaster ${serial} 2 1 6 300`, '@ NS ns', 'ns A 192.0.2.1', `changing A 192.0.2.${serial % 250}`, 'mail MX 10 ns', ...(opts.extra ?? [])];
  for (let i = 0; i < (opts.hosts ?? 20); i++) lines.push(`host-${i} A 198.51.${(i >> 8) & 0xff}.${i & 0xff}`);
  return lines.join('\n') + '\n';
}

/** The secondary's config: the zone from the primary at `primaryPort` with the key, its state directory, an empty zones directory. */
export function secondaryConfig(stateDir: string, primaryPort: number): Record<string, unknown> {
  return {
    tsig_keys: [KEY],
    secondary: { state_dir: stateDir, zones: [{ zone: ORIGIN, primaries: [{ address: `127.0.0.1:${primaryPort}`, key: KEY.name }] }] },
    management: { listen: '127.0.0.1:0' },
    log_level: 'debug',
  };
}

/** The serial of the SOA a server answers for the zone, or the rcode's name when it does not answer NOERROR. */
export async function servedSerial(port: number): Promise<number | string> {
  const r = await dnsQuery({ port }, { name: ORIGIN, type: 'SOA', timeoutMs: 1000 });
  if (r.message.rcode !== 0) return r.message.rcode === 2 ? 'SERVFAIL' : `rcode ${r.message.rcode}`;
  const soa = r.message.answer.find((a) => a.type === 6);
  return soa === undefined ? 'no SOA' : soa.rdata.readUInt32BE(soa.rdata.length - 20);
}

export interface SecondaryZoneStatus {
  zone: string;
  state: string;
  serial: number | null;
  last_error: string | null;
  secondary?: { primary: string | null; last_refresh: string | null; next_refresh: string | null; expires_at: string | null; last_error: string | null };
}

export async function zoneStatus(server: { log(): string }): Promise<SecondaryZoneStatus> {
  const body = (await (await fetch(`${managementUrl(server)}/zones`)).json()) as { zones: SecondaryZoneStatus[] };
  return body.zones.find((z) => z.zone === ORIGIN)!;
}

export async function metricsText(server: { log(): string }): Promise<string> {
  return (await fetch(`${managementUrl(server)}/metrics`)).text();
}

/** kdig's output for an AXFR of the zone signed with `key`, its errors too. */
export async function kdigAxfr(port: number, key: TransferKey): Promise<string> {
  const kdig = requireBinary('kdig', 'knot-dnsutils');
  const args = ['@127.0.0.1', '-p', String(port), ORIGIN, 'AXFR', '+retry=0', '+timeout=3', `-y${key.algorithm}:${key.name}:${key.secret}`];
  const { stdout, stderr } = await run(kdig, args).catch((err: { stdout: string; stderr: string }) => err);
  return stdout + stderr;
}

/** dig's answer to a NOTIFY for the zone sent from `source`, signed with `key` when given. */
export async function digNotify(port: number, source: string, key: TransferKey | null): Promise<string> {
  const dig = requireBinary('dig', 'bind9-dnsutils');
  const args = ['@127.0.0.1', '-p', String(port), '-b', source, ORIGIN, 'SOA', '+opcode=notify', '+norec', '+tries=1', '+time=3', ...(key === null ? [] : ['-y', `${key.algorithm}:${key.name}:${key.secret}`])];
  const { stdout, stderr } = await run(dig, args).catch((err: { stdout: string; stderr: string }) => err);
  return stdout + stderr;
}
