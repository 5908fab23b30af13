// TSIG (RFC 8945): HMAC signatures on DNS messages, for single messages and for the multi-message
// streams of zone transfers. Pure: messages and a clock value in, messages and verdicts out; the
// HMACs come from node:crypto.

import { createHmac, timingSafeEqual, type Hmac } from 'node:crypto';
import { keyToText, keyToWire, nameKey, nameFromText, wireNameLength } from '../zone/name.js';
import { HEADER_SIZE, skipName } from './query.js';
import { CLASS, T } from '../zone/types.js';

/** The TSIG RR's class (RFC 8945 §4.2), which is fixed. */
const CLASS_ANY = CLASS.ANY;
/** RFC 8945 §5.2: the rcode of every TSIG error response. */
export const RCODE_NOTAUTH = 9;
/** Extended errors carried in the TSIG RR's Error field (RFC 8945 §3). */
export const TSIG_ERROR = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
/** RFC 8945 §10: 300 seconds of clock difference are allowed. */
const DEFAULT_FUDGE = 300;
/** RFC 8945 §5.3.1: at most 99 messages in a row of a stream may go unsigned. */
const MAX_UNSIGNED_IN_A_ROW = 99;

/** RFC 8945 §6: algorithm names and the hash each uses (HMAC-MD5 is not offered: §6 says MUST NOT for new use). */
const ALGORITHMS = {
  'hmac-sha1': 'sha1',
  'hmac-sha224': 'sha224',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
} as const;
type TsigAlgorithm = keyof typeof ALGORITHMS;
const TSIG_ALGORITHMS = Object.keys(ALGORITHMS) as TsigAlgorithm[];

export interface TsigKey {
  /** Presentation form, lower case, absolute (`transfer-key.`). */
  readonly name: string;
  /** Lookup key of the name (zone/name.ts). */
  readonly key: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** Keys by the lookup key of their name. */
export type TsigKeyring = ReadonlyMap<string, TsigKey>;

/** A key from its name, algorithm and base64 secret; throws an Error saying what is wrong. */
export function tsigKey(name: string, algorithm: string, secretBase64: string): TsigKey {
  const alg = algorithm.toLowerCase().replace(/\.$/, '');
  if (!(alg in ALGORITHMS)) throw new Error(`unknown algorithm "${algorithm}" (one of ${TSIG_ALGORITHMS.join(', ')})`);
  const text = secretBase64.replace(/\s+/g, '');
  if (text === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error('the secret is not base64');
  let wire: Buffer;
  try {
    wire = nameFromText(name.endsWith('.') ? name : name + '.', null);
  } catch (err) {
    throw new Error(`"${name}" is not a domain name: ${(err as Error).message}`, { cause: err });
  }
  const key = nameKey(wire);
  return { name: keyToText(key), key, algorithm: alg as TsigAlgorithm, secret: Buffer.from(text, 'base64') };
}

/** The TSIG record of a message, as read (RFC 8945 §4.2). */
export interface TsigRecord {
  /** Offset of the record's owner name: the message without TSIG is `msg[0, at)`. */
  readonly at: number;
  /** Lookup keys of the key name and the algorithm name. */
  readonly keyName: string;
  readonly algorithm: string;
  /** Seconds since the epoch (48 bits). */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Buffer;
}

/**
 * The message's TSIG record: null when it has none; 'formerr' when it is malformed or not the last
 * record of the additional section (RFC 8945 §5.1: it MUST be the last, and there MUST be only one).
 */
export function readTsig(msg: Buffer): TsigRecord | null | 'formerr' {
  if (msg.length < HEADER_SIZE) return 'formerr';
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)];
  if (counts[3] === 0) return null;
  let p = HEADER_SIZE;
  for (let i = 0; i < counts[0]!; i++) {
    p = skipName(msg, p);
    if (p < 0 || p + 4 > msg.length) return 'formerr';
    p += 4;
  }
  const records = counts[1]! + counts[2]! + counts[3]!;
  let lastAt = -1;
  let lastType = -1;
  for (let i = 0; i < records; i++) {
    const at = p;
    p = skipName(msg, p);
    if (p < 0 || p + 10 > msg.length) return 'formerr';
    const type = msg.readUInt16BE(p);
    const rdlength = msg.readUInt16BE(p + 8);
    p += 10 + rdlength;
    if (p > msg.length) return 'formerr';
    if (type === T.TSIG && i < records - 1) return 'formerr';
    lastAt = at;
    lastType = type;
  }
  if (lastType !== T.TSIG) return null;
  // The TSIG owner and algorithm are never compressed (RFC 8945 §4.2).
  const ownerLength = wireNameLength(msg, lastAt);
  if (ownerLength < 0) return 'formerr';
  let r = lastAt + ownerLength;
  if (msg.readUInt16BE(r + 2) !== CLASS_ANY || msg.readUInt32BE(r + 4) !== 0) return 'formerr';
  const rdEnd = r + 10 + msg.readUInt16BE(r + 8);
  r += 10;
  const algLength = wireNameLength(msg, r);
  if (algLength < 0 || r + algLength + 10 > rdEnd) return 'formerr';
  const algorithm = nameKey(msg, r);
  r += algLength;
  const timeSigned = msg.readUIntBE(r, 6);
  const fudge = msg.readUInt16BE(r + 6);
  const macSize = msg.readUInt16BE(r + 8);
  r += 10;
  if (r + macSize + 6 > rdEnd) return 'formerr';
  const mac = msg.subarray(r, r + macSize);
  r += macSize;
  const originalId = msg.readUInt16BE(r);
  const error = msg.readUInt16BE(r + 2);
  const otherLength = msg.readUInt16BE(r + 4);
  r += 6;
  if (r + otherLength !== rdEnd) return 'formerr';
  return { at: lastAt, keyName: nameKey(msg, lastAt), algorithm, timeSigned, fudge, mac, originalId, error, otherData: msg.subarray(r, rdEnd) };
}

