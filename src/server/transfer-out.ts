// Zone transfers out (AXFR, RFC 5936; IXFR, RFC 1995) over TCP: who may ask (the `transfer.allow`
// rules: a source prefix, a TSIG key, or both), TSIG checked and every message signed (RFC 8945),
// and the messages to send. IXFR is answered with the differences from the asker's version when
// that version is one this process transferred and still keeps (`transfer.ixfr_versions`), else
// with the whole zone, AXFR-style (RFC 1995 §4), or with the SOA alone when the asker is current.
import type { Logger } from '../log.js';
import type { TransferConfig } from '../ops/config.js';
import type { QueryCounters, TransferKind, TransferResult } from '../ops/query-counters.js';
import { AddressBytes, prefixContains } from '../wire/address.js';
import { NOT_YET, axfrMessages, transferReply } from '../wire/axfr.js';
import { ixfrMessages } from '../wire/ixfr.js';
import { ParseStatus, ParsedQuery, parseQuery, skipName } from '../wire/query.js';
import { RCODE_NOTAUTH, TsigSigner, answerVerified, tsigSize, verifyRequest, type TsigKey, type TsigKeyring } from '../wire/tsig.js';
import { MAX_NAME_LENGTH, keyToText } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';
import type { Zone, ZoneSet } from '../zone/zone.js';
import { plainAddress } from './source-prefix.js';

const RCODE_FORMERR = 1;
/** How often the versions kept for IXFR are checked for zones no longer served. */
const SWEEP_INTERVAL_S = 60;
const RCODE_REFUSED = 5;
/** RFC 1982 serial arithmetic: `a` is at or after `b`. */
function serialAtOrAfter(a: number, b: number): boolean {
  return a === b || ((a - b) >>> 0) < 0x80000000;
}

/** A transfer to send: the messages in order (already signed when asked with TSIG), and what to log and count when done. */
export interface OutgoingTransfer {
  /** NOT_YET (an empty Buffer) between two messages: send nothing now, ask again on the next turn of the event loop. */
  readonly messages: Iterator<Buffer>;
  /** Called once the last message is written (`ok`), or when the connection failed midway. */
  done(ok: boolean, bytes: number): void;
}

export class TransferOut {
  private readonly q = new ParsedQuery();
  private readonly name = Buffer.allocUnsafe(MAX_NAME_LENGTH + 5);
  private readonly addr = new AddressBytes();
  /** Per zone, the versions transferred before the one served, oldest first: what an IXFR can start from. */
  private readonly sent = new Map<string, Zone[]>();
  /** When (seconds) `sent` was last cleared of zones no longer served. */
  private sweptAt = 0;

