// The zone store: which zones are served, from which version of their files, and in what state.
// A scan finds the zone files, notices which changed (file identity: inode, size, mtime and ctime,
// or their content when asked), loads the changed ones in batches in the loader threads, judges each
// new version (policy.ts) and swaps each batch in at once, so a broken file never replaces a good
// version, a big zone never delays the small ones, and start-up with 100,000 zones is a few hundred
// swaps, each costing what it changes. Scans run one at a time; requests arriving during a scan are
// merged into the next.
import { statSync } from 'node:fs';
import type { Logger } from '../log.js';
import type { ZoneDiff } from '../zone/patch.js';
import { CompactZone, ZoneSet, type Zone } from '../zone/zone.js';
import type { LoadJob, LoadOutcome } from './load-job.js';
import type { ZoneLoader } from './loader.js';
import { judgeRemovals, judgeVersion, type SyncPolicy } from './policy.js';
import { fileIdentity, MISSING_FILE } from './file-identity.js';
import { discoverZoneFiles, findZoneFile, type ZoneFileMap } from './zone-files.js';

export type ZoneState = 'ok' | 'held' | 'error' | 'expired';

/** One zone as `GET /zones` and `ctl zones` show it. */
export interface ZoneStatus {
  zone: string;
  file: string;
  /** ok: the file's version is served; held: a change waits for `reload --force`; error: the file's version was refused or is broken; expired: a secondary zone past its SOA expire time, answered SERVFAIL. */
  state: ZoneState;
  serial: number | null;
  records: number | null;
  sha256: string | null;
  /** When the served version was loaded (ISO 8601), or null when none is served. */
  loaded_at: string | null;
  last_error: string | null;
}

export interface ScanRequest {
  /** Why (logged): start, watch, rescan, sighup, reload. */
  reason: string;
  /** Release held changes and accept serials that go backwards: an operator's explicit word. */
  force?: boolean;
  /** Hash contents even where size and mtime say nothing changed. */
  verify?: boolean;
  /** Only this zone (origin, absolute); the others are left as they are. */
  zone?: string | null;
  /** With `zone`: a file an event named for it, looked at beside the one it was served from. */
  file?: string;
  /** Read files changed within the settle time too (start-up: nothing is served yet, so take what is there). */
  noSettle?: boolean;
}

/** One zone swapped in (`zone`) or no longer served (null). */
export interface ZoneChange {
  origin: string;
  zone: Zone | null;
  /** A secondary zone past its expire time: kept, but its names are answered SERVFAIL (ZoneSet.expired). */
  expired?: boolean;
}

/** Writes a served version to its zone's file; resolves with the SHA-256 written, or null when `stopped()` said to stop (the file then holds what it held). */
export type Persist = (zone: Zone, stopped: () => boolean) => Promise<string | null>;

export type ReloadResult = 'success' | 'failure' | 'refused' | 'held' | 'removed';

export interface StoreEvents {
  /** Zones were swapped in or stopped being served, all at once; `zones` is the set served now. */
  changed(changes: readonly ZoneChange[], zones: ZoneSet): void;
  /** A zone's version was tried or removed (metrics): the zone (origin, as `zone` in its status) and how it went. */
  status?(zone: string, result: ReloadResult): void;
}

export interface StoreOptions {
  dir: string;
  /** origin → file (relative to dir), or null to serve every `<origin>.zone` in dir. */
  files: ReadonlyMap<string, string> | null;
  /**
   * Zones served from files outside `dir`, origin → absolute path: the secondary zones' state files.
   * Read at every scan; such a zone's file in `dir`, if any, is not read.
   */
  extraFiles?: ReadonlyMap<string, string>;
  policy: SyncPolicy;
  /** A file changed less than this long ago is still being written: leave it for a later scan. */
  settleMs: number;
  /** Warn of signatures of a signed zone that expire within this many days (7 by default). */
  signatureWarningDays?: number;
  loader: ZoneLoader;
  log: Logger;
  events: StoreEvents;
  now?: () => number;
}

