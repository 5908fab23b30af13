// workers: 1 — the responder runs in this process: no cluster, no IPC, the simplest hot path.
import { formatListenAddress, type ServerConfig } from '../ops/config.js';
import { startManagementServer } from '../ops/http.js';
import type { Logger } from '../ops/log.js';
import { ServerMetrics } from '../ops/metrics.js';
import { boundedStop, stopSignal } from './lifecycle.js';
import { Responder } from './responder.js';

export async function runSingle(cfg: ServerConfig, log: Logger): Promise<number> {
  const metrics = new ServerMetrics(cfg.identity);
  let responder: Responder | null = null;
  // The management listener comes up first so /ready says 503 while big zones are still loading.
  const mgmt = cfg.management.listen
    ? await startManagementServer(
        cfg.management.listen,
        { metrics: () => metrics.text(), metricsContentType: metrics.registry.contentType, ready: () => responder?.hasZones === true },
        log,
      )
    : null;
  if (mgmt) log.info({ listen: formatListenAddress(mgmt.address) }, 'management listening');
  const stopping = stopSignal();
  try {
    responder = await Responder.start(cfg, log, metrics, { exclusive: false, reusePort: false });
  } catch (err) {
    await mgmt?.close();
    throw err;
  }
  log.info({ workers: 1 }, 'server ready');
  const signal = await stopping;
  log.info({ signal }, 'stopping');
  const running = responder;
  await boundedStop(async () => {
    await running.stop();
    await mgmt?.close();
  }, log);
  log.info('stopped');
  return 0;
}
