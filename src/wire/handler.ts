// The query path for one worker: bytes in, bytes out (see handler-types.ts). Parses by hand, answers
// from the response cache when it can, else runs the pure answer algorithm and writes the plan. All state
// (cache, scratch buffers) belongs to this handler, so each query thread has its own.

import { answer } from '../answer/answer.js';
import { answerChaos, type ServerIdentity } from '../answer/chaos.js';
import { chooseRule, type CountryHit, type GeoChoice, type NameRules } from '../answer/geo.js';
import { RCODE, emptyPlan, type AnswerPlan, type Question } from '../answer/plan.js';
import { MAX_NAME_LENGTH, keyLabelCount } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';
import type { ZoneSet } from '../zone/zone.js';
import { AddressBytes, unmapIPv4 } from './address.js';
import { COOKIE_REPLY_LENGTH, CookieStatus, RCODE_BADCOOKIE, SERVER_COOKIE_LENGTH, type ServerCookies } from './cookies.js';
import { ResponseCache } from './cache.js';
import { Fit, ResponseWriter, cutToMinimal, optLength, optSize, type EdnsReply } from './encoder.js';
import { CacheUse, ResponseKind, type BucketOf, type GeoData, type ResponseOutcome, type HandlerOptions, type QueryHandler, type QueryMeta, type ResponseInfo } from './handler-types.js';
import { fromTemplate, toTemplate } from './referral-template.js';
import { answerVerified, verifyRequest, type TsigKeyring } from './tsig.js';
import { FRESH_BUFFERS, type ResponseMemory } from './response-buffers.js';
import { FLAG_CD, FLAG_QR, FLAG_RD, HEADER_SIZE, OPCODE_MASK, ParseStatus, ParsedQuery, parseQuery } from './query.js';

const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
/** Entries are capped too (one per this many octets of budget), which bounds the index. */
const CACHE_BYTES_PER_ENTRY = 128;
/**
 * Referrals up to this size become templates. The writer's compression table holds 2048 suffixes; a
 * message this small can't reach that, so the question's extra suffixes never crowd out another name's.
 */
const TEMPLATE_MAX = 4000;
/** In the variant octet of a cache key: the entry is a referral template, not a response to that key. */
const TEMPLATE_BIT = 32;
/** In the variant octet: the key goes on with the query's ECS option data (RFC 7871 §6), the network the answer is for. */
const ECS_BIT = 64;
/** ECS option data: FAMILY, two prefix lengths and at most 16 address octets. */
const ECS_DATA_MAX = 20;
/** The SCOPE PREFIX-LENGTH octet in ECS option data (RFC 7871 §6). */
const ECS_SCOPE_AT = 3;
/** DNS over TCP: the 2-octet length prefix (RFC 1035 §4.2.2). */
const TCP_LIMIT = 65535;
/** Without EDNS a UDP response is at most 512 octets (RFC 1035 §4.2.1). */
const UDP_LIMIT = 512;

export function createHandler(zones: ZoneSet, opts: HandlerOptions): QueryHandler {
  return new Handler(zones, opts);
}

interface Snapshot {
  readonly zones: ZoneSet;
  readonly cache: ResponseCache | null;
  readonly geo: GeoData | null;
}

