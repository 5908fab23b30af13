// workers: N — N worker threads answer queries in this one process, each with its own SO_REUSEPORT
// UDP socket and TCP listener per listen address; the kernel spreads datagrams and connections over
// them. The main thread answers none: it runs zone sync (one load, one set of guards, one status),
// publishes every batch of new zone versions to each thread (the zones' memory is shared, not
// copied), serves the management endpoint, and replaces a thread that dies or stops answering.
import { Worker } from 'node:worker_threads';
import { formatListenAddress, type ServerConfig } from '../ops/config.js';
import { startManagementServer } from '../ops/http.js';
import type { Logger } from '../log.js';
import { ServerMetrics } from '../ops/metrics.js';
import { ZoneSyncMetrics } from '../ops/zone-metrics.js';
import { freeHeap } from '../sync/free-heap.js';
import { startZoneSync, type ZoneSync } from '../sync/service.js';
import type { ScanRequest, ZoneChange } from '../sync/store.js';
import { errorText } from '../sync/load-failure.js';
import { CompactZone, ZoneSet, type Zone } from '../zone/zone.js';
import { boundedStop, logStarted, onReloadSignal, stopSignal } from './lifecycle.js';
import { loadNativeUdp, releaseFreeMemory } from './native-udp.js';
import { NotifySender } from './notify.js';
import { createPopState } from './pop-state.js';
import { prepareSecondaries, secondarySources } from './secondaries.js';
import type { SecondaryZones } from '../secondary/service.js';
import type { FromThread, ThreadData, ToThread, ZonesMessage, ZoneVersion } from './thread-messages.js';

const THREAD_URL = new URL('./query-thread.js', import.meta.url);
/**
 * Every HEARTBEAT_MS the main thread reads each thread's beat (shared memory, counted by the
 * thread's event loop every BEAT_MS: no message to queue behind a flood on either side).
 */
const HEARTBEAT_MS = 250;
/**
 * A thread whose beat has not moved for this long is stuck (a busy loop) and its share of the traffic
 * unanswered: it is ended and replaced, within 2 s. Several beats, so swapping in a big zone, which
 * holds a thread for a moment, does not count.
 */
const STUCK_MS = 3 * HEARTBEAT_MS;
/** How long a stopping thread may take to close its listeners before it is ended. */
const STOP_MS = 2000;
/** A replacement that died before it listened is tried again after this long, not in a tight loop. */
const RETRY_MS = 1000;

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  /** It listened once (it may be stuck since). */
  listened: boolean;
  /** The beat last read, and when it moved. */
  beat: number;
  heardAt: number;
  /** Ended by the heartbeat: its exit is expected, and it is being replaced. */
  ended: boolean;
}

