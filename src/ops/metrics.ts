// Prometheus metrics of one server process. Every metric carries `pop=<identity>` (unless
// `metrics.pop_label` is off) so a fleet's series can be told apart. Per-query counts are plain array
// slots bumped on the hot path, each query thread in its own region of shared memory, and summed into
// prom-client's one registry only when /metrics is scraped: no label objects, no Map lookups, no
// message per query. Every label value comes from a fixed set, never from a query.
import { Registry } from 'prom-client';
import { CacheUse, RESPONSE_KINDS, RESPONSE_OUTCOMES, type QueryMeta, type ResponseInfo, type ResponseOutcome, type Transport } from '../wire/handler-types.js';
import { T } from '../zone/types.js';
import { RRL_ACTIONS, type RateLimitedCounter } from '../rrl/policy.js';
import { VERSION } from '../version.js';
import { FixedHistogram, HistogramCounts, histogramSlots } from './histogram.js';
import { registerTable, type MetricRow, type Samples } from './metric-table.js';
import { collectProcessMetrics } from './process-metrics.js';

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
const OUTCOMES = RESPONSE_OUTCOMES.length;
const outcomeSlot = Object.fromEntries(RESPONSE_OUTCOMES.map((o, i) => [o, i])) as Record<ResponseOutcome, number>;

/** Queries by what their DNS cookie proved (CookieStatus order), then BADCOOKIE replies sent. */
const COOKIE_RESULTS = ['none', 'client_only', 'invalid', 'valid', 'badcookie'] as const;
const BADCOOKIE_SLOT = COOKIE_RESULTS.length - 1;

/**
 * Seconds from a message read to its answer handed to the socket. CoreDNS starts at 250 µs; an answer
 * from the response cache here takes far less, so the first buckets are finer.
 */
const DURATION_BOUNDS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Octets of each response sent: CoreDNS's bounds, so its dashboards' queries carry over. */
const SIZE_BOUNDS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000];
/** `oversized`: a datagram larger than the native UDP path's slot. */
const DROP_REASONS = ['unanswerable', 'send_error', 'bad_frame', 'internal_error', 'oversized'] as const;
const UDP_PATHS = ['native', 'dgram'] as const;
export type UdpPath = (typeof UDP_PATHS)[number];
export type DropReason = (typeof DROP_REASONS)[number];
/**
 * What happened to a TCP connection. `opened` and `closed` count every admitted one; the others say
 * why one was turned away at accept (refused_*), closed to make room (evicted_*), or ran out of time.
 */