class Handler implements QueryHandler {
  /** Zones and their cache, swapped together by one assignment. */
  private snap: Snapshot;
  private readonly q = new ParsedQuery();
  /** The lower-cased QNAME, then QTYPE, QCLASS, the variant octet and any ECS option data: the cache key's bytes. */
  private readonly keyBuf = Buffer.allocUnsafe(MAX_NAME_LENGTH + 5 + ECS_DATA_MAX);
  private readonly writer = new ResponseWriter();
  /** A cache miss's question, plan and OPT record, filled afresh per query: a miss makes none of its own. */
  private readonly question: Question = { key: '', qtype: 0, qclass: 0, dnssecOk: false };
  private readonly plan: AnswerPlan = emptyPlan('refused', RCODE.REFUSED, false, CLASS.IN, null);
  private readonly edns: EdnsReply = { udpSize: 0, dnssecOk: false, nsid: null, zoneVersion: null, cookie: false, ecsLength: 0, ecs: Buffer.alloc(ECS_DATA_MAX) };
  /** The geo choice for this query, and the SCOPE PREFIX-LENGTH its ECS echo carries (0: the answer holds for every client). */
  private readonly geoChoice: GeoChoice = { rule: null, scope: 0 };
  private readonly countryHit: CountryHit = { country: null, prefix: 0 };
  private scope = 0;
  /** The source address as geo rules see it (an IPv4-mapped one as IPv4); `addr` stays as cookies hash it. */
  private readonly geoAddr = new AddressBytes();
  private readonly server: ServerIdentity;
  /** NSID payload, or null when NSID is turned off (the option is then ignored). */
  private readonly nsid: Buffer | null;
  private readonly cacheBytes: number;
  private readonly cookies: ServerCookies | null;
  private readonly now: () => number;
  private readonly bucketOf: BucketOf;
  private readonly memory: ResponseMemory;
  /** The caller's room for the response being made (handleInto): `into[intoAt, intoAt + intoRoom)`; null: from memory. */
  private into: Buffer | null = null;
  private intoAt = 0;
  private intoRoom = 0;
  /** Where the response being made is written: `out` from `outAt` (see place). */
  private out: Buffer = Buffer.alloc(0);
  private outAt = 0;
  private readonly tsigKeys: TsigKeyring;
  private readonly addr = new AddressBytes();
  /** Where the last response's question ends and how long its OPT record is (for slip). */
  private replyQuestionEnd = 0;
  private replyOptLength = 0;
  /** Cache key of a referral template (see writeTemplateKey). */
  private readonly templateKey = Buffer.allocUnsafe(MAX_NAME_LENGTH + 5 + ECS_DATA_MAX);
  /** A template matched this query but could not serve it: don't replace it with this query's referral. */
  private templateDeclined = false;
  /** The last query carried a COOKIE option we answer (its status is in info.cookie). */
  private cookieAnswered = false;
  readonly info: ResponseInfo = {
    transport: 'udp',
    rcode: 0,
    outcome: 'refused',
    qtype: 0,
    zone: null,
    truncated: false,
    kind: ResponseKind.Error,
    nameHash: 0,
    cookie: CookieStatus.None,
    cache: CacheUse.None,
    geoRule: null,
  };

  constructor(
    zones: ZoneSet,
    private readonly opts: HandlerOptions,
  ) {
    this.server = { identity: opts.identity, version: opts.version };
    this.nsid = opts.nsid === false ? null : Buffer.from(opts.identity, 'utf8');
    this.cacheBytes = opts.responseCacheBytes ?? DEFAULT_CACHE_BYTES;
    this.cookies = opts.cookies ?? null;
    this.now = opts.now ?? Date.now;
    this.bucketOf = opts.bucketOf ?? errorBucket;
    this.memory = opts.responseMemory ?? FRESH_BUFFERS;
    this.q.ecsEnabled = opts.ecs === true;
    this.tsigKeys = opts.tsigKeys ?? new Map();
    this.snap = this.snapshot(zones, null);
  }

  setZones(zones: ZoneSet): void {
    this.snap = this.snapshot(zones, this.snap.geo);
  }

  setGeo(geo: GeoData | null): void {
    // Answers cached before were made without these rules: a new cache, as for new zones.
    this.snap = this.snapshot(this.snap.zones, geo !== null && geo.rules.names.size > 0 ? geo : null);
  }

  get zones(): ZoneSet {
    return this.snap.zones;
  }

  private snapshot(zones: ZoneSet, geo: GeoData | null): Snapshot {
    // None while the zones are first loaded: each of the hundreds of batches swapped in then replaces
    // the zone set and its cache, so a cache would live for a moment and churn its buffers through
    // malloc, leaving the process's memory fragmented for good.
    const cache = this.cacheBytes > 0 && !zones.loading ? new ResponseCache(Math.max(1024, Math.floor(this.cacheBytes / CACHE_BYTES_PER_ENTRY)), this.cacheBytes) : null;
    return { zones, cache, geo };
  }

  handle(msg: Buffer, meta: QueryMeta): Buffer | null {
    this.into = null;
    return this.run(msg, meta) < 0 ? null : this.out;
  }

