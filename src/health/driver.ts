// Runs the state machine: owns the clock, the timers, the probe rounds and the ExaBGP pipe, feeds
// events into `step` and carries out the effects it returns.
import type { Logger } from '../log.js';
import type { HealthConfig } from './config.js';
import type { HealthMetrics } from './metrics.js';
import type { ExabgpPipe } from './pipe.js';
import { initialState, judgeRound, step, type Effect, type HealthEvent, type HealthState, type Round } from './state-machine.js';

export interface DriverOptions {
  config: HealthConfig;
  pipe: ExabgpPipe;
  log: Logger;
  probe: (config: HealthConfig) => Promise<Round>;
  /** Monotonic milliseconds. */
  clock: () => number;
  exit: (code: number) => void;
  /** Told every state, transition and probe round (health.metrics_listen); absent when that is off. */
  metrics?: HealthMetrics;
  /** Holds a connection to the server while it is announced; `onGone` when it closes (the server died). */
  watch?: (config: HealthConfig, onGone: () => void) => { close(): void };
}

export class HealthDriver {
  private state: HealthState = initialState();
  private probeTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private probing = false;
  private stopped = false;
  private watching: { close(): void } | null = null;
  private lastRoundAt = 0;

  constructor(private readonly o: DriverOptions) {}

  start(): void {
    this.dispatch({ type: 'start', now: this.o.clock() });
  }

  stop(): void {
    this.dispatch({ type: 'stop', now: this.o.clock() });
  }

  /** Ends at once (ExaBGP gone, broken pipe): no more commands can be delivered. */
  abort(code: number): void {
    this.halt();
    this.o.exit(code);
  }

  private dispatch(event: HealthEvent): void {
    if (this.stopped) return;
    const { state, effects } = step(this.state, event, this.o.config);
    this.state = state;
    for (const e of effects) this.run(e);
    this.o.metrics?.state(this.state);
  }

  private run(e: Effect): void {
    switch (e.kind) {
      case 'announce':
        this.o.pipe.announce(e.attributes, e.communities);
        return;
      case 'withdraw':
        this.o.pipe.withdraw();
        return;
      case 'log': {
        // Stale zones keep the POP announced, so the log line is what tells the operator the sync is broken.
        const level = e.to === 'DOWN' || e.to === 'FALLING' || this.state.stale ? 'warn' : 'info';
        this.o.metrics?.transition(e.from, e.to, e.reason);
        this.o.log[level]({ from: e.from, to: e.to, reason: e.reason, announced: this.state.announced, draining: this.state.draining }, `${e.from} -> ${e.to}: ${e.reason}`);
        return;
      }
      case 'probe':
        this.scheduleProbe(e.at);
        return;
      case 'wake':
        if (this.wakeTimer) clearTimeout(this.wakeTimer);
        this.wakeTimer = setTimeout(() => {
          this.wakeTimer = null;
          this.dispatch({ type: 'timer', now: this.o.clock() });
        }, Math.max(0, e.at - this.o.clock()));
        return;
      case 'exit':
        this.halt();
        this.o.exit(e.code);
        return;
    }
  }

  private scheduleProbe(at: number): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      void this.runRound();
    }, Math.max(0, at - this.o.clock()));
  }

  private async runRound(): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    let round: Round;
    try {
      round = await this.o.probe(this.o.config);
    } catch (err) {
      // A bug in a probe must read as a failed round, never as a healthy one.
      round = { checks: [{ check: 'probe', attempts: [{ outcome: 'bad', ms: 0, detail: err instanceof Error ? err.message : String(err) }] }], maintenance: false };
    } finally {
      this.probing = false;
    }
    this.o.metrics?.round(round);
    const v = judgeRound(round);
    this.o.log.debug({ healthy: v.healthy, loss: v.loss, latency: v.latency, reason: v.reason, state: this.state.name }, 'probe round');
    this.lastRoundAt = this.o.clock();
    this.dispatch({ type: 'round', now: this.lastRoundAt, round });
    this.rewatch();
  }

  /** Watches the server while it is announced as healthy; a lost watch brings the next round forward. */
  private rewatch(): void {
    const healthy = this.state.name === 'UP' || this.state.name === 'DEGRADED';
    if (!healthy || this.stopped) {
      this.watching?.close();
      this.watching = null;
      return;
    }
    if (this.watching !== null || this.o.watch === undefined) return;
    this.watching = this.o.watch(this.o.config, () => {
      this.watching = null;
      // Not sooner than fast_interval after the last round: a server that takes connections and closes
      // them at once must not make the sidecar probe in a loop.
      if (!this.probing && !this.stopped) this.scheduleProbe(Math.max(this.o.clock(), this.lastRoundAt + this.o.config.fastInterval));
    });
  }

  private halt(): void {
    this.stopped = true;
    this.watching?.close();
    this.watching = null;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.probeTimer = this.wakeTimer = null;
    this.o.pipe.close();
  }
}