/** The fields of a TSIG record to write; the MAC comes from the signer. */
interface TsigFields {
  timeSigned: number;
  fudge: number;
  error: number;
  otherData: Buffer;
}

/**
 * `msg` as it was before its TSIG was added (RFC 8945 §4.3.1): the record cut off, ARCOUNT one less,
 * the ID put back to the original one.
 */
function unsignedForm(msg: Buffer, t: TsigRecord): Buffer {
  const out = Buffer.from(msg.subarray(0, t.at));
  out.writeUInt16BE(t.originalId, 0);
  out.writeUInt16BE(msg.readUInt16BE(10) - 1, 10);
  return out;
}

function hmacOf(key: TsigKey): Hmac {
  return createHmac(ALGORITHMS[key.algorithm], key.secret);
}

/** RFC 8945 §4.3.2/§4.3.3: a MAC given with its 2-octet length, as the digest takes a request's or the prior MAC. */
function updateWithMac(h: Hmac, mac: Buffer): void {
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16BE(mac.length, 0);
  h.update(len);
  h.update(mac);
}

/** RFC 8945 §4.3.3: the TSIG variables, all of them (`timersOnly` false) or only Time Signed and Fudge. */
function updateWithVariables(h: Hmac, key: TsigKey, f: TsigFields, timersOnly: boolean): void {
  if (!timersOnly) {
    h.update(keyToWire(key.key));
    h.update(Buffer.from([CLASS_ANY >> 8, CLASS_ANY & 0xff, 0, 0, 0, 0]));
    h.update(algorithmWire(key));
  }
  const timers = Buffer.allocUnsafe(8);
  timers.writeUIntBE(f.timeSigned, 0, 6);
  timers.writeUInt16BE(f.fudge, 6);
  h.update(timers);
  if (!timersOnly) {
    const rest = Buffer.allocUnsafe(4);
    rest.writeUInt16BE(f.error, 0);
    rest.writeUInt16BE(f.otherData.length, 2);
    h.update(rest);
    h.update(f.otherData);
  }
}

function algorithmWire(key: TsigKey): Buffer {
  return nameFromText(key.algorithm + '.', null);
}

/** `msg` (an unsigned message) with a TSIG record of key `owner` and algorithm `alg` (wire names) appended: ARCOUNT one more. */
function appendTsig(msg: Buffer, owner: Buffer, alg: Buffer, f: TsigFields, mac: Buffer): Buffer {
  const rdlength = alg.length + 10 + mac.length + 6 + f.otherData.length;
  const out = Buffer.allocUnsafe(msg.length + owner.length + 10 + rdlength);
  msg.copy(out, 0);
  out.writeUInt16BE(msg.readUInt16BE(10) + 1, 10);
  let p = msg.length;
  p += owner.copy(out, p);
  out.writeUInt16BE(T.TSIG, p);
  out.writeUInt16BE(CLASS_ANY, p + 2);
  out.writeUInt32BE(0, p + 4);
  out.writeUInt16BE(rdlength, p + 8);
  p += 10;
  p += alg.copy(out, p);
  out.writeUIntBE(f.timeSigned, p, 6);
  out.writeUInt16BE(f.fudge, p + 6);
  out.writeUInt16BE(mac.length, p + 8);
  p += 10;
  p += mac.copy(out, p);
  out.writeUInt16BE(msg.readUInt16BE(0), p);
  out.writeUInt16BE(f.error, p + 2);
  out.writeUInt16BE(f.otherData.length, p + 4);
  p += 6;
  f.otherData.copy(out, p);
  return out;
}

