// The query path for one worker: bytes in, bytes out (see handler-types.ts). Parses by hand, answers
// from the response cache when it can, else runs the pure answer algorithm and writes the plan. All state
// (cache, scratch buffers) belongs to this handler, so each worker process has its own.

import { answer } from '../answer/answer.js';
import { answerChaos, type ServerIdentity } from '../answer/chaos.js';
import { RCODE, emptyPlan, type AnswerPlan, type Question } from '../answer/plan.js';
import { MAX_NAME_LENGTH, keyLabelCount } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';
import type { ZoneSet } from '../zone/zone.js';
import { AddressBytes } from './address.js';
import { COOKIE_REPLY_LENGTH, CookieStatus, RCODE_BADCOOKIE, SERVER_COOKIE_LENGTH, type ServerCookies } from './cookies.js';
import { ResponseCache } from './cache.js';
import { Fit, ResponseWriter, cutToMinimal, optLength, optSize, type EdnsReply } from './encoder.js';
import { CacheUse, ResponseKind, type BucketOf, type ResponseOutcome, type HandlerOptions, type QueryHandler, type QueryMeta, type ResponseInfo } from './handler-types.js';
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
}

class Handler implements QueryHandler {
  /** Zones and their cache, swapped together by one assignment. */
  private snap: Snapshot;
  private readonly q = new ParsedQuery();
  /** The lower-cased QNAME, then QTYPE, QCLASS and the variant octet: the cache key's bytes. */
  private readonly keyBuf = Buffer.allocUnsafe(MAX_NAME_LENGTH + 5);
  private readonly writer = new ResponseWriter();
  /** A cache miss's question, plan and OPT record, filled afresh per query: a miss makes none of its own. */
  private readonly question: Question = { key: '', qtype: 0, qclass: 0, dnssecOk: false };
  private readonly plan: AnswerPlan = emptyPlan('refused', RCODE.REFUSED, false, CLASS.IN, null);
  private readonly edns: EdnsReply = { udpSize: 0, dnssecOk: false, nsid: null, zoneVersion: null, cookie: false };
  private readonly server: ServerIdentity;
  /** NSID payload, or null when NSID is turned off (the option is then ignored). */
  private readonly nsid: Buffer | null;
  private readonly cacheBytes: number;
  private readonly cookies: ServerCookies | null;
  private readonly now: () => number;
  private readonly bucketOf: BucketOf;
  private readonly memory: ResponseMemory;
  private readonly tsigKeys: TsigKeyring;
  private readonly addr = new AddressBytes();
  /** Where the last response's question ends and how long its OPT record is (for slip). */
  private replyQuestionEnd = 0;
  private replyOptLength = 0;
  /** Cache key of a referral template (see writeTemplateKey). */
  private readonly templateKey = Buffer.allocUnsafe(MAX_NAME_LENGTH + 5);
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
    this.tsigKeys = opts.tsigKeys ?? new Map();
    this.snap = this.snapshot(zones);
  }

  setZones(zones: ZoneSet): void {
    this.snap = this.snapshot(zones);
  }

  get zones(): ZoneSet {
    return this.snap.zones;
  }

  private snapshot(zones: ZoneSet): Snapshot {
    const cache = this.cacheBytes > 0 ? new ResponseCache(Math.max(1024, Math.floor(this.cacheBytes / CACHE_BYTES_PER_ENTRY)), this.cacheBytes) : null;
    return { zones, cache };
  }

  handle(msg: Buffer, meta: QueryMeta): Buffer | null {
    // An unreadable header can't be answered; a response (QR=1) must never be (no reflection loops).
    if (msg.length < HEADER_SIZE || (msg[2]! & FLAG_QR) !== 0) return null;
    this.cookieAnswered = false;
    this.info.cookie = CookieStatus.None;
    this.info.cache = CacheUse.None;
    // The one guard of the query path: a bug answers SERVFAIL and the server goes on.
    try {
      const out = this.respond(msg, meta);
      return this.q.tsig ? this.signed(msg, out) : out;
    } catch (err) {
      this.opts.onError?.(err, meta);
      return this.bare(msg, this.q.questionEnd, RCODE.SERVFAIL, 'servfail', meta);
    }
  }

  private respond(msg: Buffer, meta: QueryMeta): Buffer {
    const q = this.q;
    const status = parseQuery(msg, q, this.keyBuf);
    if (status === ParseStatus.NotImp) return this.bare(msg, 0, RCODE.NOTIMP, 'notimp', meta);
    if (status === ParseStatus.FormErr) return this.bare(msg, 0, RCODE.FORMERR, 'formerr', meta);
    const tcp = meta.transport === 'tcp';
    // RFC 6891 §6.2.5: the smaller of the requestor's size (at least 512) and ours; 512 without EDNS.
    const limit = tcp ? TCP_LIMIT : q.edns ? Math.min(q.udpSize, this.opts.ednsUdpSize) : UDP_LIMIT;
    const nameLen = q.qnameEnd - HEADER_SIZE;
    const kb = this.keyBuf;
    if (status === ParseStatus.BadCookie) {
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
    // Responses with a cookie have room for one; its octets are written per query (finishCookie).
    kb[nameLen + 4] =
      (q.dnssecOk ? 1 : 0) | (q.edns ? 2 : 0) | (q.nsid ? 4 : 0) | (tcp ? 8 : 0) | (this.cookieAnswered ? 16 : 0) | (q.zoneVersion ? 32 : 0);
    const keyLength = nameLen + 5;
    const snap = this.snap;
    const cache = snap.cache;
    this.templateDeclined = false;
    if (cache !== null) {
      const at = cache.find(kb, keyLength, limit);
      if (at >= 0) return this.fromCache(cache, at, msg, meta);
      // Every class but IN is refused or answered elsewhere, and zone transfers are refused (see answer).
      // DO referrals carry DS or its denial, built per query by the DNSSEC step: not from a template.
      if (q.qclass === CLASS.IN && q.qtype !== T.AXFR && q.qtype !== T.IXFR && !q.dnssecOk) {
        const out = this.fromReferralTemplate(cache, snap.zones, msg, limit, nameLen, meta);
        if (out !== null) return out;
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
    return this.emit(plan, msg, key, limit, meta, plan.outcome, cache === null ? 0 : keyLength);
  }

  /** Writes `plan`, hands the result to onResponse, and keeps it in the cache under the first `cacheKeyLength` octets of keyBuf (0: not kept). */
  private emit(
    plan: AnswerPlan,
    msg: Buffer,
    key: string,
    limit: number,
    meta: QueryMeta,
    outcome: ResponseOutcome,
    cacheKeyLength: number,
  ): Buffer {
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
    }
    const writer = this.writer;
    const out = this.memory.take(writer.write(plan, msg, q.questionEnd, key, limit, edns));
    writer.copyTo(out);
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
      if (!perQueryName(plan, key) || cache.seenBefore(this.keyBuf, cacheKeyLength)) cache.set(this.keyBuf, cacheKeyLength, out, limit, fit, info);
      // The first referral below a cut becomes the template for the others (see referral-template.ts).
      const cut = plan.delegation;
      if (cut !== null && plan.outcome === 'referral' && cut !== key && !q.dnssecOk && fit === Fit.Complete && out.length <= TEMPLATE_MAX && !this.templateDeclined) {
        const prefix = key.length - cut.length;
        const nameLen = key.length;
        const template = toTemplate(out, q.questionEnd, prefix);
        if (template !== null) cache.set(this.templateKey, this.writeTemplateKey(nameLen - cut.length, nameLen), template, limit - prefix, Fit.Complete, info);
      }
    }
    if (this.cookieAnswered) this.finishCookie(out, msg);
    this.opts.onResponse?.(info, meta);
    return out;
  }

  private fromCache(cache: ResponseCache, at: number, msg: Buffer, meta: QueryMeta): Buffer {
    const out = cache.response(at, this.memory);
    // The question's name as this client wrote it (case kept); answers owned by it point here.
    msg.copy(out, HEADER_SIZE, HEADER_SIZE, this.q.qnameEnd);
    return this.finishStored(cache, at, out, msg, meta);
  }

  /** A response copied from the cache (an entry or a referral template): this query's header bits, its info, its cookie. */
  private finishStored(cache: ResponseCache, at: number, out: Buffer, msg: Buffer, meta: QueryMeta): Buffer {
    out[0] = msg[0]!;
    out[1] = msg[1]!;
    out[2] = (out[2]! & ~FLAG_RD) | (msg[2]! & FLAG_RD);
    out[3] = (out[3]! & ~FLAG_CD) | (msg[3]! & FLAG_CD);
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
    this.replyQuestionEnd = q.questionEnd;
    // A ZONEVERSION option was written with the response exactly when a zone answered (emit).
    this.replyOptLength = q.edns ? optSize(q.nsid ? this.nsid : null, q.zoneVersion && cached.zone !== null, this.cookieAnswered) : 0;
    if (this.cookieAnswered) this.finishCookie(out, msg);
    this.opts.onResponse?.(info, meta);
    return out;
  }

  /**
   * The referral for a name below a cut whose template is cached (the nearest such cut that no more
   * specific zone served lies under), written from the template; null to answer the usual way.
   */
  private fromReferralTemplate(cache: ResponseCache, zones: ZoneSet, msg: Buffer, limit: number, nameLen: number, meta: QueryMeta): Buffer | null {
    const kb = this.keyBuf;
    const q = this.q;
    // Proper suffixes of the name, longest first; the root is no cut.
    for (let s = kb[0]! + 1; s < nameLen - 1; s += kb[s]! + 1) {
      const at = cache.find(this.templateKey, this.writeTemplateKey(s, nameLen), limit - s);
      if (at < 0) continue;
      // The template's cut is in the zone of the cut's parent: a zone served at or below the cut answers instead.
      if (zones.originAtOrBelow(kb, 0, nameLen, s)) return null;
      const start = cache.responseStart(at);
      const length = cache.responseLength(at);
      const out = this.memory.take(length + s);
      // The template's question is the cut's name (nameLen - s octets), type and class.
      if (!fromTemplate(cache.segmentOf(at), start, start + length, start + HEADER_SIZE + nameLen - s + 4, msg, q.questionEnd, s, out)) {
        this.templateDeclined = true;
        return null;
      }
      return this.finishStored(cache, at, out, msg, meta);
    }
    return null;
  }

  /**
   * Writes into templateKey the cache key of the referral template for the suffix `keyBuf[from, nameLen)`:
   * the name, QTYPE 0 (any type gets the same referral), QCLASS and the variant octet with TEMPLATE_BIT.
   * Returns its length.
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
    return n + 5;
  }

  /** RFC 7873 §5.2.3-5.2.5: what the query's cookie proves; the response will carry the client's and ours. */
  private checkCookie(msg: Buffer, meta: QueryMeta): void {
    const q = this.q;
    // Without EDNS there is no OPT to answer in (and a COOKIE option only travels in one).
    if (!q.edns || this.addr.parse(meta.remoteAddress) === 0) return;
    this.info.cookie = this.cookies!.check(msg, q.cookieAt, q.cookieLength, this.addr, (this.now() / 1000) >>> 0);
    this.cookieAnswered = true;
  }

  /** Writes the COOKIE option's data, the last octets of `out`: the client's cookie, then ours (kept while fresh, else new). */
  private finishCookie(out: Buffer, msg: Buffer): void {
    const q = this.q;
    const end = out.length;
    const at = end - COOKIE_REPLY_LENGTH;
    msg.copy(out, at, q.cookieAt, q.cookieAt + 8);
    if (this.info.cookie === CookieStatus.Valid && !this.cookies!.renew) {
      msg.copy(out, at + 8, q.cookieAt + 8, q.cookieAt + 8 + SERVER_COOKIE_LENGTH);
    } else {
      this.cookies!.issue(msg, q.cookieAt, this.addr, (this.now() / 1000) >>> 0, out, at + 8);
    }
  }

  /** RFC 8945 §5.3: a signed query's answer is signed, or is the TSIG error (a copy: the writer's buffer stays the writer's). */
  private signed(msg: Buffer, out: Buffer): Buffer {
    const now = Math.floor(this.now() / 1000);
    return answerVerified(verifyRequest(msg, this.tsigKeys, now), out, this.q.questionEnd, now);
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
  private bare(msg: Buffer, questionEnd: number, rcode: number, outcome: ResponseOutcome, meta: QueryMeta): Buffer {
    const length = questionEnd > 0 ? questionEnd : HEADER_SIZE;
    // Every octet is written below.
    const out = this.memory.take(length);
    msg.copy(out, 0, 0, length);
    out[2] = FLAG_QR | (msg[2]! & (OPCODE_MASK | FLAG_RD));
    out[3] = (msg[3]! & FLAG_CD) | rcode;
    out.writeUInt16BE(questionEnd > 0 ? 1 : 0, 4);
    out.writeUInt32BE(0, 6);
    out.writeUInt16BE(0, 10);
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
    return out;
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
