// Writing a response from an answer plan (RFC 1035 §4.1): header, the question exactly as the client sent
// it, the three sections with name compression, then the OPT record. Whole RRsets only; when the message
// would exceed the limit, optional data goes first and TC is set only when required data doesn't fit
// (RFC 2181 §9, RFC 9471 §3).

import type { AnswerPlan, RRdata } from '../answer/plan.js';
import { WireRRset } from '../zone/rrset.js';
import { T } from '../zone/types.js';
import { CompressionTable } from './compress.js';
import { EDNS_OPTION_ECS, EDNS_OPTION_ZONEVERSION, FLAG_AA, FLAG_CD, FLAG_QR, FLAG_RD, FLAG_TC, HEADER_SIZE, OPCODE_MASK } from './query.js';
import { RdataCompressor } from './rdata.js';
import { COOKIE_OPTION, COOKIE_REPLY_LENGTH } from './cookies.js';

const EDNS_OPTION_NSID = 3;
/** Room for any single record past the limit, so writing never checks the buffer, only the limit. */
const SLACK = 65535 + 512;

/** The OPT record to add to a response (RFC 6891 §6.1.2). */
export interface EdnsReply {
  /** Our UDP payload size, advertised in the OPT's CLASS (RFC 6891 §6.2.3). */
  udpSize: number;
  dnssecOk: boolean;
  /** NSID payload (RFC 5001 §2.3), or null when not asked for. */
  nsid: Buffer | null;
  /** The answering zone's version (RFC 9660 §2): its label count and SOA serial; null when not asked or no zone answered. */
  zoneVersion: ZoneVersion | null;
  /**
   * The ECS option's data to echo (RFC 7871 §7.2.1: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as
   * received, our SCOPE PREFIX-LENGTH): its first `ecsLength` octets; 0 for none.
   */
  ecsLength: number;
  ecs: Buffer;
  /** Room for a COOKIE option (RFC 7873 §4) as the OPT's last option: the caller writes its 24 octets of data at the message's end. */
  cookie: boolean;
}

interface ZoneVersion {
  labels: number;
  serial: number;
}

/** ZONEVERSION option data of type 0 (SOA-SERIAL): label count, type, 4-octet serial (RFC 9660 §2). */
const ZONEVERSION_DATA_LENGTH = 6;

/** Octets of the OPT record written for `edns` (0 for none). */
export function optLength(edns: EdnsReply | null): number {
  return edns === null ? 0 : optSize(edns.nsid, edns.zoneVersion !== null, edns.cookie, edns.ecsLength);
}

/**
 * Octets of an OPT record carrying `nsid` (or none), a ZONEVERSION option, with `cookie` a COOKIE option,
 * and an ECS option of `ecsLength` data octets (0: none).
 */
export function optSize(nsid: Buffer | null, zoneVersion: boolean, cookie: boolean, ecsLength: number): number {
  return (
    11 +
    (nsid === null ? 0 : 4 + nsid.length) +
    (zoneVersion ? 4 + ZONEVERSION_DATA_LENGTH : 0) +
    (cookie ? 4 + COOKIE_REPLY_LENGTH : 0) +
    (ecsLength > 0 ? 4 + ecsLength : 0)
  );
}

export const enum Fit {
  /** Everything in the plan was written. */
  Complete,
  /** Optional data was left out; the message is still complete for the client. */
  Reduced,
  /** Required data didn't fit: TC is set. */
  Truncated,
}

const enum Pass {
  Ok,
  /** A required RRset didn't fit. */
  Full,
}

export class ResponseWriter {
  readonly buf = Buffer.allocUnsafe(65535 + SLACK);
  private readonly table = new CompressionTable();
  private readonly rdata = new RdataCompressor();
  private pos = 0;
  private counts = [0, 0, 0];
  private dropped = false;
  private optionalAuthorityWritten = false;
  /** Records written by the last writeRRset. */
  private written = 0;
  /** How the last message written fits its limit. */
  fit = Fit.Complete;

  /**
   * Writes the response to `plan` for the query `msg`, whose question ends at `questionEnd` and whose name
   * has the key `qkey`, in at most `limit` octets. The message is `buf[0, returned length)`; `fit` says
   * whether all of the plan is in it.
   */
  write(plan: AnswerPlan, msg: Buffer, questionEnd: number, qkey: string, limit: number, edns: EdnsReply | null): number {
    const bodyLimit = limit - optLength(edns);
    let pass = this.sections(plan, msg, questionEnd, qkey, bodyLimit, false);
    // Optional authority may have taken the room required glue needed: try again without it.
    if (pass === Pass.Full && this.optionalAuthorityWritten) pass = this.sections(plan, msg, questionEnd, qkey, bodyLimit, true);
    const fit = pass === Pass.Full ? Fit.Truncated : this.dropped ? Fit.Reduced : Fit.Complete;
    this.fit = fit;
    const buf = this.buf;
    buf[0] = msg[0]!;
    buf[1] = msg[1]!;
    // RD is copied (RFC 1035 §4.1.1); RA is never set: no recursion here. CD is copied (RFC 4035 §3.1.6).
    buf[2] =
      FLAG_QR | (msg[2]! & (OPCODE_MASK | FLAG_RD)) | (plan.aa ? FLAG_AA : 0) | (fit === Fit.Truncated ? FLAG_TC : 0);
    buf[3] = (msg[3]! & FLAG_CD) | (plan.rcode & 0x0f);
    buf.writeUInt16BE(1, 4);
    buf.writeUInt16BE(this.counts[0]!, 6);
    buf.writeUInt16BE(this.counts[1]!, 8);
    let pos = this.pos;
    let arcount = this.counts[2]!;
    if (edns !== null) {
      pos = writeOpt(buf, pos, edns, plan.rcode);
      arcount++;
    }
    buf.writeUInt16BE(arcount, 10);
    return pos;
  }

