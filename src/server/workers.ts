// workers: N — N processes answer queries. The primary runs zone sync (one load, one set of guards,
// one status), writes every zone version it accepts as a snapshot file and tells each worker, which
// reads it in its own loader thread, so all of them serve the same serial and none stalls answering
// while a big zone arrives; a worker that starts (or is restarted) gets the current zones before it listens.
// Each worker binds its own UDP and TCP sockets with SO_REUSEPORT and the kernel spreads packets and
// connections across them. The primary answers no queries: it supervises and serves the management endpoints.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { formatListenAddress, type ServerConfig } from '../ops/config.js';
import { startManagementServer } from '../ops/http.js';
import type { Logger } from '../log.js';
import { ServerMetrics } from '../ops/metrics.js';
import { ZoneSyncMetrics } from '../ops/zone-metrics.js';
import { ZoneLoader } from '../sync/loader.js';
import { startZoneSync, type ZoneSync } from '../sync/service.js';
import { NotifySender } from './notify.js';
import { ZoneSnapshots } from '../sync/snapshot.js';
import type { ScanRequest } from '../sync/store.js';
import { keyFromText, keyToText } from '../zone/name.js';
import { CompactZone, ZoneSet, type Zone } from '../zone/zone.js';
import { boundedStop, logStarted, onReloadSignal, stopSignal } from './lifecycle.js';
import { Responder } from './responder.js';

const READY_MESSAGE = 'anycast-dns:worker-ready';
/** Primary → worker every HEARTBEAT_MS; the worker answers from its query thread. */
const PING_MESSAGE = 'anycast-dns:ping';
const PONG_MESSAGE = 'anycast-dns:pong';
const HEARTBEAT_MS = 1000;
/**
 * A worker silent this long is stuck (a busy loop, a stopped process) and its share of the traffic
 * unanswered: /ready says 503 until it answers again. Three beats, so a reload of a big zone, which
 * holds a worker's thread for a few hundred ms, does not count.
 */
const STUCK_MS = 3 * HEARTBEAT_MS;
/**
 * Primary → worker: every zone served (on start), or a batch of zones' new versions (null: no longer
 * served), each as the path of its snapshot file (src/sync/snapshot.ts), which the worker reads off
 * its query thread; and whether the first load is still under way (ZoneSet.loading).
 */
const ZONES_MESSAGE = 'anycast-dns:zones';
/** Worker → primary, once it listens for zones (messages sent before that would be lost). */
const WANT_ZONES_MESSAGE = 'anycast-dns:want-zones';
const ZONE_MESSAGE = 'anycast-dns:zone';
/** Zones are keyed by their origin's key (see zone/name.ts), as in a ZoneSet. */
type ZonesMessage = { type: typeof ZONES_MESSAGE | typeof ZONE_MESSAGE; zones: { key: string; path: string | null }[]; loading: boolean };
const RESPAWN_DELAY_MS = 1000;

