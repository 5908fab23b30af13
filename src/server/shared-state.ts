// What the main thread makes once and hands to every query thread (workers: N) in its workerData:
// memory the threads share, so a POP behaves as one server whatever the number of threads. A thread
// started to replace another gets the same objects, so nothing it counts or limits starts over.
import { metricsMemory, type MetricsMemory } from '../ops/metrics.js';
import type { ServerConfig } from '../ops/config.js';

export interface SharedState {
  /** The query counts, one region per thread index (ops/metrics.ts). */
  metrics: MetricsMemory;
}

export function createSharedState(cfg: ServerConfig): SharedState {
  return { metrics: metricsMemory(cfg.workers) };
}
