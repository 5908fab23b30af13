// DNSSEC types: DS/CDS (RFC 4034 §5, RFC 7344), DNSKEY/CDNSKEY (RFC 4034 §2), RRSIG (RFC 4034 §3),
// NSEC (RFC 4034 §4), NSEC3/NSEC3PARAM (RFC 5155), ZONEMD (RFC 8976), CSYNC (RFC 7477), and the
// type bitmaps they share.

import { RdataError, type RdataField, type TypeDescriptor } from './descriptor.js';
import { typeField, typeToText } from './mnemonics.js';
import {
  base32HexUpper,
  base64Text,
  expectAtLeast,
  expectFields,
  hexText,
  hexUpper,
  u16,
  u32,
  u8,
  u8OrMnemonic,
  writeBase32Hex,
  writeBase64,
  writeHex,
} from './presentation.js';
import { RdataReader } from './reader.js';
import { writer, type RdataWriter } from './writer.js';

// ---- algorithm and digest mnemonics --------------------------------------------------------------

/** DNSSEC algorithm mnemonics (RFC 4034 Appendix A.1 and the IANA registry), as BIND reads them. */
export const ALGORITHMS: ReadonlyMap<string, number> = new Map([
  ['RSAMD5', 1], ['DH', 2], ['DSA', 3], ['ECC', 4], ['RSASHA1', 5], ['DSA-NSEC3-SHA1', 6], ['NSEC3DSA', 6],
  ['RSASHA1-NSEC3-SHA1', 7], ['NSEC3RSASHA1', 7], ['RSASHA256', 8], ['RSASHA512', 10], ['ECC-GOST', 12],
  ['ECCGOST', 12], ['ECDSAP256SHA256', 13], ['ECDSAP384SHA384', 14], ['ED25519', 15], ['ED448', 16],
  ['INDIRECT', 252], ['PRIVATEDNS', 253], ['PRIVATEOID', 254],
]);

/** The algorithm names BIND prints (in CERT records); other values print as numbers. */
export const ALGORITHM_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'RSAMD5'], [2, 'DH'], [3, 'DSA'], [5, 'RSASHA1'], [6, 'NSEC3DSA'], [7, 'NSEC3RSASHA1'], [8, 'RSASHA256'],
  [10, 'RSASHA512'], [12, 'ECCGOST'], [13, 'ECDSAP256SHA256'], [14, 'ECDSAP384SHA384'], [15, 'ED25519'],
  [16, 'ED448'], [252, 'INDIRECT'], [253, 'PRIVATEDNS'], [254, 'PRIVATEOID'],
]);

const DIGESTS: ReadonlyMap<string, number> = new Map([
  ['SHA-1', 1], ['SHA1', 1], ['SHA-256', 2], ['SHA256', 2], ['GOST', 3], ['SHA-384', 4], ['SHA384', 4],
]);

/** DS digest lengths for the digest types with a fixed size (RFC 4034, RFC 4509, RFC 5933, RFC 6605). */
const DS_DIGEST_LENGTH: Readonly<Record<number, number>> = { 1: 20, 2: 32, 3: 32, 4: 48 };

// ---- type bitmaps (RFC 4034 §4.1.2) -------------------------------------------------------------

/** Type mnemonics → window blocks: one window per high octet, each with the bitmap trimmed to its last set bit. */
function writeTypeBitmap(w: RdataWriter, fields: readonly RdataField[]): void {
  const types: number[] = [];
  for (const f of fields) types.push(typeField(f.text, f));
  types.sort((a, b) => a - b);
  let i = 0;
  while (i < types.length) {
    const window = types[i]! >> 8;
    const headerAt = w.skip(2);
    const bitsAt = w.pos;
    let len = 0;
    for (; i < types.length && types[i]! >> 8 === window; i++) {
      const low = types[i]! & 0xff;
      const octet = low >> 3;
      while (len <= octet) {
        w.u8(0);
        len++;
      }
      w.buf[bitsAt + octet]! |= 0x80 >> (low & 7);
    }
    w.buf[headerAt] = window;
    w.buf[headerAt + 1] = len;
  }
}

