// `anycast-dns check FILE|DIR [--origin NAME] [--print]`, or `check --config FILE`: what operators
// run before syncing a zone to the POPs. Reports like named-checkzone: `file:line: message`, then one
// summary line per zone. A geo rules file (--geo, or the config's geo.rules) is checked on its own and
// against the zones checked with it. A directory is read by the server's own discovery (sync/zone-files.ts), so
// check and serve never disagree on which files are zones.

import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { loadServerConfig } from '../ops/config.js';
import { checkAgainstZones, parseGeoRules } from '../sync/geo-rules.js';
import { readZoneDir } from '../sync/zone-files.js';
import { ZoneSet, type Zone } from '../zone/zone.js';
import { formatDiagnostic } from '../zone/parser.js';
import { loadZoneFile, type LoadResult } from '../zone/read-zone.js';
import { printZone } from '../zone/print.js';

const HELP = `usage: anycast-dns check FILE|DIR [--origin NAME] [--geo RULES] [--print] [--quiet] [--expiry-warning-days N]
       anycast-dns check --config FILE [DIR] [--print] [--quiet] [--expiry-warning-days N]

Validates zone files as the server would load them. A directory is checked as the server's zones
directory: every <origin>.zone file, leaving out the names sync tools and editors use while they
work (dot files, *.tmp, *~, ...), and of two files naming one zone the first in sorted order. With
--config, the zones the config file's zones and zone_files name (DIR replaces zones). Prints "zone NAME/IN: loaded serial N (M records)" for each
good zone and "file:line: message" for each error or warning; exits 1 if any zone has an error.
A zone with an apex ZONEMD record is verified against it (RFC 8976): a digest mismatch is an error.
A signed zone's NSEC or NSEC3 chain is checked as dnssec-verify checks it (a break is an error), and
signatures that have expired are an error, and those that expire soon a warning.

  --config FILE   check the zones of this server config file, and its geo rules file (geo.rules)
  --geo RULES     check this geo rules file too, alone and against the zones checked: a name in a
                  signed zone, at a delegation or beside a CNAME is an error; "geo RULES: loaded N
                  names" when it is good
  --origin NAME   the zone's origin (default: the first SOA's owner, else the file name)
  --print         write the zone in canonical presentation form to stdout
  --quiet         print errors only
  --expiry-warning-days N   warn of signatures expiring within N days (default 7)`;

export async function runCheck(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        geo: { type: 'string' },
        origin: { type: 'string' },
        print: { type: 'boolean' },
        quiet: { type: 'boolean' },
        'expiry-warning-days': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`check: ${(e as Error).message}`);
  }
  if (args.values.help) {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  const configFile = args.values.config;
  if (args.positionals.length > 1 || (configFile === undefined && args.positionals.length === 0)) throw new UsageError(`check: expected one FILE or DIR\n${HELP}`);
  const cfg = configFile === undefined ? null : loadServerConfig(configFile, args.positionals.length === 1 ? { zones: args.positionals[0]! } : {});
  const target = cfg === null ? args.positionals[0]! : cfg.zones;
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    process.stderr.write(`${target}: no such file or directory\n`);
    return 1;
  }
  if (cfg !== null && !isDir) throw new UsageError(`check: ${target}: the zones of a config file are a directory`);
  if (isDir && args.values.origin) throw new UsageError('check: --origin applies to a single file');
  const days = args.values['expiry-warning-days'];
  if (days !== undefined && !/^\d{1,4}$/.test(days)) throw new UsageError(`check: --expiry-warning-days expects a number of days, not "${days}"`);
  const opts = days === undefined ? {} : { expiryWarningDays: Number(days) };
  let results: LoadResult[];
  try {
    results = isDir ? readZoneDir(target, cfg?.zoneFiles ?? null, opts).results : [loadZoneFile(target, args.values.origin, opts)];
  } catch (err) {
    process.stderr.write(`${target}: ${(err as Error).message}\n`);
    return 1;
  }
  if (isDir && results.length === 0) {
    process.stderr.write(`${target}: no zone files (<origin>.zone)\n`);
    return 1;
  }
  let failed = false;
  // Summaries go to stderr when --print owns stdout, so the printed zone stays clean.
  const info = args.values.print ? process.stderr : process.stdout;
  for (const r of results) {
    for (const w of r.warnings) if (!args.values.quiet) process.stderr.write(`${formatDiagnostic(w)} (warning)\n`);
    for (const e of r.errors) process.stderr.write(formatDiagnostic(e) + '\n');
    const name = r.origin === '.' ? '.' : r.origin.replace(/\.$/, '');
    const note = r.zonemd?.status === 'verified' ? `, ZONEMD verified (scheme ${r.zonemd.scheme}, hash algorithm ${r.zonemd.hashAlgorithm})` : '';
    if (r.zone) {
      if (!args.values.quiet) info.write(`zone ${name}/IN: loaded serial ${r.zone.serial} (${r.zone.recordCount} records)${note}\n`);
      if (args.values.print) printZone(r.zone, (s) => process.stdout.write(s));
    } else {
      failed = true;
      process.stderr.write(`zone ${name}/IN: not loaded due to errors\n`);
    }
  }
  const geoFile = args.values.geo ?? cfg?.geo?.rulesFile;
  if (geoFile !== undefined && !checkGeo(geoFile, results, args.values.quiet === true, info)) failed = true;
  return failed ? 1 : 0;
}

/** Checks the geo rules file `file` alone and against the zones of `results` that loaded; false on an error. */
function checkGeo(file: string, results: readonly LoadResult[], quiet: boolean, info: NodeJS.WritableStream): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`${file}:0: cannot read: ${(err as Error).message}\n`);
    return false;
  }
  const parsed = parseGeoRules(file, text);
  if (!parsed.ok) {
    for (const e of parsed.errors) process.stderr.write(e + '\n');
    process.stderr.write(`geo ${file}: not loaded due to errors\n`);
    return false;
  }
  const zones = new Map<string, Zone>();
  for (const r of results) if (r.zone !== null) zones.set(r.zone.origin, r.zone);
  const check = checkAgainstZones(parsed.rules, new ZoneSet(zones));
  if (!quiet) for (const w of check.warnings) process.stderr.write(`${w} (warning)\n`);
  for (const e of check.errors) process.stderr.write(e + '\n');
  if (check.errors.length > 0) return false;
  if (!quiet) info.write(`geo ${file}: loaded ${parsed.rules.names.size} names\n`);
  return true;
}
