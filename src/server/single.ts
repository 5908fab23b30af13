// workers: 1 — the responder runs in this process: no cluster, no IPC, the simplest hot path. Zone
// sync runs here too, loading in its own thread and handing each new version to the handler.
import { formatListenAddress, type ServerConfig } from '../ops/config.js';
import { startManagementServer, type ManagementSources } from '../ops/http.js';
import type { Logger } from '../ops/log.js';
import { ServerMetrics } from '../ops/metrics.js';
import { startZoneSync, type ZoneSync } from '../sync/service.js';
import type { ScanRequest } from '../sync/store.js';
import { boundedStop, logStarted, onReloadSignal, stopSignal } from './lifecycle.js';
import { Responder } from './responder.js';

export async function runSingle(cfg: ServerConfig, log: Logger): Promise<number> {
  const metrics = new ServerMetrics(cfg.identity, cfg.metrics.popLabel);
  let responder: Responder | null = null;
  let sync: ZoneSync | null = null;
  const sources: ManagementSources = {
    // Two registries, distinct metric names: their expositions concatenate.
    metrics: async () => (await metrics.text()) + (sync === null ? '' : await sync.metrics.registry.metrics()),
    metricsContentType: metrics.registry.contentType,
    ready: () => responder !== null && sync !== null && sync.store.zones.zones.size > 0,
    zones: () => sync?.store.status() ?? [],
    reload: (req: ScanRequest) => (sync === null ? Promise.reject(new Error('the server is still starting')) : sync.reload(req)),
  };
  // The management listener comes up first so /ready says 503 while big zones are still loading.
  const mgmt = cfg.management.listen ? await startManagementServer(cfg.management.listen, sources, log) : null;
  if (mgmt) log.info({ listen: formatListenAddress(mgmt.address) }, 'management listening');
  const stopping = stopSignal();
  const stopReloads = onReloadSignal(log, () => sync?.reload({ reason: 'sighup', verify: true }));
  try {
    sync = await startZoneSync(cfg, log, (_origin, _zone, zones) => responder?.handler.setZones(zones));
    responder = await Responder.start(cfg, sync.store.zones, log, metrics, { exclusive: false, reusePort: false });
  } catch (err) {
    stopReloads();
    await sync?.close();
    await mgmt?.close();
    throw err;
  }
  logStarted(log, { workers: 1 }, sync.store.zones.zones.size);
  const signal = await stopping;
  log.info({ signal }, 'stopping');
  stopReloads();
  const running = responder;
  const zoneSync = sync;
  await boundedStop(async () => {
    await running.stop();
    await zoneSync.close();
    await mgmt?.close();
  }, log);
  log.info('stopped');
  return 0;
}
