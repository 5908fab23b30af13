// Prometheus metrics of one server process. Every metric carries `pop=<identity>` (unless
// `metrics.pop_label` is off) so a fleet's series can be told apart. Per-query counts are plain array
// slots bumped on the hot path, each query thread in its own region of shared memory, and summed into
// prom-client's one registry only when /metrics is scraped: no label objects, no Map lookups, no
// message per query. Every label value comes from a fixed set, never from a query.
import { Registry } from 'prom-client';
import { RESPONSE_KINDS, RESPONSE_OUTCOMES } from '../wire/handler-types.js';
import { RRL_ACTIONS } from '../rrl/policy.js';
import { VERSION } from '../version.js';
import { FixedHistogram } from './histogram.js';
import { registerTable, type MetricRow, type Samples } from './metric-table.js';
import { collectProcessMetrics } from './process-metrics.js';
import {
  addGeo,
  COOKIE_RESULTS,
  countsAt,
  DROP_REASONS,
  DURATION_BOUNDS,
  metricsMemory,
  OUTCOMES,
  QTYPE_BUCKETS,
  QueryCounters,
  RCODE_NAMES,
  RCODES,
  Scalar,
  SIZE_BOUNDS,
  SLOTS,
  TCP_EVENTS,
  TRANSFER_KINDS,
  TRANSFER_RESULTS,
  TRANSPORTS,
  UDP_PATHS,
  type Counts,
  type MetricsMemory,
} from './query-counters.js';

const PREFIX = 'anycast_dns_';

/** Rows × columns of `counts` as label sets (`rowLabel`, `columnLabel`); empty cells are left out, so a scrape lists only what happened. */
function* grid(counts: ArrayLike<number>, rowLabel: string, rows: readonly string[], columnLabel: string, columns: readonly string[]): Iterable<readonly [Record<string, string>, number]> {
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < columns.length; c++) {
      const v = counts[r * columns.length + c]!;
      if (v > 0) yield [{ [rowLabel]: rows[r]!, [columnLabel]: columns[c]! }, v];
    }
  }
}

function* responses(c: Counts): Iterable<readonly [Record<string, string>, number]> {
  for (let t = 0; t < TRANSPORTS.length; t++) {
    for (let o = 0; o < OUTCOMES; o++) {
      for (let rc = 0; rc < RCODES; rc++) {
        const v = c.responses[(t * OUTCOMES + o) * RCODES + rc]!;
        if (v > 0) yield [{ transport: TRANSPORTS[t]!, rcode: RCODE_NAMES[rc] ?? 'other', outcome: RESPONSE_OUTCOMES[o]! }, v];
      }
    }
  }
}

/** Every value of `names`, each with its count (zeros too). */
const each = (label: string, names: readonly string[], counts: ArrayLike<number>, from = 0): Samples => names.slice(from).map((n, i) => [{ [label]: n }, counts[from + i]!] as const);

