// Writing a response from an answer plan (RFC 1035 §4.1): header, the question exactly as the client sent
// it, the three sections with name compression, then the OPT record. Whole RRsets only; when the message
// would exceed the limit, optional data goes first and TC is set only when required data doesn't fit
// (RFC 2181 §9, RFC 9471 §3).

import type { AnswerPlan, PlanRR } from '../answer/plan.js';
import { T } from '../zone/types.js';
import { CompressionTable, writeName } from './compress.js';
import { HEADER_SIZE } from './query.js';
import { RdataWriter } from './rdata.js';

const FLAG_QR = 0x80;
const FLAG_AA = 0x04;
const FLAG_TC = 0x02;
const FLAG_RD = 0x01;
const FLAG_CD = 0x10; // in the second flags octet
const OPCODE_MASK = 0x78;
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
  private readonly rdata = new RdataWriter();
  private pos = 0;
  private counts = [0, 0, 0];
  private dropped = false;
  private optionalAuthorityWritten = false;

  /**
   * Writes the response to `plan` for the query `msg`, whose question ends at `questionEnd` and whose name
   * has the key `qkey`, in at most `limit` octets. The message is `buf[0, returned length)`.
   */
  write(
    plan: AnswerPlan,
    msg: Buffer,
    questionEnd: number,
    qkey: string,
    limit: number,
    edns: EdnsReply | null,
  ): { length: number; fit: Fit } {
    const optSize = edns === null ? 0 : 11 + (edns.nsid === null ? 0 : 4 + edns.nsid.length);
    const bodyLimit = limit - optSize;
    let pass = this.sections(plan, msg, questionEnd, qkey, bodyLimit, false);
    // Optional authority may have taken the room required glue needed: try again without it.
    if (pass === Pass.Full && this.optionalAuthorityWritten) pass = this.sections(plan, msg, questionEnd, qkey, bodyLimit, true);
    const fit = pass === Pass.Full ? Fit.Truncated : this.dropped ? Fit.Reduced : Fit.Complete;
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
    return { length: pos, fit };
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
    for (let i = 0; qkey.charCodeAt(i) !== 0; i += qkey.charCodeAt(i) + 1) table.add(i === 0 ? qkey : qkey.substring(i), HEADER_SIZE + i);
    this.pos = questionEnd;
    const rrclass = plan.rrclass;
    const sections = [plan.answer, plan.authority, plan.additional];
    for (let s = 0; s < 3; s++) {
      const rrs = sections[s]!;
      for (let r = 0; r < rrs.length; r++) {
        const rr = rrs[r]!;
        if (rr.optional && s === 1 && skipOptionalAuthority) {
          this.dropped = true;
          continue;
        }
        const start = this.pos;
        const end = writeRRset(buf, start, rr, rrclass, qkey, table, this.rdata);
        if (end <= limit) {
          this.pos = end;
          this.counts[s] += rr.set.rdatas.length;
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
}

function writeRRset(
  buf: Buffer,
  pos: number,
  rr: PlanRR,
  rrclass: number,
  qkey: string,
  table: CompressionTable,
  rdataWriter: RdataWriter,
): number {
  const set = rr.set;
  const rdatas = set.rdatas;
  const ownerKey = rr.ownerKey;
  for (let i = 0; i < rdatas.length; i++) {
    if (ownerKey === qkey) {
      buf[pos++] = 0xc0;
      buf[pos++] = HEADER_SIZE;
    } else {
      pos = writeName(buf, pos, ownerKey, null, 0, table);
    }
    buf.writeUInt16BE(set.type, pos);
    buf.writeUInt16BE(rrclass, pos + 2);
    buf.writeUInt32BE(rr.ttl, pos + 4);
    const rdStart = pos + 10;
    const rdEnd = rdataWriter.write(buf, rdStart, set.type, rdatas[i]!, table);
    buf.writeUInt16BE(rdEnd - rdStart, pos + 8);
    pos = rdEnd;
    if (pos > 65535) return pos; // over any limit: the caller rolls back before the buffer's slack runs out
  }
  return pos;
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
  const nsid = edns.nsid;
  if (nsid === null) {
    buf.writeUInt16BE(0, pos + 9);
    return pos + 11;
  }
  buf.writeUInt16BE(4 + nsid.length, pos + 9);
  buf.writeUInt16BE(EDNS_OPTION_NSID, pos + 11);
  buf.writeUInt16BE(nsid.length, pos + 13);
  nsid.copy(buf, pos + 15);
  return pos + 15 + nsid.length;
}