  /** Copies the first `length` octets of the message last written into `out` from `at`. */
  copyTo(out: Buffer, at: number, length: number): void {
    this.buf.copy(out, at, 0, length);
  }

  private sections(
    plan: AnswerPlan,
    msg: Buffer,
    questionEnd: number,
    qkey: string,
    limit: number,
    skipOptionalAuthority: boolean,
  ): Pass {
    const buf = this.buf;
    const table = this.table;
    table.reset();
    this.dropped = false;
    this.optionalAuthorityWritten = false;
    this.counts[0] = this.counts[1] = this.counts[2] = 0;
    // The question as the client sent it (RFC 1035 §7.3 matching; RFC 4343 §4.1 case kept); its name
    // is the first compression target, so answers owned by it point back to offset 12.
    msg.copy(buf, HEADER_SIZE, HEADER_SIZE, questionEnd);
    table.register(buf, HEADER_SIZE);
    this.pos = questionEnd;
    const rrclass = plan.rrclass;
    for (let s = 0; s < 3; s++) {
      const rrs = s === 0 ? plan.answer : s === 1 ? plan.authority : plan.additional;
      for (let r = 0; r < rrs.length; r++) {
        const rr = rrs[r]!;
        if (rr.optional && s === 1 && skipOptionalAuthority) {
          this.dropped = true;
          continue;
        }
        const start = this.pos;
        let end = this.writeRRset(start, rr.ownerKey, rr.set, rr.ttl, rrclass, qkey);
        let written = this.written;
        // An RRset and its signatures are one unit: both fit, or neither is written (RFC 4035 §3.1.1).
        if (rr.sigs !== null && end <= limit) {
          end = this.writeRRset(end, rr.ownerKey, rr.sigs, rr.ttl, rrclass, qkey);
          written += this.written;
        }
        if (end <= limit) {
          this.pos = end;
          this.counts[s] += written;
          if (rr.optional && s === 1) this.optionalAuthorityWritten = true;
          continue;
        }
        table.rollback(start);
        if (!rr.optional) return Pass.Full;
        this.dropped = true;
      }
    }
    return Pass.Ok;
  }

  /** Writes every record of `set` from `pos`; returns the end and leaves the record count in `written`. */
  private writeRRset(pos: number, ownerKey: string, set: RRdata, ttl: number, rrclass: number, qkey: string): number {
    const buf = this.buf;
    // Zone RRsets are views of the zone's `[RDLENGTH][RDATA]...` bytes: copied without decoding.
    const zoneSet = set instanceof WireRRset ? set : null;
    const rdatas = zoneSet === null ? set.rdatas : null;
    const n = rdatas === null ? Infinity : rdatas.length;
    let count = 0;
    // Every record of the set has the same owner: after the first, a pointer to it (or the very pointer
    // the first one got), which is what compressing it again would give, without the search.
    let ownerPointer = -1;
    const type = set.type;
    for (let p = zoneSet === null ? 0 : zoneSet.start; zoneSet === null ? count < n : p < zoneSet.end; count++) {
      if (ownerPointer < 0) {
        const ownerAt = pos;
        pos = this.writeOwner(pos, ownerKey, qkey);
        if (pos - ownerAt === 2 && buf[ownerAt]! >= 0xc0) ownerPointer = ((buf[ownerAt]! & 0x3f) << 8) | buf[ownerAt + 1]!;
        else if (ownerAt <= 0x3fff) ownerPointer = ownerAt;
      } else {
        buf[pos] = 0xc0 | (ownerPointer >> 8);
        buf[pos + 1] = ownerPointer & 0xff;
        pos += 2;
      }
      buf[pos] = type >> 8;
      buf[pos + 1] = type & 0xff;
      buf[pos + 2] = rrclass >> 8;
      buf[pos + 3] = rrclass & 0xff;
      buf[pos + 4] = ttl >>> 24;
      buf[pos + 5] = (ttl >>> 16) & 0xff;
      buf[pos + 6] = (ttl >>> 8) & 0xff;
      buf[pos + 7] = ttl & 0xff;
      const rdStart = pos + 10;
      let rdEnd: number;
      if (zoneSet !== null) {
        const src = zoneSet.src;
        const len = (src[p]! << 8) | src[p + 1]!;
        rdEnd = this.rdata.writeFrom(buf, rdStart, type, src, p + 2, len, this.table);
        p += 2 + len;
      } else {
        rdEnd = this.rdata.write(buf, rdStart, type, rdatas![count]!, this.table);
      }
      buf[pos + 8] = (rdEnd - rdStart) >> 8;
      buf[pos + 9] = (rdEnd - rdStart) & 0xff;
      pos = rdEnd;
      if (pos > 65535) break; // over any limit: the caller rolls back before the buffer's slack runs out
    }
    this.written = count;
    return pos;
  }