  handleInto(msg: Buffer, meta: QueryMeta, out: Buffer, at: number, room: number): number {
    this.into = out;
    this.intoAt = at;
    this.intoRoom = room;
    try {
      return this.run(msg, meta);
    } finally {
      this.into = null;
    }
  }

  /** Writes the response (see place) and returns its length, or -1 when nothing is sent. */
  private run(msg: Buffer, meta: QueryMeta): number {
    // An unreadable header can't be answered; a response (QR=1) must never be (no reflection loops).
    if (msg.length < HEADER_SIZE || (msg[2]! & FLAG_QR) !== 0) return -1;
    this.cookieAnswered = false;
    this.info.cookie = CookieStatus.None;
    this.info.cache = CacheUse.None;
    this.info.geoRule = null;
    this.scope = 0;
    // The one guard of the query path: a bug answers SERVFAIL and the server goes on.
    try {
      const length = this.respond(msg, meta);
      return this.q.tsig && length >= 0 ? this.signed(msg, length) : length;
    } catch (err) {
      this.opts.onError?.(err, meta);
      return this.bare(msg, this.q.questionEnd, RCODE.SERVFAIL, 'servfail', meta);
    }
  }

  /**
   * Where a response of `length` octets is written: the caller's room when it fits (handleInto, so
   * the answer is written once, where it is sent from), else a buffer of exactly that length from
   * memory. Sets out and outAt.
   */
  private place(length: number): Buffer {
    if (this.into !== null && length <= this.intoRoom) {
      this.out = this.into;
      this.outAt = this.intoAt;
    } else {
      this.out = this.memory.take(length);
      this.outAt = 0;
    }
    return this.out;
  }

  private respond(msg: Buffer, meta: QueryMeta): number {
    const q = this.q;
    const status = parseQuery(msg, q, this.keyBuf);
    if (status === ParseStatus.NotImp) return this.bare(msg, 0, RCODE.NOTIMP, 'notimp', meta);
    if (status === ParseStatus.FormErr) return this.bare(msg, 0, RCODE.FORMERR, 'formerr', meta);
    if (status === ParseStatus.BadEcsScope) return this.bare(msg, q.questionEnd, RCODE.FORMERR, 'formerr', meta);
    const tcp = meta.transport === 'tcp';
    // RFC 6891 §6.2.5: the smaller of the requestor's size (at least 512) and ours; 512 without EDNS.
    const limit = tcp ? TCP_LIMIT : q.edns ? Math.min(q.udpSize, this.opts.ednsUdpSize) : UDP_LIMIT;
    const nameLen = q.qnameEnd - HEADER_SIZE;
    const kb = this.keyBuf;
    // An error about the OPT itself says nothing about the client's network: no ECS echo.
    if (status !== ParseStatus.Ok) q.ecsLength = 0;
    if (status === ParseStatus.BadOption) {
      // As BIND answers it: FORMERR, with the question and an OPT (RFC 6891 §7), no cookie of ours.
      const plan = emptyPlan('refused', RCODE.FORMERR, false, q.qclass, null, this.plan);
      return this.emit(plan, msg, kb.toString('latin1', 0, nameLen), limit, meta, 'formerr', 0);
    }
    if (q.cookieLength > 0 && this.cookies !== null) this.checkCookie(msg, meta);
    if (status === ParseStatus.BadVers) {
      // RFC 6891 §6.1.3: BADVERS, with an OPT of the version we do speak (0).
      const plan = emptyPlan('refused', RCODE.BADVERS, false, q.qclass, null, this.plan);
      return this.emit(plan, msg, kb.toString('latin1', 0, nameLen), limit, meta, 'badvers', 0);
    }
    kb[nameLen] = q.qtype >> 8;
    kb[nameLen + 1] = q.qtype & 0xff;
    kb[nameLen + 2] = q.qclass >> 8;
    kb[nameLen + 3] = q.qclass & 0xff;
    const ecs = q.ecsLength > 0;
    // Responses with a cookie have room for one; its octets are written per query (finishCookie).
    kb[nameLen + 4] =
      (q.dnssecOk ? 1 : 0) |
      (q.edns ? 2 : 0) |
      (q.nsid ? 4 : 0) |
      (tcp ? 8 : 0) |
      (this.cookieAnswered ? 16 : 0) |
      (q.zoneVersion ? 32 : 0) |
      (ecs ? ECS_BIT : 0);
    let keyLength = nameLen + 5;
    // With ECS the response echoes the client's network, and a geo answer is chosen by it: the entry is
    // that network's alone (RFC 7871 §7.3.1: never served to a client outside the network it is for).
    if (ecs) {
      // By hand: a Buffer copy is a call into the runtime, dearer than these few octets.
      for (let i = q.ecsAt, end = i + q.ecsLength; i < end; i++) kb[keyLength++] = msg[i]!;
    }
    const snap = this.snap;
    const cache = snap.cache;
    this.templateDeclined = false;
    if (cache !== null) {
      const at = cache.find(kb, keyLength, limit);
      if (at >= 0) return this.fromCache(cache, at, msg, meta);
      // Every class but IN is refused or answered elsewhere, and zone transfers are refused (see answer).
      // DO referrals carry DS or its denial, built per query by the DNSSEC step: not from a template.
      if (q.qclass === CLASS.IN && q.qtype !== T.AXFR && q.qtype !== T.IXFR && !q.dnssecOk) {
        const length = this.fromReferralTemplate(cache, snap.zones, msg, limit, nameLen, meta);
        if (length >= 0) return length;
      }
      this.info.cache = CacheUse.Miss;
    }
    const key = kb.toString('latin1', 0, nameLen);
    const question = this.question;
    question.key = key;
    question.qtype = q.qtype;
    question.qclass = q.qclass;
    question.dnssecOk = q.dnssecOk;
    // RFC 4892 §2: server identity in class CHAOS; every other class is answered from the zones (or refused).
    const plan = q.qclass === CLASS.CH ? answerChaos(question, this.server) : answer(snap.zones, question, this.plan);
    let cacheKeyLength = cache === null ? 0 : keyLength;
    // Only a cache miss looks for rules, and only when rules are loaded: a name without rules costs one
    // map lookup per miss, and a cache hit nothing.
    const geo = snap.geo;
    if (geo !== null && plan.zone !== null) {
      const rules = geo.rules.names.get(key);
      // An answer chosen by the source address is that address's alone: not kept.
      if (rules !== undefined && this.applyGeo(rules, geo, plan, meta) && !(ecs && q.ecsSource > 0)) cacheKeyLength = 0;
    }
    return this.emit(plan, msg, key, limit, meta, plan.outcome, cacheKeyLength);
  }

