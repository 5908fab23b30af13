// What the main thread makes once and hands to every query thread (workers: N) in its workerData:
// memory the threads share, so a POP behaves as one server whatever the number of threads. A thread
// started to replace another gets the same objects, so nothing it counts or limits starts over.
import { metricsMemory, type MetricsMemory } from '../ops/query-counters.js';
import type { ServerConfig } from '../ops/config.js';
import { createSharedMemory, type SharedMemory } from './shared-memory.js';

export interface SharedState {
  /** The query counts, one region per thread index (ops/metrics.ts). */
  metrics: MetricsMemory;
  /** Int32 per thread index, counted up by the thread's event loop: the main thread sees it is alive (threads.ts). */
  beats: SharedArrayBuffer;
  /** What the threads answer with together: one rate-limit table, TCP counts and cookie secret per POP (shared-memory.ts). */
  answering: SharedMemory;
}

export function createSharedState(cfg: ServerConfig): SharedState {
  return {
    metrics: metricsMemory(cfg.workers),
    beats: new SharedArrayBuffer(cfg.workers * Int32Array.BYTES_PER_ELEMENT),
    answering: createSharedMemory(cfg),
  };
}

/** How often a query thread counts its beat. */
const BEAT_MS = 100;

/** Counts a beat of thread `index` every BEAT_MS from its event loop, for as long as the loop runs. */
export function beatEvery(shared: SharedState, index: number): void {
  const beats = new Int32Array(shared.beats);
  setInterval(() => Atomics.add(beats, index, 1), BEAT_MS).unref();
}
