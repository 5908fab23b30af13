// The contract between the transports (server/) and the query handler (wire/): bytes in, bytes out.
import type { CookieStatus, ServerCookies } from './cookies.js';
import type { AnswerPlan } from '../answer/plan.js';
import type { CountryDb, GeoRuleSet } from '../answer/geo.js';
import type { ZoneSet } from '../zone/zone.js';
import type { ResponseMemory } from './response-buffers.js';
import type { TsigKeyring } from './tsig.js';

export type Transport = 'udp' | 'tcp';

/** Kinds of response; response rate limiting keeps buckets per kind (BIND's and NSD's categories). */
export const enum ResponseKind {
  /** A positive answer: keyed by query name and type. */
  Answer = 0,
  /** An answer synthesized from a wildcard: keyed by the wildcard's owner, so random names below it share one bucket. */
  Wildcard = 1,
  /** Keyed by the zone. */
  Nxdomain = 2,
  /** Keyed by the zone. */
  Nodata = 3,
  /** Keyed by the delegation (the zone cut's owner). */
  Referral = 4,
  /** REFUSED, SERVFAIL, FORMERR and the like: one bucket per prefix. */
  Error = 5,
}

export const RESPONSE_KINDS = ['answer', 'wildcard', 'nxdomain', 'nodata', 'referral', 'error'] as const;

/**
 * Every outcome a response can have: the answer algorithm's (answer/plan.ts Outcome, which the
 * handler passes on as one of these, so a new one fails to compile until it is listed here), then the
 * handler's own for queries it cannot answer. Closed, so counts per outcome have fixed slots.
 */
export const RESPONSE_OUTCOMES = ['answer', 'nodata', 'nxdomain', 'referral', 'yxdomain', 'refused', 'servfail', 'formerr', 'notimp', 'badvers'] as const;
export type ResponseOutcome = (typeof RESPONSE_OUTCOMES)[number];

/** What the response cache did for a response. */
export const enum CacheUse {
  /** Not looked up: no cache, or an error answered before the lookup. */
  None,
  Hit,
  /** Looked up, not found: answered, then kept. */
  Miss,
}

/** Who asked and how. Valid only during the call it is passed to: transports reuse it for the next packet. */
export interface QueryMeta {
  transport: Transport;
  remoteAddress: string;
  remotePort: number;
}

/**
 * What the handler tells the layers after it: metrics (onResponse) and the policy step the UDP transport
 * asks before sending (response rate limiting). The handler reuses one object: valid until its next call.
 */
export interface ResponseInfo {
  transport: Transport;
  rcode: number;
  outcome: ResponseOutcome;
  qtype: number;
  /** Origin (presentation form) of the zone that answered, or null. */
  zone: string | null;
  truncated: boolean;
  /** The rate-limiting bucket's kind, computed by the answer (wildcard, zone, delegation...). */
  kind: ResponseKind;
  /** hashKey of the name that kind is keyed by (query name with qtype, wildcard owner, zone, delegation); 0 for errors. */
  nameHash: number;
  /** What the query's DNS cookie proved. */
  cookie: CookieStatus;
  cache: CacheUse;
  /** The geo rule that answered (its name and id, GeoRule.tag), or null: dnstap's `extra`, the geo metric. */
  geoRule: string | null;
}

/** Sets `info.kind` and `info.nameHash`: the rate-limiting bucket of a planned response (rrl/classify.ts). */
export type BucketOf = (plan: AnswerPlan, qkey: string, qtype: number, info: ResponseInfo) => void;

/** What geo answers are made of: the rules, and the country database where some rule names countries. */
export interface GeoData {
  readonly rules: GeoRuleSet;
  readonly db: CountryDb | null;
}

export interface HandlerOptions {
  /** The POP's name: NSID payload, CH TXT id.server and hostname.bind. */
  identity: string;
  /** Answer NSID (RFC 5001) with the identity; false ignores the option. True by default. */
  nsid?: boolean;
  /** CH TXT version.bind and version.server; null hides them (REFUSED). */
  version: string | null;
  /** Largest UDP response we send with EDNS (RFC 6891 §6.2.5); 1232 by default. */
  ednsUdpSize: number;
  /** Called once per response built, after it is built. */
  onResponse?: (info: ResponseInfo, meta: QueryMeta) => void;
  /** Called when answering a query threw (a bug): the query was answered SERVFAIL; the caller logs it. */
  onError?: (err: unknown, meta: QueryMeta) => void;
  /** Bound on the response cache, in octets of cached responses; 0 disables it. 64 MiB by default. */
  responseCacheBytes?: number;
  /** The rate-limiting bucket of each response planned; without it every response is in the error bucket. */
  bucketOf?: BucketOf;
  /** Answers DNS cookies (RFC 7873) with these secrets; without it COOKIE options are ignored. */
  cookies?: ServerCookies | null;
  /**
   * Where responses are written: a ResponseBuffers makes each response valid only until the next one of
   * its length (the transport retains what it keeps longer). A new buffer per response by default.
   */
  responseMemory?: ResponseMemory;
  /**
   * EDNS Client Subnet (RFC 7871): geo rules choose by the option's network and the option is echoed
   * with a scope; false (the default) ignores the option, and geo rules go by the source address.
   */
  ecs?: boolean;
  /** Keys to check signed queries with and sign their answers (RFC 8945); without them a signed query gets BADKEY. */
  tsigKeys?: TsigKeyring;
  /** The clock cookies and TSIG are stamped with, in milliseconds (Date.now by default). */
  now?: () => number;
}

export interface QueryHandler {
  /** Answers one DNS message; null means send nothing (unreadable header, or a response). */
  handle(msg: Buffer, meta: QueryMeta): Buffer | null;
  /**
   * Answers one DNS message into `out` from octet `at`, where the transport sends it from, so the
   * answer is written once; returns its length, or -1 to send nothing. A response longer than `room`
   * is not written there: the transport drops it.
   */
  handleInto(msg: Buffer, meta: QueryMeta, out: Buffer, at: number, room: number): number;
  /** The response the last handle() or handleInto() made, described (overwritten by the next call). */
  readonly info: ResponseInfo;
  /**
   * Cuts the response the last handle() returned to the minimal reply rate limiting slips: question
   * and OPT with TC=1, or BADCOOKIE with a fresh server cookie when the query sent a client cookie
   * but no valid server cookie (the client then returns with the cookie, which exempts it).
   */
  slip(response: Buffer): Buffer;
  /** The transport keeps `response` (or a view of it) past the next handle(), e.g. in a queued send: it is never written again. */
  retain(response: Buffer): void;
  /** Swaps the zones served (one reference assignment: in-flight queries finish on the old set). */
  setZones(zones: ZoneSet): void;
  /** Swaps the geo rules and country database (null: none); the response cache starts over with them. */
  setGeo(geo: GeoData | null): void;
  /** The zones served now. */
  readonly zones: ZoneSet;
}