  /**
   * Answers from the rules of the question's name where they give its type: the client is the ECS
   * network (RFC 7871 §7.1.2: the source address when there is none or its SOURCE PREFIX-LENGTH is 0).
   * Returns whether the answer depends on the client; this.scope is the network's prefix length.
   */
  private applyGeo(rules: NameRules, geo: GeoData, plan: AnswerPlan, meta: QueryMeta): boolean {
    const zone = plan.zone!;
    // Rules answer for a name the zone holds itself; a signed zone's answers carry the zone's signatures only (docs/design.md, Geo rules).
    if (plan.wildcard !== null || (plan.outcome !== 'answer' && plan.outcome !== 'nodata') || zone.dnssec?.signed === true) return false;
    const q = this.q;
    let bytes: Uint8Array;
    let length: number;
    if (q.ecsLength > 0 && q.ecsSource > 0) {
      bytes = q.ecsAddress;
      length = q.ecsAddressLength;
    } else {
      const addr = this.geoAddr;
      if (addr.parse(meta.remoteAddress) === 0) return false;
      unmapIPv4(addr);
      bytes = addr.bytes;
      length = addr.length;
    }
    const choice = this.geoChoice;
    if (!chooseRule(rules, q.qtype, bytes, length, geo.db, this.countryHit, choice)) return false;
    // A resolver that sent SOURCE PREFIX-LENGTH 0 asked for an answer not tailored to its clients
    // (RFC 7871 §7.1.2): it is the resolver's own, and the echo's scope stays 0, as Knot answers.
    if (q.ecsSource > 0) this.scope = choice.scope;
    const rule = choice.rule;
    const rr = rule === null ? undefined : (rule.answers.get(q.qtype) ?? rule.answers.get(T.CNAME));
    if (rr === undefined) {
      this.info.geoRule = rules.zoneTag;
      return true;
    }
    emptyPlan('answer', RCODE.NOERROR, true, CLASS.IN, zone, plan);
    plan.answer.push(rr);
    this.info.geoRule = rule!.tag;
    return true;
  }

