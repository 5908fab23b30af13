// Prometheus metrics of one server process. Every metric carries `pop=<identity>` (unless
// `metrics.pop_label` is off) so a fleet's series can be told apart. Per-query counts are plain array
// slots bumped on the hot path and copied into prom-client only when /metrics is scraped: no label
// objects, no Map lookups per query. Every label value comes from a fixed set, never from a query.
import { createRequire } from 'node:module';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CacheUse, type QueryMeta, type ResponseInfo, type Transport } from '../wire/handler-types.js';
import { T } from '../zone/types.js';
import { RESPONSE_KINDS } from '../rrl/limiter.js';
import { VERSION } from '../version.js';
import { FixedHistogram } from './histogram.js';

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

/**
 * Seconds from a message read to its answer handed to the socket. CoreDNS starts at 250 µs; an answer
 * from the response cache here takes a few µs, so the first buckets are finer.
 */
const DURATION_BOUNDS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Octets of each response sent: CoreDNS's bounds, so its dashboards' queries carry over. */
const SIZE_BOUNDS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000];
/**
 * prom-client's default gauges that end in `_total`, which the Prometheus conventions keep for counters
 * (`promtool check metrics` flags them). Each is the sum of its per-type gauge (nodejs_active_handles
 * and so on), which stays.
 */
const NONCONFORMING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Sets `counter`, labelled by a row name and a column name, from `counts`: a rows × columns grid of
 * plain counts. Empty cells are left out, so a scrape lists only what happened.
 */
function setFromGrid(counter: Counter<string>, counts: ArrayLike<number>, rows: readonly string[], columns: readonly string[]): void {
  counter.reset();
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < columns.length; c++) {
      const v = counts[r * columns.length + c]!;
      if (v > 0) counter.labels(rows[r]!, columns[c]!).inc(v);
    }
  }
}

/**
 * prom-client's default metrics but its GC histogram (nodejs_gc_duration_seconds). That one observes
 * every collection through a PerformanceObserver, and Node.js makes a few KB of objects per
 * collection for it (the entry, its detail, deprecation wrappers). Under load, with scavenges 60
 * times a second, they outlived the young generation: the old one grew by 0.25 MB/s at 66,000
 * queries/s, and a full collection stopped the query thread for ~3 ms every 20-30 s. Without it the
 * heap stays flat under that load.
 */
const PROCESS_METRIC_MODULES = collectDefaultMetrics.metricsList.filter((m) => m !== 'gc');
const requireFromHere = createRequire(import.meta.url);

/** The standard process_* and nodejs_* metrics in `registry`, under their standard names (no prefix). */
export function collectProcessMetrics(registry: Registry): void {
  for (const name of PROCESS_METRIC_MODULES) {
    // What collectDefaultMetrics does for each: every default metric is a module of its own.
    const add = requireFromHere(`prom-client/lib/metrics/${name}`) as (registry: Registry, config: object) => void;
    add(registry, { eventLoopMonitoringPrecision: 10 });
  }
  for (const name of NONCONFORMING_DEFAULTS) registry.removeSingleMetric(name);
}