  private writeOwner(pos: number, ownerKey: string, qkey: string): number {
    if (ownerKey === qkey) {
      // The question name, as the client wrote it (RFC 4343 §4.1).
      this.buf[pos] = 0xc0;
      this.buf[pos + 1] = HEADER_SIZE;
      return pos + 2;
    }
    // The key is the name's wire form, lower-cased: written out in full, then compressed in place.
    const buf = this.buf;
    for (let i = 0; i < ownerKey.length; i++) buf[pos + i] = ownerKey.charCodeAt(i);
    return this.table.compress(buf, pos);
  }
}

/** RFC 6891 §6.1.2: root owner, CLASS = UDP size, TTL = extended rcode, version 0, DO; then options. */
function writeOpt(buf: Buffer, pos: number, edns: EdnsReply, rcode: number): number {
  buf[pos] = 0;
  buf.writeUInt16BE(T.OPT, pos + 1);
  buf.writeUInt16BE(edns.udpSize, pos + 3);
  buf[pos + 5] = rcode >> 4; // RFC 6891 §6.1.3: upper 8 bits of the 12-bit rcode
  buf[pos + 6] = 0; // version 0
  buf[pos + 7] = edns.dnssecOk ? 0x80 : 0; // RFC 3225 §3: DO copied from the query
  buf[pos + 8] = 0;
  const end = pos + optLength(edns);
  buf.writeUInt16BE(end - pos - 11, pos + 9);
  let o = pos + 11;
  const nsid = edns.nsid;
  if (nsid !== null) {
    buf.writeUInt16BE(EDNS_OPTION_NSID, o);
    buf.writeUInt16BE(nsid.length, o + 2);
    nsid.copy(buf, o + 4);
    o += 4 + nsid.length;
  }
  const zv = edns.zoneVersion;
  if (zv !== null) {
    buf.writeUInt16BE(EDNS_OPTION_ZONEVERSION, o);
    buf.writeUInt16BE(ZONEVERSION_DATA_LENGTH, o + 2);
    buf[o + 4] = zv.labels;
    buf[o + 5] = 0; // type 0: SOA-SERIAL (RFC 9660 §2, §7)
    buf.writeUInt32BE(zv.serial >>> 0, o + 6);
    o += 4 + ZONEVERSION_DATA_LENGTH;
  }
  if (edns.ecsLength > 0) {
    buf.writeUInt16BE(EDNS_OPTION_ECS, o);
    buf.writeUInt16BE(edns.ecsLength, o + 2);
    edns.ecs.copy(buf, o + 4, 0, edns.ecsLength);
    o += 4 + edns.ecsLength;
  }
  // Last: the caller fills the cookie's octets at the end of the message.
  if (edns.cookie) {
    buf.writeUInt16BE(COOKIE_OPTION, o);
    buf.writeUInt16BE(COOKIE_REPLY_LENGTH, o + 2);
    // Zeroed here; the caller writes this query's cookie (these octets may be cached, never sent as is).
    buf.fill(0, o + 4, end);
  }
  return end;
}

/**
 * Cuts `response` in place to the minimal reply response rate limiting sends instead of dropping: the
 * header and question, and the OPT record (`optLength` octets at its end) when it had one. With
 * `rcode` >= 0 that rcode replaces the response's (BADCOOKIE for a client that sent a cookie, RFC 7873
 * §5.2.3); otherwise TC is set so the client retries over TCP. As BIND 9 sends them
 * (test/server/rrl.test.ts compares): a truncated reply keeps the full response's AA, BADCOOKIE has none.
 */
export function cutToMinimal(response: Buffer, questionEnd: number, optLength: number, rcode: number): Buffer {
  const length = response.length;
  if (optLength > 0) response.copy(response, questionEnd, length - optLength, length);
  response[2] = rcode < 0 ? response[2]! | FLAG_TC : response[2]! & ~FLAG_AA;
  if (rcode >= 0) {
    response[3] = (response[3]! & 0xf0) | (rcode & 0x0f);
    if (optLength > 0) response[questionEnd + 5] = rcode >> 4;
  }
  response.writeUInt32BE(0, 6);
  response.writeUInt16BE(optLength > 0 ? 1 : 0, 10);
  return response.subarray(0, questionEnd + optLength);
}