export async function runPrimary(cfg: ServerConfig, log: Logger): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const ready = new Set<number>();
  const everReady = new Set<number>();
  /** When each worker last answered a ping (or said it was ready), by worker id. */
  const heardFrom = new Map<number, number>();
  const stuck = new Set<number>();
  const serving = (): boolean => ready.size === cfg.workers && stuck.size === 0;
  let stopping = false;
  let failed: (reason: string) => void = () => {};
  const startFailure = new Promise<string>((resolve) => (failed = resolve));

  let sync: ZoneSync | null = null;
  let announced = false;
  /** `server ready` once every worker listens and the first load is over, whichever comes last. */
  const announceReady = (): void => {
    if (announced || ready.size !== cfg.workers || !(sync?.isLoaded() ?? false)) return;
    announced = true;
    logStarted(log, { workers: cfg.workers }, sync?.store.zones.zones.size ?? 0);
  };
  const zoneMetrics = new ZoneSyncMetrics(cfg.identity, cfg.metrics.popLabel, () => sync?.store.statuses() ?? []);
  const snapshots = new ZoneSnapshots();
  /** Workers that have had the whole zone set: from then on they get each change. */
  const fed = new Set<Worker>();
  const feed = (w: Worker, msg: ZonesMessage): void => {
    if (w.isConnected()) w.send(msg);
  };
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (msg: { type?: unknown } | null) => {
      if (msg?.type !== WANT_ZONES_MESSAGE || sync === null) return;
      feed(w, { type: ZONES_MESSAGE, zones: snapshots.current(), loading: !sync.isLoaded() });
      fed.add(w);
    });
    w.once('exit', () => fed.delete(w));
    return w;
  };
  cluster.on('message', (w: Worker, msg: unknown) => {
    const type = (msg as { type?: unknown } | null)?.type;
    if (type === PONG_MESSAGE || type === READY_MESSAGE) {
      heardFrom.set(w.id, Date.now());
      if (stuck.delete(w.id)) log.info({ worker: w.id }, 'worker answers again');
    }
    if (type === READY_MESSAGE) {
      ready.add(w.id);
      everReady.add(w.id);
      announceReady();
    }
  });
  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const w of Object.values(cluster.workers ?? {})) {
      if (w === undefined || !ready.has(w.id)) continue;
      if (now - (heardFrom.get(w.id) ?? now) > STUCK_MS && !stuck.has(w.id)) {
        stuck.add(w.id);
        log.error({ worker: w.id, pid: w.process.pid, silent_ms: now - heardFrom.get(w.id)! }, 'worker not answering; not ready until it does');
      }
      if (w.isConnected()) w.send({ type: PING_MESSAGE });
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  cluster.on('exit', (w: Worker, code: number | null, signal: string | null) => {
    ready.delete(w.id);
    stuck.delete(w.id);
    heardFrom.delete(w.id);
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
  const mgmt = cfg.management.listen
    ? await startManagementServer(
        cfg.management.listen,
        {
          metrics: async () => (await aggregator.clusterMetrics()) + (sync === null ? '' : zoneMetrics.text()),
          metricsContentType: aggregator.contentType,
          ready: () => serving() && sync !== null && sync.isLoaded() && sync.store.zones.zones.size > 0,
          zones: () => sync?.store.status() ?? [],
          reload: (req: ScanRequest) => (sync === null ? Promise.reject(new Error('the server is still starting')) : sync.reload(req)),
        },
        log,
      )
    : null;
  if (mgmt) log.info({ listen: formatListenAddress(mgmt.address) }, 'management listening');

  const notify = new NotifySender(cfg.transfer.notify, log, zoneMetrics);
  const stopSignalled = stopSignal();
  // A SIGHUP during the first load is a scan queued behind it, not lost.
  const stopReloads = onReloadSignal(log, () => sync?.reload({ reason: 'sighup', verify: true }));
  try {
    sync = startZoneSync(cfg, log, (changes) => {
      const zones = changes.map(({ origin, zone }) => {
        const key = keyFromText(origin, null);
        if (zone === null) {
          snapshots.remove(key);
          return { key, path: null };
        }
        return { key, path: snapshots.put(key, (zone as CompactZone).parts()) };
      });
      const msg: ZonesMessage = { type: ZONE_MESSAGE, zones, loading: !(sync?.isLoaded() ?? false) };
      for (const w of fed) feed(w, msg);
      // The first load is no change to tell of (single.ts).
      if (sync?.isLoaded() === true) notify.changed(changes);
    }, zoneMetrics);
  } catch (err) {
    stopReloads();
    await mgmt?.close();
    throw err;
  }
  const zoneSync = sync;
  void zoneSync.loaded.then(() => {
    announceReady();
    const msg: ZonesMessage = { type: ZONE_MESSAGE, zones: [], loading: false };
    for (const w of fed) feed(w, msg);
  });
  // The workers listen while the zones load, answering what is loaded (see single.ts).
  for (let i = 0; i < cfg.workers; i++) fork();

  const outcome = await Promise.race([stopSignalled, startFailure.then((reason) => ({ reason }))]);
  stopping = true;
  clearInterval(heartbeat);
  stopReloads();
  if (typeof outcome === 'string') log.info({ signal: outcome }, 'stopping');
  else log.fatal({ reason: outcome.reason }, 'start-up failed; stopping');
  await boundedStop(async () => {
    await sync?.close();
    notify.close();
    await Promise.all(Object.values(cluster.workers ?? {}).flatMap((w) => (w ? [stopWorker(w)] : [])));
    snapshots.close();
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
  const metrics = new ServerMetrics(cfg.identity, cfg.metrics.popLabel);
  // A file has one writer: each worker writes its own, PATH.<worker id>.
  const tap = cfg.dnstap;
  if (tap !== null && tap.output.kind === 'file') cfg = { ...cfg, dnstap: { output: { kind: 'file', path: `${tap.output.path}.${worker.id}` } } };
  // Answer the primary's metric requests from this worker's own registry.
  AggregatorRegistry.setRegistries([metrics.registry]);
  new AggregatorRegistry();
  const stopping = stopSignal();
  // The primary reloads; a SIGHUP sent to the whole process group must not end this worker.
  onReloadSignal(log, () => undefined);
  const zones = new ZoneSet(new Map());
  let responder: Responder | null = null;
  const loader = new ZoneLoader(1);
  /** The zones of `list` read from their snapshots: [key, zone], or [key, null] for a zone no longer served. */
  const readZones = async (list: { key: string; path: string | null }[]): Promise<[string, Zone | null][]> => {
    const paths = list.flatMap((z) => (z.path === null ? [] : [z.path]));
    const read = paths.length === 0 ? [] : await loader.readBatch(paths);
    let i = 0;
    return list.map((z) => {
      if (z.path === null) return [z.key, null];
      const o = read[i++]!;
      if (o.kind === 'failed') throw new Error(o.errors.join('; '));
      return [z.key, CompactZone.fromParts(o.parts)];
    });
  };
  // Messages are applied one at a time, in the order sent.
  let applying: Promise<void> = Promise.resolve();
  const first = new Promise<void>((resolve) => {
    process.on('message', (msg: ZonesMessage | { type: typeof PING_MESSAGE }) => {
      if (msg?.type === PING_MESSAGE) {
        process.send?.({ type: PONG_MESSAGE });
        return;
      }
      if (msg?.type !== ZONES_MESSAGE && msg?.type !== ZONE_MESSAGE) return;
      applying = applying.then(async () => {
        try {
          const read = await readZones(msg.zones);
          const changes = read.map(([key, zone]) => ({ origin: keyToText(key), zone }));
          // Every zone: those served and no longer listed go.
          if (msg.type === ZONES_MESSAGE) {
            const listed = new Set(msg.zones.map((z) => z.key));
            for (const key of zones.zones.keys()) if (!listed.has(key)) changes.push({ origin: keyToText(key), zone: null });
          }
          zones.apply(changes);
          zones.loading = msg.loading;
          if (msg.type === ZONES_MESSAGE) resolve();
          responder?.handler.setZones(zones);
        } catch (err) {
          log.error({ err }, 'zone snapshot unreadable; asking the primary for every zone again');
          process.send?.({ type: WANT_ZONES_MESSAGE });
        }
      });
    });
    process.send?.({ type: WANT_ZONES_MESSAGE });
  });
  try {
    // Stopped before the primary sent the zones (it is stopping too): nothing to close.
    if ((await Promise.race([first, stopping])) !== undefined) {
      await loader.close();
      worker.disconnect();
      return 0;
    }
    responder = await Responder.start(cfg, zones, log, metrics, { exclusive: true, reusePort: true });
  } catch (err) {
    log.fatal({ err }, 'worker could not start');
    await loader.close();
    worker.disconnect();
    return 1;
  }
  process.send?.({ type: READY_MESSAGE });
  await stopping;
  const running = responder;
  await boundedStop(async () => {
    await running.stop();
    await loader.close();
  }, log);
  // The IPC channel to the primary would keep this process alive.
  worker.disconnect();
  return 0;
}