export type DropReason = 'unanswerable' | 'send_error' | 'bad_frame' | 'internal_error' | 'oversized';
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
  /** Response cache lookups: [hit, miss]. */
  private readonly cacheCounts = new Float64Array(2);
  /** The dnstap writer's counts, read at scrape; null when dnstap is off. */
  private dnstap: { written: number; dropped: number } | null = null;
  private readonly duration: FixedHistogram;
  private readonly size: FixedHistogram;

  private readonly dropped: Counter<'transport' | 'reason'>;
  private readonly udpPathInfo: Gauge<'path'>;
  private readonly queryErrors: Counter;
  private readonly tcpEvents: Counter<'event'>;
  private readonly tcpOpen: Gauge;

  /** `popLabel` false leaves the `pop` label to the scraper (a target label). */
  constructor(identity: string, popLabel = true) {
    if (popLabel) this.registry.setDefaultLabels({ pop: identity });
    const registers = [this.registry];
    const self = this;
    new Counter({
      name: `${PREFIX}queries_total`,
      help: 'Queries answered, by transport and query type',
      labelNames: ['transport', 'qtype'],
      registers,
      collect() {
        setFromGrid(this, self.queries, TRANSPORTS, QTYPE_BUCKETS);
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
        setFromGrid(this, self.limited, RRL_ACTIONS, RESPONSE_KINDS);
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
    new Counter({
      name: `${PREFIX}cache_requests_total`,
      help: 'Response cache lookups: hit (answered from the cache) or miss (answered and then kept)',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.labels('hit').inc(self.cacheCounts[0]!);
        this.labels('miss').inc(self.cacheCounts[1]!);
      },
    });
    new Counter({
      name: `${PREFIX}dnstap_messages_total`,
      help: 'dnstap messages queued for the output (queued), or dropped because the output was not taking them fast enough (dropped); absent when dnstap is off',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        if (self.dnstap === null) return;
        this.labels('queued').inc(self.dnstap.written);
        this.labels('dropped').inc(self.dnstap.dropped);
      },
    });
    this.duration = new FixedHistogram(
      `${PREFIX}request_duration_seconds`,
      'Seconds from a query read to its answer handed to the socket',
      'transport',
      TRANSPORTS,
      DURATION_BOUNDS,
      this.registry,
    );
    this.size = new FixedHistogram(`${PREFIX}response_size_bytes`, 'Octets of each response sent (without the TCP length prefix)', 'transport', TRANSPORTS, SIZE_BOUNDS, this.registry);
    new Gauge({
      name: `${PREFIX}build_info`,
      help: 'Always 1: the anycast-dns version and the Node.js version running it',
      labelNames: ['version', 'nodejs'],
      registers,
      aggregator: 'first',
    })
      .labels(VERSION, process.versions.node)
      .set(1);
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
    this.udpPathInfo = new Gauge({
      name: `${PREFIX}udp_path_info`,
      help: 'Always 1: how UDP is read and written, native (recvmmsg/sendmmsg) or dgram (node:dgram); udp_io chooses',
      labelNames: ['path'],
      registers,
      aggregator: 'first',
    });
    this.tcpOpen = new Gauge({ name: `${PREFIX}tcp_connections_open`, help: 'TCP connections open now', registers, aggregator: 'sum' });
    collectProcessMetrics(this.registry);
  }

  /** HandlerOptions.onResponse: called once per response; array arithmetic only. */
  readonly onResponse = (info: ResponseInfo, _meta: QueryMeta): void => {
    const t = info.transport === 'udp' ? 0 : 1;
    this.queries[t * QTYPE_BUCKETS.length + qtypeBucket[info.qtype & 0xffff]!]!++;
    const rc = info.rcode >= 0 && info.rcode < RCODE_NAMES.length ? info.rcode : RCODES - 1;
    this.responses[(t * MAX_OUTCOMES + this.outcomeSlot(info.outcome)) * RCODES + rc]!++;
    if (info.truncated) this.truncated[t]!++;
    this.cookieCounts[info.cookie]!++;
    if (info.cache !== CacheUse.None) this.cacheCounts[info.cache === CacheUse.Hit ? 0 : 1]!++;
  };

  /** A response handed to the socket: `startedAt` is performance.now() when its query was read. */
  sent(transport: Transport, startedAt: number, now: number, octets: number): void {
    const t = transport === 'udp' ? 0 : 1;
    this.duration.observe(t, (now - startedAt) / 1000);
    this.size.observe(t, octets);
  }

  /** Exports the counts of `writer` (dnstap on). */
  watchDnstap(writer: { written: number; dropped: number }): void {
    this.dnstap = writer;
  }

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

  /** The UDP path the listeners run on. */
  udpPath(path: 'native' | 'dgram'): void {
    this.udpPathInfo.reset();
    this.udpPathInfo.labels(path).set(1);
  }

  droppedPacket(transport: Transport, reason: DropReason, count = 1): void {
    this.dropped.labels(transport, reason).inc(count);
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