interface Entry {
  origin: string;
  file: string;
  zone: Zone | null;
  served: { serial: number; records: number; sha256: string; files: string[]; loadedAt: number } | null;
  state: ZoneState;
  lastError: string | null;
  /** File identities when the last version was tried (served or not): unchanged files are not read again. */
  seen: string | null;
  /** Files of the last version tried. */
  files: string[];
  /** The last version tried and not served (broken, refused, held), so a rescan does not parse and report it again. */
  tried: { sha256: string; files: string[] } | null;
  /** What the policy remarked on the version being swapped in, for its log line. */
  note: string | null;
}

/** A zone file found by a scan, to be read. */
interface ScanItem {
  origin: string;
  file: string;
  size: number;
  /** Its files' identity when stat'ed. */
  seen: string;
  /** Not stat'ed: the loader takes its identity and size (LoadJob.probe). */
  probe?: boolean;
}

/** A batch closes at this many zones or this many octets of zone files: one message to a loader thread, one swap. */
const BATCH_ZONES = 512;
const BATCH_BYTES = 2 << 20;
/** Files up to this size are batched as the scan finds them; larger ones are sorted by size first. */
const STREAM_MAX_BYTES = 64 * 1024;
/** Files stat'ed between two turns of the event loop: a scan of 100,000 zones never holds up answering. */
const STATS_PER_TURN = 2000;

