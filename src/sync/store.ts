// The zone store: which zones are served, from which version of their files, and in what state.
// A scan finds the zone files, notices which changed (file identity and size and mtime, or their
// content when asked), loads each changed one in the loader thread, judges the new version (policy.ts)
// and swaps it in on its own, so one slow zone never delays another and a broken file never replaces
// a good version. Scans run one at a time; requests arriving during a scan are merged into the next.
import { statSync } from 'node:fs';
import type { Logger } from '../log.js';
import { CompactZone, ZoneSet, type Zone } from '../zone/zone.js';
import type { LoadOutcome } from './load-job.js';
import type { ZoneLoader } from './loader.js';
import { judgeRemovals, judgeVersion, type SyncPolicy } from './policy.js';
import { discoverZoneFiles } from './zone-files.js';

export type ZoneState = 'ok' | 'held' | 'error';

/** One zone as `GET /zones` and `ctl zones` show it. */
export interface ZoneStatus {
  zone: string;
  file: string;
  /** ok: the file's version is served; held: a change waits for `reload --force`; error: the file's version was refused or is broken. */
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
  /** Read files changed within the settle time too (start-up: nothing is served yet, so take what is there). */
  noSettle?: boolean;
}

export interface StoreEvents {
  /** A zone was swapped in (`zone`) or stopped being served (null); `zones` is the new set. */
  changed(origin: string, zone: Zone | null, zones: ZoneSet): void;
  /** Status after every change of a zone's state (metrics). */
  status?(statuses: readonly ZoneStatus[], event: { origin: string; result: 'success' | 'failure' | 'refused' | 'held' | 'removed' } | null): void;
}

export interface StoreOptions {
  dir: string;
  /** origin → file (relative to dir), or null to serve every `<origin>.zone` in dir. */
  files: ReadonlyMap<string, string> | null;
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
}

