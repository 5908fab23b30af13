// `anycast-dns ctl`: what knotc and nsd-control give operators, over the server's management
// listener: `zones` (the zone sync status) and `reload [ZONE] [--force]`.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import type { ZoneStatus } from '../sync/store.js';
import { formatListenAddress, loadServerConfig } from '../ops/config.js';

const DEFAULT_CONFIG = '/etc/anycast-dns/anycast-dns.yaml';
const USAGE = `usage: anycast-dns ctl [--config FILE | --server HOST:PORT] <command>

commands:
  zones                  every zone: serial, records, state (ok, held, error), when loaded, last error
  reload [ZONE]          rescan the zone files now (all, or one zone) and show the result
  reload [ZONE] --force  also release changes held by a guard, and accept a serial that went back

The server is found through management.listen in the config (default ${DEFAULT_CONFIG}).
Exit status: 0 when every zone shown is ok, 1 when one is held or in error, 2 on a usage error,
3 when the server can't be reached.`;

export async function runCtl(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, server: { type: 'string', short: 's' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(`ctl: ${(err as Error).message}\n${USAGE}`);
  }
  if (args.values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const [command, zone, ...extra] = args.positionals;
  const ok = (command === 'zones' && zone === undefined) || (command === 'reload' && extra.length === 0);
  if (!ok || (args.values.force && command !== 'reload')) throw new UsageError(USAGE);
  const server = args.values.server ?? managementAddress(args.values.config);

  let path = '/zones';
  let method = 'GET';
  if (command === 'reload') {
    const q = new URLSearchParams();
    if (zone !== undefined) q.set('zone', zone);
    if (args.values.force) q.set('force', '1');
    path = `/reload${q.size > 0 ? `?${q}` : ''}`;
    method = 'POST';
  }
  let reply: { status: number; body: string };
  try {
    reply = await call(server, method, path);
  } catch (err) {
    process.stderr.write(`anycast-dns ctl: cannot reach the server at ${server}: ${(err as Error).message}\n`);
    return 3;
  }
  let body: { zones?: ZoneStatus[]; error?: string };
  try {
    body = JSON.parse(reply.body) as typeof body;
  } catch {
    process.stderr.write(`anycast-dns ctl: unexpected reply from ${server} (HTTP ${reply.status})\n`);
    return 3;
  }
  if (reply.status !== 200 || body.zones === undefined) {
    process.stderr.write(`anycast-dns ctl: ${body.error ?? `HTTP ${reply.status}`}\n`);
    return 1;
  }
  const shown = zone === undefined ? body.zones : body.zones.filter((z) => sameZone(z.zone, zone));
  process.stdout.write(formatZones(shown));
  return shown.every((z) => z.state === 'ok') ? 0 : 1;
}

function sameZone(a: string, b: string): boolean {
  const n = (s: string): string => (s.endsWith('.') ? s : s + '.').toLowerCase();
  return n(a) === n(b);
}

function managementAddress(configFile: string | undefined): string {
  const file = configFile ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : null);
  if (file === null) throw new UsageError(`ctl: no config at ${DEFAULT_CONFIG}: give --config FILE or --server HOST:PORT`);
  const cfg = loadServerConfig(file);
  if (cfg.management.listen === null) throw new UsageError(`ctl: ${file} has no management.listen: the server has no control endpoint`);
  return formatListenAddress(cfg.management.listen);
}

/** A table for people: one zone a line, then its last error (if any) indented below. */
export function formatZones(zones: readonly ZoneStatus[]): string {
  const rows = [['ZONE', 'SERIAL', 'RECORDS', 'STATE', 'LOADED', 'FILE']];
  for (const z of zones) rows.push([z.zone, String(z.serial ?? '-'), String(z.records ?? '-'), z.state, z.loaded_at ?? '-', z.file]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  let out = '';
  rows.forEach((r, i) => {
    out += r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]!))).join('  ') + '\n';
    const z = zones[i - 1];
    if (z?.last_error) out += `  ${z.state === 'held' ? 'held' : 'error'}: ${z.last_error}\n`;
  });
  return out;
}

function call(server: string, method: string, path: string): Promise<{ status: number; body: string }> {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server);
  if (!m) throw new UsageError(`ctl: --server "${server}" is not HOST:PORT`);
  return new Promise((resolve, reject) => {
    // A reload of a big zone takes seconds; a server that says nothing for a minute is gone.
    const req = request({ host: m[1], port: Number(m[2]), method, path, timeout: 60_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end();
  });
}
