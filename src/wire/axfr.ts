// The messages of a full zone transfer (RFC 5936 §2.2): the SOA, every other record of the zone, the
// SOA again, split into messages. Pure: a zone and the query in, unsigned messages out, made one at a
// time so a big zone never sits in memory twice; the transport signs and sends them.

import { WireRRset, type RRset } from '../zone/rrset.js';
import { keyToWire } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';
import type { Zone } from '../zone/zone.js';
import { FLAG_AA, FLAG_QR, HEADER_SIZE } from './query.js';

/**
 * Messages are filled to about this many octets: more records a message cost fewer headers and
 * signatures, but the first octet of each waits for the last (BIND and Knot send messages of a few
 * tens of KiB).
 */
const MESSAGE_TARGET = 16 * 1024;
/** RFC 1035 §4.2.2: a TCP message is at most 65535 octets. */
const MESSAGE_MAX = 65535;

/** A response with only a header (from the query's ID, opcode and RD) and the query's question, with `rcode`. */
export function transferReply(query: Buffer, questionEnd: number, rcode: number): Buffer {
  const out = Buffer.from(query.subarray(0, questionEnd));
  out[2] = FLAG_QR | FLAG_AA | (query[2]! & 0x79);
  out[3] = rcode;
  out.writeUInt16BE(1, 4);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(0, 10);
  if (rcode !== 0) out[2]! &= ~FLAG_AA;
  return out;
}

/**
 * The transfer of `zone` asked by `query` (its question ends at `questionEnd`), leaving `reserve`
 * octets of each message for a signature. The first message carries the question (RFC 5936 §2.2.1);
 * later ones none. Each owner name is written whole once per message and then as a pointer to it.
 */
export function axfrMessages(zone: Zone, query: Buffer, questionEnd: number, reserve: number): Generator<Buffer> {
  return transferMessages(allRecords(zone), zone, query, questionEnd, reserve);
}

/**
 * Handed out between messages when making the next one takes long (a walk over a big zone that finds
 * little to send): the sender lets the event loop turn, so queries are answered meanwhile, and asks again.
 */
export const NOT_YET = Buffer.alloc(0);

/** `records` packed into the messages of a transfer of `zone` (see axfrMessages); a null record is a pause (NOT_YET). */
export function* transferMessages(records: Iterable<OutRecord | null>, zone: Zone, query: Buffer, questionEnd: number, reserve: number): Generator<Buffer> {
  const limit = MESSAGE_MAX - reserve;
  const target = Math.min(MESSAGE_TARGET, limit);
  let msg = new MessageBuilder(transferReply(query, questionEnd, 0), limit);
  for (const r of records) {
    if (r === null) {
      yield NOT_YET;
      continue;
    }
    if (msg.length >= target || !msg.fits(r)) {
      if (msg.count === 0) throw new Error(`a record of ${zone.originText} does not fit in a message`);
      yield msg.finish();
      msg = new MessageBuilder(transferReply(query, HEADER_SIZE, 0), limit);
      msg.withoutQuestion();
      if (!msg.fits(r)) throw new Error(`a record of ${zone.originText} does not fit in a message`);
    }
    msg.add(r);
  }
  yield msg.finish();
}

export interface OutRecord {
  owner: Buffer;
  type: number;
  ttl: number;
  rdata: Buffer;
}

/** The SOA record of `zone`. */
export function soaRecord(zone: Zone): OutRecord {
  return { owner: keyToWire(zone.origin), type: T.SOA, ttl: zone.soa.ttl, rdata: zone.soa.rdatas[0]! };
}

/** SOA, then every RRset but the SOA, then the SOA (RFC 5936 §2.2). */
export function* allRecords(zone: Zone): Generator<OutRecord> {
  const soa = soaRecord(zone);
  yield soa;
  for (const node of zone.nodes.values()) {
    const sets = node.rrsets;
    if (sets.length === 0) continue;
    const owner = node.name;
    for (const set of sets) {
      if (set.type === T.SOA && node.key === zone.origin) continue;
      yield* recordsOf(owner, set);
    }
  }
  yield soa;
}

/** The records of one RRset. */
export function* recordsOf(owner: Buffer, set: RRset): Generator<OutRecord> {
  for (const rdata of rdatasOf(set)) yield { owner, type: set.type, ttl: set.ttl, rdata };
}

/** The RDATA of each record, as views of the zone's buffer when the RRset is one (no copy). */
function* rdatasOf(set: RRset): Generator<Buffer> {
  if (set instanceof WireRRset) {
    for (let p = set.start; p < set.end; ) {
      const len = set.src.readUInt16BE(p);
      yield set.src.subarray(p + 2, p + 2 + len);
      p += 2 + len;
    }
  } else yield* set.rdatas;
}

class MessageBuilder {
  private readonly buf: Buffer;
  private at: number;
  count = 0;
  /** Where the last owner written in full starts, and which it was. */
  private lastOwner: Buffer | null = null;
  private lastOwnerAt = 0;

  constructor(header: Buffer, limit: number) {
    this.buf = Buffer.allocUnsafe(limit);
    this.at = header.copy(this.buf, 0);
  }

  withoutQuestion(): void {
    this.at = HEADER_SIZE;
    this.buf.writeUInt16BE(0, 4);
  }

  get length(): number {
    return this.at;
  }

  fits(r: OutRecord): boolean {
    return this.at + r.owner.length + 10 + r.rdata.length <= this.buf.length;
  }

  add(r: OutRecord): void {
    const b = this.buf;
    // RFC 1035 §4.1.4: a pointer needs the target within the first 16 KiB.
    if (this.lastOwner !== null && this.lastOwnerAt < 0x4000 && (this.lastOwner === r.owner || this.lastOwner.equals(r.owner))) {
      b.writeUInt16BE(0xc000 | this.lastOwnerAt, this.at);
      this.at += 2;
    } else {
      this.lastOwner = r.owner;
      this.lastOwnerAt = this.at;
      this.at += r.owner.copy(b, this.at);
    }
    b.writeUInt16BE(r.type, this.at);
    b.writeUInt16BE(CLASS.IN, this.at + 2);
    b.writeUInt32BE(r.ttl, this.at + 4);
    b.writeUInt16BE(r.rdata.length, this.at + 8);
    this.at += 10;
    this.at += r.rdata.copy(b, this.at);
    this.count++;
  }

  finish(): Buffer {
    this.buf.writeUInt16BE(this.count, 6);
    return Buffer.from(this.buf.subarray(0, this.at));
  }
}
