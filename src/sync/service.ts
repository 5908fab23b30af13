// Zone sync as the server runs it: the store, its loader threads, the watcher, and the metrics,
// wired to the config. Returns at once: the first scan loads every zone in the background, and the
// caller learns of each batch swapped in through `changed` and of the end through `loaded`.
import { statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ZoneSet } from '../zone/zone.js';
import { ZoneLoader } from './loader.js';
import type { ZoneSyncConfig } from './policy.js';
import { ZoneStore, type ScanRequest, type StoreEvents, type ZoneChange, type ZoneStatus } from './store.js';
import { ZoneWatcher } from './watcher.js';

/** Events closer together than this are one scan (one rsync run, one `git checkout`). */
const WATCH_DEBOUNCE_MS = 200;

/** What zone sync reads of the server's config. */
export interface ZoneSyncSettings {
  /** Directory of `<origin>.zone` files. */
  zones: string;
  /** origin → file (relative to `zones`), or null for every `<origin>.zone` of the directory. */
  zoneFiles: ReadonlyMap<string, string> | null;
  zoneSync: ZoneSyncConfig;
}

/** Where each zone's reload result goes (the metrics, in ops/). */
export interface ZoneStatusSink {
  update: NonNullable<StoreEvents['status']>;
}

export interface ZoneSync {
  readonly store: ZoneStore;
  /** Resolves when the first scan has tried every zone of the directory. */
  readonly loaded: Promise<void>;
  /** Whether the first scan is over: until then not every zone is served (/ready says 503). */
  isLoaded(): boolean;
  /** Scans now (SIGHUP, `ctl reload`, `POST /reload`), after any scan under way, and resolves with the zones' status after it. */
  reload(req: ScanRequest): Promise<ZoneStatus[]>;
  close(): Promise<void>;
}

/**
 * `loadersEnded`: called when the loader threads have all ended after a load (10 s idle): what they
 * freed may be handed back to the system.
 */
export function startZoneSync(
  cfg: ZoneSyncSettings,
  log: Logger,
  changed: (changes: readonly ZoneChange[], zones: ZoneSet) => void,
  metrics: ZoneStatusSink,
  /** Zones served from files outside the zones directory (StoreOptions.extraFiles). */
  extraFiles?: ReadonlyMap<string, string>,
  loadersEnded?: () => void,
): ZoneSync {
  const loader = ZoneLoader.take(loadersEnded ?? (() => {}));
  const zoneStore = new ZoneStore({
    dir: cfg.zones,
    files: cfg.zoneFiles,
    ...(extraFiles === undefined ? {} : { extraFiles }),
    policy: { serialPolicy: cfg.zoneSync.serialPolicy, maxRecordLoss: cfg.zoneSync.maxRecordLoss, maxZoneLoss: cfg.zoneSync.maxZoneLoss },
    settleMs: cfg.zoneSync.settleMs,
    signatureWarningDays: cfg.zoneSync.signatureWarningDays,
    loader,
    log,
    events: { changed, status: (s, result) => metrics.update(s, result) },
  });
  const watcher = new ZoneWatcher(zoneStore, { dir: cfg.zones, watch: cfg.zoneSync.watch, debounceMs: WATCH_DEBOUNCE_MS, rescanMs: cfg.zoneSync.rescanMs, byFileName: cfg.zoneFiles === null, log });
  let done = false;
  let closed = false;
  const started = Date.now();
  // At start-up nothing is served yet: read whatever is there, even a file written a moment ago.
  // A load abandoned by a stop never resolves `loaded`.
  loader.warm();
  const loaded = new Promise<void>((resolve) => {
    void zoneStore.scan({ reason: 'start', verify: true, noSettle: true }).then(() => {
      if (closed) return;
      done = true;
      watcher.startRescans();
      const zones = zoneStore.zones.zones.size;
      // None loaded: the server's start-up line says so (server not ready), once.
      if (zones > 0) log.info({ zones, ms: Date.now() - started }, 'every zone loaded');
      resolve();
    });
  });
  // Watching begins with the load, so a change made meanwhile is a scan queued behind it.
  watcher.start();
  return {
    store: zoneStore,
    loaded,
    isLoaded: () => done,
    reload: async (req) => {
      await zoneStore.scan(req);
      return zoneStore.status();
    },
    close: async () => {
      closed = true;
      zoneStore.close();
      await watcher.close();
      await loader.close();
    },
  };
}

/** Throws the config error of a `zones` that is not a directory: `serve` checks it before it opens anything, zone sync included. */
export function requireZonesDirectory(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new ConfigError('zones', `${dir} is not a directory`);
}
