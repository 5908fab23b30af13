// A worker thread over a POP's shared state, for the tests of src/server/pop-state.ts: started
// with runInThread, it does one job over the memory it is handed and posts what it saw. Jobs that
// race other threads get ready, then wait at a start line (Int32s in shared memory: the line, and
// how many wait at it) that the test lifts for all of them at once.
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger } from '../../src/log.js';
import { serverConfigFrom } from '../../src/ops/config.js';
import { ServerMetrics } from '../../src/ops/metrics.js';
import { Responder } from '../../src/server/responder.js';
import type { ThreadShare } from '../../src/server/pop-state.js';
import { readZoneDir } from '../../src/sync/zone-files.js';
import { RateLimiter, RateLimitVerdict, type LimiterConfig } from '../../src/rrl/limiter.js';
import { ConnectionTable, type TableLimits } from '../../src/server/connection-table.js';
import { sourcePrefix } from '../../src/server/source-prefix.js';
import { AddressBytes } from '../../src/wire/address.js';
import { ServerCookies } from '../../src/wire/cookies.js';
import { ResponseKind } from '../../src/wire/handler-types.js';
import { BUNDLED_ZONES_DIR } from './paths.js';
import { sleep, waitFor } from './wait.js';

export type Job =
  /** `decisions` responses to one client and name, all in one second: posts [sent, slipped, dropped]. */
  | { job: 'rrl'; cfg: LimiterConfig; memory: SharedArrayBuffer; start: SharedArrayBuffer; decisions: number }
  /**
   * As thread `thread`, opens one connection from each address of `fill`, then, once the start line
   * is lifted, one from each of `attempts`: posts how many of those were admitted.
   */
  | { job: 'tcp'; limits: TableLimits; memory: SharedArrayBuffer; thread: number; start: SharedArrayBuffer; fill: string[]; attempts: string[] }
  /** A server cookie for `client` (8 octets) from `ip` at `now` under `secret`: posts its 16 octets. */
  | { job: 'mint'; secret: Uint8Array; client: Uint8Array; ip: string; now: number }
  /** Whether the cookie option `option` (client | server) from `ip` at `now` is valid under `secret`: posts its CookieStatus. */
  | { job: 'check'; secret: Uint8Array; option: Uint8Array; ip: string; now: number }
  /**
   * A responder on the bundled zones as thread `share.thread` of a POP configured by `config` (with
   * `reusePort`, beside the others on the same port), its identity `identity`: posts 'listening',
   * and stops and exits when sent anything.
   */
  | { job: 'serve'; config: Record<string, unknown>; identity: string; share: ThreadShare };

/** A thread serving (job 'serve'), listening; stop() ends it. */
export interface ServingThread {
  stop(): Promise<void>;
}

/** Runs a 'serve' job in a new worker thread; resolves once it listens. */
export async function serveInThread(job: Extract<Job, { job: 'serve' }>): Promise<ServingThread> {
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    void exited.then(() => reject(new Error(`thread ${job.share.thread} exited before it listened`)));
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      await Promise.race([exited, sleep(5000).then(() => worker.terminate())]);
    },
  };
}

/** Runs `job` in a new worker thread; resolves with what it posts, once it has exited. */
export function runInThread<T>(job: Job): Promise<T> {
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  return new Promise<T>((resolve, reject) => {
    let posted: { value: T } | null = null;
    worker.once('message', (value: T) => (posted = { value }));
    worker.once('error', reject);
    worker.once('exit', (code) => (posted !== null ? resolve(posted.value) : reject(new Error(`worker exited with ${code} and no result`))));
  });
}

const LINE = 0;
const WAITING = 1;

/** A start line for racing threads. */
export function startLine(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/** Lifts the start line once `threads` wait at it (within 10 s), for all of them at once. */
export async function lift(start: SharedArrayBuffer, threads: number): Promise<void> {
  const line = new Int32Array(start);
  await waitFor(() => Atomics.load(line, WAITING) === threads, { timeoutMs: 10_000, intervalMs: 5, what: `${threads} threads at the start line` });
  Atomics.store(line, LINE, 1);
  Atomics.notify(line, LINE);
}

function waitAtStartLine(start: SharedArrayBuffer): void {
  const line = new Int32Array(start);
  Atomics.add(line, WAITING, 1);
  Atomics.wait(line, LINE, 0, 10_000);
}

function address(text: string): AddressBytes {
  const a = new AddressBytes();
  if (a.parse(text) === 0) throw new Error(`not an address: ${text}`);
  return a;
}

async function serve(job: Extract<Job, { job: 'serve' }>, port: MessagePort): Promise<void> {
  const cfg = serverConfigFrom({ ...job.config, identity: job.identity }, BUNDLED_ZONES_DIR);
  const log = createLogger({ pop: job.identity, component: 'server', level: 'silent' });
  const zones = readZoneDir(BUNDLED_ZONES_DIR).zones;
  const responder = await Responder.start(cfg, zones, log, new ServerMetrics(job.identity), { reusePort: true, share: job.share });
  port.once('message', () => void responder.stop().then(() => port.close()));
  port.postMessage('listening');
}

function run(job: Exclude<Job, { job: 'serve' }>): unknown {
  switch (job.job) {
    case 'rrl': {
      const l = new RateLimiter(job.cfg, job.memory);
      const prefix = l.prefixKey(address('192.0.2.1'));
      const counts = [0, 0, 0];
      waitAtStartLine(job.start);
      for (let i = 0; i < job.decisions; i++) counts[l.decide(prefix, 4, ResponseKind.Answer, 7, 1_000_000)]!++;
      return [counts[RateLimitVerdict.Send], counts[RateLimitVerdict.Slip], counts[RateLimitVerdict.Drop]];
    }
    case 'tcp': {
      const t = new ConnectionTable<number>(job.limits, { memory: job.memory, thread: job.thread });
      let n = 0;
      for (const a of job.fill) open(t, n++, a);
      waitAtStartLine(job.start);
      let admitted = 0;
      for (const a of job.attempts) if (open(t, n++, a)) admitted++;
      return admitted;
    }
    case 'mint': {
      const out = new Uint8Array(16);
      new ServerCookies(job.secret).issue(job.client, 0, address(job.ip), job.now, out, 0);
      return out;
    }
    case 'check':
      return new ServerCookies(job.secret).check(job.option, 0, job.option.length, address(job.ip), job.now);
  }
}

/** Admits and adds a connection from `address` if the table says yes (closing its victim); true when admitted. */
function open(t: ConnectionTable<number>, conn: number, address: string): boolean {
  const prefix = sourcePrefix(address);
  const d = t.admission(address, prefix, 0);
  if (!d.admit) return false;
  if (d.evict !== null) t.delete(d.evict);
  t.add(conn, address, prefix, 0);
  return true;
}

if (!isMainThread && parentPort !== null) {
  const job = workerData as Job;
  if (job.job === 'serve') await serve(job, parentPort);
  else parentPort.postMessage(run(job));
}
