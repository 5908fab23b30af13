// The zones directory watch in process, with the real store, loader thread and inotify: a directory
// deleted and made again is watched again, and a change to one zone file is scanned without listing
// the directory (a listing of 100,000 names costs more than loading the one zone changed). The
// periodic rescan is off, so only the watch can have seen a change.
import assert from 'node:assert/strict';
import fs, { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { ZoneLoader } from '../../src/sync/loader.js';
import { ZoneStore } from '../../src/sync/store.js';
import { ZoneWatcher } from '../../src/sync/watcher.js';
import { waitFor } from '../helpers/wait.js';
import { putFile, zoneText } from '../helpers/zone-text.js';

class Watched {
  readonly parent = mkdtempSync(join(tmpdir(), 'anycast-dns-watch-'));
  readonly dir = join(this.parent, 'zones');
  readonly loader = new ZoneLoader();
  readonly store: ZoneStore;
  readonly watcher: ZoneWatcher;

  constructor() {
    mkdirSync(this.dir);
    const log = createLogger({ pop: 'test-pop', component: 'sync', level: 'silent' });
    this.store = new ZoneStore({
      dir: this.dir,
      files: null,
      policy: { serialPolicy: 'increase', maxRecordLoss: 0.5, maxZoneLoss: 1 },
      settleMs: 200,
      loader: this.loader,
      log,
      events: { changed: () => {} },
    });
    this.watcher = new ZoneWatcher(this.store, { dir: this.dir, watch: true, debounceMs: 100, byFileName: true, rescanMs: 0, log });
  }

  /** The serial served for `zone` (`name.`), or null. */
  served(zone: string): number | null {
    return this.store.status().find((z) => z.zone === zone && z.state === 'ok')?.serial ?? null;
  }

  waitServed(zone: string, serial: number, what: string): Promise<unknown> {
    return waitFor(() => this.served(zone) === serial, { timeoutMs: 10_000, what, detail: () => JSON.stringify(this.store.status()) });
  }

  async close(): Promise<void> {
    await this.watcher.close();
    this.store.close();
    await this.loader.close();
    rmSync(this.parent, { recursive: true, force: true });
  }
}

describe('zones directory watch', () => {
  let w: Watched;
  beforeEach(async () => {
    w = new Watched();
    putFile(w.dir, 'a.test.zone', zoneText('a.test', 1), 5000);
    putFile(w.dir, 'b.test.zone', zoneText('b.test', 1), 5000);
    await w.store.scan({ reason: 'start' });
    w.watcher.start();
  });
  afterEach(() => w.close());

  it('watches a zones directory deleted and made again: a zone written into the new one is served', async () => {
    putFile(w.dir, 'a.test.zone', zoneText('a.test', 2), 5000);
    await w.waitServed('a.test.', 2, 'a.test. at serial 2 through the first watch');
    rmSync(w.dir, { recursive: true });
    mkdirSync(w.dir);
    // Once the watch has moved to the new directory (its identity is checked every second); the
    // scan that move starts is over before the zone below is written, so only the new watch sees it.
    await waitFor(() => w.served('a.test.') === null, { timeoutMs: 10_000, what: 'the zones of the deleted directory no longer served' });
    putFile(w.dir, 'c.test.zone', zoneText('c.test', 5), 5000);
    await w.waitServed('c.test.', 5, 'a zone written into the new directory served');
  });

  it('scans a change to one zone file without listing the directory', async () => {
    const dir = resolve(w.dir);
    const original = fs.readdirSync;
    let listings = 0;
    // Counts listings of the zones directory by any module (the ES module binding follows the fs object).
    const counting = ((path: fs.PathLike, ...rest: unknown[]) => {
      if (resolve(String(path)) === dir) listings++;
      return (original as (...a: unknown[]) => unknown)(path, ...rest);
    }) as typeof fs.readdirSync;
    fs.readdirSync = counting;
    syncBuiltinESMExports();
    try {
      putFile(w.dir, 'a.test.zone', zoneText('a.test', 2), 5000);
      await w.waitServed('a.test.', 2, 'a.test. at serial 2');
      assert.equal(listings, 0, 'a one-zone scan listed the zones directory');
      // Two zones changed at once are a full scan, which lists it: the count does see listings.
      putFile(w.dir, 'a.test.zone', zoneText('a.test', 3), 5000);
      putFile(w.dir, 'b.test.zone', zoneText('b.test', 3), 5000);
      await w.waitServed('b.test.', 3, 'b.test. at serial 3');
      assert.ok(listings >= 1, 'the full scan was counted');
    } finally {
      fs.readdirSync = original;
      syncBuiltinESMExports();
    }
  });
});
