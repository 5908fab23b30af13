// Prometheus metrics of one server process. Every metric carries `pop=<identity>` so a fleet's
// series can be told apart. Per-query counts are plain array slots bumped on the hot path and
// copied into prom-client only when /metrics is scraped: no label objects, no Map lookups per query.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueryMeta, ResponseInfo, Transport } from '../wire/handler-types.js';
import { T } from '../zone/types.js';
import { RESPONSE_KINDS } from '../rrl/limiter.js';

const PREFIX = 'anycast_dns_';
const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

/** qtypes counted under their own name; everything else is "other" (bounded label cardinality). */
const QTYPE_BUCKETS = ['A', 'AAAA', 'NS', 'SOA', 'CNAME', 'MX', 'TXT', 'PTR', 'SRV', 'NAPTR', 'CAA', 'DS', 'DNSKEY', 'SVCB', 'HTTPS', 'ANY', 'other'] as const;
const OTHER_QTYPE = QTYPE_BUCKETS.length - 1;
const qtypeBucket = new Uint8Array(65536).fill(OTHER_QTYPE);
QTYPE_BUCKETS.forEach((name, i) => {
  if (name !== 'other') qtypeBucket[T[name]] = i;
});

/** RFC 6895 §2.3 rcode names; 16 is BADVERS (RFC 6891), carried in the OPT record. */
const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15', 'BADVERS'];
const RCODES = RCODE_NAMES.length + 1; // last slot: any other rcode
/** Outcome strings come from the handler; each new one gets a slot, up to this many. */
const MAX_OUTCOMES = 32;
const OTHER_OUTCOME = MAX_OUTCOMES - 1;

/** What rate limiting did to a response over the limit; `would_*` under log_only (sent anyway). */
export const RRL_ACTIONS = ['dropped', 'slipped', 'would_drop', 'would_slip'] as const;
/** Queries by what their DNS cookie proved (CookieStatus order), then BADCOOKIE replies sent. */
const COOKIE_RESULTS = ['none', 'client_only', 'invalid', 'valid', 'badcookie'] as const;
const BADCOOKIE_SLOT = COOKIE_RESULTS.length - 1;

export type DropReason = 'unanswerable' | 'send_error' | 'bad_frame' | 'internal_error';
/**
 * What happened to a TCP connection. `opened` and `closed` count every admitted one; the others say
 * why one was turned away at accept (refused_*), closed to make room (evicted_*), or ran out of time.
 */
export const TCP_EVENTS = [
  'opened',
  'closed',
  /** Its prefix opened more than `tcp.new_connections_per_second_per_prefix`. */
  'refused_rate',
  'refused_per_address',
  'refused_per_prefix',
  /** The table was full and no open connection could be closed for it. */
  'refused_full',
  /** Closed at the cap: the oldest idle one, or one that said nothing since it connected. */
  'evicted_idle',
  /** Closed at the cap: stalled mid-message or not taking its answers. */
  'evicted_slow',
  /** Closed at the cap: the oldest of the prefix holding the most connections. */
  'evicted_prefix',
  'idle_timeout',
  /** A begun message not finished, or answers not taken, within `tcp.io_timeout`. */
  'io_timeout',
] as const;
export type TcpEvent = (typeof TCP_EVENTS)[number];

export class ServerMetrics {
  readonly registry = new Registry();

  private readonly queries = new Float64Array(TRANSPORTS.length * QTYPE_BUCKETS.length);
  private readonly responses = new Float64Array(TRANSPORTS.length * MAX_OUTCOMES * RCODES);
  private readonly truncated = new Float64Array(TRANSPORTS.length);
  private readonly outcomeIndex = new Map<string, number>();
  private readonly outcomeNames: string[] = [];
  private readonly limited = new Float64Array(RRL_ACTIONS.length * RESPONSE_KINDS.length);
  private readonly cookieCounts = new Float64Array(COOKIE_RESULTS.length);

  private readonly dropped: Counter<'transport' | 'reason'>;
  private readonly queryErrors: Counter;
  private readonly tcpEvents: Counter<'event'>;
  private readonly tcpOpen: Gauge;

