// The secondary's side of the DNS messages of a refresh (RFC 1034 §4.3.5, RFC 1996, RFC 1995,
// RFC 5936): the SOA, AXFR and IXFR queries, the records of a response read with every name
// uncompressed (owners and the names inside RDATA, RFC 3597 §4), and the stream of records of a
// transfer told apart as a whole zone, a condensed or incremental difference, or "up to date".
// Pure: messages in, records and verdicts out.

import { MAX_LABEL_LENGTH, MAX_NAME_LENGTH } from '../zone/name.js';
import { descriptorFor } from '../zone/rdata/table.js';
import { CLASS, T } from '../zone/types.js';
import { FLAG_QR, HEADER_SIZE } from './query.js';

/** A record of a response, with every name in it uncompressed (case as sent). */
export interface InRecord {
  owner: Buffer;
  type: number;
  ttl: number;
  rdata: Buffer;
}

export interface InMessage {
  id: number;
  opcode: number;
  rcode: number;
  aa: boolean;
  tc: boolean;
  /** The answer section (the records of a transfer, or the SOA asked for), class IN only. */
  answer: InRecord[];
}

/** A query for `type` at the zone's apex (`zone`: wire name); with `soa` (IXFR), the SOA held goes in the authority section (RFC 1995 §3). */
export function xfrQuery(id: number, zone: Buffer, type: number, soa: { ttl: number; rdata: Buffer } | null): Buffer {
  const soaLength = soa === null ? 0 : 2 + 10 + soa.rdata.length;
  const msg = Buffer.alloc(HEADER_SIZE + zone.length + 4 + soaLength);
  msg.writeUInt16BE(id, 0);
  msg.writeUInt16BE(1, 4);
  let p = HEADER_SIZE + zone.copy(msg, HEADER_SIZE);
  msg.writeUInt16BE(type, p);
  msg.writeUInt16BE(CLASS.IN, p + 2);
  p += 4;
  if (soa !== null) {
    msg.writeUInt16BE(1, 8);
    msg.writeUInt16BE(0xc000 | HEADER_SIZE, p);
    msg.writeUInt16BE(T.SOA, p + 2);
    msg.writeUInt16BE(CLASS.IN, p + 4);
    msg.writeUInt32BE(soa.ttl, p + 6);
    msg.writeUInt16BE(soa.rdata.length, p + 10);
    soa.rdata.copy(msg, p + 12);
  }
  return msg;
}

/** The serial in a SOA's RDATA (RFC 1035 §3.3.13: five 32-bit fields end it). */
export function soaSerial(rdata: Buffer): number {
  return rdata.readUInt32BE(rdata.length - 20);
}

/** REFRESH, RETRY, EXPIRE of a SOA's RDATA, in seconds. */
export function soaTimers(rdata: Buffer): { refresh: number; retry: number; expire: number } {
  const at = rdata.length - 16;
  return { refresh: rdata.readUInt32BE(at), retry: rdata.readUInt32BE(at + 4), expire: rdata.readUInt32BE(at + 8) };
}

/** Reads a response; a string says what is malformed. */
export function readResponse(msg: Buffer): InMessage | string {
  if (msg.length < HEADER_SIZE) return 'shorter than a header';
  if ((msg[2]! & FLAG_QR) === 0) return 'not a response';
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let p = HEADER_SIZE;
  for (let i = 0; i < qd; i++) {
    const n = readName(msg, p);
    if (typeof n === 'string') return `question: ${n}`;
    p = n.end + 4;
    if (p > msg.length) return 'question runs past the message';
  }
  const answer: InRecord[] = [];
  for (let i = 0; i < an; i++) {
    const owner = readName(msg, p);
    if (typeof owner === 'string') return `record ${i + 1}: ${owner}`;
    p = owner.end;
    if (p + 10 > msg.length) return `record ${i + 1} runs past the message`;
    const type = msg.readUInt16BE(p);
    const cls = msg.readUInt16BE(p + 2);
    const ttl = msg.readUInt32BE(p + 4);
    const rdlength = msg.readUInt16BE(p + 8);
    p += 10;
    if (p + rdlength > msg.length) return `record ${i + 1}: RDATA runs past the message`;
    const rdata = expandRdata(msg, type, p, p + rdlength);
    if (typeof rdata === 'string') return `record ${i + 1}: ${rdata}`;
    p += rdlength;
    if (cls === CLASS.IN) answer.push({ owner: owner.wire, type, ttl, rdata });
  }
  return { id: msg.readUInt16BE(0), opcode: (msg[2]! >> 3) & 0x0f, rcode: msg[3]! & 0x0f, aa: (msg[2]! & 0x04) !== 0, tc: (msg[2]! & 0x02) !== 0, answer };
}

/** The name at `at`, compression pointers followed (RFC 1035 §4.1.4), uncompressed; and where it ends in the message. */
function readName(msg: Buffer, at: number): { wire: Buffer; end: number } | string {
  const out = Buffer.allocUnsafe(MAX_NAME_LENGTH);
  let o = 0;
  let p = at;
  let end = -1;
  for (let jumps = 0; ; ) {
    if (p >= msg.length) return 'a name runs past the message';
    const len = msg[p]!;
    if ((len & 0xc0) === 0xc0) {
      if (p + 1 >= msg.length) return 'a compression pointer runs past the message';
      if (end < 0) end = p + 2;
      // Pointers only go back; a loop would go on forever.
      const to = ((len & 0x3f) << 8) | msg[p + 1]!;
      if (to >= p || ++jumps > 127) return 'a compression pointer loops';
      p = to;
      continue;
    }
    if (len > MAX_LABEL_LENGTH) return 'a label of an unknown type';
    if (o + len + 1 > MAX_NAME_LENGTH || p + 1 + len > msg.length) return 'a name too long';
    msg.copy(out, o, p, p + 1 + len);
    o += len + 1;
    if (len === 0) {
      if (end < 0) end = p + 1;
      return { wire: Buffer.from(out.subarray(0, o)), end };
    }
    p += len + 1;
  }
}

