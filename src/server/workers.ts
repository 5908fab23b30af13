// workers: N — N processes each load the zones and answer on their own (no shared mutable state).
// Where the runtime has SO_REUSEPORT for UDP (Node ≥ 22.12) each worker binds its own sockets and
// the kernel spreads packets across them; otherwise the workers share the primary's sockets through
// the cluster module. The primary answers no queries: it supervises and serves /metrics and /ready.
import cluster, { type Worker } from 'node:cluster';
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { AggregatorRegistry } from 'prom-client';
import { formatListenAddress, type ServerConfig } from '../ops/config.js';
import { startManagementServer } from '../ops/http.js';
import type { Logger } from '../ops/log.js';
import { ServerMetrics } from '../ops/metrics.js';
import { boundedStop, stopSignal } from './lifecycle.js';
import { Responder } from './responder.js';

const READY_MESSAGE = 'anycast-dns:worker-ready';
/** Tells a worker how to bind: "reuseport" (own sockets) or "shared" (the primary's). */
const BIND_MODE_ENV = 'ANYCAST_DNS_BIND_MODE';
const RESPAWN_DELAY_MS = 1000;

export async function runPrimary(cfg: ServerConfig, log: Logger): Promise<number> {
  const reusePort = await udpReusePortWorks();
  // Without reusePort, let the kernel hand connections to whichever worker accepts first rather
  // than routing each one through the primary (round-robin adds a hop per connection).
  if (!reusePort) cluster.schedulingPolicy = cluster.SCHED_NONE;
  const bindMode = reusePort ? 'reuseport' : 'shared';
  const aggregator = new AggregatorRegistry();
  const ready = new Set<number>();
  const everReady = new Set<number>();
  let stopping = false;
  let failed: (reason: string) => void = () => {};
  const startFailure = new Promise<string>((resolve) => (failed = resolve));

  const fork = (): Worker => cluster.fork({ [BIND_MODE_ENV]: bindMode });
  cluster.on('message', (w: Worker, msg: unknown) => {
    if ((msg as { type?: unknown } | null)?.type === READY_MESSAGE) {
      ready.add(w.id);
      everReady.add(w.id);
      if (ready.size === cfg.workers) log.info({ workers: cfg.workers, bind: bindMode }, 'server ready');
    }
  });
  cluster.on('exit', (w: Worker, code: number | null, signal: string | null) => {
    ready.delete(w.id);
    if (stopping) return;
    if (!everReady.has(w.id)) {
      // It never came up (a listener could not bind, a zones dir vanished): respawning would loop.
      failed(`worker ${w.id} exited during start-up (code ${code}, signal ${signal})`);
      return;
    }
    log.error({ worker: w.id, code, signal }, 'worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, RESPAWN_DELAY_MS);
  });
  for (let i = 0; i < cfg.workers; i++) fork();

  const mgmt = cfg.management.listen
    ? await startManagementServer(
        cfg.management.listen,
        { metrics: () => aggregator.clusterMetrics(), metricsContentType: aggregator.contentType, ready: () => ready.size === cfg.workers },
        log,
      )
    : null;
  if (mgmt) log.info({ listen: formatListenAddress(mgmt.address) }, 'management listening');

  const outcome = await Promise.race([stopSignal(), startFailure.then((reason) => ({ reason }))]);
  stopping = true;
  if (typeof outcome === 'string') log.info({ signal: outcome }, 'stopping');
  else log.fatal({ reason: outcome.reason }, 'start-up failed; stopping');
  await boundedStop(async () => {
    await Promise.all(Object.values(cluster.workers ?? {}).map((w) => (w ? stopWorker(w) : undefined)));
    await mgmt?.close();
  }, log);
  log.info('stopped');
  return typeof outcome === 'string' ? 0 : 1;
}

function stopWorker(w: Worker): Promise<void> {
  return new Promise((resolve) => {
    if (w.isDead()) return resolve();
    w.once('exit', () => resolve());
    w.process.kill('SIGTERM');
  });
}

export async function runWorker(cfg: ServerConfig, parentLog: Logger): Promise<number> {
  const worker = cluster.worker!;
  const log = parentLog.child({ worker: worker.id });
  const reusePort = process.env[BIND_MODE_ENV] === 'reuseport';
  const metrics = new ServerMetrics(cfg.identity);
  // Answer the primary's metric requests from this worker's own registry.
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry();
  const stopping = stopSignal();
  let responder: Responder;
  try {
    responder = await Responder.start(cfg, log, metrics, { exclusive: reusePort, reusePort });
  } catch (err) {
    log.fatal({ err }, 'worker could not start');
    worker.disconnect();
    return 1;
  }
  process.send?.({ type: READY_MESSAGE });
  await stopping;
  await boundedStop(() => responder.stop(), log);
  // The IPC channel to the primary would keep this process alive.
  worker.disconnect();
  return 0;
}

/** Whether two UDP sockets may bind one port with reusePort: the option is silently ignored where unsupported. */
async function udpReusePortWorks(): Promise<boolean> {
  const opts = { type: 'udp4', reusePort: true } as SocketOptions;
  const a = createSocket(opts);
  const b = createSocket(opts);
  const bind = (s: Socket, port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: '127.0.0.1', port, exclusive: true }, () => resolve());
    });
  try {
    await bind(a, 0);
    await bind(b, a.address().port);
    return true;
  } catch {
    return false;
  } finally {
    a.close();
    try {
      b.close();
    } catch {
      // never bound
    }
  }
}
