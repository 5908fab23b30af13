// The state a POP's answering threads share, made once by the main thread and handed to each in
// its workerData: plain transferable values (SharedArrayBuffers and octets), so every thread builds
// its own objects over the same memory. One rate-limit table, one set of TCP connection counts and
// one cookie secret per POP, whatever the number of threads (docs/design.md, One rate limiter per POP).
import type { ServerConfig } from '../ops/config.js';
import { limiterMemory } from '../rrl/limiter.js';
import { processCookieSecret } from '../wire/cookies.js';
import { connectionCountsMemory } from './connection-counts.js';

export interface SharedMemory {
  /** The RRL table (limiterMemory); null when rate limiting is off. */
  rrl: SharedArrayBuffer | null;
  /** The TCP connections open per address, per prefix and in all, one slice per thread (connectionCountsMemory). */
  tcp: SharedArrayBuffer;
  /** The server-cookie secret of the process, used when `cookies.secret` is not configured. */
  cookieSecret: Uint8Array;
}

/** What one answering thread is handed: the POP's memory, and its index, which a thread replacing it takes over. */
export interface ThreadShare {
  memory: SharedMemory;
  /** 0 .. cfg.workers - 1. */
  thread: number;
}

/** The shared memory of a POP running `cfg` (with `cfg.workers` answering threads). */
export function createSharedMemory(cfg: ServerConfig): SharedMemory {
  return {
    rrl: cfg.rrl.responsesPerSecond === 0 ? null : limiterMemory(cfg.rrl),
    tcp: connectionCountsMemory(cfg.tcp.maxConnections, cfg.workers),
    cookieSecret: processCookieSecret(),
  };
}
