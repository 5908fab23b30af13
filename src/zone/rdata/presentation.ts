// Presentation-format field parsers and printers shared by the type descriptors: integers,
// character-strings (RFC 1035 §5.1 escapes), hex, base64, base32hex, IPv4/IPv6 addresses.
// Parsers throw RdataError naming the field; none uses a regular expression (they run per record).

import { RdataError, type RdataField } from './descriptor.js';
import type { RdataWriter } from './writer.js';
import { parseTtl } from '../ttl.js';

// ---- field counts -------------------------------------------------------------------------------

export function expectFields(fields: readonly RdataField[], n: number, what: string): void {
  if (fields.length !== n) {
    throw new RdataError(`${what} needs ${n} field${n === 1 ? '' : 's'}, got ${fields.length}`, fields[n] ?? fields[fields.length - 1]);
  }
}

export function expectAtLeast(fields: readonly RdataField[], n: number, what: string): void {
  if (fields.length < n) throw new RdataError(`${what} needs at least ${n} fields, got ${fields.length}`, fields[fields.length - 1]);
}

// ---- integers -----------------------------------------------------------------------------------

/** A decimal integer in 0..max (max ≤ 2^32-1). */
export function uint(field: RdataField, max: number, what: string): number {
  const s = field.text;
  if (s.length === 0 || s.length > 10) throw new RdataError(`bad ${what} "${s}"`, field);
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new RdataError(`bad ${what} "${s}": not a number`, field);
    v = v * 10 + d;
  }
  if (v > max) throw new RdataError(`${what} ${s} out of range (0..${max})`, field);
  return v;
}

export const u8 = (f: RdataField, what: string): number => uint(f, 0xff, what);
export const u16 = (f: RdataField, what: string): number => uint(f, 0xffff, what);
export const u32 = (f: RdataField, what: string): number => uint(f, 0xffffffff, what);

/** An 8-bit value given as a number or as a mnemonic from `names` (e.g. DNSSEC algorithms). */
export function u8OrMnemonic(field: RdataField, names: ReadonlyMap<string, number>, what: string): number {
  const c = field.text.charCodeAt(0);
  if (c >= 0x30 && c <= 0x39) return u8(field, what);
  const v = names.get(field.text.toUpperCase());
  if (v === undefined) throw new RdataError(`unknown ${what} "${field.text}"`, field);
  return v;
}

// ---- character-strings --------------------------------------------------------------------------

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Decodes a field's text (RFC 1035 §5.1: `\X` is X, `\DDD` is the octet DDD) into `w`; returns
 * the number of octets written.
 */
export function writeEscaped(w: RdataWriter, field: RdataField): number {
  const s = field.text;
  const start = w.pos;
  if (s.indexOf('\\') < 0) {
    // Fast path: no escapes; the lexer's text is latin1, one char per octet.
    w.buf.write(s, w.skip(s.length), s.length, 'latin1');
    return s.length;
  }
  for (let i = 0; i < s.length; ) {
    let c = s.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= s.length) throw new RdataError(`dangling "\\" in "${s}"`, field);
      c = s.charCodeAt(i + 1);
      if (isDigit(c)) {
        const d1 = s.charCodeAt(i + 2);
        const d2 = s.charCodeAt(i + 3);
        if (!isDigit(d1) || !isDigit(d2)) throw new RdataError(`bad \\DDD escape in "${s}"`, field);
        c = (c - 48) * 100 + (d1 - 48) * 10 + (d2 - 48);
        if (c > 255) throw new RdataError(`\\DDD escape out of range (0..255) in "${s}"`, field);
        i += 4;
      } else {
        i += 2;
      }
    } else {
      i++;
    }
    if (c > 0xff) throw new RdataError(`non-octet character in "${s}"`, field);
    w.u8(c);
  }
  return w.pos - start;
}

/** One <character-string>: a length octet and up to 255 octets (RFC 1035 §3.3). */
export function writeCharString(w: RdataWriter, field: RdataField): void {
  const lenAt = w.skip(1);
  const n = writeEscaped(w, field);
  if (n > 255) throw new RdataError(`character-string longer than 255 octets (${n})`, field);
  w.buf[lenAt] = n;
}

/**
 * Octets as the inside of a quoted string, escaped as BIND prints them: `"` and `\` get a
 * backslash, octets outside printable ASCII are `\DDD`.
 */
