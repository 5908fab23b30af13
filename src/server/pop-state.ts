// What a POP's answering threads share (workers: N), made once by the main thread and handed to each
// thread in its workerData, a replacement included: plain transferable values (SharedArrayBuffers
// and octets), over which every thread builds its own objects. So the POP behaves as one server
// whatever the number of threads (docs/design.md, One rate limiter per POP), and nothing a thread
// counts or limits starts over when it is replaced.
import { metricsMemory, type MetricsMemory } from '../ops/query-counters.js';
import type { ServerConfig } from '../ops/config.js';
import { limiterMemory } from '../rrl/limiter.js';
import { processCookieSecret } from '../wire/cookies.js';
import { connectionCountsMemory } from './connection-counts.js';

export interface PopState {
  /** The counts, one region per thread index and the main thread's own after them (ops/query-counters.ts; ops/metrics.ts sums them). */
  metrics: MetricsMemory;
  /** Int32 per thread index, counted up by the thread's event loop: the main thread sees it is alive (threads.ts). */
  beats: SharedArrayBuffer;
  /** The RRL table (limiterMemory); null when rate limiting is off. */
  rrl: SharedArrayBuffer | null;
  /** The TCP connections open per address, per prefix and in all, one slice per thread (connectionCountsMemory). */
  tcp: SharedArrayBuffer;
  /** The server-cookie secret of the process, used when `cookies.secret` is not configured. */
  cookieSecret: Uint8Array;
}

/** What one answering thread is handed: the POP's state, and its index, which a thread replacing it takes over. */
export interface ThreadShare {
  pop: PopState;
  /** 0 .. cfg.workers - 1. */
  thread: number;
}

/** The state of a POP running `cfg` (with `cfg.workers` answering threads). */
export function createPopState(cfg: ServerConfig): PopState {
  return {
    metrics: metricsMemory(cfg.workers + 1),
    beats: new SharedArrayBuffer(cfg.workers * Int32Array.BYTES_PER_ELEMENT),
    rrl: cfg.rrl.responsesPerSecond === 0 ? null : limiterMemory(cfg.rrl),
    tcp: connectionCountsMemory(cfg.tcp.maxConnections, cfg.workers),
    cookieSecret: processCookieSecret(),
  };
}

/** How often a query thread counts its beat. */
const BEAT_MS = 100;

/** Counts a beat of the thread every BEAT_MS from its event loop, for as long as the loop runs. */
export function beatEvery({ pop, thread }: ThreadShare): void {
  const beats = new Int32Array(pop.beats);
  setInterval(() => Atomics.add(beats, thread, 1), BEAT_MS).unref();
}