  /** Writes `plan`, hands the result to onResponse, and keeps it in the cache under the first `cacheKeyLength` octets of keyBuf (0: not kept); returns its length. */
  private emit(
    plan: AnswerPlan,
    msg: Buffer,
    key: string,
    limit: number,
    meta: QueryMeta,
    outcome: ResponseOutcome,
    cacheKeyLength: number,
  ): number {
    const q = this.q;
    // RFC 6891 §7: an OPT in the response only when the query had one.
    let edns: EdnsReply | null = null;
    if (q.edns) {
      edns = this.edns;
      edns.udpSize = this.opts.ednsUdpSize;
      edns.dnssecOk = q.dnssecOk;
      edns.nsid = q.nsid ? this.nsid : null;
      // RFC 9660 §3: the version of the zone the answer came from, when one did.
      edns.zoneVersion = q.zoneVersion && plan.zone !== null ? { labels: keyLabelCount(plan.zone.origin), serial: plan.zone.serial } : null;
      edns.cookie = this.cookieAnswered;
      // RFC 7871 §7.2.1: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as received, our scope.
      edns.ecsLength = q.ecsLength;
      if (q.ecsLength > 0) {
        msg.copy(edns.ecs, 0, q.ecsAt, q.ecsAt + q.ecsLength);
        edns.ecs[ECS_SCOPE_AT] = this.scope;
      }
    }
    const writer = this.writer;
    const length = writer.write(plan, msg, q.questionEnd, key, limit, edns);
    const out = this.place(length);
    const at = this.outAt;
    writer.copyTo(out, at, length);
    const fit = writer.fit;
    const info = this.info;
    info.transport = meta.transport;
    info.rcode = plan.rcode;
    info.outcome = outcome;
    info.qtype = q.qtype;
    info.zone = plan.zone === null ? null : plan.zone.originText;
    info.truncated = fit === Fit.Truncated;
    this.bucketOf(plan, key, q.qtype, info);
    this.replyQuestionEnd = q.questionEnd;
    this.replyOptLength = optLength(edns);
    if (cacheKeyLength > 0) {
      const cache = this.snap.cache!;
      if (!perQueryName(plan, key) || cache.seenBefore(this.keyBuf, cacheKeyLength)) cache.set(this.keyBuf, cacheKeyLength, out, at, length, limit, fit, info);
      // The first referral below a cut becomes the template for the others (see referral-template.ts).
      const cut = plan.delegation;
      if (cut !== null && plan.outcome === 'referral' && cut !== key && !q.dnssecOk && fit === Fit.Complete && length <= TEMPLATE_MAX && !this.templateDeclined) {
        const prefix = key.length - cut.length;
        const nameLen = key.length;
        // Once per cut: a view of the response costs nothing that matters here.
        const template = toTemplate(out.subarray(at, at + length), q.questionEnd, prefix);
        if (template !== null) cache.set(this.templateKey, this.writeTemplateKey(nameLen - cut.length, nameLen), template, 0, template.length, limit - prefix, Fit.Complete, info);
      }
    }
    if (this.cookieAnswered) this.finishCookie(out, at + length, msg);
    this.opts.onResponse?.(info, meta);
    return length;
  }

  private fromCache(cache: ResponseCache, at: number, msg: Buffer, meta: QueryMeta): number {
    const length = cache.responseLength(at);
    const out = this.place(length);
    cache.copyResponse(at, out, this.outAt);
    // The question's name as this client wrote it (case kept); answers owned by it point here.
    msg.copy(out, this.outAt + HEADER_SIZE, HEADER_SIZE, this.q.qnameEnd);
    return this.finishStored(cache, at, length, msg, meta);
  }

