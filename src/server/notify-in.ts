// NOTIFY received (RFC 1996) for the secondary zones: taken only from one of the zone's primaries,
// by address and, when that primary has a TSIG key, signed with it; answered (same ID, the question,
// AA; signed when the request was) and then the zone is refreshed at once. From anyone else: REFUSED,
// as Knot and BIND answer; for a zone that is not a secondary here: NOTAUTH.
import type { NotifyInResult } from '../secondary/service.js';
import type { SecondaryZone } from '../secondary/config.js';
import { AddressBytes } from '../wire/address.js';
import { transferReply } from '../wire/axfr.js';
import { HEADER_SIZE, OPCODE_MASK, skipName } from '../wire/query.js';
import { RCODE_NOTAUTH, answerVerified, verifyRequest, type TsigKeyring } from '../wire/tsig.js';
import { keyFromText, keyToText, nameKey } from '../zone/name.js';
import { CLASS } from '../zone/types.js';
import { plainAddress } from './source-prefix.js';

const OPCODE_NOTIFY = 4;
const RCODE_FORMERR = 1;
const RCODE_REFUSED = 5;

/** Told of each NOTIFY answered: the zone (canonical), how it was taken, and from where. */
export type OnNotify = (zone: string, result: NotifyInResult, remote: string) => void;

export class NotifyIn {
  /** By the lookup key of the zone's name. */
  private zones = new Map<string, SecondaryZone>();
  private readonly addr = new AddressBytes();
  private readonly primary = new AddressBytes();

  constructor(
    zones: readonly SecondaryZone[],
    private readonly keys: TsigKeyring,
    private readonly onNotify: OnNotify,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.setZones(zones);
  }

  /** The secondary zones now (a catalog zone's members come and go). */
  setZones(zones: readonly SecondaryZone[]): void {
    this.zones = new Map(zones.map((z) => [keyFromText(z.origin, null), z]));
  }

  /** Whether `msg` is a NOTIFY request (this class answers it, not the query handler). */
  static isNotify(msg: Buffer): boolean {
    return msg.length >= HEADER_SIZE && (msg[2]! & 0x80) === 0 && (msg[2]! & OPCODE_MASK) >> 3 === OPCODE_NOTIFY;
  }

  /** The answer to a NOTIFY request from `remoteAddress`. */
  answer(msg: Buffer, remoteAddress: string): Buffer {
    const remote = plainAddress(remoteAddress);
    const qdcount = msg.readUInt16BE(4);
    const nameEnd = qdcount === 1 ? skipName(msg, HEADER_SIZE) : -1;
    // RFC 1996 §3.7: one question, the zone's SOA; the name is the first in the message, never compressed.
    if (nameEnd < 0 || nameEnd + 4 > msg.length || msg[nameEnd - 1] !== 0) {
      this.onNotify('.', 'formerr', remote);
      const bare = transferReply(msg, HEADER_SIZE, RCODE_FORMERR);
      bare.writeUInt16BE(0, 4);
      return bare;
    }
    const questionEnd = nameEnd + 4;
    const key = nameKey(msg, HEADER_SIZE);
    const origin = keyToText(key);
    const verdict = verifyRequest(msg, this.keys, this.now());
    const reply = (rcode: number): Buffer => answerVerified(verdict, transferReply(msg, questionEnd, rcode), questionEnd, this.now());
    const done = (result: NotifyInResult, rcode: number): Buffer => {
      this.onNotify(origin, result, remote);
      return reply(rcode);
    };
    if (verdict.status === 'formerr') return done('formerr', RCODE_FORMERR);
    if (verdict.status !== 'ok' && verdict.status !== 'unsigned') return done(verdict.status, RCODE_NOTAUTH);
    const zone = this.zones.get(key);
    if (zone === undefined || msg.readUInt16BE(nameEnd + 2) !== CLASS.IN) return done('notauth', RCODE_NOTAUTH);
    const signedWith = verdict.status === 'ok' ? verdict.key.key : null;
    const known = this.addr.parse(remote) > 0;
    const fromPrimary = zone.primaries.some((p) => {
      if (p.key !== null && p.key.key !== signedWith) return false;
      return known && this.primary.parse(p.host) === this.addr.length && this.addr.bytes.every((b, i) => i >= this.addr.length || b === this.primary.bytes[i]);
    });
    return fromPrimary ? done('accepted', 0) : done('refused', RCODE_REFUSED);
  }
}