export function escapeOctets(b: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x22 || c === 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c >= 0x7f) out += c < 10 ? '\\00' + c : c < 100 ? '\\0' + c : '\\' + c;
    else out += String.fromCharCode(c);
  }
  return out;
}

/** Reads the character-string at `offset`; returns its quoted text and the offset after it. */
export function readCharString(b: Buffer, offset: number): { text: string; next: number } {
  if (offset >= b.length) throw new RdataError('truncated character-string');
  const len = b[offset]!;
  const end = offset + 1 + len;
  if (end > b.length) throw new RdataError('truncated character-string');
  return { text: '"' + escapeOctets(b, offset + 1, end) + '"', next: end };
}

// ---- hex ----------------------------------------------------------------------------------------

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** Hex digits spread over `fields` (whitespace allowed between them) → octets in `w`. */
export function writeHex(w: RdataWriter, fields: readonly RdataField[], what: string): number {
  let digits = 0;
  for (let k = 0; k < fields.length; k++) digits += fields[k]!.text.length;
  const start = w.skip(digits >> 1);
  const buf = w.buf;
  let o = start;
  let half = -1;
  for (let k = 0; k < fields.length; k++) {
    const f = fields[k]!;
    const s = f.text;
    for (let i = 0; i < s.length; i++) {
      const v = hexValue(s.charCodeAt(i));
      if (v < 0) throw new RdataError(`bad hex in ${what}: "${s}"`, f);
      if (half < 0) half = v;
      else {
        buf[o++] = (half << 4) | v;
        half = -1;
      }
    }
  }
  if (half >= 0) throw new RdataError(`odd number of hex digits in ${what}`, fields[fields.length - 1]);
  return o - start;
}

const HEX = '0123456789ABCDEF';

/** Upper-case hex as BIND prints it. */
export function hexUpper(b: Uint8Array, start = 0, end = b.length): string {
  let out = '';
  for (let i = start; i < end; i++) out += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return out;
}

// ---- base64 -------------------------------------------------------------------------------------

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** Base64 (RFC 4648 §4) spread over `fields` → octets in `w`; padding must be complete and final. */
export function writeBase64(w: RdataWriter, fields: readonly RdataField[], what: string): number {
  const start = w.pos;
  let acc = 0;
  let n = 0; // sextets in the current quantum
  let pad = 0;
  for (const f of fields) {
    const s = f.text;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0x3d /* = */) {
        if (n < 2) throw new RdataError(`bad base64 padding in ${what}`, f);
        pad++;
        n++;
        acc <<= 6;
        if (n === 4) {
          // RFC 4648 §3.5: the bits the padding leaves over must be zero (BIND rejects them otherwise).
          if ((acc & (pad === 1 ? 0xff : 0xffff)) !== 0) throw new RdataError(`bad base64 in ${what}: non-zero padding bits`, f);
          w.u8((acc >> 16) & 0xff);
          if (pad === 1) w.u8((acc >> 8) & 0xff);
          acc = 0;
          n = 0;
        }
        continue;
      }
      const v = c < 128 ? B64[c]! : -1;
      if (v < 0 || pad > 0) throw new RdataError(`bad base64 in ${what}: "${s}"`, f);
      acc = (acc << 6) | v;
      if (++n === 4) {
        w.u8((acc >> 16) & 0xff);
        w.u8((acc >> 8) & 0xff);
        w.u8(acc & 0xff);
        acc = 0;
        n = 0;
      }
    }
  }
  if (n !== 0) throw new RdataError(`base64 in ${what} is not a whole number of 4-character groups`, fields[fields.length - 1]);
  return w.pos - start;
}

// ---- base32hex (RFC 4648 §7, no padding: RFC 5155 §3.3) -------------------------------------------

const B32H = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