/** Window blocks from `offset` to the end → type mnemonics in order, each preceded by a space. */
function typeBitmapToText(b: Buffer, offset: number, what: string): string {
  let out = '';
  let prev = -1;
  for (let i = offset; i < b.length; ) {
    if (i + 2 > b.length) throw new RdataError(`${what} type bitmap is truncated`);
    const window = b[i]!;
    const len = b[i + 1]!;
    // RFC 4034 §4.1.2: windows in increasing order, 1..32 octets each.
    if (window <= prev || len === 0 || len > 32 || i + 2 + len > b.length) throw new RdataError(`${what} type bitmap is malformed`);
    prev = window;
    for (let k = 0; k < len; k++) {
      const octet = b[i + 2 + k]!;
      for (let bit = 0; bit < 8; bit++) if (octet & (0x80 >> bit)) out += ' ' + typeToText((window << 8) | (k << 3) | bit);
    }
    i += 2 + len;
  }
  return out;
}

// ---- DS, CDS --------------------------------------------------------------------------------------

function delegationSigner(code: number, mnemonic: string): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: ['rest'],
    fromText(fields) {
      expectAtLeast(fields, 4, mnemonic);
      const w = writer.reset();
      w.u16(u16(fields[0]!, 'key tag'));
      w.u8(u8OrMnemonic(fields[1]!, ALGORITHMS, 'algorithm'));
      const digestType = u8OrMnemonic(fields[2]!, DIGESTS, 'digest type');
      w.u8(digestType);
      const n = writeHex(w, fields.slice(3), 'digest');
      const want = DS_DIGEST_LENGTH[digestType];
      // RFC 8078 §4: the CDS "delete" record (0 0 0 00) carries a 1-octet digest of type 0.
      if (want !== undefined && n !== want) throw new RdataError(`digest type ${digestType} needs ${want} octets, got ${n}`, fields[3]);
      return w.finish();
    },
    toText(rdata) {
      const r = new RdataReader(rdata, mnemonic);
      const head = `${r.u16()} ${r.u8()} ${r.u8()}`;
      if (r.left === 0) throw new RdataError(`${mnemonic} RDATA has no digest`);
      return `${head} ${hexText(rdata, r.pos)}`;
    },
  };
}

// ---- DNSKEY, CDNSKEY ------------------------------------------------------------------------------

function key(code: number, mnemonic: string): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: ['rest'],
    fromText(fields) {
      expectAtLeast(fields, 4, mnemonic);
      const w = writer.reset();
      w.u16(u16(fields[0]!, 'flags'));
      w.u8(u8(fields[1]!, 'protocol'));
      w.u8(u8OrMnemonic(fields[2]!, ALGORITHMS, 'algorithm'));
      writeBase64(w, fields.slice(3), 'public key');
      return w.finish();
    },
    toText(rdata) {
      const r = new RdataReader(rdata, mnemonic);
      const head = `${r.u16()} ${r.u8()} ${r.u8()}`;
      return r.left === 0 ? head : `${head} ${base64Text(rdata, r.pos)}`;
    },
  };
}

// ---- RRSIG ----------------------------------------------------------------------------------------

/**
 * RFC 4034 §3.2: YYYYMMDDHHmmSS (UTC) or a plain number of seconds; the field is the time modulo 2^32.
 */
function signatureTime(field: RdataField, what: string): number {
  const s = field.text;
  if (s.length !== 14) return u32(field, what);
  for (let i = 0; i < 14; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new RdataError(`bad ${what} "${s}"`, field);
  }
  const n = (a: number, b: number): number => Number(s.substring(a, b));
  const year = n(0, 4);
  const month = n(4, 6);
  const day = n(6, 8);
  const hour = n(8, 10);
  const minute = n(10, 12);
  const second = n(12, 14);
  const t = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(t);
  if (
    year < 1970 ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 60
  ) {
    throw new RdataError(`bad ${what} "${s}"`, field);
  }
  return (t / 1000) % 0x100000000;
}

