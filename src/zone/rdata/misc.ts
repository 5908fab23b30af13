// Key, certificate and service types: SSHFP (RFC 4255), TLSA (RFC 6698), SMIMEA (RFC 8162),
// CERT (RFC 4398), OPENPGPKEY (RFC 7929), DHCID (RFC 4701), IPSECKEY (RFC 4025), URI (RFC 7553),
// CAA (RFC 8659), EUI48/EUI64 (RFC 7043).

import { RdataError, type RdataField, type TypeDescriptor } from './descriptor.js';
import { ALGORITHMS, ALGORITHM_NAMES } from './dnssec.js';
import {
  base64Text,
  escapeOctets,
  expectAtLeast,
  expectFields,
  hexText,
  ipv4ToText,
  ipv6ToText,
  parseIPv4Into,
  parseIPv6Into,
  u16,
  u8,
  u8OrMnemonic,
  writeBase64,
  writeEscaped,
  writeHex,
} from './presentation.js';
import { RdataReader } from './reader.js';
import { writer } from './writer.js';

/** Some one-octet numbers, then hex data (SSHFP, TLSA, SMIMEA). */
function octetsThenHex(code: number, mnemonic: string, names: readonly string[]): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: ['rest'],
    fromText(fields) {
      expectAtLeast(fields, names.length + 1, mnemonic);
      const w = writer.reset();
      for (let i = 0; i < names.length; i++) w.u8(u8(fields[i]!, names[i]!));
      writeHex(w, fields.slice(names.length), mnemonic + ' data');
      return w.finish();
    },
    toText(rdata) {
      const r = new RdataReader(rdata, mnemonic);
      let t = '';
      for (let i = 0; i < names.length; i++) t += (i === 0 ? '' : ' ') + r.u8();
      if (r.left === 0) throw new RdataError(`${mnemonic} RDATA has no data`);
      return `${t} ${hexText(rdata, r.pos)}`;
    },
  };
}

/** RDATA that is only base64 data (OPENPGPKEY, DHCID). */
function base64Only(code: number, mnemonic: string): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: ['rest'],
    fromText(fields) {
      expectAtLeast(fields, 1, mnemonic);
      const w = writer.reset();
      writeBase64(w, fields, mnemonic + ' data');
      return w.finish();
    },
    toText(rdata) {
      if (rdata.length === 0) throw new RdataError(`${mnemonic} RDATA is empty`);
      return base64Text(rdata);
    },
  };
}

// ---- CERT ---------------------------------------------------------------------------------------

const CERT_TYPES: ReadonlyMap<string, number> = new Map([
  ['PKIX', 1], ['SPKI', 2], ['PGP', 3], ['IPKIX', 4], ['ISPKI', 5], ['IPGP', 6], ['ACPKIX', 7], ['IACPKIX', 8],
  ['URI', 253], ['OID', 254],
]);
const CERT_TYPE_NAMES: ReadonlyMap<number, string> = new Map([...CERT_TYPES].map(([k, v]) => [v, k]));

const CERT: TypeDescriptor = {
  code: 37,
  mnemonic: 'CERT',
  wire: ['rest'],
  fromText(fields) {
    expectAtLeast(fields, 4, 'CERT');
    const w = writer.reset();
    const t = fields[0]!;
    const c = t.text.charCodeAt(0);
    // RFC 4398 §2.2: the type is a mnemonic or a decimal number.
    if (c >= 0x30 && c <= 0x39) w.u16(u16(t, 'certificate type'));
    else {
      const v = CERT_TYPES.get(t.text.toUpperCase());
      if (v === undefined) throw new RdataError(`unknown certificate type "${t.text}"`, t);
      w.u16(v);
    }
    w.u16(u16(fields[1]!, 'key tag'));
    w.u8(u8OrMnemonic(fields[2]!, ALGORITHMS, 'algorithm'));
    writeBase64(w, fields.slice(3), 'certificate');
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'CERT');
    const type = r.u16();
    const tag = r.u16();
    const alg = r.u8();
    const head = `${CERT_TYPE_NAMES.get(type) ?? type} ${tag} ${ALGORITHM_NAMES.get(alg) ?? alg}`;
    return r.left === 0 ? head : `${head} ${base64Text(rdata, r.pos)}`;
  },
};

// ---- IPSECKEY (RFC 4025 §2) -----------------------------------------------------------------------

