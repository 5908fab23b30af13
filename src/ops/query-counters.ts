// What each query thread counts, per query: plain array slots bumped on the hot path, each thread in
// its own region of shared memory, summed for /metrics by ops/metrics.ts. Kept apart from that
// exposition so a query thread (workers: N) loads no Prometheus client: every module a thread
// imports is compiled and held again in that thread's own heap.
import { CacheUse, RESPONSE_KINDS, RESPONSE_OUTCOMES, type QueryMeta, type ResponseInfo, type ResponseOutcome, type Transport } from '../wire/handler-types.js';
import { T } from '../zone/types.js';
import { RRL_ACTIONS, type RateLimitedCounter } from '../rrl/policy.js';
import { HistogramCounts, histogramSlots } from './histogram.js';

export const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

/** qtypes counted under their own name; everything else is "other" (bounded label cardinality). */
export const QTYPE_BUCKETS = ['A', 'AAAA', 'NS', 'SOA', 'CNAME', 'MX', 'TXT', 'PTR', 'SRV', 'NAPTR', 'CAA', 'DS', 'DNSKEY', 'SVCB', 'HTTPS', 'ANY', 'other'] as const;
const OTHER_QTYPE = QTYPE_BUCKETS.length - 1;
const qtypeBucket = new Uint8Array(65536).fill(OTHER_QTYPE);
QTYPE_BUCKETS.forEach((name, i) => {
  if (name !== 'other') qtypeBucket[T[name]] = i;
});

/** RFC 6895 §2.3 rcode names; 16 is BADVERS (RFC 6891), carried in the OPT record. */
export const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15', 'BADVERS'];
export const RCODES = RCODE_NAMES.length + 1; // last slot: any other rcode
export const OUTCOMES = RESPONSE_OUTCOMES.length;
const outcomeSlot = Object.fromEntries(RESPONSE_OUTCOMES.map((o, i) => [o, i])) as Record<ResponseOutcome, number>;

/** Queries by what their DNS cookie proved (CookieStatus order), then BADCOOKIE replies sent. */
export const COOKIE_RESULTS = ['none', 'client_only', 'invalid', 'valid', 'badcookie'] as const;
const BADCOOKIE_SLOT = COOKIE_RESULTS.length - 1;

/**
 * Seconds from a message read to its answer handed to the socket. CoreDNS starts at 250 µs; an answer
 * from the response cache here takes far less, so the first buckets are finer.
 */
export const DURATION_BOUNDS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Octets of each response sent: CoreDNS's bounds, so its dashboards' queries carry over. */
export const SIZE_BOUNDS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16000, 32000, 48000, 64000];
/** `oversized`: a datagram larger than the native UDP path's slot. */
export const DROP_REASONS = ['unanswerable', 'send_error', 'bad_frame', 'internal_error', 'oversized'] as const;
export const UDP_PATHS = ['native', 'dgram'] as const;
export type UdpPath = (typeof UDP_PATHS)[number];
export type DropReason = (typeof DROP_REASONS)[number];
/**
 * What happened to a TCP connection. `opened` and `closed` count every admitted one; the others say
 * why one was turned away at accept (refused_*), closed to make room (evicted_*), or ran out of time.
 */
export const TCP_EVENTS = [
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
export const TRANSFER_KINDS = ['axfr', 'ixfr'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];
export const TRANSFER_RESULTS = ['ok', 'refused', 'notauth', 'formerr', 'badkey', 'badsig', 'badtime', 'failed'] as const;
export type TransferResult = (typeof TRANSFER_RESULTS)[number];

/** Single numbers of Counts.scalars. */
export const enum Scalar {
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
export const SLOTS = Object.values(FIELDS).reduce((a, b) => a + b, 0);

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
export type Counts = { readonly [F in Field]: Float64Array } & { readonly all: Float64Array };

export function countsAt(buffer: ArrayBufferLike, index: number): Counts {
  const all = new Float64Array(buffer, index * SLOTS * Float64Array.BYTES_PER_ELEMENT, SLOTS);
  const out: Record<string, Float64Array> = { all };
  let at = 0;
  for (const [name, n] of Object.entries(FIELDS)) {
    out[name] = all.subarray(at, at + n);
    at += n;
  }
  return out as Counts;
}

/**
 * Geo answers by rule tag (GeoRule.tag: the name, a space, the rule id). Tags come from the rules file,
 * never from a query, but a file edited many times over a process's life could name many: past this
 * many, answers count under name and rule `other`.
 */
const MAX_GEO_SERIES = 1000;
const GEO_OTHER = 'other other';

/** Adds `n` answers of `tag` to `counts`, within MAX_GEO_SERIES tags. */
export function addGeo(counts: Map<string, number>, tag: string, n: number): void {
  const had = counts.get(tag);
  if (had !== undefined) counts.set(tag, had + n);
  else if (counts.size < MAX_GEO_SERIES) counts.set(tag, n);
  else counts.set(GEO_OTHER, (counts.get(GEO_OTHER) ?? 0) + n);
}

const TCP_EVENT_SLOT = Object.fromEntries(TCP_EVENTS.map((e, i) => [e, i])) as Record<TcpEvent, number>;
const DROP_REASON_SLOT = Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])) as Record<DropReason, number>;

/** What a query thread counts, into its region of MetricsMemory: array arithmetic only. */
export class QueryCounters implements RateLimitedCounter {
  private readonly c: Counts;
  protected readonly geo = new Map<string, number>();
  private readonly duration: HistogramCounts;
  private readonly size: HistogramCounts;

  /** `index`: the thread's region of `memory`. */
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

  /** GeoLoadSink: a query thread reads the geo files too, but only the main thread's reads are counted (ServerMetrics). */
  loaded(_what: 'rules' | 'database', _ok: boolean): void {}

  /**
   * Geo answers counted since the last call, by rule tag, and forgotten here: a query thread hands them
   * to the main thread (a map of names from the rules file has no fixed slots in shared memory).
   */
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
