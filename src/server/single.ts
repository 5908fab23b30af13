// workers: 1 — the responder runs on the main thread: no query threads, no messages, the simplest hot path. Zone
// sync runs here too, loading in its own threads and handing each batch of new versions to the handler.
import { formatListenAddress, type ServerConfig } from '../ops/config.js';
import { startManagementServer, type ManagementSources } from '../ops/http.js';
import type { Logger } from '../log.js';
import { ServerMetrics } from '../ops/metrics.js';
import { ZoneSyncMetrics } from '../ops/zone-metrics.js';
import type { GeoSource } from '../sync/geo-source.js';
import { freeHeap } from '../sync/free-heap.js';
import { startZoneSync, type ZoneSync } from '../sync/service.js';
import type { ScanRequest } from '../sync/store.js';
import { boundedStop, logStarted, onReloadSignal, stopSignal } from './lifecycle.js';
import { releaseFreeMemory } from './native-udp.js';
import { NotifySender } from './notify.js';
import { Responder } from './responder.js';
import { prepareSecondaries, secondarySources } from './secondaries.js';
import type { SecondaryZones } from '../secondary/service.js';

export async function runSingle(cfg: ServerConfig, log: Logger): Promise<number> {
  // Its modules (the country database's reader, a file watcher) load only for a POP that answers by network.
  const geoSetup = cfg.geo === null ? null : { cfg: cfg.geo, module: await import('../sync/geo-source.js') };
  const metrics = new ServerMetrics(cfg.identity, cfg.metrics.popLabel);
  const zoneMetrics = new ZoneSyncMetrics(cfg.identity, cfg.metrics.popLabel, () => sync?.store.statuses() ?? []);
  let responder: Responder | null = null;
  let sync: ZoneSync | null = null;
  let secondaries: SecondaryZones | null = null;
  let geo: GeoSource | null = null;
  const sources: ManagementSources = {
    // Two expositions, distinct metric names: they concatenate.
    metrics: async () => (await metrics.text()) + (sync === null ? '' : zoneMetrics.text()),
    metricsContentType: metrics.registry.contentType,
    ready: () => responder !== null && sync !== null && sync.isLoaded() && sync.store.zones.zones.size > 0,
    ...secondarySources(
      () => sync,
      () => secondaries,
    ),
    reload: (req: ScanRequest) => (sync === null ? Promise.reject(new Error('the server is still starting')) : sync.reload(req)),
    ...(geoSetup === null ? {} : { geo: () => geo?.status() ?? geoSetup.module.idleGeoStatus(geoSetup.cfg) }),
  };
  // The management listener comes up first so /ready says 503 while the zones are still loading.
  const mgmt = cfg.management.listen ? await startManagementServer(cfg.management.listen, sources, log) : null;
  if (mgmt) log.info({ listen: formatListenAddress(mgmt.address) }, 'management listening');
  const notify = new NotifySender(cfg.transfer.notify, log, zoneMetrics);
  const stopping = stopSignal();
  // A SIGHUP during the first load is a scan queued behind it, not lost.
  const stopReloads = onReloadSignal(log, () => {
    geo?.reload();
    return sync?.reload({ reason: 'sighup', verify: true });
  });
  try {
    secondaries = prepareSecondaries(cfg, log, zoneMetrics, (zones) => responder?.notify?.setZones(zones));
    sync = startZoneSync(
      cfg,
      log,
      (changes, zones) => {
        responder?.handler.setZones(zones);
        // The first load is no change to tell of: the secondaries ask at their own start.
        if (sync?.isLoaded() === true) notify.changed(changes);
      },
      zoneMetrics,
      secondaries?.files,
      // The loader threads' freed memory stays resident in malloc's arenas until asked for.
      releaseFreeMemory,
    );
    // Listening while the zones load: what is loaded is answered, the rest SERVFAIL (ZoneSet.loading),
    // and /ready stays 503 until every zone is in, so the health sidecar keeps the route withdrawn.
    sync.store.zones.loading = true;
    const taking = secondaries;
    const loaded = sync;
    // Read before the listeners open, so the first answers already follow the rules.
    geo = geoSetup === null ? null : new geoSetup.module.GeoSource(geoSetup.cfg, log, () => loaded.store.zones, (data) => responder?.handler.setGeo(data), metrics);
    geo?.start();
    responder = await Responder.start(cfg, sync.store.zones, log, metrics, {
      reusePort: false,
      geo: geo?.current() ?? null,
      ...(taking === null ? {} : { onNotify: (zone, result, remote) => taking.notified(zone, result, remote) }),
    });
  } catch (err) {
    stopReloads();
    await geo?.close();
    await sync?.close();
    await mgmt?.close();
    throw err;
  }
  const zoneSync = sync;
  const running = responder;
  void zoneSync.loaded.then(() => {
    // The garbage of the load (the loader threads' outcomes, each zone's first status) leaves the heap
    // half empty, and no collection would shrink it soon. Compacted now, before /ready says 200 (it
    // is answered after this), the pause stalls no routed traffic; later it would stall queries.
    freeHeap();
    const zones = zoneSync.store.zones;
    zones.loading = false;
    running.handler.setZones(zones);
    logStarted(log, { workers: 1 }, zones.zones.size);
    secondaries?.start(zoneSync.store);
  });
  const signal = await stopping;
  log.info({ signal }, 'stopping');
  stopReloads();
  await boundedStop(async () => {
    secondaries?.close();
    // Loading first: a load under way is abandoned, its threads ended.
    await zoneSync.close();
    notify.close();
    await running.stop();
    await geo?.close();
    await mgmt?.close();
  }, log);
  log.info('stopped');
  return 0;
}