  constructor(
    private readonly cfg: TransferConfig,
    private readonly keys: TsigKeyring,
    private readonly zones: () => ZoneSet,
    private readonly metrics: QueryCounters,
    private readonly log: Logger,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  /** The answer to `msg` when it asks for a transfer (AXFR or IXFR in class IN); null for any other query. */
  answer(msg: Buffer, remoteAddress: string): OutgoingTransfer | null {
    if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return null;
    const q = this.q;
    const status = parseQuery(msg, q, this.name);
    if (status !== ParseStatus.Ok || (q.qtype !== T.AXFR && q.qtype !== T.IXFR) || q.qclass !== CLASS.IN) return null;
    const kind: TransferKind = q.qtype === T.AXFR ? 'axfr' : 'ixfr';
    const origin = this.name.toString('latin1', 0, q.qnameEnd - 12);
    const remote = plainAddress(remoteAddress);
    const now = this.now();
    const verdict = verifyRequest(msg, this.keys, now);
    const refuse = (result: TransferResult, reply: Buffer): OutgoingTransfer => {
      this.metrics.transferOut(kind, result, 0);
      this.log.info({ zone: keyToText(origin), kind, remote, result }, 'zone transfer refused');
      return single(reply);
    };
    if (verdict.status !== 'ok' && verdict.status !== 'unsigned') {
      const rcode = verdict.status === 'formerr' ? RCODE_FORMERR : RCODE_NOTAUTH;
      return refuse(verdict.status, answerVerified(verdict, transferReply(msg, q.questionEnd, rcode), q.questionEnd, now));
    }
    const key = verdict.status === 'ok' ? verdict.key : null;
    const signer = key === null ? null : new TsigSigner(key, now, verdict.status === 'ok' ? verdict.tsig.mac : null);
    const sign = (m: Buffer): Buffer => (signer === null || m === NOT_YET ? m : signer.sign(m));
    const served = this.zones();
    // An expired secondary zone is not handed on: its data can no longer be vouched for (RFC 1034 §4.3.5).
    const zone = served.expired.has(origin) ? undefined : served.zones.get(origin);
    // RFC 5936 §2.2.1 leaves it open; Knot and BIND both answer NOTAUTH for a zone they don't serve.
    if (zone === undefined) return refuse('notauth', sign(transferReply(msg, q.questionEnd, RCODE_NOTAUTH)));
    if (!this.allowed(remote, key)) return refuse('refused', sign(transferReply(msg, q.questionEnd, RCODE_REFUSED)));
    const clientSerial = kind === 'ixfr' ? ixfrSerial(msg, q.questionEnd) : null;
    const upToDate = clientSerial !== null && serialAtOrAfter(clientSerial, zone.serial);
    const reserve = key === null ? 0 : tsigSize(key);
    const versions = this.remember(origin, zone, now);
    const from = clientSerial === null || upToDate ? undefined : versions.find((v) => v !== zone && v.serial === clientSerial);
    const style = upToDate ? 'soa' : from !== undefined ? 'ixfr' : 'axfr';
    const unsigned =
      style === 'soa' ? soaOnly(zone, msg, q.questionEnd) : from !== undefined ? ixfrMessages(from, zone, msg, q.questionEnd, reserve) : axfrMessages(zone, msg, q.questionEnd, reserve);
    const keyName = key?.name;
    return {
      messages: mapIterator(unsigned, sign),
      done: (ok, bytes) => {
        this.metrics.transferOut(kind, ok ? 'ok' : 'failed', bytes);
        const fields = { zone: zone.originText, kind, remote, serial: zone.serial, from: from?.serial, key: keyName, bytes, style };
        if (ok) this.log.info(fields, 'zone transfer out');
        else this.log.warn(fields, 'zone transfer out failed: the connection ended');
      },
    };
  }

  /**
   * Notes that `zone` is being sent; returns the earlier versions kept (the served one last). The
   * versions of zones no longer served are let go at most a minute later.
   */
  private remember(origin: string, zone: Zone, now: number): Zone[] {
    if (now - this.sweptAt >= SWEEP_INTERVAL_S) {
      this.sweptAt = now;
      const served = this.zones().zones;
      for (const o of this.sent.keys()) if (!served.has(o)) this.sent.delete(o);
    }
    let versions = this.sent.get(origin);
    if (versions === undefined) this.sent.set(origin, (versions = []));
    if (versions[versions.length - 1] !== zone) versions.push(zone);
    // The served version and ixfrVersions before it.
    while (versions.length > this.cfg.ixfrVersions + 1) versions.shift();
    return versions;
  }

  /** True when a rule lets `remote`, signed with `key` (null: unsigned), transfer. */
  private allowed(remote: string, key: TsigKey | null): boolean {
    const addr = this.addr;
    const known = addr.parse(remote) > 0;
    return this.cfg.allow.some((r) => (r.key === null || r.key === key?.key) && (r.prefix === null || (known && prefixContains(r.prefix, addr))));
  }
}

/** The serial of the SOA an IXFR query carries in its authority section (RFC 1995 §3); null when it has none. */
function ixfrSerial(msg: Buffer, questionEnd: number): number | null {
  if (msg.readUInt16BE(8) < 1) return null;
  // The SOA's owner is the zone's name, usually a pointer to the question; MNAME and RNAME are names too.
  let p = skipName(msg, questionEnd);
  if (p < 0 || p + 10 > msg.length || msg.readUInt16BE(p) !== T.SOA) return null;
  p += 10;
  p = skipName(msg, p);
  p = p < 0 ? -1 : skipName(msg, p);
  if (p < 0 || p + 4 > msg.length) return null;
  return msg.readUInt32BE(p);
}

function soaOnly(zone: Zone, msg: Buffer, questionEnd: number): Iterator<Buffer> {
  const reply = transferReply(msg, questionEnd, 0);
  const soa = zone.soa.rdatas[0]!;
  const record = Buffer.allocUnsafe(2 + 10 + soa.length);
  // The owner: a pointer to the question's name (RFC 1035 §4.1.4).
  record.writeUInt16BE(0xc00c, 0);
  record.writeUInt16BE(T.SOA, 2);
  record.writeUInt16BE(CLASS.IN, 4);
  record.writeUInt32BE(zone.soa.ttl, 6);
  record.writeUInt16BE(soa.length, 10);
  soa.copy(record, 12);
  const out = Buffer.concat([reply, record]);
  out.writeUInt16BE(1, 6);
  return [out][Symbol.iterator]();
}

function single(reply: Buffer): OutgoingTransfer {
  return { messages: [reply][Symbol.iterator](), done: () => {} };
}

function* mapIterator(it: Iterator<Buffer>, f: (b: Buffer) => Buffer): Generator<Buffer> {
  for (let r = it.next(); r.done !== true; r = it.next()) yield f(r.value);
}
