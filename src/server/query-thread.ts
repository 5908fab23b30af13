// A query thread's entry point (workers: N): a Responder with its own SO_REUSEPORT UDP socket and TCP
// listener per listen address, answering from zones the main thread publishes. Each batch of new
// versions is built over the shared memory (no copy) and swapped in within one turn of the event
// loop, so an answer is computed from one version of every zone.
import { parentPort, workerData } from 'node:worker_threads';
import { QueryCounters } from '../ops/query-counters.js';
import { CompactZone, ZoneSet } from '../zone/zone.js';
import { Responder } from './responder.js';
import { beatEvery } from './pop-state.js';
import { watchTestFaults } from './test-faults.js';
import { threadLogger } from './thread-log.js';
import type { ThreadData, ToThread, FromThread, ZonesMessage } from './thread-messages.js';
import type { NotifyInResult } from '../secondary/service.js';
import type { GeoData } from '../wire/handler-types.js';

const { cfg, share } = workerData as ThreadData;
const index = share.thread;
const port = parentPort!;
const post = (msg: FromThread): void => port.postMessage(msg);
const log = threadLogger(cfg.logLevel, post);

// A file has one writer: each thread writes its own, PATH.<thread index>.
const tap = cfg.dnstap;
const threadCfg = tap !== null && tap.output.kind === 'file' ? { ...cfg, dnstap: { output: { kind: 'file' as const, path: `${tap.output.path}.${index}` } } } : cfg;

const zones = new ZoneSet(new Map());
/** The secondary zones whose NOTIFYs are taken: the config's, and the members of catalog zones as the main thread learns them. */
let secondaryZones = cfg.secondary?.zones ?? [];
let responder: Responder | null = null;
let zonesIn: () => void = () => {};
const firstZones = new Promise<void>((resolve) => (zonesIn = resolve));

function apply(msg: ZonesMessage): void {
  // Every zone is built first, then all are swapped in at once.
  const changes = msg.zones.map((z) => ({ origin: z.origin, zone: z.parts === null ? null : CompactZone.fromParts(z.parts), expired: z.expired }));
  zones.apply(changes);
  zones.loading = msg.loading;
  responder?.handler.setZones(zones);
  zonesIn();
}

// Loaded only when geo is on: a thread holds its own copy of every module it imports. Before the
// first message is taken, so the geo files and the zones after them are applied in the order sent.
const geoDataOf = cfg.geo === null ? null : (await import('../sync/geo-data.js')).geoDataOf;
/** The geo rules and database the main thread handed over last. */
let geo: GeoData | null = null;

port.on('message', (msg: ToThread) => {
  if (msg.type === 'zones') apply(msg);
  else if (msg.type === 'geo') {
    geo = geoDataOf!(msg.files);
    responder?.handler.setGeo(geo);
  }
  else if (msg.type === 'secondaries') {
    secondaryZones = msg.zones;
    responder?.notify?.setZones(msg.zones);
  }
  else if (msg.type === 'stop') void stop();
});

const counters = new QueryCounters(share.pop.metrics, index);
/** How often the geo answers counted here go to the main thread's totals. */
const GEO_FLUSH_MS = 1000;
const flushGeo = (): void => {
  const answers = counters.takeGeoAnswers();
  if (answers.length > 0) post({ type: 'geo-answers', answers });
};
const geoFlush = cfg.geo === null ? null : setInterval(flushGeo, GEO_FLUSH_MS);
geoFlush?.unref();

async function stop(): Promise<void> {
  await responder?.stop();
  if (geoFlush !== null) {
    clearInterval(geoFlush);
    flushGeo();
  }
  port.close();
}

beatEvery(share);
watchTestFaults(index, log);
await firstZones;
// NOTIFYs for the secondary zones are answered here; the main thread, which runs them, is told.
const onNotify = cfg.secondary === null ? undefined : (zone: string, result: NotifyInResult, remote: string): void => post({ type: 'notify', zone, result, remote });
const startedWith = geo;
responder = await Responder.start(threadCfg, zones, log, counters, { reusePort: true, share, geo, ...(onNotify === undefined ? {} : { onNotify }) });
// Files handed over while the listeners opened.
if (geo !== startedWith) responder.handler.setGeo(geo);
responder.notify?.setZones(secondaryZones);
post({ type: 'ready' });