const IPSECKEY: TypeDescriptor = {
  code: 45,
  mnemonic: 'IPSECKEY',
  // The gateway name is neither compressed nor lower-cased (not in RFC 4034 §6.2's list).
  wire: ['rest'],
  fromText(fields, ctx) {
    expectAtLeast(fields, 5, 'IPSECKEY');
    const w = writer.reset();
    w.u8(u8(fields[0]!, 'precedence'));
    const gwf = fields[1]!;
    const gwType = u8(gwf, 'gateway type');
    w.u8(gwType);
    w.u8(u8(fields[2]!, 'algorithm'));
    const gw = fields[3]!;
    switch (gwType) {
      case 0:
        if (gw.text !== '.') throw new RdataError('gateway type 0 needs gateway "."', gw);
        break;
      case 1:
        if (!parseIPv4Into(gw.text, w.buf, w.skip(4))) throw new RdataError(`bad IPv4 gateway "${gw.text}"`, gw);
        break;
      case 2:
        if (!parseIPv6Into(gw.text, w.buf, w.skip(16))) throw new RdataError(`bad IPv6 gateway "${gw.text}"`, gw);
        break;
      case 3:
        w.bytes(ctx.name(gw));
        break;
      default:
        throw new RdataError(`unknown gateway type ${gwType}`, gwf);
    }
    writeBase64(w, fields.slice(4), 'public key');
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'IPSECKEY');
    const precedence = r.u8();
    const gwType = r.u8();
    const alg = r.u8();
    let gw: string;
    if (gwType === 0) gw = '.';
    else if (gwType === 1) gw = ipv4ToText(rdata, r.take(4));
    else if (gwType === 2) gw = ipv6ToText(rdata, r.take(16));
    else if (gwType === 3) gw = r.name();
    else throw new RdataError(`IPSECKEY gateway type ${gwType} is unknown`);
    const head = `${precedence} ${gwType} ${alg} ${gw}`;
    return r.left === 0 ? head : `${head} ${base64Text(rdata, r.pos)}`;
  },
};

// ---- URI (RFC 7553 §4.4) --------------------------------------------------------------------------

const URI: TypeDescriptor = {
  code: 256,
  mnemonic: 'URI',
  wire: ['rest'],
  fromText(fields) {
    expectFields(fields, 3, 'URI');
    const w = writer.reset();
    w.u16(u16(fields[0]!, 'priority'));
    w.u16(u16(fields[1]!, 'weight'));
    // The target fills the rest of the RDATA: no length octet, so no 255-octet limit.
    writeEscaped(w, fields[2]!);
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'URI');
    return `${r.u16()} ${r.u16()} "${escapeOctets(rdata, r.pos, rdata.length)}"`;
  },
};

// ---- CAA (RFC 8659 §4.1) --------------------------------------------------------------------------

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function caaTag(field: RdataField): string {
  const s = field.text;
  if (s.length === 0 || s.length > 255) throw new RdataError(`bad CAA tag "${s}"`, field);
  // RFC 8659 §4.1: tags are ASCII letters and digits.
  for (let i = 0; i < s.length; i++) if (!isAlnum(s.charCodeAt(i))) throw new RdataError(`bad CAA tag "${s}": letters and digits only`, field);
  return s;
}

const CAA: TypeDescriptor = {
  code: 257,
  mnemonic: 'CAA',
  wire: ['rest'],
  fromText(fields) {
    expectFields(fields, 3, 'CAA');
    const w = writer.reset();
    w.u8(u8(fields[0]!, 'flags'));
    const tag = caaTag(fields[1]!);
    w.u8(tag.length);
    w.buf.write(tag, w.skip(tag.length), 'latin1');
    writeEscaped(w, fields[2]!);
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'CAA');
    const flags = r.u8();
    const tagLen = r.u8();
    if (tagLen === 0) throw new RdataError('CAA tag is empty');
    const at = r.take(tagLen);
    for (let i = at; i < at + tagLen; i++) if (!isAlnum(rdata[i]!)) throw new RdataError('CAA tag holds a character other than a letter or digit');
    return `${flags} ${rdata.toString('latin1', at, at + tagLen)} "${escapeOctets(rdata, r.pos, rdata.length)}"`;
  },
};

// ---- EUI48, EUI64 (RFC 7043 §3.2, §4.2) ------------------------------------------------------------

function eui(code: number, mnemonic: string, octets: number): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: [octets],
    fromText(fields) {
      expectFields(fields, 1, mnemonic);
      const f = fields[0]!;
      const s = f.text;
      // Exactly `octets` pairs of hex digits joined by hyphens.
      if (s.length !== octets * 3 - 1) throw new RdataError(`bad ${mnemonic} address "${s}"`, f);
      const out = Buffer.allocUnsafe(octets);
      for (let i = 0; i < octets; i++) {
        if (i > 0 && s.charCodeAt(i * 3 - 1) !== 0x2d) throw new RdataError(`bad ${mnemonic} address "${s}"`, f);
        if (!isHexPair(s, i * 3)) throw new RdataError(`bad ${mnemonic} address "${s}"`, f);
        out[i] = Number.parseInt(s.substring(i * 3, i * 3 + 2), 16);
      }
      return out;
    },
    toText(rdata) {
      if (rdata.length !== octets) throw new RdataError(`${mnemonic} RDATA must be ${octets} octets`);
      let t = '';
      for (let i = 0; i < octets; i++) t += (i === 0 ? '' : '-') + rdata[i]!.toString(16).padStart(2, '0');
      return t;
    },
  };
}

function isHexPair(s: string, at: number): boolean {
  for (let i = at; i < at + 2; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

export const MISC_TYPES: readonly TypeDescriptor[] = [
  CERT,
  octetsThenHex(44, 'SSHFP', ['algorithm', 'fingerprint type']),
  IPSECKEY,
  base64Only(49, 'DHCID'),
  octetsThenHex(52, 'TLSA', ['certificate usage', 'selector', 'matching type']),
  octetsThenHex(53, 'SMIMEA', ['certificate usage', 'selector', 'matching type']),
  base64Only(61, 'OPENPGPKEY'),
  eui(108, 'EUI48', 6),
  eui(109, 'EUI64', 8),
  URI,
  CAA,
];