export class ZoneStore {
  private readonly entries = new Map<string, Entry>();
  private readonly set = new ZoneSet(new Map());
  private running: Promise<void> | null = null;
  private queued: { req: ScanRequest; done: Promise<void>; resolve: () => void } | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private settleZone: string | null = null;
  private settleFile: string | undefined = undefined;
  private closed = false;
  /** The version applyDiff is writing to its file, whether a newer one asked it to stop, and whether it may (not twice in a row). */
  private writing: { origin: string; stop: boolean; stoppable: boolean } | null = null;
  /** Zones whose last write was stopped: the next one is not, so a zone changed faster than it is written still reaches its file. */
  private readonly writeStopped = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly o: StoreOptions) {
    this.now = o.now ?? Date.now;
  }

  get zones(): ZoneSet {
    return this.set;
  }

  /** Every zone's status, sorted by name (`GET /zones`, `ctl zones`). */
  status(): ZoneStatus[] {
    return [...this.entries.values()].sort((a, b) => (a.origin < b.origin ? -1 : 1)).map(statusOf);
  }

  /** Every zone's status, unsorted (metrics). */
  *statuses(): IterableIterator<ZoneStatus> {
    for (const e of this.entries.values()) yield statusOf(e);
  }

  /** One zone's status (origin canonical, as `zone` in the status), or undefined when it is not known. */
  statusOf(origin: string): ZoneStatus | undefined {
    const e = this.entries.get(origin);
    return e === undefined ? undefined : statusOf(e);
  }

  /**
   * Marks a secondary zone expired (RFC 1034 §4.3.5: no refresh within its SOA's EXPIRE), so its
   * names are answered SERVFAIL, or no longer expired; each change is published like a new version.
   */
  setExpired(origin: string, expired: boolean): void {
    const e = this.entries.get(origin);
    if (e === undefined || e.zone === null || (e.state === 'expired') === expired) return;
    e.state = expired ? 'expired' : 'ok';
    e.lastError = expired ? 'expired: no refresh from a primary within the SOA expire time' : null;
    this.publish([{ origin, zone: e.zone, expired }]);
  }

  /** Runs a scan now, or merges into the one queued behind the running scan; resolves when a scan that began after this call has finished. */
  scan(req: ScanRequest): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running === null) {
      this.running = this.drain(() => this.scanOnce(req));
      return this.running;
    }
    if (this.queued === null) {
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r));
      this.queued = { req: { ...req }, done, resolve };
    } else {
      const q = this.queued.req;
      q.reason = `${q.reason}+${req.reason}`;
      q.force = q.force === true || req.force === true;
      q.verify = q.verify === true || req.verify === true;
      q.noSettle = q.noSettle === true && req.noSettle === true;
      // One zone and another, or one zone and all: all.
      if (q.zone !== req.zone) q.zone = null;
      if (req.file !== undefined) q.file = req.file;
    }
    return this.queued.done;
  }

  /** Stops scanning: a scan under way ends after the batch being swapped in; queued ones do not run. */
  close(): void {
    this.closed = true;
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    this.settleTimer = null;
  }

  /**
   * A new version of `origin` made from the one served and `diff` (a secondary's IXFR), built and
   * checked in a loader thread, judged and swapped in as a new version of its file would be.
   * Resolves with whether it is served as soon as it is; then `persist` writes it to the zone's file
   * (resolving with the SHA-256 of what it wrote, which becomes the version's, or null when it
   * stopped) before any scan looks at the file. A newer difference stops a write under way, but not
   * two in a row: only the newest version is worth writing, and a restart before it is written
   * serves the file's.
   */
  applyDiff(origin: string, diff: ZoneDiff, persist: Persist): Promise<boolean> {
    if (this.writing?.origin === origin && this.writing.stoppable) this.writing.stop = true;
    return new Promise((resolve) => {
      const run = (): void => {
        // One at a time with the scans: a scan never reads the file while the version is being written.
        if (this.running !== null) {
          void this.running.then(run, run);
          return;
        }
        if (this.closed) return resolve(false);
        this.running = this.drain(() => this.applyOnce(origin, diff, persist, resolve));
      };
      run();
    });
  }

  private async applyOnce(origin: string, diff: ZoneDiff, persist: Persist, served: (taken: boolean) => void): Promise<void> {
    const e = this.entries.get(origin);
    // The difference was checked against the version it names: applied to another, it would be wrong.
    if (e === undefined || !(e.zone instanceof CompactZone) || e.zone.serial !== diff.from) return served(false);
    const started = this.now();
    const outcome = await this.o.loader.load({ kind: 'patch', origin, file: e.file, base: e.zone.parts(), diff, signatureWarningDays: this.o.signatureWarningDays });
    // `large` comes only of a probed file job, never of a patch.
    if (this.closed || outcome.kind === 'large' || this.judge(origin, e.file, e.seen ?? '', outcome, { reason: 'transfer' }) === null) return served(false);
    this.publish([{ origin, zone: e.zone }]);
    this.logLoaded(e, this.now() - started, 'transfer');
    this.report(e, 'success');
    served(true);
    const writing = { origin, stop: false, stoppable: !this.writeStopped.has(origin) };
    this.writing = writing;
    const writeStarted = this.now();
    try {
      const sha256 = await persist(e.zone, () => writing.stop || this.closed);
      if (sha256 !== null && e.served !== null) e.served.sha256 = sha256;
      if (sha256 === null) this.writeStopped.add(origin);
      else this.writeStopped.delete(origin);
      this.o.log.debug({ zone: origin, file: e.file, serial: e.zone.serial, sha256: sha256 ?? undefined, ms: this.now() - writeStarted, stopped: sha256 === null }, 'zone version written');
    } catch (err) {
      this.o.log.error({ zone: origin, file: e.file, err: (err as Error).message }, 'zone version served but not written to its file; a restart serves the version the file holds');
    } finally {
      this.writing = null;
      // The file as it is now is the one served (or one a newer version replaces at once): no scan reads it again.
      e.seen = identities(e.files, e.file).text;
    }
  }

  private async drain(first: () => Promise<void>): Promise<void> {
    try {
      await first();
      while (this.queued !== null) {
        const q = this.queued;
        this.queued = null;
        try {
          if (!this.closed) await this.scanOnce(q.req);
        } finally {
          q.resolve();
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async scanOnce(req: ScanRequest): Promise<void> {
    const { log } = this.o;
    const only = req.zone ?? null;
    const found = this.findOne(only, req.file) ?? discoverZoneFiles(this.o.dir, this.o.files);
    if (!(found instanceof Error)) for (const [origin, file] of this.o.extraFiles ?? []) if (only === null || origin === only) found.set(origin, file);
    if (found instanceof Error) {
      // An unreadable directory (mid-swap, unmounted) is not "every zone deleted": keep serving.
      log.error({ dir: this.o.dir, err: found.message }, 'zones directory unreadable; zones kept as they are');
      return;
    }
    let deferMs = 0;
    // Stat first: only a zone whose files' identity (inode, size, mtime, ctime) changed is read,
    // and then hashed before it is parsed (load-job.ts), so touching every file costs a hash each.
    // Small files go to the loader threads in batches as soon as they are stat'ed, so the threads
    // parse while this thread stats the rest; larger ones wait for the end of the scan and go
    // smallest first: a big zone's reload never delays the small ones found in the same scan.
    const loads: Promise<void>[] = [];
    // Files the loaders found large when they took the identity the scan did not (probed).
    const probedLarge: ScanItem[] = [];
    const small = this.batcher((b) => loads.push(this.loadBatch(b, req, probedLarge)));
    const large: ScanItem[] = [];
    let statted = 0;
    for (const [origin, file] of found) {
      if (only !== null && origin !== only) continue;
      if (++statted % STATS_PER_TURN === 0) {
        await new Promise((r) => setImmediate(r));
        if (this.closed) return;
      }
      const e = this.entries.get(origin);
      if (e === undefined && req.noSettle === true) {
        // A new zone read whatever its age: nothing here needs its stat, so the loader takes it from
        // the descriptor it reads through (a start-up of 100,000 zones then stats each file once).
        small.add({ origin, file, size: 0, seen: MISSING_FILE, probe: true });
        continue;
      }
      if (e !== undefined && e.file !== file) {
        e.file = file;
        e.seen = null;
      }
      const ids = identities(e?.files ?? [], file);
      const age = this.now() - ids.youngestMs;
      if (req.noSettle !== true && age >= 0 && age < this.o.settleMs) {
        deferMs = Math.max(deferMs, this.o.settleMs - age);
        continue;
      }
      const retry = req.force === true && e !== undefined && e.state !== 'ok';
      if (e !== undefined && e.seen === ids.text && req.verify !== true && !retry) continue;
      const item = { origin, file, size: ids.size, seen: ids.text };
      if (item.size <= STREAM_MAX_BYTES) small.add(item);
      else large.push(item);
    }
    small.flush();
    large.sort((a, b) => a.size - b.size);
    const big = this.batcher((b) => loads.push(this.loadBatch(b, req, probedLarge)));
    for (const t of large) big.add(t);
    big.flush();
    // Every batch is queued at once (the loader runs as many as it has threads) and swapped in as it comes back.
    await Promise.all(loads);
    if (this.closed) return;
    if (probedLarge.length > 0) {
      probedLarge.sort((a, b) => a.size - b.size);
      const later: Promise<void>[] = [];
      const probed = this.batcher((b) => later.push(this.loadBatch(b, req, probedLarge)));
      for (const t of probedLarge) probed.add(t);
      probed.flush();
      await Promise.all(later);
      if (this.closed) return;
    }

    if (only === null) this.removeGone(found, req);
    else if (!found.has(only) && this.entries.has(only)) this.removeGone(found, { ...req, force: true });
    if (deferMs > 0) this.scheduleSettle(deferMs, only, only === null ? undefined : found.get(only));
  }

  /**
   * One zone's file without listing the directory (a listing of 100,000 names costs more than the
   * load of the one zone changed); null when a listing is needed to tell (a configured list, which
   * costs nothing to read, or no file named for the zone exists).
   */
  private findOne(only: string | null, file: string | undefined): ZoneFileMap | null {
    const extra = only === null ? undefined : this.o.extraFiles?.get(only);
    if (extra !== undefined) return new Map([[only!, extra]]);
    if (only === null || this.o.files !== null) return null;
    const found = findZoneFile(only, [this.entries.get(only)?.file, file]);
    return found === null ? null : new Map([[only, found]]);
  }

  /** Collects scan items into batches of at most BATCH_ZONES zones and BATCH_BYTES octets, each handed to `dispatch` when full (or flushed). */
  private batcher(dispatch: (batch: ScanItem[]) => void): { add(t: ScanItem): void; flush(): void } {
    let batch: ScanItem[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (batch.length > 0) dispatch(batch);
      batch = [];
      bytes = 0;
    };
    return {
      add(t) {
        if (batch.length >= BATCH_ZONES || (batch.length > 0 && bytes + t.size > BATCH_BYTES)) flush();
        batch.push(t);
        bytes += t.size;
      },
      flush,
    };
  }

  /** Loads a batch and swaps its new versions in; a probed file found large is added to `large` instead. */
  private async loadBatch(batch: ScanItem[], req: ScanRequest, large: ScanItem[]): Promise<void> {
    const started = this.now();
    const jobs = batch.map(({ origin, file, probe }): LoadJob => {
      const e = this.entries.get(origin);
      const known = [];
      if (e?.served) known.push({ sha256: e.served.sha256, files: e.served.files });
      // A forced reload judges the tried version again (released from hold); otherwise it is not re-read.
      if (e?.tried && req.force !== true) known.push(e.tried);
      return { kind: 'load', origin, file, known, signatureWarningDays: this.o.signatureWarningDays, probe: probe === true ? { maxBytes: STREAM_MAX_BYTES } : undefined };
    });
    const outcomes = await this.o.loader.loadBatch(jobs);
    if (this.closed) return;
    const changes: ZoneChange[] = [];
    const loaded: Entry[] = [];
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const outcome = outcomes[i]!;
      if (outcome.kind === 'large') {
        large.push({ origin: item.origin, file: item.file, size: outcome.size, seen: outcome.seen });
        continue;
      }
      const e = this.judge(item.origin, item.file, outcome.seen ?? item.seen, outcome, req);
      if (e === null) continue;
      changes.push({ origin: e.origin, zone: e.zone });
      loaded.push(e);
    }
    if (changes.length === 0) return;
    this.publish(changes);
    const ms = this.now() - started;
    for (const e of loaded) {
      this.logLoaded(e, ms, req.reason);
      this.report(e, 'success');
    }
  }

  private logLoaded(e: Entry, ms: number, reason: string): void {
    const s = e.served!;
    this.o.log.info({ zone: e.origin, serial: s.serial, records: s.records, file: e.file, sha256: s.sha256 || undefined, ms, reason, note: e.note ?? undefined }, 'zone loaded');
    e.note = null;
  }

  /** Applies one load's outcome to the zone's entry; returns the entry when its new version is to be swapped in. */
  private judge(origin: string, file: string, seen: string, outcome: Exclude<LoadOutcome, { kind: 'large' }>, req: ScanRequest): Entry | null {
    const { log } = this.o;
    let e = this.entries.get(origin);
    if (e === undefined) {
      e = { origin, file, zone: null, served: null, state: 'error', lastError: null, seen: null, files: [], tried: null, note: null };
      this.entries.set(origin, e);
    }
    // The identity taken before reading: a write during the load makes the next scan look again.
    e.seen = seen;
    if (outcome.kind === 'unchanged') {
      if (e.served !== null && outcome.sha256 === e.served.sha256 && e.state !== 'ok' && e.state !== 'expired') {
        // The file went back to the version served: nothing is pending any more.
        e.state = 'ok';
        e.lastError = null;
        e.tried = null;
        this.report(e, 'success');
      }
      return null;
    }
    // The thread's copies of the path are dropped for the one held here: 100,000 zones, one string each.
    e.files = outcome.files.length === 0 || (outcome.files.length === 1 && outcome.files[0] === e.file) ? [e.file] : outcome.files;
    e.tried = { sha256: outcome.sha256, files: e.files };
    for (const w of outcome.warnings) log.warn({ zone: origin, warning: w }, 'zone warning');
    if (outcome.kind === 'failed') {
      e.state = 'error';
      e.lastError = outcome.errors[0] ?? 'unknown error';
      log.error({ zone: origin, file, errors: outcome.errors, serving: e.served?.serial ?? null }, e.served ? 'zone not reloaded; the last good version stays' : 'zone not loaded');
      this.report(e, 'failure');
      return null;
    }
    const verdict = judgeVersion(e.served, { serial: outcome.serial, records: outcome.records }, this.o.policy, req.force === true);
    if (verdict.action !== 'accept') {
      e.state = verdict.action === 'hold' ? 'held' : 'error';
      e.lastError = verdict.reason;
      const msg = verdict.action === 'hold' ? 'zone change held; release with `anycast-dns ctl reload --force`' : 'zone change refused';
      log.warn({ zone: origin, file, serial: outcome.serial, serving: e.served?.serial ?? null, reason: verdict.reason }, msg);
      this.report(e, verdict.action === 'hold' ? 'held' : 'refused');
      return null;
    }
    e.zone = CompactZone.fromParts(outcome.parts.file === e.file ? { ...outcome.parts, file: e.file } : outcome.parts);
    e.served = { serial: outcome.serial, records: outcome.records, sha256: outcome.sha256, files: e.files, loadedAt: this.now() };
    e.tried = null;
    e.state = 'ok';
    e.lastError = null;
    e.note = verdict.note;
    return e;
  }

  private removeGone(found: ReadonlyMap<string, string>, req: ScanRequest): void {
    const gone = [...this.entries.values()].filter((e) => !found.has(e.origin));
    if (gone.length === 0) return;
    const servedCount = this.set.zones.size;
    const servedGone = gone.filter((e) => e.zone !== null);
    const verdict = judgeRemovals(servedCount, servedGone.length, this.o.policy, req.force === true);
    if (verdict.action === 'hold') {
      for (const e of servedGone) {
        if (e.state === 'held' && e.lastError === verdict.reason) continue;
        e.state = 'held';
        e.lastError = `file gone; removal held: ${verdict.reason}`;
        this.o.log.warn({ zone: e.origin, file: e.file, reason: verdict.reason }, 'zone removal held; release with `anycast-dns ctl reload --force`');
        this.report(e, 'held');
      }
      return;
    }
    for (const e of gone) this.entries.delete(e.origin);
    if (servedGone.length > 0) this.publish(servedGone.map((e) => ({ origin: e.origin, zone: null })));
    for (const e of gone) {
      if (e.zone !== null) this.o.log.warn({ zone: e.origin, file: e.file, serial: e.served?.serial }, 'zone file gone; zone no longer served');
      this.report(e, 'removed');
    }
  }

  /** Swaps the changed zones into the set served, all at once: the cost is that of the changes, not of the zones served. */
  private publish(changes: readonly ZoneChange[]): void {
    this.set.apply(changes);
    this.o.events.changed(changes, this.set);
  }

  private report(e: Entry, result: ReloadResult): void {
    this.o.events.status?.(e.origin, result);
  }

  /** A scan of `zone` (null: every zone) once the files found too young have settled. */
  private scheduleSettle(ms: number, zone: string | null, file: string | undefined): void {
    if (this.closed) return;
    if (this.settleTimer !== null) {
      // Another zone's wait: one scan of every zone after both.
      if (this.settleZone !== zone) this.settleZone = null;
      return;
    }
    this.settleZone = zone;
    this.settleFile = file;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      const zone = this.settleZone;
      void this.scan(zone === null || this.settleFile === undefined ? { reason: 'settled', zone } : { reason: 'settled', zone, file: this.settleFile });
    }, ms + 10);
    this.settleTimer.unref();
  }
}

