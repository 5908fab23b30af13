// DNS cookies (RFC 7873) with the interoperable server cookie of RFC 9018: Version 1, three reserved
// octets, a 32-bit timestamp and the SipHash-2-4 of Client Cookie | Version | Reserved | Timestamp |
// Client IP under a secret shared by every POP of the anycast address, so a client that reaches
// another POP still holds a valid cookie. A second secret is accepted while secrets are rotated.
//
// Pure but for processCookieSecret: the caller passes the time in seconds and the client's address octets.

import { randomFillSync } from 'node:crypto';
import type { Logger } from '../log.js';
import type { AddressBytes } from './address.js';
import { SipKey, sipHash24 } from './siphash.js';

/** EDNS option code of COOKIE (RFC 7873 §4). */
export const COOKIE_OPTION = 10;
/** A client cookie is 8 octets (RFC 7873 §4.1). */
const CLIENT_COOKIE_LENGTH = 8;
/** Ours: version, reserved, timestamp, hash (RFC 9018 §4.2). */
export const SERVER_COOKIE_LENGTH = 16;
/** The option data we answer with: the client's cookie and ours. */
export const COOKIE_REPLY_LENGTH = CLIENT_COOKIE_LENGTH + SERVER_COOKIE_LENGTH;
/** RFC 7873 §8: BADCOOKIE, an extended rcode (needs the OPT record). */
export const RCODE_BADCOOKIE = 23;

/** RFC 9018 §4.3: a cookie is good for an hour, and up to five minutes ahead of our clock. */
const MAX_AGE = 3600;
const MAX_AHEAD = 300;
/** RFC 9018 §4.3: past half an hour a valid cookie is replaced by a new one. */
const RENEW_AGE = 1800;
const VERSION = 1;

/** What a query's COOKIE option proved. */
export const enum CookieStatus {
  /** No COOKIE option (or cookies not answered). */
  None = 0,
  /** Only a client cookie (RFC 7873 §5.2.3): answered with a new server cookie. */
  ClientOnly = 1,
  /** A server cookie that isn't (or is no longer) ours (RFC 7873 §5.2.4): answered with a new one. */
  Invalid = 2,
  /** A server cookie we issued to this address within the hour (RFC 7873 §5.2.5). */
  Valid = 3,
}

/** True when `length` octets of COOKIE option data are well formed (RFC 7873 §5.2.2: else FORMERR). */
export function cookieLengthOk(length: number): boolean {
  return length === CLIENT_COOKIE_LENGTH || (length >= 16 && length <= 40);
}

export class ServerCookies {
  private readonly current: SipKey;
  private readonly previous: SipKey | null;
  /** SipHash input: client cookie (8) | version (1) | reserved (3) | timestamp (4) | address (4 or 16). */
  private readonly input = new Uint8Array(32);
  private readonly hash = new Uint8Array(8);
  /** Set by check(): the cookie is valid but should be replaced by a new one (RFC 9018 §4.3). */
  renew = false;

  /** `secret` and `previous` are 16 octets each. */
  constructor(secret: Uint8Array, previous: Uint8Array | null = null) {
    this.current = new SipKey(secret);
    this.previous = previous === null ? null : new SipKey(previous);
  }

  /** What the COOKIE option `msg[at, at + length)` (a length cookieLengthOk allows) proves for a query from `ip`. */
  check(msg: Uint8Array, at: number, length: number, ip: AddressBytes, nowSeconds: number): CookieStatus {
    this.renew = false;
    if (length === CLIENT_COOKIE_LENGTH) return CookieStatus.ClientOnly;
    if (length !== COOKIE_REPLY_LENGTH || msg[at + 8] !== VERSION) return CookieStatus.Invalid;
    const stamp = ((msg[at + 12]! << 24) | (msg[at + 13]! << 16) | (msg[at + 14]! << 8) | msg[at + 15]!) >>> 0;
    // RFC 9018 §4.3: timestamps are compared in serial number arithmetic (RFC 1982).
    const age = (nowSeconds - stamp) | 0;
    if (age > MAX_AGE || age < -MAX_AHEAD) return CookieStatus.Invalid;
    const n = this.fill(msg, at, ip);
    for (let k = 0; k < 2; k++) {
      const key = k === 0 ? this.current : this.previous;
      if (key === null) break;
      sipHash24(key, this.input, 0, n, this.hash, 0);
      if (sameOctets(this.hash, msg, at + 16)) {
        // A cookie of the previous secret is replaced, so clients move to the new one (RFC 9018 §4.4).
        this.renew = age > RENEW_AGE || k === 1;
        return CookieStatus.Valid;
      }
    }
    return CookieStatus.Invalid;
  }

  /** Writes a new server cookie for the client cookie `msg[at, at + 8)` and `ip`, at `nowSeconds`, to `out[pos, pos + 16)`. */
  issue(msg: Uint8Array, at: number, ip: AddressBytes, nowSeconds: number, out: Uint8Array, pos: number): void {
    const input = this.input;
    for (let i = 0; i < 8; i++) input[i] = msg[at + i]!;
    input[8] = VERSION;
    input[9] = input[10] = input[11] = 0;
    input[12] = nowSeconds >>> 24;
    input[13] = (nowSeconds >>> 16) & 0xff;
    input[14] = (nowSeconds >>> 8) & 0xff;
    input[15] = nowSeconds & 0xff;
    const n = 16 + copyAddress(ip, input);
    for (let i = 0; i < 8; i++) out[pos + i] = input[8 + i]!;
    sipHash24(this.current, input, 0, n, out, pos + 8);
  }

  /** The hash input for the cookie at `msg[at, at + 24)` as sent; returns its length. */
  private fill(msg: Uint8Array, at: number, ip: AddressBytes): number {
    const input = this.input;
    for (let i = 0; i < 16; i++) input[i] = msg[at + i]!;
    return 16 + copyAddress(ip, input);
  }
}

function copyAddress(ip: AddressBytes, input: Uint8Array): number {
  const n = ip.length;
  for (let i = 0; i < n; i++) input[16 + i] = ip.bytes[i]!;
  return n;
}

function sameOctets(hash: Uint8Array, msg: Uint8Array, at: number): boolean {
  let diff = 0;
  for (let i = 0; i < 8; i++) diff |= hash[i]! ^ msg[at + i]!;
  return diff === 0;
}

/** Section `cookies`: 16-octet secrets shared by every POP; null when not configured. */
export interface CookieConfig {
  secret: Buffer | null;
  secretPrevious: Buffer | null;
}

/**
 * The process's random secret, used when none is configured: drawn once and handed to every
 * answering thread, so a cookie made by one is accepted by the others.
 */
export function processCookieSecret(): Uint8Array {
  return randomFillSync(new Uint8Array(16));
}

/**
 * The DNS cookie secrets: the configured ones, shared by every POP; else `processSecret` (from
 * processCookieSecret), with a warning (another POP won't accept its cookies) when `log` is given:
 * the threads of one process share the secret, and one of them says so.
 */
export function serverCookies(cfg: CookieConfig, processSecret: Uint8Array, log: Logger | null): ServerCookies {
  if (cfg.secret !== null) return new ServerCookies(cfg.secret, cfg.secretPrevious);
  log?.warn('no cookies.secret configured: server cookies use a random secret of this process, which other POPs will not accept');
  return new ServerCookies(processSecret);
}