/** Octets a TSIG record of `key` adds to a message (with no Other Data): room a sender must leave. */
export function tsigSize(key: TsigKey): number {
  const macLength = createHmac(ALGORITHMS[key.algorithm], key.secret).digest().length;
  return key.key.length + 10 + algorithmWire(key).length + 10 + macLength + 6;
}

/**
 * Signs the messages of one side of an exchange, in order (RFC 8945 §4.3): a request (no request
 * MAC), or the responses to a request whose MAC is given, the first with every TSIG variable and the
 * rest of a stream with the prior MAC and the timers only (§4.3.3, §5.3.1). Every message is signed.
 */
export class TsigSigner {
  private prior: Buffer | null;
  private first = true;

  constructor(
    private readonly key: TsigKey,
    /** Seconds since the epoch, as Time Signed. */
    private readonly now: number,
    requestMac: Buffer | null = null,
    private readonly fudge = DEFAULT_FUDGE,
  ) {
    this.prior = requestMac;
  }

  /** The MAC of the last message signed. */
  get mac(): Buffer | null {
    return this.first ? null : this.prior;
  }

  sign(msg: Buffer, error = 0, otherData: Buffer = Buffer.alloc(0)): Buffer {
    return this.signAt(msg, { timeSigned: this.now, fudge: this.fudge, error, otherData });
  }

  /** RFC 8945 §5.2.3: a BADTIME answer is signed, carries the request's Time Signed, and our time in Other Data. */
  signBadTime(msg: Buffer, requestTime: number): Buffer {
    const other = Buffer.allocUnsafe(6);
    other.writeUIntBE(this.now, 0, 6);
    return this.signAt(msg, { timeSigned: requestTime, fudge: this.fudge, error: TSIG_ERROR.BADTIME, otherData: other });
  }

  private signAt(msg: Buffer, f: TsigFields): Buffer {
    const h = hmacOf(this.key);
    if (this.prior !== null) updateWithMac(h, this.prior);
    h.update(msg);
    updateWithVariables(h, this.key, f, !this.first);
    const mac = h.digest();
    this.prior = mac;
    this.first = false;
    return appendTsig(msg, keyToWire(this.key.key), algorithmWire(this.key), f, mac);
  }
}

/** RFC 8945 §5.2 and §5.3.2: an unsigned answer (empty MAC) carrying a TSIG error about `request`'s record. */
export function tsigErrorRecord(msg: Buffer, request: TsigRecord, error: number, now: number): Buffer {
  // The record names the key and algorithm the request used, known to us or not.
  const f = { timeSigned: now, fudge: request.fudge, error, otherData: Buffer.alloc(0) };
  return appendTsig(msg, keyToWire(request.keyName), keyToWire(request.algorithm), f, Buffer.alloc(0));
}

/** What checking a message's TSIG found. */
export type TsigVerdict =
  | { status: 'ok'; key: TsigKey; tsig: TsigRecord }
  /** No TSIG record. */
  | { status: 'unsigned' }
  /** Malformed TSIG, or not last (answer FORMERR). */
  | { status: 'formerr' }
  /** Answer NOTAUTH with this TSIG error (RFC 8945 §5.2). */
  | { status: 'badkey' | 'badsig' | 'badtime'; tsig: TsigRecord; key: TsigKey | null };

/** RFC 8945 §5.2.2.1: a MAC shorter than this is malformed; between this and the full length, it is a truncated one. */
function minMacLength(full: number): number {
  return Math.max(10, full >> 1);
}

/** The MAC in `t` against the one computed: full or truncated (RFC 8945 §5.2.2.1); null when malformed. */
function macMatches(want: Buffer, t: TsigRecord): boolean | null {
  if (t.mac.length > want.length || t.mac.length < minMacLength(want.length)) return null;
  return timingSafeEqual(want.subarray(0, t.mac.length), t.mac);
}

/** RFC 8945 §5.2.3: Time Signed within Fudge of our clock. */
function inTime(t: TsigRecord, now: number): boolean {
  return Math.abs(now - t.timeSigned) <= t.fudge;
}