const TCP_EVENTS = [
  'opened',
  'closed',
  /** Its prefix opened more than `tcp.new_connections_per_second_per_prefix`. */
  'refused_rate',
  /** Half the table or more in use, and its address held `tcp.max_connections_per_address`. */
  'refused_per_address',
  /** Half the table or more in use, and its prefix held `tcp.max_connections_per_prefix`. */
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

/** Zone transfers out, by kind and result: `ok`, or why it was turned away (TSIG errors are RFC 8945's). */
const TRANSFER_KINDS = ['axfr', 'ixfr'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];
const TRANSFER_RESULTS = ['ok', 'refused', 'notauth', 'formerr', 'badkey', 'badsig', 'badtime', 'failed'] as const;
export type TransferResult = (typeof TRANSFER_RESULTS)[number];

/** Single numbers of Counts.scalars. */
const enum Scalar {
  TcpOpen,
  QueryErrors,
  /** 0 before the listeners start, else 1 + the index in UDP_PATHS. */
  UdpPath,
  /** 1 when dnstap is on. */
  DnstapOn,
  DnstapQueued,
  DnstapDropped,
  /** Octets of zone transfer messages sent. */
  TransferOutBytes,
  Count,
}
const DURATION = histogramSlots(DURATION_BOUNDS, TRANSPORTS.length);
const SIZE = histogramSlots(SIZE_BOUNDS, TRANSPORTS.length);

/** Float64 slots of each array of Counts, in order: one thread's region of MetricsMemory. */
const FIELDS = {
  queries: TRANSPORTS.length * QTYPE_BUCKETS.length,
  responses: TRANSPORTS.length * OUTCOMES * RCODES,
  truncated: TRANSPORTS.length,
  limited: RRL_ACTIONS.length * RESPONSE_KINDS.length,
  cookies: COOKIE_RESULTS.length,
  /** Response cache lookups: [hit, miss]. */
  cache: 2,
  /** Geo file loads: [rules ok, rules failed, database ok, database failed] (counted by the main thread's GeoSource only). */
  geoLoads: 4,
  dropped: TRANSPORTS.length * DROP_REASONS.length,
  tcpEvents: TCP_EVENTS.length,
  transfersOut: TRANSFER_KINDS.length * TRANSFER_RESULTS.length,
  scalars: Scalar.Count,
  durationCounts: DURATION.counts,
  durationSums: DURATION.sums,
  sizeCounts: SIZE.counts,
  sizeSums: SIZE.sums,
} as const;
type Field = keyof typeof FIELDS;
const SLOTS = Object.values(FIELDS).reduce((a, b) => a + b, 0);

/**
 * Where the query counts live: one region of SLOTS float64s per query thread, in memory every thread
 * shares. A thread writes only its own region (plain increments: one writer per slot); the main
 * thread sums the regions at each scrape. A thread started to replace another takes its index, and
 * with it its counts: nothing starts over from zero.
 */
export interface MetricsMemory {
  buffer: SharedArrayBuffer;
  threads: number;
}

export function metricsMemory(threads: number): MetricsMemory {
  return { buffer: new SharedArrayBuffer(threads * SLOTS * Float64Array.BYTES_PER_ELEMENT), threads };
}

/** One region of counts (a thread's, or their sum), every array a view of it. */
type Counts = { readonly [F in Field]: Float64Array } & { readonly all: Float64Array };

function countsAt(buffer: ArrayBufferLike, index: number): Counts {
  const all = new Float64Array(buffer, index * SLOTS * Float64Array.BYTES_PER_ELEMENT, SLOTS);
  const out: Record<string, Float64Array> = { all };
  let at = 0;
  for (const [name, n] of Object.entries(FIELDS)) {
    out[name] = all.subarray(at, at + n);
    at += n;
  }
  return out as Counts;
}

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

/**
 * Geo answers by rule tag (GeoRule.tag: the name, a space, the rule id). Tags come from the rules file,
 * never from a query, but a file edited many times over a process's life could name many: past this
 * many, answers count under name and rule `other`.
 */
const MAX_GEO_SERIES = 1000;
const GEO_OTHER = 'other other';

/** Adds `n` answers of `tag` to `counts`, within MAX_GEO_SERIES tags. */
function addGeo(counts: Map<string, number>, tag: string, n: number): void {
  const had = counts.get(tag);
  if (had !== undefined) counts.set(tag, had + n);
  else if (counts.size < MAX_GEO_SERIES) counts.set(tag, n);
  else counts.set(GEO_OTHER, (counts.get(GEO_OTHER) ?? 0) + n);
}

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

const TCP_EVENT_SLOT = Object.fromEntries(TCP_EVENTS.map((e, i) => [e, i])) as Record<TcpEvent, number>;
const DROP_REASON_SLOT = Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])) as Record<DropReason, number>;

/** What a query thread counts, into its region of MetricsMemory: array arithmetic only. */
export class QueryCounters implements RateLimitedCounter {
  private readonly c: Counts;
  protected readonly geo = new Map<string, number>();
  private readonly duration: HistogramCounts;
  private readonly size: HistogramCounts;

  /** `index`: the thread's region (0 with workers: 1). */
  constructor(memory: MetricsMemory, index: number) {
    this.c = countsAt(memory.buffer, index);
    this.duration = new HistogramCounts(DURATION_BOUNDS, this.c.durationCounts, this.c.durationSums);
    this.size = new HistogramCounts(SIZE_BOUNDS, this.c.sizeCounts, this.c.sizeSums);
  }

  /** HandlerOptions.onResponse: called once per response. */
  readonly onResponse = (info: ResponseInfo, _meta: QueryMeta): void => {
    const c = this.c;
    const t = info.transport === 'udp' ? 0 : 1;
    c.queries[t * QTYPE_BUCKETS.length + qtypeBucket[info.qtype & 0xffff]!]!++;
    const rc = info.rcode >= 0 && info.rcode < RCODE_NAMES.length ? info.rcode : RCODES - 1;
    c.responses[(t * OUTCOMES + outcomeSlot[info.outcome]) * RCODES + rc]!++;
    if (info.truncated) c.truncated[t]!++;
    c.cookies[info.cookie]!++;
    if (info.cache !== CacheUse.None) c.cache[info.cache === CacheUse.Hit ? 0 : 1]!++;
    if (info.geoRule !== null) addGeo(this.geo, info.geoRule, 1);
  };

