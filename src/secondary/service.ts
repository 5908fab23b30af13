// Secondary zones (RFC 1034 §4.3.5, RFC 1996, RFC 1995, RFC 5936), run on the main thread beside
// zone sync: per zone a refresh timer from its SOA, the SOA query and the transfer (IXFR from the
// version served, AXFR when there is none, when asked, or when the primary or the difference can't
// do it), and expiry. A transferred version goes into serving by zone sync's one path: checked,
// judged (serial policy, shrink guard, ZONEMD) and swapped in by the store like any zone file. An
// AXFR is written as a master file into the state directory and read like one; an IXFR's difference
// is applied by the store to the version served and the result written there once it serves. A
// version the store does not take leaves the last good one serving and on disk.
import { existsSync, mkdirSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { discoverZoneFiles } from '../sync/zone-files.js';
import { compareSerials } from '../sync/policy.js';
import type { Persist, ScanRequest, ZoneStatus } from '../sync/store.js';
import { allRecords, soaRecord } from '../wire/axfr.js';
import { soaSerial, soaTimers, type InRecord } from '../wire/xfr-in.js';
import { keyFromText } from '../zone/name.js';
import type { ZoneDiff } from '../zone/patch.js';
import type { Zone, ZoneSet } from '../zone/zone.js';
import { catalogChanges, readCatalog, type CatalogMember } from './catalog.js';
import { RcodeError, primaryText, querySoa, transfer, type TransferResult } from './client.js';
import type { Primary, SecondaryConfig, SecondaryZone } from './config.js';
import { keepVersion, recoverVersion, restoreVersion, stateFile, writeVersion } from './state-files.js';
import { expireS, jittered, nextRefreshS } from './timers.js';
import { applyDiffs, masterFile } from './versions.js';

/**
 * Refreshes run at once at most: a POP of thousands of secondary zones must not open thousands of
 * connections to its primaries when it starts, nor queue thousands of loads behind each other.
 */
const CONCURRENT_REFRESHES = 8;
/** The longest delay setTimeout takes (a signed 32-bit count of ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A SOA query not answered within this long is lost (the next primary is asked). */
const SOA_TIMEOUT_MS = 2000;
/** RFC 1995 §2 leaves the fallback to the secondary: IXFR answered with these is asked again as AXFR (FORMERR, NOTIMP, REFUSED). */
const AXFR_AFTER_RCODES = new Set([1, 4, 5]);

export type TransferKind = 'axfr' | 'ixfr';
/** ok: served; rejected: transferred but refused by zone sync's checks or guards; failed: the transfer did not complete. */
export type TransferInResult = 'ok' | 'rejected' | 'failed';
export type NotifyInResult = 'accepted' | 'refused' | 'notauth' | 'formerr' | 'badkey' | 'badsig' | 'badtime';

/** Where transfers and NOTIFYs are counted (the metrics, in ops/). */
export interface SecondaryMetrics {
  transferred(kind: TransferKind, result: TransferInResult, bytes: number, seconds: number): void;
  notifyReceived(result: NotifyInResult): void;
}

/** What the secondary needs of zone sync's store. */
export interface SecondaryStore {
  readonly zones: ZoneSet;
  scan(req: ScanRequest): Promise<void>;
  applyDiff(origin: string, diff: ZoneDiff, persist: Persist): Promise<boolean>;
  statusOf(origin: string): ZoneStatus | undefined;
  setExpired(origin: string, expired: boolean): void;
}

/** A secondary zone's refresh, as `GET /zones` and `ctl zones` show it. */
interface SecondaryStatus {
  primaries: string[];
  /** The primary last heard from. */
  primary: string | null;
  last_refresh: string | null;
  next_refresh: string | null;
  expires_at: string | null;
  last_error: string | null;
}

export type ZoneStatusWithSecondary = ZoneStatus & { secondary?: SecondaryStatus };

interface Run {
  zone: SecondaryZone;
  /** The catalog zone that lists it (RFC 9432) and its unique ID there, or null for a zone of the config. */
  catalog: string | null;
  memberId: string | null;
  key: string;
  file: string;
  timer: NodeJS.Timeout | null;
  expiry: NodeJS.Timeout | null;
  /** The refresh under way, and whether another (AXFR or not) was asked meanwhile. */
  running: Promise<void> | null;
  again: { axfr: boolean } | null;
  primary: string | null;
  lastOk: number | null;
  nextAt: number | null;
  expiresAt: number | null;
  lastError: string | null;
}

export class SecondaryZones {
  /** origin → state file, for the zones that have one: zone sync serves these beside its directory. */
  readonly files = new Map<string, string>();
  private readonly runs = new Map<string, Run>();
  private closed = false;
  private store: SecondaryStore | null = null;
  /** Refreshes running, and those waiting for one to end (CONCURRENT_REFRESHES). */
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Refused NOTIFYs are logged at most once a second. */
  private lastRefusalLog = 0;

  constructor(
    private readonly cfg: SecondaryConfig,
    private readonly log: Logger,
    private readonly metrics: SecondaryMetrics,
    private readonly now: () => number = Date.now,
    /** Told of the secondary zones whenever a catalog adds or removes members (NOTIFY is taken for them). */
    private readonly zonesChanged: (zones: SecondaryZone[]) => void = () => {},
  ) {
    for (const zone of cfg.zones) {
      const run: Run = { zone, catalog: null, memberId: null, key: keyFromText(zone.origin, null), file: stateFile(cfg.stateDir, zone.origin), timer: null, expiry: null, running: null, again: null, primary: null, lastOk: null, nextAt: null, expiresAt: null, lastError: null };
      this.runs.set(zone.origin, run);
    }
  }

  /**
   * Before zone sync's first scan: the state directory made, each zone's last good version found
   * there. A secondary zone that also has a file in the zones directory stops start-up.
   */
  prepare(zonesDir: string, zoneFiles: ReadonlyMap<string, string> | null): void {
    const found = zoneFiles === null ? discoverZoneFiles(zonesDir, null) : null;
    if (found !== null && !(found instanceof Error)) {
      this.cfg.zones.forEach((z, i) => {
        const file = found.get(z.origin);
        if (file !== undefined) throw new ConfigError(`secondary.zones[${i}].zone`, `${z.origin} also has a zone file, ${file}: a zone is served from a file or transferred, not both`);
      });
    }
    mkdirSync(this.cfg.stateDir, { recursive: true });
    for (const r of this.runs.values()) {
      recoverVersion(r.file);
      if (existsSync(r.file)) this.files.set(r.zone.origin, r.file);
    }
  }

  /**
   * Once zone sync has loaded what was on disk: the expiry of each version from when it was last
   * confirmed (the file's time), and a refresh of every zone now.
   */
  start(store: SecondaryStore): void {
    this.store = store;
    for (const r of this.runs.values()) {
      const z = this.served(r);
      if (z !== undefined && existsSync(r.file)) {
        r.lastOk = statSync(r.file).mtimeMs;
        this.armExpiry(r, z);
      }
      void this.refresh(r.zone.origin, { axfr: false, reason: 'start' });
    }
    // The members of the catalogs loaded from disk are served from disk too (their files are in the
    // state directory, and zone sync loaded them): listed again, they are refreshed like the others.
    for (const r of [...this.runs.values()]) if (r.zone.catalog) this.applyCatalog(r);
  }

  /** The secondary zones now: the config's and the catalogs' members. */
  zones(): SecondaryZone[] {
    return [...this.runs.values()].map((r) => r.zone);
  }

  /**
   * Makes the members of catalog zone `r` (RFC 9432) secondaries of its primaries and stops serving
   * the members it no longer lists (zone sync's removal guard, `zone_sync.max_zone_loss`, applies).
   */
  private applyCatalog(r: Run): void {
    const z = this.served(r);
    if (z === undefined) return;
    const catalog = r.zone.origin;
    const before: CatalogMember[] = [...this.runs.values()].filter((x) => x.catalog === catalog).map((x) => ({ id: x.memberId!, zone: x.zone.origin, groups: [], coo: null }));
    const reading = readCatalog(z, before);
    if (reading.members === null) {
      this.log.error({ zone: catalog, err: reading.error }, 'catalog zone not applied');
      return;
    }
    for (const why of reading.ignored) this.log.warn({ zone: catalog, err: why }, 'catalog member ignored');
    const changes = catalogChanges(before, reading.members);
    // A member whose unique ID changed is reset (RFC 9432 §5.4): its state goes, and it is transferred afresh.
    const removed = [...changes.removed, ...changes.reset].map((m) => this.runs.get(m.zone)!);
    for (const x of removed) {
      if (x.timer !== null) clearTimeout(x.timer);
      if (x.expiry !== null) clearTimeout(x.expiry);
      this.runs.delete(x.zone.origin);
      this.files.delete(x.zone.origin);
      if (existsSync(x.file)) unlinkSync(x.file);
    }
    const added: string[] = [];
    for (const m of [...changes.added, ...changes.reset].sort((a, b) => (a.zone < b.zone ? -1 : 1))) {
      // A zone of the config or of another catalog keeps its place (RFC 9432 §5.2).
      if (this.runs.has(m.zone)) {
        this.log.warn({ zone: catalog, member: m.zone, err: 'already a secondary zone of the config or of another catalog' }, 'catalog member ignored');
        continue;
      }
      const run: Run = { zone: { origin: m.zone, primaries: r.zone.primaries, catalog: false }, catalog, memberId: m.id, key: keyFromText(m.zone, null), file: stateFile(this.cfg.stateDir, m.zone), timer: null, expiry: null, running: null, again: null, primary: null, lastOk: null, nextAt: null, expiresAt: null, lastError: null };
      this.runs.set(m.zone, run);
      if (existsSync(run.file)) this.files.set(m.zone, run.file);
      added.push(m.zone);
    }
    if (added.length === 0 && removed.length === 0) return;
    this.log.info({ zone: catalog, added, removed: removed.map((x) => x.zone.origin), reset: changes.reset.map((m) => m.zone) }, 'catalog zone applied');
    this.zonesChanged(this.zones());
    // Members gone stop being served, and members with a version on disk (a restart) are served
    // from it, by one scan; then the new members are refreshed.
    const scan = removed.length > 0 || added.some((m) => this.files.has(m)) ? this.store!.scan({ reason: 'catalog', noSettle: true }) : Promise.resolve();
    void scan.then(() => {
      for (const m of added) {
        const run = this.runs.get(m);
        if (run === undefined) continue;
        const served = this.served(run);
        if (served !== undefined) {
          run.lastOk = statSync(run.file).mtimeMs;
          this.armExpiry(run, served);
        }
        void this.refresh(m, { axfr: false, reason: 'catalog' });
      }
    });
  }

  /** Whether `origin` (canonical) is a secondary zone. */
  has(origin: string): boolean {
    return this.runs.has(origin);
  }

  /** A NOTIFY from a primary (RFC 1996 §3.11) or its refusal; an accepted one refreshes the zone now. */
  notified(origin: string, result: NotifyInResult, remote: string): void {
    this.metrics.notifyReceived(result);
    if (result === 'accepted') {
      this.log.info({ zone: origin, remote }, 'notify received');
      void this.refresh(origin, { axfr: false, reason: 'notify' });
      return;
    }
    const t = this.now();
    if (t - this.lastRefusalLog < 1000) return;
    this.lastRefusalLog = t;
    this.log.warn({ zone: origin, remote, result }, 'notify refused');
  }

  /** Refreshes `origin` now (an AXFR with `axfr`); resolves when done. A refresh asked during another runs after it. */
  refresh(origin: string, how: { axfr: boolean; reason: string }): Promise<void> {
    const r = this.runs.get(origin);
    if (r === undefined || this.closed || this.store === null) return Promise.resolve();
    if (r.running !== null) {
      r.again = { axfr: (r.again?.axfr ?? false) || how.axfr };
      return r.running;
    }
    r.running = (async () => {
      let next: { axfr: boolean } | null = how;
      if (this.active >= CONCURRENT_REFRESHES) await new Promise<void>((resolve) => this.waiting.push(resolve));
      this.active++;
      try {
        while (next !== null && !this.closed) {
          r.again = null;
          try {
            await this.refreshOnce(r, next.axfr, how.reason);
          } catch (err) {
            // A fault of ours (the state directory unwritable...): the zone is tried again like after any failure.
            this.failed(r, `internal error: ${(err as Error).message}`);
          }
          next = r.again;
        }
      } finally {
        this.active--;
        this.waiting.shift()?.();
        r.running = null;
      }
    })();
    return r.running;
  }

  private async refreshOnce(r: Run, axfr: boolean, reason: string): Promise<void> {
    if (r.timer !== null) clearTimeout(r.timer);
    r.timer = null;
    const errors: string[] = [];
    for (const p of r.zone.primaries) {
      // A catalog zone is not answered to queries (Knot refuses them): its refresh is the IXFR itself,
      // answered with the SOA alone when nothing changed (RFC 1995 §4).
      let soa: InRecord | null = null;
      if (!r.zone.catalog) {
        try {
          soa = await querySoa(p, r.zone.origin, SOA_TIMEOUT_MS);
        } catch (err) {
          errors.push(`${primaryText(p)}: ${(err as Error).message}`);
          continue;
        }
      }
      r.primary = primaryText(p);
      const served = this.served(r);
      if (!axfr && soa !== null && served !== undefined && compareSerials(soaSerial(soa.rdata), served.serial) <= 0) {
        this.log.debug({ zone: r.zone.origin, primary: r.primary, serial: served.serial, reason }, 'zone up to date');
        this.succeeded(r);
        return;
      }
      const outcome = await this.transferFrom(r, p, served, axfr);
      if (outcome === null) {
        this.succeeded(r);
        return;
      }
      errors.push(`${primaryText(p)}: ${outcome}`);
    }
    this.failed(r, errors.join('; ') || 'no primary');
  }

  /** Transfers and serves a new version from `p`; null when served, else why not. */
  private async transferFrom(r: Run, p: Primary, served: Zone | undefined, axfr: boolean): Promise<string | null> {
    let kind: TransferKind = served === undefined || axfr ? 'axfr' : 'ixfr';
    for (;;) {
      const started = this.now();
      let got: TransferResult;
      let version: { soa: InRecord; records: InRecord[] } | ZoneDiff<InRecord>;
      let why: string;
      try {
        this.log.debug({ zone: r.zone.origin, primary: primaryText(p), kind, serial: served?.serial ?? null }, 'zone transfer in started');
        got = await transfer(p, r.zone.origin, kind === 'ixfr' ? soaRecord(served!) : null, { timeoutMs: this.cfg.transferTimeoutMs, maxBytes: this.cfg.maxTransferBytes });
        const c = got.content;
        if (c.style === 'current') {
          this.metrics.transferred(kind, 'ok', got.bytes, (this.now() - started) / 1000);
          return null;
        }
        if (c.style === 'axfr') version = { soa: c.soa, records: c.records };
        else {
          const diff = applyDiffs(served!, c.diffs);
          if (typeof diff === 'string') throw new Error(`the difference does not apply: ${diff}`);
          version = diff;
        }
        why = await this.serve(r, version, kind, c.style, served, got, started);
        if (why === '') return null;
      } catch (err) {
        why = (err as Error).message;
        const ms = this.now() - started;
        this.metrics.transferred(kind, 'failed', 0, ms / 1000);
        this.log.warn({ zone: r.zone.origin, primary: primaryText(p), kind, serial: served?.serial ?? null, ms, err: why }, 'zone transfer in failed');
        // RFC 1995 §4: the secondary may ask for the whole zone when the difference can't be had or used.
        const fallback = kind === 'ixfr' && (!(err instanceof RcodeError) || AXFR_AFTER_RCODES.has(err.rcode)) && !why.includes('(limit)');
        if (fallback) {
          kind = 'axfr';
          continue;
        }
      }
      return why;
    }
  }

  /** Has zone sync judge the version (an AXFR's, written first; an IXFR's difference, written once served) and serve it or keep the last good one; '' when served, else why not. */
  private async serve(r: Run, v: { soa: InRecord; records: InRecord[] } | ZoneDiff<InRecord>, kind: TransferKind, style: string, served: Zone | undefined, got: TransferResult, started: number): Promise<string> {
    const store = this.store!;
    const taken = 'gone' in v ? await store.applyDiff(r.zone.origin, v, (zone, stopped) => this.persist(r, masterFile(r.zone.origin, soaRecord(zone), allRecords(zone)), stopped)) : await this.serveFile(r, v);
    const status = store.statusOf(r.zone.origin);
    const ms = this.now() - started;
    const fields = { zone: r.zone.origin, primary: r.primary, kind, style, from: served?.serial ?? null, serial: soaSerial(v.soa.rdata), records: 'gone' in v ? (status?.records ?? null) : v.records.length + 1, bytes: got.bytes, ms };
    this.metrics.transferred(kind, taken ? 'ok' : 'rejected', got.bytes, ms / 1000);
    if (taken) {
      this.log.info(fields, 'zone transfer in');
      if (r.zone.catalog) this.applyCatalog(r);
      return '';
    }
    const why = `serial ${fields.serial} not served: ${status?.last_error ?? 'not loaded'}`;
    this.log.warn({ ...fields, err: why }, 'zone transfer in not served; the last good version stays');
    return why;
  }

  /** Writes the whole version to the zone's state file and has zone sync read it; the last good file goes back if it is not taken. */
  private async serveFile(r: Run, v: { soa: InRecord; records: InRecord[] }): Promise<boolean> {
    const store = this.store!;
    const sha256 = (await writeVersion(r.file, masterFile(r.zone.origin, v.soa, v.records)))!;
    this.files.set(r.zone.origin, r.file);
    await store.scan({ reason: 'transfer', zone: r.zone.origin, verify: true, noSettle: true });
    const status = store.statusOf(r.zone.origin);
    if (status !== undefined && status.sha256 === sha256 && status.state === 'ok') {
      keepVersion(r.file);
      return true;
    }
    restoreVersion(r.file);
    if (!existsSync(r.file)) this.files.delete(r.zone.origin);
    return false;
  }

  /** A version zone sync serves, written to the zone's state file; resolves with the SHA-256 of what was written, or null when stopped. */
  private async persist(r: Run, text: Iterable<string>, stopped: () => boolean): Promise<string | null> {
    const sha256 = await writeVersion(r.file, text, { stopped, paced: true });
    keepVersion(r.file);
    return sha256;
  }

  private succeeded(r: Run): void {
    r.lastOk = this.now();
    r.lastError = null;
    const z = this.served(r);
    if (z !== undefined) {
      // RFC 1034 §4.3.5: a refresh that reached the primary restarts the expire clock.
      utimesSync(r.file, r.lastOk / 1000, r.lastOk / 1000);
      this.store!.setExpired(r.zone.origin, false);
      this.armExpiry(r, z);
    }
    this.schedule(r, true);
  }

  private failed(r: Run, why: string): void {
    r.lastError = why;
    this.log.warn({ zone: r.zone.origin, err: why, expires_at: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString() }, 'zone refresh failed');
    this.schedule(r, false);
  }

  private schedule(r: Run, succeeded: boolean): void {
    if (this.closed) return;
    const z = this.served(r);
    const s = nextRefreshS(z === undefined ? null : soaTimers(z.soa.rdatas[0]!), succeeded, this.cfg.timers);
    const ms = Math.round(jittered(s, Math.random()) * 1000);
    r.nextAt = this.now() + ms;
    if (r.timer !== null) clearTimeout(r.timer);
    r.timer = setTimeout(() => void this.refresh(r.zone.origin, { axfr: false, reason: succeeded ? 'refresh' : 'retry' }), ms);
    r.timer.unref();
  }

  private armExpiry(r: Run, z: Zone): void {
    if (r.expiry !== null) clearTimeout(r.expiry);
    r.expiresAt = r.lastOk! + expireS(soaTimers(z.soa.rdatas[0]!), this.cfg.timers) * 1000;
    const expire = (): void => {
      this.log.error({ zone: r.zone.origin, last_refresh: new Date(r.lastOk!).toISOString() }, 'zone expired: no refresh within the SOA expire time; answering SERVFAIL');
      this.store!.setExpired(r.zone.origin, true);
    };
    // A longer delay than setTimeout takes (an EXPIRE of weeks) is waited for in steps.
    const arm = (): void => {
      const ms = r.expiresAt! - this.now();
      if (ms <= 0) return expire();
      r.expiry = setTimeout(arm, Math.min(ms, MAX_TIMER_MS));
      r.expiry.unref();
    };
    arm();
  }

  private served(r: Run): Zone | undefined {
    return this.store?.zones.zones.get(r.key);
  }

  /** `zones` with each secondary zone's refresh state added; a secondary with no version yet gets a row of its own. */
  status(zones: readonly ZoneStatus[]): ZoneStatusWithSecondary[] {
    const out: ZoneStatusWithSecondary[] = [];
    const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
    const seen = new Set<string>();
    const of = (r: Run): SecondaryStatus => ({
      primaries: r.zone.primaries.map(primaryText),
      primary: r.primary,
      last_refresh: iso(r.lastOk),
      next_refresh: iso(r.nextAt),
      expires_at: iso(r.expiresAt),
      last_error: r.lastError,
    });
    for (const z of zones) {
      const r = this.runs.get(z.zone);
      if (r === undefined) out.push(z);
      else {
        seen.add(z.zone);
        out.push({ ...z, secondary: of(r) });
      }
    }
    for (const r of this.runs.values()) {
      if (seen.has(r.zone.origin)) continue;
      out.push({ zone: r.zone.origin, file: r.file, state: 'error', serial: null, records: null, sha256: null, loaded_at: null, last_error: r.lastError ?? 'no version transferred yet', secondary: of(r) });
    }
    return out.sort((a, b) => (a.zone < b.zone ? -1 : 1));
  }

  /** Stops every timer; a transfer under way finishes but changes nothing more. */
  close(): void {
    this.closed = true;
    for (const r of this.runs.values()) {
      if (r.timer !== null) clearTimeout(r.timer);
      if (r.expiry !== null) clearTimeout(r.expiry);
    }
  }
}
