// The sidecar's decisions, as a pure function: step(state, event, config) → { state, effects }.
// No clock (events carry `now` in milliseconds), no I/O: the driver runs probes and timers, feeds
// the results in here, and executes the effects that come out.
import type { HealthConfig, RouteAttributes } from './config.js';
import { GRACEFUL_SHUTDOWN } from './config.js';

export type StateName =
  /** Just started: nothing announced (any route a previous instance left is withdrawn), no probe result yet. */
  | 'INIT'
  /** Healthy rounds are being counted towards `rise` (or a hold-down is running); not announced. */
  | 'RISING'
  /** Healthy: announced with the `up` attributes. */
  | 'UP'
  /** Answering, but slowly, with loss or from stale zones no peer has fresher: still announced, with the `degraded` attributes (AS-path prepend). */
  | 'DEGRADED'
  /** Was UP or DEGRADED, failed rounds are being counted towards `fall`; still announced as before. */
  | 'FALLING'
  /** Failed: withdrawn. */
  | 'DOWN'
  /** The maintenance file exists: drained (GRACEFUL_SHUTDOWN) for `drain_time`, then withdrawn. */
  | 'DISABLED'
  /** Stopping (SIGTERM): drained for `drain_time`, then withdrawn, then the process exits. */
  | 'EXIT';

/** What the routes look like at ExaBGP right now, as far as this process has told it. */
type Announcement = 'none' | 'up' | 'degraded';

export interface HealthState {
  name: StateName;
  /** The attributes last announced ('none' = withdrawn). */
  announced: Announcement;
  /** Whether the announced routes carry GRACEFUL_SHUTDOWN. */
  draining: boolean;
  /** When the current drain ends (ms), or null. */
  drainUntil: number | null;
  okStreak: number;
  failStreak: number;
  /** Smoothed fraction of lost probe attempts, and smoothed latency of answered ones (ms). */
  loss: number;
  latency: number;
  /** The smoothed figures crossed the `degraded` thresholds (with hysteresis). */
  slow: boolean;
  /** The last round found the zones stale, and no reachable peer serves them fresher. */
  stale: boolean;
  /** Times of the failure withdrawals still inside the hold-down window. */
  flaps: number[];
  /** No announcement before this time (ms). */
  holdUntil: number;
}

/**
 * One probe attempt's outcome. `refused` (ICMP port unreachable, a TCP reset) and `bad` are definite;
 * `timeout` may be loss; `stale` (freshness only) is old data that may be every POP's: it degrades, never fails.
 */
export interface Attempt {
  outcome: 'ok' | 'timeout' | 'refused' | 'bad' | 'stale';
  /** Round-trip time (ms) for ok answers. */
  ms: number;
  detail?: string;
  /** The SOA serial an ok DNS answer carried. */
  serial?: number;
}

/** One check (a name over UDP, over TCP, the readiness URL, freshness): its attempts in order. */
export interface CheckResult {
  check: string;
  attempts: Attempt[];
}

export interface Round {
  checks: CheckResult[];
  maintenance: boolean;
}

export type HealthEvent =
  | { type: 'start'; now: number }
  | { type: 'round'; now: number; round: Round }
  /** A timer the state machine asked for (`wake`) fired. */
  | { type: 'timer'; now: number }
  /** SIGTERM (or SIGINT). */
  | { type: 'stop'; now: number };

export type Effect =
  | { kind: 'announce'; attributes: RouteAttributes; communities: string[] }
  | { kind: 'withdraw' }
  | { kind: 'log'; from: StateName; to: StateName; reason: string }
  | { kind: 'probe'; at: number }
  | { kind: 'wake'; at: number }
  | { kind: 'exit'; code: number };

export interface StepResult {
  state: HealthState;
  effects: Effect[];
}

export function initialState(): HealthState {
  return {
    name: 'INIT', announced: 'none', draining: false, drainUntil: null, okStreak: 0, failStreak: 0,
    loss: 0, latency: 0, slow: false, stale: false, flaps: [], holdUntil: 0,
  };
}