  /** A response copied from the cache (an entry or a referral template) into out: this query's header bits, its info, its cookie. */
  private finishStored(cache: ResponseCache, at: number, length: number, msg: Buffer, meta: QueryMeta): number {
    const out = this.out;
    const o = this.outAt;
    out[o] = msg[0]!;
    out[o + 1] = msg[1]!;
    out[o + 2] = (out[o + 2]! & ~FLAG_RD) | (msg[2]! & FLAG_RD);
    out[o + 3] = (out[o + 3]! & ~FLAG_CD) | (msg[3]! & FLAG_CD);
    const q = this.q;
    const info = this.info;
    const cached = cache.info(at);
    info.transport = cached.transport;
    info.rcode = cached.rcode;
    info.outcome = cached.outcome;
    info.qtype = q.qtype;
    info.zone = cached.zone;
    info.truncated = cached.truncated;
    info.kind = cached.kind;
    info.nameHash = cache.nameHash(at);
    info.cache = CacheUse.Hit;
    info.geoRule = cached.geoRule;
    this.replyQuestionEnd = q.questionEnd;
    // A ZONEVERSION option was written with the response exactly when a zone answered (emit).
    this.replyOptLength = q.edns ? optSize(q.nsid ? this.nsid : null, q.zoneVersion && cached.zone !== null, this.cookieAnswered, q.ecsLength) : 0;
    if (this.cookieAnswered) this.finishCookie(out, o + length, msg);
    this.opts.onResponse?.(info, meta);
    return length;
  }

  /**
   * The referral for a name below a cut whose template is cached (the nearest such cut that no more
   * specific zone served lies under), written from the template; -1 to answer the usual way.
   */
  private fromReferralTemplate(cache: ResponseCache, zones: ZoneSet, msg: Buffer, limit: number, nameLen: number, meta: QueryMeta): number {
    const kb = this.keyBuf;
    const q = this.q;
    // Proper suffixes of the name, longest first; the root is no cut.
    for (let s = kb[0]! + 1; s < nameLen - 1; s += kb[s]! + 1) {
      const at = cache.find(this.templateKey, this.writeTemplateKey(s, nameLen), limit - s);
      if (at < 0) continue;
      // The template's cut is in the zone of the cut's parent: a zone served at or below the cut answers instead.
      if (zones.originAtOrBelow(kb, 0, nameLen, s)) return -1;
      const start = cache.responseStart(at);
      const length = cache.responseLength(at);
      const out = this.place(length + s);
      // The template's question is the cut's name (nameLen - s octets), type and class.
      if (!fromTemplate(cache.segmentOf(at), start, start + length, start + HEADER_SIZE + nameLen - s + 4, msg, q.questionEnd, s, out, this.outAt)) {
        this.templateDeclined = true;
        return -1;
      }
      return this.finishStored(cache, at, length + s, msg, meta);
    }
    return -1;
  }

  /**
   * Writes into templateKey the cache key of the referral template for the suffix `keyBuf[from, nameLen)`:
   * the name, QTYPE 0 (any type gets the same referral), QCLASS, the variant octet with TEMPLATE_BIT
   * and the query's ECS option data (a template echoes the option it was made with). Returns its length.
   */
  private writeTemplateKey(from: number, nameLen: number): number {
    const tk = this.templateKey;
    const kb = this.keyBuf;
    const n = nameLen - from;
    for (let i = 0; i < n; i++) tk[i] = kb[from + i]!;
    tk[n] = 0;
    tk[n + 1] = 0;
    tk[n + 2] = kb[nameLen + 2]!;
    tk[n + 3] = kb[nameLen + 3]!;
    tk[n + 4] = kb[nameLen + 4]! | TEMPLATE_BIT;
    const ecsLength = this.q.ecsLength;
    for (let i = 0; i < ecsLength; i++) tk[n + 5 + i] = kb[nameLen + 5 + i]!;
    return n + 5 + ecsLength;
  }

  /** RFC 7873 §5.2.3-5.2.5: what the query's cookie proves; the response will carry the client's and ours. */
  private checkCookie(msg: Buffer, meta: QueryMeta): void {
    const q = this.q;
    // Without EDNS there is no OPT to answer in (and a COOKIE option only travels in one).
    if (!q.edns || this.addr.parse(meta.remoteAddress) === 0) return;
    this.info.cookie = this.cookies!.check(msg, q.cookieAt, q.cookieLength, this.addr, (this.now() / 1000) >>> 0);
    this.cookieAnswered = true;
  }

