// Telling the zone store when to look. Three sources, because each misses something the others catch:
// inotify events on the zones directory (one watch for the directory, not one per file: a POP may
// hold 100,000 zones, past the kernel's default limit of watches), settled for a moment so one
// rsync run or `git checkout` is one scan;
// a periodic rescan that stats every file and reads only those whose identity changed (inotify
// overflows, network filesystems, a zones directory symlink pointed elsewhere: a new inode, size,
// mtime or ctime), so 100,000 unchanged files cost 100,000 stats, not 100,000 reads; and the operator
// (SIGHUP, `ctl reload`), handled by the caller.
import { existsSync, realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { ZoneStore } from './store.js';
import { isWorkInProgressName, zoneOfFileName } from './zone-files.js';

export interface WatchOptions {
  dir: string;
  /** Watch for events; without it only the periodic rescan (and the operator) trigger scans. */
  watch: boolean;
  /** Events closer together than this are one scan. */
  debounceMs: number;
  /** Zones are the directory's `<origin>.zone` files (no configured list): an event's file name tells its zone. */
  byFileName: boolean;
  /** Rescan period; 0 turns it off. */
  rescanMs: number;
  log: Logger;
}

/** How often the zones directory's identity is checked: a symlink swap, or the directory made again, moves the watch. */
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

  /**
   * Starts the periodic rescan: once the first load is over, so the first rescan of 100,000 zones
   * does not fall right after a long start-up and hold up the first changes queued behind it.
   */
  startRescans(): void {
    if (this.o.rescanMs > 0) this.every(this.o.rescanMs, () => void this.store.scan({ reason: 'rescan' }));
  }

  start(): void {
    if (!this.o.watch) return;
    this.watchDir();
    this.every(REALPATH_CHECK_MS, () => {
      const now = dirIdentity(this.o.dir);
      if (now === null) {
        // Gone: whatever comes back at this path is watched afresh, even on the same inode.
        this.watcher?.close();
        this.watcher = null;
        return;
      }
      if (now === this.realDir && this.watcher !== null) return;
      this.o.log.info({ dir: this.o.dir }, 'zones directory now points elsewhere; watching it again');
      this.watcher?.close();
      this.watchDir();
      void this.store.scan({ reason: 'directory moved', verify: true });
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.debounce !== null) clearTimeout(this.debounce);
    this.watcher?.close();
    this.watcher = null;
  }

  private watchDir(): void {
    this.realDir = dirIdentity(this.o.dir);
    const dir = this.o.dir;
    // One inotify watch, on the directory alone: not one per file (a POP may hold 100,000 zones,
    // past the kernel's default limit of watches), and nothing listed or stat'ed when an event comes
    // (the store stats the one file an event names). Any event counts, even for files that are not
    // zones: a Kubernetes `..data` rename is how a new version arrives. A change behind a symlink to
    // elsewhere, or to an $INCLUDE in a subdirectory, is seen by the rescan.
    let w: FSWatcher;
    try {
      w = watch(dir, { persistent: false }, (_event, name) => this.changed(typeof name === 'string' && name !== '' ? name : null));
    } catch (err) {
      this.o.log.warn({ err, dir }, 'zones directory not watched; the periodic rescan continues');
      return;
    }
    w.on('error', (err) => {
      // The directory went away: watched again once it is back (the identity check above).
      this.o.log.warn({ err, dir }, 'zones directory watch error; the periodic rescan continues');
      w.close();
      if (this.watcher === w) this.watcher = null;
    });
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

/**
 * Where the directory really is (through symlinks) and which it is (a directory made again at the
 * same path is another: ext4 hands a just-freed inode number to the next directory made, so its birth
 * time tells them apart where the filesystem records one): null when it is gone.
 */
function dirIdentity(p: string): string | null {
  try {
    const real = realpathSync(p);
    const s = statSync(real);
    return `${real}:${s.dev}:${s.ino}:${s.birthtimeMs}`;
  } catch {
    return null;
  }
}