/** The weight of the newest round in the smoothed loss and latency. */
const SMOOTHING = 0.2;
/** Leave DEGRADED only when both figures are below this share of their thresholds, so it does not flap. */
const RECOVER_SHARE = 0.5;

export interface RoundVerdict {
  healthy: boolean;
  /** Lost (timed out) attempts / attempts sent. */
  loss: number;
  /** Mean round trip of answered attempts (ms), or null when nothing answered. */
  latency: number | null;
  reason: string;
  /** The failure is a refused port: nobody listens, which the next round confirms without waiting. */
  refused: boolean;
  /** Why the zones are stale (a `stale` freshness check), or null. */
  stale: string | null;
}

/**
 * A round fails on any definite failure (refused port, wrong answer, not ready, stale) or when no check got
 * any answer at all. A check that only timed out while others answered is loss, not death: it raises the
 * loss figure (→ DEGRADED) instead of counting towards `fall`, so a loaded server is not withdrawn.
 */
export function judgeRound(round: Round): RoundVerdict {
  let sent = 0;
  let lost = 0;
  let answered = 0;
  let rttSum = 0;
  let definite: string | null = null;
  let refused = false;
  let silent: string | null = null;
  let stale: string | null = null;
  for (const c of round.checks) {
    for (const a of c.attempts) {
      if (a.outcome === 'stale') {
        stale ??= `${c.check}: ${a.detail ?? 'stale'}`;
        continue;
      }
      sent++;
      if (a.outcome === 'timeout') lost++;
      else if (a.outcome === 'ok') {
        answered++;
        rttSum += a.ms;
      }
    }
    const last = c.attempts[c.attempts.length - 1];
    if (last === undefined) continue;
    if ((last.outcome === 'refused' || last.outcome === 'bad') && definite === null) {
      definite = `${c.check}: ${last.outcome}${last.detail ? ` (${last.detail})` : ''}`;
      refused = last.outcome === 'refused';
    } else if (last.outcome === 'timeout' && silent === null) {
      silent = `${c.check}: no answer in ${c.attempts.length} attempts`;
    }
  }
  const loss = sent === 0 ? 0 : lost / sent;
  const latency = answered === 0 ? null : rttSum / answered;
  const verdict = { loss, latency, refused: false, stale };
  if (definite !== null) return { ...verdict, healthy: false, reason: definite, refused };
  if (sent > 0 && answered === 0) return { ...verdict, healthy: false, reason: silent ?? 'no answer' };
  if (sent === 0) return { ...verdict, healthy: false, reason: 'nothing to probe' };
  return { ...verdict, healthy: true, reason: silent ?? 'all checks answered' };
}

export function step(state: HealthState, event: HealthEvent, config: HealthConfig): StepResult {
  const fx: Effect[] = [];
  const s: HealthState = { ...state, flaps: [...state.flaps] };
  const now = event.now;
  const moveTo = (to: StateName, reason: string): void => {
    if (to !== s.name) fx.push({ kind: 'log', from: s.name, to, reason });
    s.name = to;
  };

  switch (event.type) {
    case 'start':
      // A previous instance may have left routes at ExaBGP (it was killed, ExaBGP respawned us):
      // withdraw unconditionally, then rebuild the state from fresh probes.
      fx.push({ kind: 'withdraw' }, { kind: 'probe', at: now });
      return { state: { ...initialState() }, effects: fx };

    case 'stop':
      if (s.name === 'EXIT') {
        // A second signal: the operator does not want to wait for the drain.
        return finishExit(s, fx);
      }
      moveTo('EXIT', 'stop requested');
      if (s.announced === 'none' || config.drainTime === 0) return finishExit(s, fx);
      // Already draining for maintenance: the drain that is running ends the same way.
      if (!s.draining || s.drainUntil === null) startDrain(s, now, config, fx);
      return { state: s, effects: fx };

    case 'timer':
      if (s.drainUntil === null) return { state: s, effects: fx };
      if (now < s.drainUntil) {
        // Timers may fire a little early by this clock: ask again rather than let the drain stall.
        fx.push({ kind: 'wake', at: s.drainUntil });
        return { state: s, effects: fx };
      }
      s.drainUntil = null;
      if (s.name === 'EXIT') return finishExit(s, fx);
      if (s.name === 'DISABLED') setAnnouncement(s, 'none', false, config, fx);
      return { state: s, effects: fx };

    case 'round': {
      if (s.name === 'EXIT') return { state: s, effects: fx };
      const v = onRound(s, event.round, now, config, moveTo, fx);
      // Fast while in transition, but not while a hold-down forbids announcing anyway; a refused port
      // while falling is confirmed at once: the `fall` rounds still guard against one odd reply, but
      // nobody listening is not a reason to wait.
      const fast = isTransient(s.name) && now >= s.holdUntil;
      const gap = s.name === 'FALLING' && v.refused ? config.confirmInterval : fast ? config.fastInterval : config.interval;
      fx.push({ kind: 'probe', at: now + gap });
      return { state: s, effects: fx };
    }
  }
}

