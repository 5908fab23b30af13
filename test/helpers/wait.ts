// Waiting in tests and benchmarks: a pause, a bounded poll for a condition, and a bound on a promise.
// Every wait is bounded and fails naming what it waited for, so a hung server fails the test with a
// reason instead of hanging the run.
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between polls (default 50 ms). */
  intervalMs?: number;
  /** What is waited for, as the failure message says it: `timed out after ${timeoutMs} ms waiting for ${what}`. */
  what: string;
  /** More for the failure message, asked at the time of failure (a server's log, the last value seen). */
  detail?: () => string;
}

/** Thrown by waitFor when the condition did not hold in time. */
export class WaitTimeoutError extends Error {}

/**
 * Polls `predicate` until it returns a truthy value, and resolves with that value. An exception from
 * the predicate ends the wait with that exception (wrap the predicate to count errors as "not yet").
 * The predicate is asked once more at the deadline, so a slow poll never loses its last chance.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const last = performance.now() >= deadline;
    const value = await predicate();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (last) {
      const detail = opts.detail?.();
      throw new WaitTimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${detail ? `; ${detail}` : ''}`);
    }
    await sleep(Math.max(0, Math.min(opts.intervalMs ?? 50, deadline - performance.now())));
  }
}

/** `p`, or a rejection naming `what` once `ms` have passed. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new WaitTimeoutError(`timed out waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
