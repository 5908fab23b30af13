// Telling the zone store when to look. Three sources, because each misses something the others catch:
// inotify events on the zones directory (one watch for the directory, not one per file: a POP may
// hold 100,000 zones, past the kernel's default limit of watches), settled for a moment so one
// rsync run or `git checkout` is one scan;
// a periodic rescan that stats every file and reads only those whose identity changed (inotify
// overflows, network filesystems, a zones directory symlink pointed elsewhere: a new inode, size,
// mtime or ctime), so 100,000 unchanged files cost 100,000 stats, not 100,000 reads; and the operator
// (SIGHUP, `ctl reload`), handled by the caller.
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../log.js';
import type { ZoneStore } from './store.js';
import { isWorkInProgressName, zoneOfFileName } from './zone-files.js';

export interface WatchOptions {
  dir: string;
  /** Watch for events; without it only the periodic rescan (and the operator) trigger scans. */
  watch: boolean;
  /** Events closer together than this are one scan. */
  debounceMs: number;
  /** Rescan period; 0 turns it off. */
  /** Zones are the directory's `<origin>.zone` files (no configured list): an event's file name tells its zone. */
  byFileName: boolean;
  rescanMs: number;
  log: Logger;
}

/** How often the zones directory's real path is checked: a symlink swap moves the watch elsewhere. */
const REALPATH_CHECK_MS = 1000;
const MAX_BURST_DEBOUNCES = 10;

export class ZoneWatcher {
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private realDir: string | null = null;
  private burstStart = 0;
  /** The one zone this burst's events named so far: undefined for none yet, null for several or not a zone. */
  private zone: string | null | undefined = undefined;
  /** The file that zone was named by. */
  private zoneFile = '';

  constructor(
    private readonly store: ZoneStore,
    private readonly o: WatchOptions,
  ) {}

  start(): void {
    if (this.o.rescanMs > 0) this.every(this.o.rescanMs, () => void this.store.scan({ reason: 'rescan' }));
    if (!this.o.watch) return;
    this.watchDir();
    this.every(REALPATH_CHECK_MS, () => {
      if (realPath(this.o.dir) === this.realDir) return;
      this.o.log.info({ dir: this.o.dir }, 'zones directory now points elsewhere; watching it again');
      void this.watcher?.close();
      this.watchDir();
      void this.store.scan({ reason: 'directory moved', verify: true });
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.debounce !== null) clearTimeout(this.debounce);
    await this.watcher?.close();
    this.watcher = null;
  }

  private watchDir(): void {
    this.realDir = realPath(this.o.dir);
    const dir = resolve(this.o.dir);
    // chokidar watches the directory alone: files are ignored, so it adds no watch per file (a POP
    // may hold 100,000 zones, past the kernel's default limit of inotify watches). Its `raw` events
    // still name every file the directory's own watch reports; events of the parent it watches to
    // see the directory go are left out.
    const w = watch(dir, { depth: 0, ignoreInitial: true, persistent: false, ignored: (_path, stats) => stats?.isFile() === true });
    // Any event counts, even for files that are not zones: a Kubernetes `..data` rename is how a new
    // version arrives. A change behind a symlink to elsewhere, or to an $INCLUDE in a subdirectory,
    // is seen by the rescan.
    w.on('raw', (_event, name, details) => {
      const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (typeof watched === 'string' && resolve(watched) !== dir) return;
      this.changed(typeof name === 'string' && name !== '' ? name : null);
    });
    w.on('error', (err) => this.o.log.warn({ err, dir: this.o.dir }, 'zones directory watch error; the periodic rescan continues'));
    this.watcher = w;
  }

  /** `name`: the file the event is about, when the kernel says. */
  private changed(name: string | null): void {
    const now = Date.now();
    // Names the events of this burst were about: one zone file alone is scanned alone (one stat,
    // not one per zone served); anything else (two zones, a `..data` rename, no name) is a full scan.
    if (name === null || !this.o.byFileName) this.zone = null;
    else if (!isWorkInProgressName(name) && this.zone !== null) {
      const origin = zoneOfFileName(name);
      this.zone = origin !== null && (this.zone === undefined || this.zone === origin) ? origin : null;
      this.zoneFile = name;
    }
    if (this.debounce !== null) {
      // A directory that never stops changing is still scanned, at least every MAX_BURST_DEBOUNCES periods.
      if (now - this.burstStart > this.o.debounceMs * MAX_BURST_DEBOUNCES) return;
      clearTimeout(this.debounce);
    } else {
      this.burstStart = now;
    }
    this.debounce = setTimeout(() => {
      this.debounce = null;
      const zone = this.zone ?? null;
      this.zone = undefined;
      // A file gone is a full scan: removals are judged against every zone (max_zone_loss).
      const file = join(this.o.dir, this.zoneFile);
      void this.store.scan(zone !== null && existsSync(file) ? { reason: 'watch', zone, file } : { reason: 'watch' });
    }, this.o.debounceMs);
  }

  private every(ms: number, run: () => void): void {
    const t = setInterval(run, ms);
    t.unref();
    this.timers.push(t);
  }
}

function realPath(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}