function isTransient(name: StateName): boolean {
  return name === 'INIT' || name === 'RISING' || name === 'FALLING';
}

function onRound(s: HealthState, round: Round, now: number, config: HealthConfig, moveTo: (to: StateName, reason: string) => void, fx: Effect[]): RoundVerdict {
  const v = judgeRound(round);
  s.stale = v.stale !== null;
  onVerdict(s, v, round.maintenance, now, config, moveTo, fx);
  return v;
}

function onVerdict(s: HealthState, v: RoundVerdict, maintenance: boolean, now: number, config: HealthConfig, moveTo: (to: StateName, reason: string) => void, fx: Effect[]): void {
  if (v.healthy) {
    s.okStreak++;
    s.failStreak = 0;
  } else {
    s.failStreak++;
    s.okStreak = 0;
  }
  updateQuality(s, v, config);
  s.flaps = s.flaps.filter((t) => now - t < config.holdDown.window);

  if (maintenance) {
    if (s.name !== 'DISABLED') {
      moveTo('DISABLED', `maintenance file ${config.maintenanceFile} exists`);
      if (s.announced !== 'none' && config.drainTime > 0) startDrain(s, now, config, fx);
      else setAnnouncement(s, 'none', false, config, fx);
    }
    return;
  }
  if (s.name === 'DISABLED') {
    s.drainUntil = null;
    // Healthy rounds kept being counted during maintenance, so a healthy POP comes back at once.
    if (v.healthy && s.okStreak >= config.rise && now >= s.holdUntil) {
      announceHealthy(s, 'maintenance file removed', config, moveTo, fx);
    } else {
      moveTo(v.healthy ? 'RISING' : 'DOWN', v.healthy ? 'maintenance file removed' : `maintenance file removed; ${v.reason}`);
      setAnnouncement(s, 'none', false, config, fx);
    }
    return;
  }

  switch (s.name) {
    case 'INIT':
    case 'RISING':
    case 'DOWN':
      if (!v.healthy) {
        moveTo('DOWN', v.reason);
      } else if (s.okStreak < config.rise) {
        moveTo('RISING', `${s.okStreak}/${config.rise} healthy rounds`);
      } else if (now < s.holdUntil) {
        moveTo('RISING', `healthy, held down for ${s.holdUntil - now} ms more`);
      } else {
        announceHealthy(s, v.stale ?? `${s.okStreak} healthy rounds`, config, moveTo, fx);
      }
      return;
    case 'UP':
    case 'DEGRADED':
    case 'FALLING':
      if (v.healthy) {
        announceHealthy(s, s.name === 'FALLING' ? 'recovered' : (v.stale ?? v.reason), config, moveTo, fx);
      } else if (s.failStreak < config.fall) {
        moveTo('FALLING', `${s.failStreak}/${config.fall} failed rounds: ${v.reason}`);
      } else {
        const hold = withdrawAfterFailure(s, now, config, fx);
        moveTo('DOWN', `${s.failStreak} failed rounds: ${v.reason}${hold > 0 ? `; held down for ${hold / 1000} s after ${s.flaps.length} flaps` : ''}`);
      }
      return;
    case 'EXIT':
      return;
  }
}

