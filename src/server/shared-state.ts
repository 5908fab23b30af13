// What the main thread makes once and hands to every query thread (workers: N) in its workerData:
// memory the threads share, so a POP behaves as one server whatever the number of threads. A thread
// started to replace another gets the same objects, so nothing it counts or limits starts over.
import type { ServerConfig } from '../ops/config.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the shared pieces as they come
export interface SharedState {}

export function createSharedState(_cfg: ServerConfig): SharedState {
  return {};
}