  /** Writes the COOKIE option's data, the octets of `out` before `end`: the client's cookie, then ours (kept while fresh, else new). */
  private finishCookie(out: Buffer, end: number, msg: Buffer): void {
    const q = this.q;
    const at = end - COOKIE_REPLY_LENGTH;
    msg.copy(out, at, q.cookieAt, q.cookieAt + 8);
    if (this.info.cookie === CookieStatus.Valid && !this.cookies!.renew) {
      msg.copy(out, at + 8, q.cookieAt + 8, q.cookieAt + 8 + SERVER_COOKIE_LENGTH);
    } else {
      this.cookies!.issue(msg, q.cookieAt, this.addr, (this.now() / 1000) >>> 0, out, at + 8);
    }
  }

  /** RFC 8945 §5.3: a signed query's answer is signed, or is the TSIG error (a copy: the writer's buffer stays the writer's). */
  /** The response just written (place), signed or turned into its TSIG error (RFC 8945) and written again; its new length. */
  private signed(msg: Buffer, length: number): number {
    const now = Math.floor(this.now() / 1000);
    const response = this.out.subarray(this.outAt, this.outAt + length);
    // A new buffer whenever it differs from the response: it can be written where the response was.
    const signed = answerVerified(verifyRequest(msg, this.tsigKeys, now), response, this.q.questionEnd, now);
    if (signed === response) return length;
    signed.copy(this.place(signed.length), this.outAt);
    return signed.length;
  }

  retain(response: Buffer): void {
    this.memory.retain(response);
  }

  slip(response: Buffer): Buffer {
    const c = this.info.cookie;
    // RFC 7873 §5.2.3: a client that sent a cookie learns ours from BADCOOKIE and comes back with it.
    const badCookie = this.replyOptLength > 0 && this.cookieAnswered && (c === CookieStatus.ClientOnly || c === CookieStatus.Invalid);
    return cutToMinimal(response, this.replyQuestionEnd, this.replyOptLength, badCookie ? RCODE_BADCOOKIE : -1);
  }

  /** A header-only response (and the question, when `questionEnd` > 0) with `rcode`. */
  private bare(msg: Buffer, questionEnd: number, rcode: number, outcome: ResponseOutcome, meta: QueryMeta): number {
    const length = questionEnd > 0 ? questionEnd : HEADER_SIZE;
    // Every octet is written below.
    const out = this.place(length);
    const o = this.outAt;
    msg.copy(out, o, 0, length);
    out[o + 2] = FLAG_QR | (msg[2]! & (OPCODE_MASK | FLAG_RD));
    out[o + 3] = (msg[3]! & FLAG_CD) | rcode;
    out.writeUInt16BE(questionEnd > 0 ? 1 : 0, o + 4);
    out.writeUInt32BE(0, o + 6);
    out.writeUInt16BE(0, o + 10);
    const info = this.info;
    info.transport = meta.transport;
    info.rcode = rcode;
    info.outcome = outcome;
    info.qtype = questionEnd > 0 ? this.q.qtype : 0;
    info.zone = null;
    info.truncated = false;
    info.kind = ResponseKind.Error;
    info.nameHash = 0;
    this.replyQuestionEnd = length;
    this.replyOptLength = 0;
    this.opts.onResponse?.(info, meta);
    return length;
  }
}

/**
 * Whether the response was made for a name the zone need not hold: one a random-name flood makes up
 * per query (NXDOMAIN, a referral for a name below the cut, a wildcard or DNAME synthesis). The cache
 * keeps these from a name's second query only (see ResponseCache.seenBefore); answers for names the
 * zone holds are bounded by the zone and kept at once.
 */
function perQueryName(plan: AnswerPlan, qkey: string): boolean {
  switch (plan.outcome) {
    case 'nxdomain':
    case 'yxdomain':
      return true;
    case 'referral':
      return plan.delegation !== qkey;
    default:
      return plan.wildcard !== null || (plan.answer.length > 0 && plan.answer[0]!.set.type === T.DNAME);
  }
}

/** Without a classifier every response shares the error bucket. */
function errorBucket(_plan: AnswerPlan, _qkey: string, _qtype: number, info: ResponseInfo): void {
  info.kind = ResponseKind.Error;
  info.nameHash = 0;
}
