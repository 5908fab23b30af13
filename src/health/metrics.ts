// The sidecar's own Prometheus metrics and status, served on `health.metrics_listen`: the state, the
// route, every transition, and what the probes saw. A POP's route state is otherwise visible only in
// ExaBGP's journal; with these, one dashboard shows every POP's. Every series carries pop=<identity>.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../ops/process-metrics.js';
import { ConfigError } from '../errors.js';
import { formatListenAddress, type ListenAddress } from '../ops/config.js';
import type { Logger } from '../log.js';
import type { HealthState, Round, StateName } from './state-machine.js';

const PREFIX = 'anycast_dns_health_';
const STATE_NAMES: readonly StateName[] = ['INIT', 'RISING', 'UP', 'DEGRADED', 'FALLING', 'DOWN', 'DISABLED', 'EXIT'];
/** Attempt outcomes (Attempt['outcome']). */
const OUTCOMES = ['ok', 'timeout', 'refused', 'bad', 'stale'] as const;

/**
 * The kind of a check ("udp", "tcp", "ready", "freshness", "probe"), never its name: check names carry
 * the zone ("udp example.com. SOA"), and a POP serving thousands of zones must not get thousands of series.
 */
function checkKind(check: string): string {
  const space = check.indexOf(' ');
  return space === -1 ? check : check.slice(0, space);
}

/** What /status answers: the state with the reason for the last change, which a label could not carry. */
export interface HealthStatus {
  pop: string;
  state: StateName;
  announced: HealthState['announced'];
  draining: boolean;
  since: string;
  reason: string;
  last_round: { at: string; checks: { check: string; outcome: string; ms: number; detail?: string }[] } | null;
}

export class HealthMetrics {
  readonly registry = new Registry();
  private readonly stateGauge: Gauge<'state'>;
  private readonly announced: Gauge;
  private readonly transitions: Counter<'from' | 'to'>;
  private readonly lastTransition: Gauge;
  private readonly probeResults: Counter<'check' | 'outcome'>;
  private readonly probeDuration: Histogram;
  private readonly stale: Gauge;
  private status: HealthStatus;

  constructor(identity: string, now: Date = new Date()) {
    this.registry.setDefaultLabels({ pop: identity });
    const registers = [this.registry];
    this.stateGauge = new Gauge({ name: `${PREFIX}state`, help: 'The sidecar state: 1 for the current one, 0 for the others', labelNames: ['state'], registers });
    this.announced = new Gauge({ name: `${PREFIX}route_announced`, help: '1 while the anycast routes are announced to ExaBGP (UP, DEGRADED, FALLING, draining), else 0', registers });
    this.transitions = new Counter({ name: `${PREFIX}transitions_total`, help: 'State changes of the sidecar', labelNames: ['from', 'to'], registers });
    this.lastTransition = new Gauge({ name: `${PREFIX}last_transition_timestamp_seconds`, help: 'Unix time of the last state change (the start, before any)', registers });
    this.probeResults = new Counter({
      name: `${PREFIX}probe_results_total`,
      help: 'Probe attempts by check kind (udp, tcp, ready, freshness) and outcome (ok, timeout, refused, bad)',
      labelNames: ['check', 'outcome'],
      registers,
    });
    this.probeDuration = new Histogram({
      name: `${PREFIX}probe_duration_seconds`,
      help: 'Duration of each probe attempt (a timed-out attempt counts its timeout)',
      // A local answer takes well under a millisecond; the default attempt timeout is 0.25 s.
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.stale = new Gauge({
      name: `${PREFIX}zones_stale`,
      help: 'Whether the last freshness check found the zones stale: 1 shared with the peers (DEGRADED, still announced), 2 behind a fresher peer (a failure), else 0',
      registers,
    });
    collectProcessMetrics(this.registry);
    for (const s of STATE_NAMES) this.stateGauge.set({ state: s }, s === 'INIT' ? 1 : 0);
    this.announced.set(0);
    this.lastTransition.set(now.getTime() / 1000);
    this.status = { pop: identity, state: 'INIT', announced: 'none', draining: false, since: now.toISOString(), reason: 'started', last_round: null };
  }

  transition(from: StateName, to: StateName, reason: string, now: Date = new Date()): void {
    this.transitions.inc({ from, to });
    this.lastTransition.set(now.getTime() / 1000);
    this.status = { ...this.status, since: now.toISOString(), reason };
  }

  /** After every event: the state and what ExaBGP holds. */
  state(s: HealthState): void {
    if (s.name !== this.status.state) {
      this.stateGauge.set({ state: this.status.state }, 0);
      this.stateGauge.set({ state: s.name }, 1);
    }
    this.announced.set(s.announced === 'none' ? 0 : 1);
    this.status = { ...this.status, state: s.name, announced: s.announced, draining: s.draining };
  }

  round(r: Round, now: Date = new Date()): void {
    const checks: NonNullable<HealthStatus['last_round']>['checks'] = [];
    for (const c of r.checks) {
      const kind = checkKind(c.check);
      for (const a of c.attempts) {
        this.probeResults.inc({ check: kind, outcome: a.outcome });
        this.probeDuration.observe(a.ms / 1000);
      }
      const last = c.attempts[c.attempts.length - 1];
      if (kind === 'freshness') this.stale.set(last?.outcome === 'stale' ? 1 : c.attempts.some((a) => a.outcome === 'stale') ? 2 : 0);
      if (last) checks.push({ check: c.check, outcome: last.outcome, ms: Math.round(last.ms * 1000) / 1000, ...(last.detail ? { detail: last.detail } : {}) });
    }
    this.status = { ...this.status, last_round: { at: now.toISOString(), checks } };
  }

  /** Zero series for every outcome of the probe kinds configured, so rates exist before the first failure. */
  prepare(kinds: readonly string[]): void {
    for (const check of kinds) for (const outcome of OUTCOMES) this.probeResults.inc({ check, outcome }, 0);
  }

  snapshot(): HealthStatus {
    return this.status;
  }
}

export interface MetricsListener {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** GET /metrics (Prometheus text) and /status (JSON: state, reason, last round). */
export async function startHealthMetricsServer(at: ListenAddress, metrics: HealthMetrics, log: Logger): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://health').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => {
          log.warn({ err }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
    } else if (path === '/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metrics.snapshot(), null, 1) + '\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => reject(new ConfigError('health.metrics_listen', `cannot listen on ${formatListenAddress(at)}: ${err.message}`));
    server.once('error', failed);
    server.listen({ host: at.host, port: at.port, ipv6Only: at.family === 6 }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'health metrics listener error'));
  const bound = server.address() as AddressInfo;
  return {
    address: { host: at.host, port: bound.port, family: at.family },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
