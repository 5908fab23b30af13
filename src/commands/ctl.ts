// `anycast-dns ctl`: what knotc and nsd-control give operators, over the server's management
// listener: `zones` (the zone sync status), `geo` (the geo rules and country database),
// `reload [ZONE] [--force]`, and `refresh ZONE` and `retransfer ZONE` for secondary zones.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import type { GeoStatus } from '../sync/geo-source.js';
import type { ZoneStatusWithSecondary } from '../secondary/service.js';
import { DEFAULT_MANAGEMENT_LISTEN, formatListenAddress, loadServerConfig } from '../ops/config.js';

const DEFAULT_CONFIG = '/etc/anycast-dns/anycast-dns.yaml';
const USAGE = `usage: anycast-dns ctl [--config FILE | --server HOST:PORT] <command>

commands:
  zones                  every zone: serial, records, state (ok, held, error, expired), when loaded,
                         last error; for a secondary zone its primary, last and next refresh, expiry
  refresh ZONE           a secondary zone's SOA checked with its primary now (and transferred if newer)
  retransfer ZONE        a secondary zone transferred whole (AXFR) now
  geo                    the geo rules in force (names, rule ids, file, when loaded, last error)
                         and the country database (path, type, build date)
  reload [ZONE]          rescan the zone files now (all, or one zone) and show the result
  reload [ZONE] --force  also release changes held by a guard, and accept a serial that went back

The server is found at, in order: --server; management.listen in --config FILE, or in
${DEFAULT_CONFIG} if it exists (${DEFAULT_MANAGEMENT_LISTEN} when the file names none);
else ${DEFAULT_MANAGEMENT_LISTEN}, where \`anycast-dns serve\` listens without a config.
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
  const ok =
    ((command === 'zones' || command === 'geo') && zone === undefined) ||
    (command === 'reload' && extra.length === 0) ||
    ((command === 'refresh' || command === 'retransfer') && zone !== undefined && extra.length === 0);
  if (!ok || (args.values.force && command !== 'reload')) throw new UsageError(USAGE);
  const { address: server, from } = ctlServer(args.values);

  let path = command === 'geo' ? '/geo' : '/zones';
  let method = 'GET';
  if (command === 'reload') {
    const q = new URLSearchParams();
    if (zone !== undefined) q.set('zone', zone);
    if (args.values.force) q.set('force', '1');
    path = `/reload${q.size > 0 ? `?${q}` : ''}`;
    method = 'POST';
  } else if (command === 'refresh' || command === 'retransfer') {
    path = `/${command}?${new URLSearchParams({ zone: zone! })}`;
    method = 'POST';
  }
  let reply: { status: number; body: string };
  try {
    reply = await call(server, method, path);
  } catch (err) {
    process.stderr.write(`anycast-dns ctl: cannot reach the server at ${server} (${from}): ${(err as Error).message}\n`);
    return 3;
  }
  let body: { zones?: ZoneStatusWithSecondary[]; geo?: GeoStatus; error?: string };
  try {
    body = JSON.parse(reply.body) as typeof body;
  } catch {
    process.stderr.write(`anycast-dns ctl: unexpected reply from ${server} (HTTP ${reply.status})\n`);
    return 3;
  }
  if (command === 'geo' && reply.status === 200 && body.geo !== undefined) {
    process.stdout.write(formatGeo(body.geo));
    return body.geo.rulesErrors.length === 0 && body.geo.databaseError === null ? 0 : 1;
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

/**
 * The server's management address and where it came from: --server; else management.listen in
 * --config, or in the default config file when there is one; else the endpoint `serve` opens
 * without a config. `defaultConfig` is a parameter for tests.
 */
export function ctlServer(flags: { server?: string; config?: string }, defaultConfig = DEFAULT_CONFIG): { address: string; from: string } {
  if (flags.server !== undefined) return { address: flags.server, from: '--server' };
  const file = flags.config ?? (existsSync(defaultConfig) ? defaultConfig : null);
  if (file === null) return { address: DEFAULT_MANAGEMENT_LISTEN, from: `the default endpoint: no --server, no --config, no ${defaultConfig}` };
  const cfg = loadServerConfig(file);
  if (cfg.management.listen === null) throw new UsageError(`ctl: ${file} has management.listen: null: the server has no control endpoint`);
  return { address: formatListenAddress(cfg.management.listen), from: `management.listen in ${file}` };
}

/** A table for people: one zone a line, then its last error (if any) and a secondary zone's refresh state indented below. */
export function formatZones(zones: readonly ZoneStatusWithSecondary[]): string {
  const rows = [['ZONE', 'SERIAL', 'RECORDS', 'STATE', 'LOADED', 'FILE']];
  for (const z of zones) rows.push([z.zone, String(z.serial ?? '-'), String(z.records ?? '-'), z.state, z.loaded_at ?? '-', z.file]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  let out = '';
  rows.forEach((r, i) => {
    out += r.map((c, j) => (j === r.length - 1 ? c : c.padEnd(widths[j]!))).join('  ') + '\n';
    const z = zones[i - 1];
    if (z?.last_error) out += `  ${z.state === 'held' ? 'held' : 'error'}: ${z.last_error}\n`;
    const s = z?.secondary;
    if (s !== undefined) {
      out += `  secondary of ${s.primary ?? s.primaries.join(' ')}: last refresh ${s.last_refresh ?? 'never'}, next ${s.next_refresh ?? '-'}, expires ${s.expires_at ?? '-'}\n`;
      if (s.last_error !== null) out += `  refresh error: ${s.last_error}\n`;
    }
  });
  return out;
}

/** The geo status for people: the files, then one name a line with its rule ids. */
export function formatGeo(g: GeoStatus): string {
  let out = `rules     ${g.rulesFile}  loaded ${g.rulesLoadedAt ?? 'never'}\n`;
  for (const e of g.rulesErrors) out += `  error: ${e}\n`;
  const db = g.database;
  out += db === null ? 'database  none\n' : `database  ${db.path}  ${db.type}  built ${db.buildDate}  loaded ${db.loadedAt}\n`;
  if (g.databaseError !== null) out += `  error: ${g.databaseError}\n`;
  for (const n of g.names) {
    const refused = g.refused.includes(n.name) ? '  (refused: signed zone)' : '';
    out += `${n.name}  ${[...n.rules, ...(n.default ? ['default'] : [])].join(' ')}${refused}\n`;
  }
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