/** RDATA `msg[start, end)` with its embedded names uncompressed, laid out by the type's descriptor; opaque when the type has none. */
function expandRdata(msg: Buffer, type: number, start: number, end: number): Buffer | string {
  const d = descriptorFor(type);
  if (d === undefined) return Buffer.from(msg.subarray(start, end));
  const parts: Buffer[] = [];
  let p = start;
  for (const block of d.wire) {
    if (typeof block === 'number') {
      if (p + block > end) return 'RDATA too short for its type';
      parts.push(msg.subarray(p, p + block));
      p += block;
    } else if (block === 'naptr') {
      const from = p;
      p += 4;
      for (let k = 0; k < 3; k++) {
        if (p >= end) return 'RDATA too short for its type';
        p += 1 + msg[p]!;
      }
      if (p > end) return 'RDATA too short for its type';
      parts.push(msg.subarray(from, p));
    } else if (block === 'rest') {
      parts.push(msg.subarray(p, end));
      p = end;
    } else {
      // Only the RFC 1035 types' names may be compressed (RFC 3597 §4), but a receiver expands any it finds.
      const n = readName(msg, p);
      if (typeof n === 'string') return n;
      if (n.end > end) return 'a name runs past the RDATA';
      parts.push(n.wire);
      p = n.end;
    }
  }
  if (p !== end) return 'RDATA longer than its type allows';
  return Buffer.concat(parts);
}

/** One difference of an IXFR (RFC 1995 §4): from one serial to the next, the records gone and come. */
export interface IxfrDiff {
  from: InRecord;
  to: InRecord;
  deleted: InRecord[];
  added: InRecord[];
}

/** What a transfer brought. */
export type TransferContent =
  /** The primary's SOA alone: nothing newer than the serial asked from (RFC 1995 §4). */
  | { style: 'current'; soa: InRecord }
  /** The whole zone (AXFR, or IXFR answered AXFR-style): the SOA, then every other record. */
  | { style: 'axfr'; soa: InRecord; records: InRecord[] }
  | { style: 'ixfr'; soa: InRecord; diffs: IxfrDiff[] };

const enum State {
  Start,
  Second,
  Whole,
  Deleting,
  Adding,
  Done,
}

/**
 * The records of a transfer stream, one message at a time (RFC 5936 §2.2, RFC 1995 §4): throws an
 * Error naming what is wrong with the sequence; `content` is set once the closing SOA has come.
 */
export class TransferStream {
  private state = State.Start;
  private soa: InRecord | null = null;
  private serial = 0;
  private readonly records: InRecord[] = [];
  private readonly diffs: IxfrDiff[] = [];
  private messages = 0;
  content: TransferContent | null = null;
  /** Records taken so far. */
  count = 0;

  constructor(private readonly incremental: boolean) {}

  /** The answer records of the next message. */
  add(records: readonly InRecord[]): void {
    this.messages++;
    for (const r of records) this.take(r);
    // RFC 1995 §4: a reply of the SOA alone means the asker is current.
    if (this.state === State.Second && this.incremental && this.messages === 1 && this.count === 1) {
      this.content = { style: 'current', soa: this.soa! };
      this.state = State.Done;
    }
  }

  private take(r: InRecord): void {
    this.count++;
    const isSoa = r.type === T.SOA;
    switch (this.state) {
      case State.Start:
        if (!isSoa) throw new Error('the transfer does not begin with the SOA');
        this.soa = r;
        this.serial = soaSerial(r.rdata);
        this.state = State.Second;
        return;
      case State.Second:
        if (isSoa && this.incremental && soaSerial(r.rdata) !== this.serial) {
          this.diffs.push({ from: r, to: r, deleted: [], added: [] });
          this.state = State.Deleting;
          return;
        }
        this.state = State.Whole;
        this.take(r);
        this.count--;
        return;
      case State.Whole:
        if (isSoa) {
          if (soaSerial(r.rdata) !== this.serial) throw new Error(`a SOA of serial ${soaSerial(r.rdata)} inside the transfer of serial ${this.serial}`);
          this.content = { style: 'axfr', soa: this.soa!, records: this.records };
          this.state = State.Done;
          return;
        }
        this.records.push(r);
        return;
      case State.Deleting: {
        const d = this.diffs[this.diffs.length - 1]!;
        if (isSoa) {
          d.to = r;
          this.state = State.Adding;
        } else d.deleted.push(r);
        return;
      }
      case State.Adding: {
        const d = this.diffs[this.diffs.length - 1]!;
        if (!isSoa) {
          d.added.push(r);
          return;
        }
        const s = soaSerial(r.rdata);
        if (s === this.serial && soaSerial(d.to.rdata) === this.serial) {
          this.content = { style: 'ixfr', soa: this.soa!, diffs: this.diffs };
          this.state = State.Done;
          return;
        }
        if (s !== soaSerial(d.to.rdata)) throw new Error(`a difference from serial ${s} follows one to serial ${soaSerial(d.to.rdata)}`);
        this.diffs.push({ from: r, to: r, deleted: [], added: [] });
        this.state = State.Deleting;
        return;
      }
      case State.Done:
        throw new Error('records after the closing SOA');
    }
  }
}