export function writeBase32Hex(w: RdataWriter, field: RdataField, what: string): number {
  const start = w.pos;
  const s = field.text;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else {
      const l = c | 0x20;
      v = l >= 0x61 && l <= 0x76 ? l - 0x61 + 10 : -1;
    }
    if (v < 0) throw new RdataError(`bad base32hex in ${what}: "${s}"`, field);
    acc = ((acc << 5) | v) & 0x1fff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      w.u8((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero padding of a whole octet count (a 5-bit group never fills a byte alone).
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) throw new RdataError(`bad base32hex length in ${what}: "${s}"`, field);
  return w.pos - start;
}

export function base32HexUpper(b: Uint8Array, start: number, end: number): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    acc = ((acc << 8) | b[i]!) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32H[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += B32H[(acc << (5 - bits)) & 31];
  return out;
}

// ---- base64 / hex printing as BIND splits it -----------------------------------------------------

/**
 * BIND's text dump breaks long base64 and hex fields into space-separated chunks (its master-file
 * style `full` uses 56-character chunks on one line).
 */
function chunked(s: string): string {
  if (s.length <= 56) return s;
  let out = s.substring(0, 56);
  for (let i = 56; i < s.length; i += 56) out += ' ' + s.substring(i, i + 56);
  return out;
}

export function base64Text(b: Buffer, start = 0, end = b.length): string {
  return chunked(b.toString('base64', start, end));
}

export function hexText(b: Uint8Array, start = 0, end = b.length): string {
  return chunked(hexUpper(b, start, end));
}

// ---- addresses ----------------------------------------------------------------------------------

/** Dotted-quad IPv4 (exactly four decimal parts, no leading-zero tricks beyond BIND's) into `out`. */
export function parseIPv4Into(s: string, out: Uint8Array, at: number): boolean {
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || parts === 4) return false;
      out[at + parts++] = part;
      part = 0;
      digits = 0;
    } else {
      const d = c - 48;
      // A leading zero is refused as BIND's inet_pton does (octal-looking parts are ambiguous).
      if (d < 0 || d > 9 || digits === 3 || (digits === 1 && part === 0)) return false;
      part = part * 10 + d;
      if (part > 255) return false;
      digits++;
    }
  }
  return parts === 4;
}

export function ipv4ToText(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The groups parseIPv6Into has read (at most 8), reused: AAAA records are read by the million. */
const ipv6Groups = new Uint16Array(8);

/** RFC 4291 §2.2 text forms (incl. `::` and a trailing dotted quad) into 16 octets at `at`. */
export function parseIPv6Into(s: string, out: Uint8Array, at: number): boolean {
  const groups = ipv6Groups;
  let count = 0;
  let gap = -1;
  let i = 0;
  const n = s.length;
  if (n < 2) return false;
  if (s.charCodeAt(0) === 0x3a) {
    if (s.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0, at, at + 16);
      return true;
    }
  }
  while (i < n) {
    let v = 0;
    let digits = 0;
    const start = i;
    while (i < n) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      v = (v << 4) | h;
      digits++;
      i++;
    }
    if (i < n && s.charCodeAt(i) === 0x2e) {
      // Embedded IPv4 in the last 32 bits.
      if (count > 6) return false;
      const tmp = new Uint8Array(4);
      if (!parseIPv4Into(s.substring(start), tmp, 0)) return false;
      groups[count++] = (tmp[0]! << 8) | tmp[1]!;
      groups[count++] = (tmp[2]! << 8) | tmp[3]!;
      break;
    }
    if (digits === 0 || digits > 4) return false;
    // A ninth group: too many, whatever follows.
    if (count === 8) return false;
    groups[count++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < n && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = count;
      i++;
      if (i === n) break;
    } else if (i === n) return false;
  }
  if (gap < 0 ? count !== 8 : count === 8) return false;
  const zeros = 8 - count;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let v: number;
    if (gap >= 0 && k >= gap && k < gap + zeros) v = 0;
    else v = groups[g++]!;
    out[at + 2 * k] = v >> 8;
    out[at + 2 * k + 1] = v & 0xff;
  }
  return true;
}

/** RFC 5952 text form (longest run of ≥2 zero groups as `::`, lower-case), as BIND prints it. */
export function ipv6ToText(b: Uint8Array, at: number): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((b[at + 2 * k]! << 8) | b[at + 2 * k + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible forms print the dotted quad (RFC 5952 §5).
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    return (bestLen === 5 ? '::ffff:' : '::') + ipv4ToText(b, at + 12);
  }
  let out = '';
  for (let k = 0; k < 8; k++) {
    if (k === bestStart) {
      out += '::';
      k += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += g[k]!.toString(16);
  }
  return out;
}

// ---- TTL-style durations -------------------------------------------------------------------------

/** A TTL-style duration (`3600`, `1h30m`, `2w`) as BIND reads SOA timers. */
export function durationField(field: RdataField, what: string): number {
  let v: number | null;
  try {
    v = parseTtl(field.text);
  } catch (e) {
    if (e instanceof RangeError) throw new RdataError(`${what} ${field.text} out of range`, field);
    throw e;
  }
  if (v === null) throw new RdataError(`bad ${what} "${field.text}"`, field);
  return v;
}
