// Zone sync as the server runs it: the store, its loader thread, the watcher, and the metrics,
// wired to the config. Start-up waits for the first scan, so the server answers from every zone
// that loads; later changes arrive through `changed`.
import { statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Zone, ZoneSet } from '../zone/zone.js';
import { ZoneLoader } from './loader.js';
import type { ZoneSyncConfig } from './policy.js';
import { ZoneStore, type ScanRequest, type StoreEvents, type ZoneStatus } from './store.js';
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

/** Where the zones' status goes after every change (the metrics, in ops/). */
export interface ZoneStatusSink {
  update: NonNullable<StoreEvents['status']>;
}

export interface ZoneSync {
  readonly store: ZoneStore;
  /** Scans now (SIGHUP, `ctl reload`, `POST /reload`) and resolves with the zones' status after it. */
  reload(req: ScanRequest): Promise<ZoneStatus[]>;
  close(): Promise<void>;
}

export async function startZoneSync(
  cfg: ZoneSyncSettings,
  log: Logger,
  changed: (origin: string, zone: Zone | null, zones: ZoneSet) => void,
  metrics: ZoneStatusSink,
): Promise<ZoneSync> {
  let isDir = false;
  try {
    isDir = statSync(cfg.zones).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new ConfigError('zones', `${cfg.zones} is not a directory`);

  const slog = log;
  const loader = new ZoneLoader();
  const store = new ZoneStore({
    dir: cfg.zones,
    files: cfg.zoneFiles,
    policy: { serialPolicy: cfg.zoneSync.serialPolicy, maxRecordLoss: cfg.zoneSync.maxRecordLoss, maxZoneLoss: cfg.zoneSync.maxZoneLoss },
    settleMs: cfg.zoneSync.settleMs,
    signatureWarningDays: cfg.zoneSync.signatureWarningDays,
    loader,
    log: slog,
    events: { changed, status: (s, e) => metrics.update(s, e) },
  });
  // At start-up nothing is served yet: read whatever is there, even a file written a moment ago.
  await store.scan({ reason: 'start', verify: true, noSettle: true });
  metrics.update(store.status(), null);
  if (store.zones.zones.size === 0) log.warn({ dir: cfg.zones }, 'no zones loaded: every query will be refused');

  const watcher = new ZoneWatcher(store, { dir: cfg.zones, watch: cfg.zoneSync.watch, debounceMs: WATCH_DEBOUNCE_MS, rescanMs: cfg.zoneSync.rescanMs, log: slog });
  watcher.start();
  return {
    store,
    reload: async (req) => {
      await store.scan(req);
      return store.status();
    },
    close: async () => {
      store.close();
      await watcher.close();
      await loader.close();
    },
  };
}