/**
 * Checks a request's TSIG against the keys we hold (RFC 8945 §5.2): key and algorithm, then the MAC,
 * then the time, in that order.
 */
export function verifyRequest(msg: Buffer, keys: TsigKeyring, now: number): TsigVerdict {
  const t = readTsig(msg);
  if (t === null) return { status: 'unsigned' };
  if (t === 'formerr') return { status: 'formerr' };
  const key = keys.get(t.keyName);
  if (key === undefined || keyToWire(t.algorithm).compare(algorithmWire(key)) !== 0) return { status: 'badkey', tsig: t, key: null };
  const h = hmacOf(key);
  h.update(unsignedForm(msg, t));
  updateWithVariables(h, key, t, false);
  const ok = macMatches(h.digest(), t);
  if (ok === null) return { status: 'formerr' };
  if (!ok) return { status: 'badsig', tsig: t, key };
  if (!inTime(t, now)) return { status: 'badtime', tsig: t, key };
  return { status: 'ok', key, tsig: t };
}

/**
 * Checks the responses to a signed request, one message at a time (RFC 8945 §5.3): the first must be
 * signed; later ones of a stream may go unsigned, at most 99 in a row, and are then covered by the
 * next signed one, which the stream must end with (`finished`).
 */
export class TsigVerifier {
  private prior: Buffer;
  private first = true;
  /** Unsigned messages since the last signed one, in their unsigned form. */
  private unsigned: Buffer[] = [];

  constructor(
    private readonly key: TsigKey,
    requestMac: Buffer,
    private readonly now: () => number,
  ) {
    this.prior = requestMac;
  }

  /** True when the last message checked was signed: a stream may end there. */
  get finished(): boolean {
    return !this.first && this.unsigned.length === 0;
  }

  /** 'ok' or why the message fails (TSIG errors sent by the other side included: 'badkey' and so on as `error`). */
  check(msg: Buffer): 'ok' | 'unsigned' | 'formerr' | 'badsig' | 'badtime' | 'wrongkey' | { error: number } {
    const t = readTsig(msg);
    if (t === 'formerr') return 'formerr';
    if (t === null) {
      if (this.first || this.unsigned.length >= MAX_UNSIGNED_IN_A_ROW) return 'unsigned';
      this.unsigned.push(msg);
      return 'ok';
    }
    if (t.keyName !== this.key.key || keyToWire(t.algorithm).compare(algorithmWire(this.key)) !== 0) return 'wrongkey';
    // An error answer (BADKEY, BADSIG) comes with an empty MAC: nothing to check, the error says it all.
    if (t.error !== 0 && t.mac.length === 0) return { error: t.error };
    const h = hmacOf(this.key);
    updateWithMac(h, this.prior);
    for (const m of this.unsigned) h.update(m);
    h.update(unsignedForm(msg, t));
    updateWithVariables(h, this.key, t, !this.first);
    const mac = h.digest();
    const ok = macMatches(mac, t);
    if (ok === null) return 'formerr';
    if (!ok) return 'badsig';
    if (!inTime(t, this.now())) return 'badtime';
    if (t.error !== 0) return { error: t.error };
    this.prior = t.mac.length === mac.length ? mac : Buffer.from(t.mac);
    this.first = false;
    this.unsigned = [];
    return 'ok';
  }
}

/**
 * The answer to a request whose TSIG was checked (RFC 8945 §5.2, §5.3): `response` signed with the
 * request's key when it verified; the TSIG error, NOTAUTH, with the response's header and question
 * only, when it did not; `response` as it is for an unsigned request.
 */
export function answerVerified(verdict: TsigVerdict, response: Buffer, questionEnd: number, now: number): Buffer {
  if (verdict.status === 'unsigned' || verdict.status === 'formerr') return response;
  if (verdict.status === 'ok') return new TsigSigner(verdict.key, now, verdict.tsig.mac).sign(response);
  const bare = Buffer.from(response.subarray(0, questionEnd));
  bare[3] = (bare[3]! & 0xf0) | RCODE_NOTAUTH;
  bare.writeUInt32BE(0, 6);
  bare.writeUInt16BE(0, 10);
  // RFC 8945 §5.2.3: a BADTIME answer is signed; BADKEY and BADSIG ones cannot be (§5.3.2).
  if (verdict.status === 'badtime') return new TsigSigner(verdict.key!, now, verdict.tsig.mac).signBadTime(bare, verdict.tsig.timeSigned);
  return tsigErrorRecord(bare, verdict.tsig, verdict.status === 'badkey' ? TSIG_ERROR.BADKEY : TSIG_ERROR.BADSIG, now);
}