/** Serial arithmetic around now (RFC 4034 §3.1.5), printed as BIND prints it: YYYYMMDDHHmmSS. */
function signatureTimeToText(v: number): string {
  const now = Math.floor(Date.now() / 1000);
  const diff = (v - now) | 0; // signed 32-bit distance from now
  const d = new Date((now + diff) * 1000);
  const p = (x: number, n = 2): string => String(x).padStart(n, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

const RRSIG: TypeDescriptor = {
  code: 46,
  mnemonic: 'RRSIG',
  wire: [18, 'decompressible-name', 'rest'],
  fromText(fields, ctx) {
    expectAtLeast(fields, 9, 'RRSIG');
    const w = writer.reset();
    w.u16(typeField(fields[0]!.text, fields[0]));
    w.u8(u8OrMnemonic(fields[1]!, ALGORITHMS, 'algorithm'));
    w.u8(u8(fields[2]!, 'labels'));
    w.u32(u32(fields[3]!, 'original TTL'));
    w.u32(signatureTime(fields[4]!, 'signature expiration'));
    w.u32(signatureTime(fields[5]!, 'signature inception'));
    w.u16(u16(fields[6]!, 'key tag'));
    w.bytes(ctx.name(fields[7]!));
    writeBase64(w, fields.slice(8), 'signature');
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'RRSIG');
    const covered = typeToText(r.u16());
    const t = `${covered} ${r.u8()} ${r.u8()} ${r.u32()} ${signatureTimeToText(r.u32())} ${signatureTimeToText(r.u32())} ${r.u16()} ${r.name()}`;
    return r.left === 0 ? t : `${t} ${base64Text(rdata, r.pos)}`;
  },
};

// ---- NSEC ---------------------------------------------------------------------------------------

const NSEC: TypeDescriptor = {
  code: 47,
  mnemonic: 'NSEC',
  // RFC 6840 §5.1: the next domain name is not lower-cased in canonical form.
  wire: ['fixed-name', 'rest'],
  fromText(fields, ctx) {
    // BIND refuses an NSEC with an empty bitmap (it always lists at least NSEC itself).
    expectAtLeast(fields, 2, 'NSEC');
    const w = writer.reset();
    w.bytes(ctx.name(fields[0]!));
    writeTypeBitmap(w, fields.slice(1));
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'NSEC');
    return r.name() + typeBitmapToText(rdata, r.pos, 'NSEC');
  },
};

// ---- NSEC3, NSEC3PARAM ----------------------------------------------------------------------------

/** RFC 5155 §3.3: the salt is hex, or `-` for an empty salt; on the wire it has a length octet. */
function writeSalt(w: RdataWriter, field: RdataField): void {
  const lenAt = w.skip(1);
  const n = field.text === '-' ? 0 : writeHex(w, [field], 'salt');
  if (n > 255) throw new RdataError('salt longer than 255 octets', field);
  if (n === 0 && field.text !== '-') throw new RdataError('empty salt must be written "-"', field);
  w.buf[lenAt] = n;
}

function saltToText(r: RdataReader): string {
  const len = r.u8();
  const at = r.take(len);
  return len === 0 ? '-' : hexUpper(r.b, at, at + len);
}

/** The fields NSEC3 and NSEC3PARAM share (RFC 5155 §3.2, §4.2): hash algorithm, flags, iterations, salt. */
function writeNsec3Parameters(w: RdataWriter, fields: readonly RdataField[]): void {
  w.u8(u8(fields[0]!, 'hash algorithm'));
  w.u8(u8(fields[1]!, 'flags'));
  w.u16(u16(fields[2]!, 'iterations'));
  writeSalt(w, fields[3]!);
}