/** The server's metrics but the two histograms and the process ones. */
const METRICS: readonly MetricRow<Counts>[] = [
  { name: `${PREFIX}queries_total`, help: 'Queries answered, by transport and query type', type: 'counter', labels: ['transport', 'qtype'], collect: (c) => grid(c.queries, 'transport', TRANSPORTS, 'qtype', QTYPE_BUCKETS) },
  { name: `${PREFIX}responses_total`, help: 'Responses sent, by transport, rcode and answer outcome', type: 'counter', labels: ['transport', 'rcode', 'outcome'], collect: responses },
  { name: `${PREFIX}truncated_responses_total`, help: 'Responses sent with TC=1 because the answer did not fit', type: 'counter', labels: ['transport'], collect: (c) => each('transport', TRANSPORTS, c.truncated) },
  {
    name: `${PREFIX}rrl_limited_responses_total`,
    help: 'UDP responses over the rate limit, by action (dropped, slipped as TC=1 or BADCOOKIE; would_* under log_only) and response kind',
    type: 'counter',
    labels: ['action', 'kind'],
    collect: (c) => grid(c.limited, 'action', RRL_ACTIONS, 'kind', RESPONSE_KINDS),
  },
  {
    name: `${PREFIX}cookies_total`,
    help: 'Queries with a DNS cookie by what it proved (client_only, invalid: answered with a new server cookie; valid: exempt from rate limiting), and BADCOOKIE replies sent',
    type: 'counter',
    labels: ['result'],
    // From 1: queries without a cookie are not counted here.
    collect: (c) => each('result', COOKIE_RESULTS, c.cookies, 1),
  },
  { name: `${PREFIX}cache_requests_total`, help: 'Response cache lookups: hit (answered from the cache) or miss (answered and then kept)', type: 'counter', labels: ['result'], collect: (c) => each('result', ['hit', 'miss'], c.cache) },
  {
    name: `${PREFIX}dnstap_messages_total`,
    help: 'dnstap messages queued for the output (queued), or dropped because the output was not taking them fast enough (dropped); absent when dnstap is off',
    type: 'counter',
    labels: ['result'],
    collect: (c) => (c.scalars[Scalar.DnstapOn] === 0 ? [] : [[{ result: 'queued' }, c.scalars[Scalar.DnstapQueued]!], [{ result: 'dropped' }, c.scalars[Scalar.DnstapDropped]!]]),
  },
  {
    name: `${PREFIX}build_info`,
    help: 'Always 1: the anycast-dns version and the Node.js version running it',
    type: 'gauge',
    labels: ['version', 'nodejs'],
    collect: () => [[{ version: VERSION, nodejs: process.versions.node }, 1]],
  },
  { name: `${PREFIX}dropped_packets_total`, help: 'Messages received but not answered, by reason', type: 'counter', labels: ['transport', 'reason'], collect: (c) => grid(c.dropped, 'transport', TRANSPORTS, 'reason', DROP_REASONS) },
  {
    name: `${PREFIX}geo_loads_total`,
    help: 'Loads of the geo rules file and the country database, by file (rules, database) and result (ok; error: the last good one kept serving)',
    type: 'counter',
    labels: ['file', 'result'],
    collect: (c) => grid(c.geoLoads, 'file', ['rules', 'database'], 'result', ['ok', 'error']),
  },
  { name: `${PREFIX}query_errors_total`, help: 'Queries answered SERVFAIL because answering them threw (a bug)', type: 'counter', collect: (c) => c.scalars[Scalar.QueryErrors]! },
  {
    name: `${PREFIX}tcp_connections_total`,
    help: 'TCP connection events: opened, closed; refused at accept (refused_rate, refused_per_address, refused_per_prefix, refused_full); closed to make room at the cap (evicted_idle, evicted_slow, evicted_prefix); closed out of time (idle_timeout, io_timeout)',
    type: 'counter',
    labels: ['event'],
    // Every event from zero, so a rate() over an attack's first refusals has a baseline.
    collect: (c) => each('event', TCP_EVENTS, c.tcpEvents),
  },
  { name: `${PREFIX}tcp_connections_open`, help: 'TCP connections open now', type: 'gauge', collect: (c) => c.scalars[Scalar.TcpOpen]! },
  {
    name: `${PREFIX}transfers_out_total`,
    help: 'Zone transfers asked of this server, by kind (axfr, ixfr) and result (ok, refused, notauth, formerr, badkey, badsig, badtime, failed)',
    type: 'counter',
    labels: ['kind', 'result'],
    collect: (c) => grid(c.transfersOut, 'kind', TRANSFER_KINDS, 'result', TRANSFER_RESULTS),
  },
  { name: `${PREFIX}transfer_out_bytes_total`, help: 'Octets of zone transfer messages sent', type: 'counter', collect: (c) => c.scalars[Scalar.TransferOutBytes]! },
  {
    name: `${PREFIX}udp_path_info`,
    help: 'Always 1: how UDP is read and written, native (recvmmsg/sendmmsg) or dgram (node:dgram); udp_io chooses',
    type: 'gauge',
    labels: ['path'],
    collect: (c) => (c.scalars[Scalar.UdpPath] === 0 ? [] : [[{ path: UDP_PATHS[c.scalars[Scalar.UdpPath]! - 1]! }, 1]]),
  },
];