  constructor(identity: string) {
    this.registry.setDefaultLabels({ pop: identity });
    const registers = [this.registry];
    const self = this;
    new Counter({
      name: `${PREFIX}queries_total`,
      help: 'Queries answered, by transport and query type',
      labelNames: ['transport', 'qtype'],
      registers,
      collect() {
        this.reset();
        for (let t = 0; t < TRANSPORTS.length; t++) {
          for (let q = 0; q < QTYPE_BUCKETS.length; q++) {
            const v = self.queries[t * QTYPE_BUCKETS.length + q]!;
            if (v > 0) this.labels(TRANSPORTS[t]!, QTYPE_BUCKETS[q]!).inc(v);
          }
        }
      },
    });
    new Counter({
      name: `${PREFIX}responses_total`,
      help: 'Responses sent, by transport, rcode and answer outcome',
      labelNames: ['transport', 'rcode', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (let t = 0; t < TRANSPORTS.length; t++) {
          for (let o = 0; o < MAX_OUTCOMES; o++) {
            for (let rc = 0; rc < RCODES; rc++) {
              const v = self.responses[(t * MAX_OUTCOMES + o) * RCODES + rc]!;
              if (v > 0) this.labels(TRANSPORTS[t]!, RCODE_NAMES[rc] ?? 'other', self.outcomeNames[o] ?? 'other').inc(v);
            }
          }
        }
      },
    });
    new Counter({
      name: `${PREFIX}truncated_responses_total`,
      help: 'Responses sent with TC=1 because the answer did not fit',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        for (let t = 0; t < TRANSPORTS.length; t++) this.labels(TRANSPORTS[t]!).inc(self.truncated[t]!);
      },
    });
    new Counter({
      name: `${PREFIX}rrl_limited_responses_total`,
      help: 'UDP responses over the rate limit, by action (dropped, slipped as TC=1 or BADCOOKIE; would_* under log_only) and response kind',
      labelNames: ['action', 'kind'],
      registers,
      collect() {
        this.reset();
        for (let a = 0; a < RRL_ACTIONS.length; a++) {
          for (let k = 0; k < RESPONSE_KINDS.length; k++) {
            const v = self.limited[a * RESPONSE_KINDS.length + k]!;
            if (v > 0) this.labels(RRL_ACTIONS[a]!, RESPONSE_KINDS[k]!).inc(v);
          }
        }
      },
    });
    new Counter({
      name: `${PREFIX}cookies_total`,
      help: 'Queries with a DNS cookie by what it proved (client_only, invalid: answered with a new server cookie; valid: exempt from rate limiting), and BADCOOKIE replies sent',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        for (let c = 1; c < COOKIE_RESULTS.length; c++) this.labels(COOKIE_RESULTS[c]!).inc(self.cookieCounts[c]!);
      },
    });
    this.dropped = new Counter({
      name: `${PREFIX}dropped_packets_total`,
      help: 'Messages received but not answered, by reason',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.queryErrors = new Counter({
      name: `${PREFIX}query_errors_total`,
      help: 'Queries answered SERVFAIL because answering them threw (a bug)',
      registers,
    });
    this.tcpEvents = new Counter({
      name: `${PREFIX}tcp_connections_total`,
      help: 'TCP connection events: opened, closed; refused at accept (refused_rate, refused_per_address, refused_per_prefix, refused_full); closed to make room at the cap (evicted_idle, evicted_slow, evicted_prefix); closed out of time (idle_timeout, io_timeout)',
      labelNames: ['event'],
      registers,
    });
    // Every event from zero, so a rate() over an attack's first refusals has a baseline.
    for (const e of TCP_EVENTS) this.tcpEvents.labels(e).inc(0);
    this.tcpOpen = new Gauge({ name: `${PREFIX}tcp_connections_open`, help: 'TCP connections open now', registers, aggregator: 'sum' });
    collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  /** HandlerOptions.onResponse: called once per response; array arithmetic only. */
  readonly onResponse = (info: ResponseInfo, _meta: QueryMeta): void => {
    const t = info.transport === 'udp' ? 0 : 1;
    this.queries[t * QTYPE_BUCKETS.length + qtypeBucket[info.qtype & 0xffff]!]!++;
    const rc = info.rcode >= 0 && info.rcode < RCODE_NAMES.length ? info.rcode : RCODES - 1;
    this.responses[(t * MAX_OUTCOMES + this.outcomeSlot(info.outcome)) * RCODES + rc]!++;
    if (info.truncated) this.truncated[t]!++;
    this.cookieCounts[info.cookie]!++;
  };

  /** A response over the rate limit: `action` indexes RRL_ACTIONS, `kind` is its ResponseKind. */
  rateLimited(action: number, kind: number, badCookie: boolean): void {
    this.limited[action * RESPONSE_KINDS.length + kind]!++;
    if (badCookie) this.cookieCounts[BADCOOKIE_SLOT]!++;
  }

  private outcomeSlot(outcome: string): number {
    let i = this.outcomeIndex.get(outcome);
    if (i === undefined) {
      if (this.outcomeNames.length === OTHER_OUTCOME) return OTHER_OUTCOME;
      i = this.outcomeNames.length;
      this.outcomeNames.push(outcome);
      this.outcomeIndex.set(outcome, i);
    }
    return i;
  }

  droppedPacket(transport: Transport, reason: DropReason): void {
    this.dropped.labels(transport, reason).inc();
  }

  queryError(): void {
    this.queryErrors.inc();
  }

  tcpEvent(event: TcpEvent): void {
    this.tcpEvents.labels(event).inc();
    if (event === 'opened') this.tcpOpen.inc();
    else if (event === 'closed') this.tcpOpen.dec();
  }

  /** The Prometheus text exposition of this process. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