function nsec3ParametersToText(r: RdataReader): string {
  return `${r.u8()} ${r.u8()} ${r.u16()} ${saltToText(r)}`;
}

const NSEC3: TypeDescriptor = {
  code: 50,
  mnemonic: 'NSEC3',
  wire: ['rest'],
  fromText(fields) {
    expectAtLeast(fields, 5, 'NSEC3');
    const w = writer.reset();
    writeNsec3Parameters(w, fields);
    const lenAt = w.skip(1);
    const n = writeBase32Hex(w, fields[4]!, 'next hashed owner name');
    if (n === 0 || n > 255) throw new RdataError('next hashed owner name must be 1..255 octets', fields[4]);
    w.buf[lenAt] = n;
    writeTypeBitmap(w, fields.slice(5));
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'NSEC3');
    const head = nsec3ParametersToText(r);
    const hashLen = r.u8();
    const at = r.take(hashLen);
    return `${head} ${base32HexUpper(rdata, at, at + hashLen)}${typeBitmapToText(rdata, r.pos, 'NSEC3')}`;
  },
};

const NSEC3PARAM: TypeDescriptor = {
  code: 51,
  mnemonic: 'NSEC3PARAM',
  wire: ['rest'],
  fromText(fields) {
    expectFields(fields, 4, 'NSEC3PARAM');
    const w = writer.reset();
    writeNsec3Parameters(w, fields);
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'NSEC3PARAM');
    const t = nsec3ParametersToText(r);
    r.end();
    return t;
  },
};

// ---- ZONEMD (RFC 8976 §2) ------------------------------------------------------------------------

const ZONEMD_MIN_DIGEST = 12; // RFC 8976 §2.2.4

const ZONEMD: TypeDescriptor = {
  code: 63,
  mnemonic: 'ZONEMD',
  wire: ['rest'],
  fromText(fields) {
    expectAtLeast(fields, 4, 'ZONEMD');
    const w = writer.reset();
    w.u32(u32(fields[0]!, 'serial'));
    w.u8(u8(fields[1]!, 'scheme'));
    w.u8(u8(fields[2]!, 'hash algorithm'));
    const n = writeHex(w, fields.slice(3), 'digest');
    // A digest of the wrong size for its algorithm is still a record: RFC 8976 §4 step 5d only keeps
    // it from verifying the zone (zonemd.ts), and Appendix A.3 publishes one beside good digests.
    if (n < ZONEMD_MIN_DIGEST) throw new RdataError(`ZONEMD digest of ${n} octets is shorter than ${ZONEMD_MIN_DIGEST}`, fields[3]);
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'ZONEMD');
    const head = `${r.u32()} ${r.u8()} ${r.u8()}`;
    if (r.left < ZONEMD_MIN_DIGEST) throw new RdataError('ZONEMD digest is too short');
    return `${head} ${hexText(rdata, r.pos)}`;
  },
};

// ---- CSYNC (RFC 7477 §2.1) -----------------------------------------------------------------------

const CSYNC: TypeDescriptor = {
  code: 62,
  mnemonic: 'CSYNC',
  wire: ['rest'],
  fromText(fields) {
    expectAtLeast(fields, 2, 'CSYNC');
    const w = writer.reset();
    w.u32(u32(fields[0]!, 'SOA serial'));
    w.u16(u16(fields[1]!, 'flags'));
    writeTypeBitmap(w, fields.slice(2));
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'CSYNC');
    return `${r.u32()} ${r.u16()}${typeBitmapToText(rdata, r.pos, 'CSYNC')}`;
  },
};

export const DNSSEC_TYPES: readonly TypeDescriptor[] = [
  delegationSigner(43, 'DS'),
  RRSIG,
  NSEC,
  key(48, 'DNSKEY'),
  NSEC3,
  NSEC3PARAM,
  delegationSigner(59, 'CDS'),
  key(60, 'CDNSKEY'),
  CSYNC,
  ZONEMD,
];