export async function runThreads(cfg: ServerConfig, log: Logger): Promise<number> {
  // The native UDP part stays loaded for the life of the process: a thread's sockets are closed
  // as it ends, and the library must still be there when libuv finishes closing them.
  if (cfg.udpIo !== 'dgram') loadNativeUdp();
  const pop = createPopState(cfg);
  const beats = new Int32Array(pop.beats);
  const metrics = new ServerMetrics(cfg.identity, cfg.metrics.popLabel, pop.metrics);
  let sync: ZoneSync | null = null;
  let secondaries: SecondaryZones | null = null;
  let stopping = false;
  let failed: (reason: string) => void = () => {};
  const startFailure = new Promise<string>((resolve) => (failed = resolve));
  const slots: (Slot | null)[] = Array.from({ length: cfg.workers }, () => null);
  /** Threads that answered at least once: from then on a death is a replacement, not a failed start. */
  const everReady = new Set<number>();
  const serving = (): boolean => slots.every((s) => s !== null && s.ready);

  let announced = false;
  /** `server ready` once every thread listens and the first load is over, whichever comes last. */
  const announceReady = (): void => {
    if (announced || !serving() || !(sync?.isLoaded() ?? false)) return;
    announced = true;
    logStarted(log, { workers: cfg.workers }, sync?.store.zones.zones.size ?? 0);
  };
  const send = (msg: ToThread): void => {
    for (const s of slots) s?.worker.postMessage(msg);
  };
  // Its modules (the country database's reader, a file watcher) load only for a POP that answers by network.
  const geo = cfg.geo === null ? null : new (await import('../sync/geo-source.js')).GeoSource(cfg.geo, log, () => sync?.store.zones ?? new ZoneSet(new Map()), (_data, files) => send({ type: 'geo', files }), metrics);

  const start = (index: number): void => {
    const data: ThreadData = { cfg, share: { pop, thread: index } };
    const worker = new Worker(THREAD_URL, { workerData: data });
    // Before any later batch: messages arrive in the order posted.
    if (geo !== null) worker.postMessage({ type: 'geo', files: geo.files() } satisfies ToThread);
    worker.postMessage({ type: 'zones', zones: currentZones(sync), loading: !(sync?.isLoaded() ?? false) } satisfies ToThread);
    if (secondaries !== null) worker.postMessage({ type: 'secondaries', zones: secondaries.zones() } satisfies ToThread);
    const slot: Slot = { index, worker, ready: false, listened: false, beat: Atomics.load(beats, index), heardAt: Date.now(), ended: false };
    slots[index] = slot;
    const threadLog = log.child({ thread: index });
    worker.on('message', (msg: FromThread) => {
      if (msg.type === 'log') {
        threadLog[msg.level](msg.fields, msg.msg);
        return;
      }
      if (msg.type === 'geo-answers') {
        metrics.addGeoAnswers(msg.answers);
        return;
      }
      if (msg.type === 'notify') {
        secondaries?.notified(msg.zone, msg.result, msg.remote);
        return;
      }
      slot.heardAt = Date.now();
      slot.ready = true;
      slot.listened = true;
      everReady.add(index);
      announceReady();
    });
    worker.on('error', (err) => log.error({ thread: index, err: errorText(err) }, 'query thread failed'));
    worker.on('exit', (code) => {
      if (slots[index] === slot) slots[index] = null;
      if (stopping) return;
      if (!everReady.has(index)) {
        // It never came up (a listener could not bind): starting it again would fail again.
        failed(`query thread ${index} exited during start-up (code ${code})`);
        return;
      }
      if (!slot.ended) log.error({ thread: index, code }, 'query thread died; starting another');
      setTimeout(() => stopping || start(index), slot.listened ? 0 : RETRY_MS);
    });
  };

  let lastTick = Date.now();
  const heartbeat = setInterval(() => {
    const now = Date.now();
    const late = now - lastTick > 2 * HEARTBEAT_MS;
    lastTick = now;
    for (const s of slots) {
      // This thread was held up too (the process stopped, the machine overloaded): the threads'
      // silence meanwhile proves nothing, so it counts from now.
      if (late && s !== null) s.heardAt = now;
      if (s === null || !s.ready || s.ended) continue;
      const beat = Atomics.load(beats, s.index);
      if (beat !== s.beat) {
        s.beat = beat;
        s.heardAt = now;
      }
      if (now - s.heardAt > STUCK_MS) {
        s.ended = true;
        s.ready = false;
        log.error({ thread: s.index, silent_ms: now - s.heardAt }, 'query thread not answering; replacing it');
        void s.worker.terminate();
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  // This thread alone reads, watches and judges the geo files; the threads answer from what it hands
  // them, the database's bytes shared (sync/geo-data.ts).
  geo?.start();
  const zoneMetrics = new ZoneSyncMetrics(cfg.identity, cfg.metrics.popLabel, () => sync?.store.statuses() ?? []);
  const notify = new NotifySender(cfg.transfer.notify, log, zoneMetrics);
  const mgmt = cfg.management.listen
    ? await startManagementServer(
        cfg.management.listen,
        {
          metrics: async () => (await metrics.text()) + (sync === null ? '' : zoneMetrics.text()),
          metricsContentType: metrics.registry.contentType,
          ready: () => serving() && sync !== null && sync.isLoaded() && sync.store.zones.zones.size > 0,
          ...secondarySources(
            () => sync,
            () => secondaries,
          ),
          reload: (req: ScanRequest) => (sync === null ? Promise.reject(new Error('the server is still starting')) : sync.reload(req)),
          ...(geo === null ? {} : { geo: () => geo.status() }),
        },
        log,
      )
    : null;
  if (mgmt) log.info({ listen: formatListenAddress(mgmt.address) }, 'management listening');

  const stopSignalled = stopSignal();
  // A SIGHUP during the first load is a scan queued behind it, not lost.
  const stopReloads = onReloadSignal(log, () => {
    geo?.reload();
    return sync?.reload({ reason: 'sighup', verify: true });
  });
  try {
    secondaries = prepareSecondaries(cfg, log, zoneMetrics, (zones) => send({ type: 'secondaries', zones }));
    sync = startZoneSync(
      cfg,
      log,
      (changes) => {
        const loading = !(sync?.isLoaded() ?? false);
        send(zonesMessage(changes, loading));
        // The first load is no change to tell of (single.ts).
        if (!loading) notify.changed(changes);
      },
      zoneMetrics,
      secondaries?.files,
      // The loader threads' freed memory stays resident in malloc's arenas until asked for; this
      // thread answers no query, so compacting the heap the load left behind stalls nothing.
      () => {
        freeHeap();
        releaseFreeMemory();
      },
    );
  } catch (err) {
    stopReloads();
    clearInterval(heartbeat);
    await mgmt?.close();
    await geo?.close();
    throw err;
  }
  const loadedSync = sync;
  void sync.loaded.then(() => {
    send({ type: 'zones', zones: [], loading: false });
    announceReady();
    secondaries?.start(loadedSync.store);
  });
  // The threads listen while the zones load, answering what is loaded (see single.ts).
  for (let i = 0; i < cfg.workers; i++) start(i);

  const outcome = await Promise.race([stopSignalled, startFailure.then((reason) => ({ reason }))]);
  stopping = true;
  clearInterval(heartbeat);
  stopReloads();
  if (typeof outcome === 'string') log.info({ signal: outcome }, 'stopping');
  else log.fatal({ reason: outcome.reason }, 'start-up failed; stopping');
  await boundedStop(async () => {
    secondaries?.close();
    await sync?.close();
    notify.close();
    await Promise.all(slots.flatMap((s) => (s === null ? [] : [stopThread(s.worker)])));
    await mgmt?.close();
    await geo?.close();
  }, log);
  log.info('stopped');
  return typeof outcome === 'string' ? 0 : 1;
}

/** Every zone served now, as a thread is started with them. */
function currentZones(sync: ZoneSync | null): ZoneVersion[] {
  if (sync === null) return [];
  const expired = sync.store.zones.expired;
  return [...sync.store.zones.zones.values()].map((z) => ({ origin: z.originText, parts: partsOf(z), expired: expired.has(z.origin) }));
}

function zonesMessage(changes: readonly ZoneChange[], loading: boolean): ZonesMessage {
  return { type: 'zones', zones: changes.map((c) => ({ origin: c.origin, parts: c.zone === null ? null : partsOf(c.zone), expired: c.expired === true })), loading };
}

function partsOf(zone: Zone): ZoneVersion['parts'] {
  // Zone sync builds every zone it serves from the loader's shared parts.
  if (!(zone instanceof CompactZone)) throw new Error(`zone ${zone.originText} is not a compiled zone`);
  return zone.parts();
}

/** Asks the thread to close its listeners; ends it if it has not exited within STOP_MS. */
function stopThread(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), STOP_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    worker.postMessage({ type: 'stop' } satisfies ToThread);
  });
}