/** Smoothed loss and latency with hysteresis: enter DEGRADED at the threshold, leave below half of it. */
function updateQuality(s: HealthState, v: RoundVerdict, config: HealthConfig): void {
  s.loss += SMOOTHING * (v.loss - s.loss);
  if (v.latency !== null) s.latency += SMOOTHING * (v.latency - s.latency);
  const over = s.loss >= config.degraded.loss || s.latency >= config.degraded.latency;
  const under = s.loss < config.degraded.loss * RECOVER_SHARE && s.latency < config.degraded.latency * RECOVER_SHARE;
  if (over) s.slow = true;
  else if (under) s.slow = false;
}

function announceHealthy(s: HealthState, reason: string, config: HealthConfig, moveTo: (to: StateName, reason: string) => void, fx: Effect[]): void {
  if (s.stale) {
    // Old data every POP may share (the sync source is down): serving it beats going dark everywhere.
    moveTo('DEGRADED', `${reason}; no reachable peer serves fresher zones`);
    setAnnouncement(s, 'degraded', false, config, fx);
  } else if (s.slow) {
    moveTo('DEGRADED', `${reason}; loss ${(s.loss * 100).toFixed(0)}%, latency ${s.latency.toFixed(1)} ms`);
    setAnnouncement(s, 'degraded', false, config, fx);
  } else {
    moveTo('UP', reason);
    setAnnouncement(s, 'up', false, config, fx);
  }
}

/** A withdrawal because the POP failed: count the flap and hold the next announcement down. */
function withdrawAfterFailure(s: HealthState, now: number, config: HealthConfig, fx: Effect[]): number {
  setAnnouncement(s, 'none', false, config, fx);
  s.flaps.push(now);
  // The first failure in the window costs nothing beyond `rise` (the POP comes back as soon as it is
  // well); each further one doubles the hold-down, up to the maximum.
  const n = s.flaps.length;
  const hold = n < 2 ? 0 : Math.min(config.holdDown.base * 2 ** (n - 2), config.holdDown.max);
  s.holdUntil = now + hold;
  return hold;
}

function startDrain(s: HealthState, now: number, config: HealthConfig, fx: Effect[]): void {
  // RFC 8326 §4: keep the route, tagged GRACEFUL_SHUTDOWN, so receivers lower its preference and
  // move traffic away before it is withdrawn.
  setAnnouncement(s, s.announced, true, config, fx);
  s.drainUntil = now + config.drainTime;
  fx.push({ kind: 'wake', at: s.drainUntil });
}

function finishExit(s: HealthState, fx: Effect[]): StepResult {
  if (s.announced !== 'none') fx.push({ kind: 'withdraw' });
  s.announced = 'none';
  s.draining = false;
  s.drainUntil = null;
  fx.push({ kind: 'exit', code: 0 });
  return { state: s, effects: fx };
}

/** Emits a command only when what ExaBGP holds changes; never re-sends an unchanged announcement. */
function setAnnouncement(s: HealthState, to: Announcement, draining: boolean, config: HealthConfig, fx: Effect[]): void {
  if (to === 'none') draining = false;
  if (s.announced === to && s.draining === draining) return;
  s.announced = to;
  s.draining = draining;
  if (to === 'none') {
    fx.push({ kind: 'withdraw' });
    return;
  }
  const attributes = to === 'up' ? config.attributes.up : config.attributes.degraded;
  fx.push({ kind: 'announce', attributes, communities: draining ? [GRACEFUL_SHUTDOWN] : [] });
}