  /**
   * Geo answers counted since the last call, by rule tag, and forgotten here: a query thread hands them
   * to the main thread (a map of names from the rules file has no fixed slots in shared memory).
   */
  /** GeoLoadSink: a query thread reads the geo files too, but only the main thread's reads are counted (ServerMetrics). */
  loaded(_what: 'rules' | 'database', _ok: boolean): void {}

  takeGeoAnswers(): [string, number][] {
    const out = [...this.geo];
    this.geo.clear();
    return out;
  }

  /** A response handed to the socket: `startedAt` is performance.now() when its query was read. */
  sent(transport: Transport, startedAt: number, now: number, octets: number): void {
    const t = transport === 'udp' ? 0 : 1;
    this.duration.observe(t, (now - startedAt) / 1000);
    this.size.observe(t, octets);
  }

  /** Where the dnstap writer counts (dnstap on): [queued, dropped]. */
  dnstapCounts(): Float64Array {
    this.c.scalars[Scalar.DnstapOn] = 1;
    return this.c.scalars.subarray(Scalar.DnstapQueued, Scalar.DnstapDropped + 1);
  }

  /** A response over the rate limit: `action` indexes RRL_ACTIONS, `kind` is its ResponseKind. */
  rateLimited(action: number, kind: number, badCookie: boolean): void {
    this.c.limited[action * RESPONSE_KINDS.length + kind]!++;
    if (badCookie) this.c.cookies[BADCOOKIE_SLOT]!++;
  }

  /** The UDP path the listeners run on. */
  udpPath(path: UdpPath): void {
    this.c.scalars[Scalar.UdpPath] = UDP_PATHS.indexOf(path) + 1;
  }

  droppedPacket(transport: Transport, reason: DropReason, count = 1): void {
    this.c.dropped[(transport === 'udp' ? 0 : 1) * DROP_REASONS.length + DROP_REASON_SLOT[reason]]! += count;
  }

  queryError(): void {
    this.c.scalars[Scalar.QueryErrors]!++;
  }

  transferOut(kind: TransferKind, result: TransferResult, bytes: number): void {
    this.c.transfersOut[TRANSFER_KINDS.indexOf(kind) * TRANSFER_RESULTS.length + TRANSFER_RESULTS.indexOf(result)]!++;
    this.c.scalars[Scalar.TransferOutBytes]! += bytes;
  }

  tcpEvent(event: TcpEvent): void {
    this.c.tcpEvents[TCP_EVENT_SLOT[event]]!++;
    if (event === 'opened') this.c.scalars[Scalar.TcpOpen]!++;
    else if (event === 'closed') this.c.scalars[Scalar.TcpOpen]!--;
  }
}

/**
 * The server's one registry: the counts of every query thread summed at each scrape, and the
 * process's own metrics. With workers: 1 it counts region 0 itself (it is the main thread's
 * QueryCounters); with workers: N the threads count into `memory` and this only reads.
 */
export class ServerMetrics extends QueryCounters {
  readonly registry = new Registry();
  private readonly sum = countsAt(new ArrayBuffer(SLOTS * Float64Array.BYTES_PER_ELEMENT), 0);
  private readonly threads: Counts[];

  /** `popLabel` false leaves the `pop` label to the scraper (a target label). */
  constructor(identity: string, popLabel = true, memory: MetricsMemory = metricsMemory(1)) {
    super(memory, 0);
    this.threads = Array.from({ length: memory.threads }, (_, i) => countsAt(memory.buffer, i));
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
   * query threads' own do not count, or each load would count once per thread). Region 0's geo-load
   * slots: no query thread writes them, so each slot still has one writer.
   */
  override loaded(what: 'rules' | 'database', ok: boolean): void {
    this.threads[0]!.geoLoads[(what === 'rules' ? 0 : 2) + (ok ? 0 : 1)]!++;
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
