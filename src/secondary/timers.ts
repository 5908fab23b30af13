// When a secondary zone is refreshed and when it expires (RFC 1034 §4.3.5, RFC 1996 §4): from its
// SOA's REFRESH, RETRY and EXPIRE, held within the operator's bounds. Pure: times in, times out.
import type { TimerBounds } from './config.js';

/** With no version yet (no SOA to read the timers from), a failed refresh is tried again after this many seconds, within the bounds. */
const RETRY_WITHOUT_SOA_S = 60;

export interface SoaTimers {
  refresh: number;
  retry: number;
  expire: number;
}

function clamp(v: number, min: number, max: number): number {
  return Math.min(Math.max(v, min), max);
}

/** Seconds until the next refresh: REFRESH after a success, RETRY after a failure (RFC 1034 §4.3.5). */
export function nextRefreshS(soa: SoaTimers | null, succeeded: boolean, b: TimerBounds): number {
  if (soa === null) return clamp(RETRY_WITHOUT_SOA_S, b.retryMin, b.retryMax);
  return succeeded ? clamp(soa.refresh, b.refreshMin, b.refreshMax) : clamp(soa.retry, b.retryMin, b.retryMax);
}

/** Seconds after the last successful refresh at which the zone is no longer served. */
export function expireS(soa: SoaTimers, b: TimerBounds): number {
  return clamp(soa.expire, b.expireMin, b.expireMax);
}

/** Up to a tenth less, so the secondaries of one primary do not all ask in the same second. */
export function jittered(seconds: number, random: number): number {
  return seconds * (1 - random / 10);
}