function statusOf(e: Entry): ZoneStatus {
  return {
    zone: e.origin,
    file: e.file,
    state: e.state,
    serial: e.served?.serial ?? null,
    records: e.served?.records ?? null,
    sha256: e.served?.sha256 ?? null,
    loaded_at: e.served ? new Date(e.served.loadedAt).toISOString() : null,
    last_error: e.lastError,
  };
}

/**
 * What the files are now: device, inode, size, mtime and ctime of each (through symlinks, by the paths
 * named, so a symlink swapped to a new target counts as a change), the newest mtime, and the zone
 * file's size.
 */
function identities(files: readonly string[], zoneFile: string): { text: string; youngestMs: number; size: number } {
  const parts: (string | number)[] = [];
  let youngestMs = -1;
  let size = 0;
  // Files recorded for another path of the zone (the configured file changed) say nothing about this one.
  for (const p of files[0] === zoneFile ? files : [zoneFile]) {
    try {
      const s = statSync(p);
      parts.push(fileIdentity(s));
      youngestMs = Math.max(youngestMs, s.mtimeMs);
      if (p === zoneFile) size = s.size;
    } catch {
      parts.push(MISSING_FILE);
    }
  }
  // Joined, not concatenated: a string built with `+=` is a tree of pieces, kept as long as the zone is.
  return { text: parts.join(':'), youngestMs, size };
}