export class ZoneStore {
  private readonly entries = new Map<string, Entry>();
  private set = new ZoneSet(new Map());
  private running: Promise<void> | null = null;
  private queued: { req: ScanRequest; done: Promise<void>; resolve: () => void } | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly o: StoreOptions) {
    this.now = o.now ?? Date.now;
  }

  get zones(): ZoneSet {
    return this.set;
  }

  status(): ZoneStatus[] {
    return [...this.entries.values()].sort((a, b) => (a.origin < b.origin ? -1 : 1)).map(statusOf);
  }

  /** Runs a scan now, or merges into the one queued behind the running scan; resolves when a scan that began after this call has finished. */
  scan(req: ScanRequest): Promise<void> {
    if (this.running === null) {
      this.running = this.drain(req);
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
    }
    return this.queued.done;
  }

  close(): void {
    if (this.settleTimer !== null) clearTimeout(this.settleTimer);
    this.settleTimer = null;
  }

  private async drain(first: ScanRequest): Promise<void> {
    try {
      await this.scanOnce(first);
      while (this.queued !== null) {
        const q = this.queued;
        this.queued = null;
        try {
          await this.scanOnce(q.req);
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
    const found = discoverZoneFiles(this.o.dir, this.o.files);
    if (found instanceof Error) {
      // An unreadable directory (mid-swap, unmounted) is not "every zone deleted": keep serving.
      log.error({ dir: this.o.dir, err: found.message }, 'zones directory unreadable; zones kept as they are');
      return;
    }
    const only = req.zone ?? null;
    let deferMs = 0;
    // Smallest files first: a big zone's reload never delays the small ones found in the same scan.
    const todo: { origin: string; file: string; size: number }[] = [];
    for (const [origin, file] of found) {
      if (only !== null && origin !== only) continue;
      const e = this.entries.get(origin);
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
      todo.push({ origin, file, size: ids.size });
    }
    todo.sort((a, b) => a.size - b.size);
    for (const t of todo) await this.loadOne(t.origin, t.file, req);

    if (only === null) this.removeGone(found, req);
    else if (!found.has(only) && this.entries.has(only)) this.removeGone(found, { ...req, force: true });
    if (deferMs > 0) this.scheduleSettle(deferMs);
  }

  private async loadOne(origin: string, file: string, req: ScanRequest): Promise<void> {
    const { log, loader } = this.o;
    let e = this.entries.get(origin);
    // Taken before reading: a write during the load makes the next scan look again.
    const before = identities(e?.files ?? [], file).text;
    const started = this.now();
    const known = [];
    if (e?.served) known.push({ sha256: e.served.sha256, files: e.served.files });
    // A forced reload judges the tried version again (released from hold); otherwise it is not re-read.
    if (e?.tried && req.force !== true) known.push(e.tried);
    const outcome: LoadOutcome = await loader.load({ kind: 'load', origin, file, known, signatureWarningDays: this.o.signatureWarningDays });
    if (e === undefined) {
      e = { origin, file, zone: null, served: null, state: 'error', lastError: null, seen: null, files: [], tried: null };
      this.entries.set(origin, e);
    }
    e.seen = before;
    if (outcome.kind === 'unchanged') {
      if (e.served !== null && outcome.sha256 === e.served.sha256 && e.state !== 'ok') {
        // The file went back to the version served: nothing is pending any more.
        e.state = 'ok';
        e.lastError = null;
        e.tried = null;
        this.report(e, 'success');
      }
      return;
    }
    e.files = outcome.files.length > 0 ? outcome.files : [file];
    e.tried = { sha256: outcome.sha256, files: e.files };
    for (const w of outcome.warnings) log.warn({ zone: origin, warning: w }, 'zone warning');
    if (outcome.kind === 'failed') {
      e.state = 'error';
      e.lastError = outcome.errors[0] ?? 'unknown error';
      log.error({ zone: origin, file, errors: outcome.errors, serving: e.served?.serial ?? null }, e.served ? 'zone not reloaded; the last good version stays' : 'zone not loaded');
      this.report(e, 'failure');
      return;
    }
    const verdict = judgeVersion(e.served, { serial: outcome.serial, records: outcome.records }, this.o.policy, req.force === true);
    if (verdict.action !== 'accept') {
      e.state = verdict.action === 'hold' ? 'held' : 'error';
      e.lastError = verdict.reason;
      const msg = verdict.action === 'hold' ? 'zone change held; release with `anycast-dns ctl reload --force`' : 'zone change refused';
      log.warn({ zone: origin, file, serial: outcome.serial, serving: e.served?.serial ?? null, reason: verdict.reason }, msg);
      this.report(e, verdict.action === 'hold' ? 'held' : 'refused');
      return;
    }
    const zone = CompactZone.fromParts(outcome.parts);
    e.zone = zone;
    e.served = { serial: outcome.serial, records: outcome.records, sha256: outcome.sha256, files: e.files, loadedAt: this.now() };
    e.tried = null;
    e.state = 'ok';
    e.lastError = null;
    this.publish(origin, zone);
    log.info(
      { zone: origin, serial: outcome.serial, records: outcome.records, file, sha256: outcome.sha256, ms: this.now() - started, reason: req.reason, note: verdict.note ?? undefined },
      'zone loaded',
    );
    this.report(e, 'success');
  }

  private removeGone(found: ReadonlyMap<string, string>, req: ScanRequest): void {
    const gone = [...this.entries.values()].filter((e) => !found.has(e.origin));
    if (gone.length === 0) return;
    const servedCount = [...this.entries.values()].filter((e) => e.zone !== null).length;
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
    for (const e of gone) {
      this.entries.delete(e.origin);
      if (e.zone !== null) {
        this.publish(e.origin, null);
        this.o.log.warn({ zone: e.origin, file: e.file, serial: e.served?.serial }, 'zone file gone; zone no longer served');
      }
      this.report(e, 'removed');
    }
  }

  private publish(origin: string, zone: Zone | null): void {
    const m = new Map<string, Zone>();
    for (const e of this.entries.values()) if (e.zone !== null && (zone !== null || e.origin !== origin)) m.set(e.zone.origin, e.zone);
    this.set = new ZoneSet(m);
    this.o.events.changed(origin, zone, this.set);
  }

  private report(e: Entry, result: 'success' | 'failure' | 'refused' | 'held' | 'removed'): void {
    this.o.events.status?.(this.status(), { origin: e.origin, result });
  }

  private scheduleSettle(ms: number): void {
    if (this.settleTimer !== null) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      void this.scan({ reason: 'settled' });
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
 * What the files are now: device, inode, size and mtime of each (through symlinks, by the paths
 * named, so a symlink swapped to a new target counts as a change), the newest mtime, and the zone
 * file's size.
 */
function identities(files: readonly string[], zoneFile: string): { text: string; youngestMs: number; size: number } {
  let text = '';
  let youngestMs = -1;
  let size = 0;
  // Files recorded for another path of the zone (the configured file changed) say nothing about this one.
  for (const p of files[0] === zoneFile ? files : [zoneFile]) {
    try {
      const s = statSync(p);
      text += `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}|`;
      youngestMs = Math.max(youngestMs, s.mtimeMs);
      if (p === zoneFile) size = s.size;
    } catch {
      text += 'missing|';
    }
  }
  return { text, youngestMs, size };
}