const GEO_ANSWERS: readonly MetricRow<Map<string, number>>[] = [
  {
    name: `${PREFIX}geo_answers_total`,
    help: 'Answers to names with geo rules, by name and the rule that answered (its id; default: the rules default; zone: the zone records, where the chosen rule does not give the type)',
    type: 'counter',
    labels: ['name', 'rule'],
    *collect(counts) {
      for (const [tag, v] of counts) {
        const space = tag.lastIndexOf(' ');
        yield [{ name: tag.slice(0, space), rule: tag.slice(space + 1) }, v] as const;
      }
    },
  },
];

/**
 * The server's one registry: the counts of every region of `memory` summed at each scrape, and the
 * process's own metrics. It counts into the last region itself, as the main thread's QueryCounters:
 * with workers: 1 the only one (the main thread answers); with workers: N the one after the query
 * threads' regions, where the main thread counts what is its alone (the geo loads), so every slot
 * keeps one writer.
 */
export class ServerMetrics extends QueryCounters {
  readonly registry = new Registry();
  private readonly sum = countsAt(new ArrayBuffer(SLOTS * Float64Array.BYTES_PER_ELEMENT), 0);
  private readonly threads: Counts[];
  private readonly own: Counts;

  /** `popLabel` false leaves the `pop` label to the scraper (a target label). */
  constructor(identity: string, popLabel = true, memory: MetricsMemory = metricsMemory(1)) {
    super(memory, memory.threads - 1);
    this.threads = Array.from({ length: memory.threads }, (_, i) => countsAt(memory.buffer, i));
    this.own = this.threads[memory.threads - 1]!;
    if (popLabel) this.registry.setDefaultLabels({ pop: identity });
    registerTable(this.registry, METRICS, this.sum);
    new FixedHistogram(`${PREFIX}request_duration_seconds`, 'Seconds from a query read to its answer handed to the socket', 'transport', TRANSPORTS, DURATION_BOUNDS, this.registry, this.sum.durationCounts, this.sum.durationSums);
    new FixedHistogram(`${PREFIX}response_size_bytes`, 'Octets of each response sent (without the TCP length prefix)', 'transport', TRANSPORTS, SIZE_BOUNDS, this.registry, this.sum.sizeCounts, this.sum.sizeSums);
    registerTable(this.registry, GEO_ANSWERS, this.geo);
    collectProcessMetrics(this.registry);
  }

  /** Geo answers a query thread counted (takeGeoAnswers), added to the totals. */
  addGeoAnswers(answers: readonly [string, number][]): void {
    for (const [tag, n] of answers) addGeo(this.geo, tag, n);
  }

  /**
   * GeoLoadSink: a load of the rules file or the country database, by the main thread's GeoSource (the
   * query threads' own do not count, or each load would count once per thread).
   */
  override loaded(what: 'rules' | 'database', ok: boolean): void {
    this.own.geoLoads[(what === 'rules' ? 0 : 2) + (ok ? 0 : 1)]!++;
  }

  /** The Prometheus text exposition: every thread's counts, summed now. */
  async text(): Promise<string> {
    const sum = this.sum.all;
    sum.fill(0);
    for (const t of this.threads) for (let i = 0; i < SLOTS; i++) sum[i] += t.all[i]!;
    // Not counts: the same for every thread that set them.
    for (const s of [Scalar.UdpPath, Scalar.DnstapOn]) this.sum.scalars[s] = Math.max(...this.threads.map((t) => t.scalars[s]!));
    return this.registry.metrics();
  }
}
