// RFC 1035 and other common types: A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, DNAME, HINFO, RP,
// AFSDB, KX, SPF, NAPTR. These are on the load hot path: each builds its RDATA with one allocation
// and no regular expression.

import { RdataError, type ParseContext, type RdataField, type TypeDescriptor } from './descriptor.js';
import {
  durationField,
  expectAtLeast,
  expectFields,
  ipv4ToText,
  ipv6ToText,
  parseIPv4Into,
  parseIPv6Into,
  readCharString,
  u16,
  u32,
  writeCharString,
} from './presentation.js';
import { RdataReader } from './reader.js';
import { writer } from './writer.js';

const A: TypeDescriptor = {
  code: 1,
  mnemonic: 'A',
  wire: [4],
  fromText(fields) {
    expectFields(fields, 1, 'A');
    const f = fields[0]!;
    const out = Buffer.allocUnsafe(4);
    if (!parseIPv4Into(f.text, out, 0)) throw new RdataError(`bad IPv4 address "${f.text}"`, f);
    return out;
  },
  toText(rdata) {
    if (rdata.length !== 4) throw new RdataError('A RDATA must be 4 octets');
    return ipv4ToText(rdata, 0);
  },
};

const AAAA: TypeDescriptor = {
  code: 28,
  mnemonic: 'AAAA',
  wire: [16],
  fromText(fields) {
    expectFields(fields, 1, 'AAAA');
    const f = fields[0]!;
    const out = Buffer.allocUnsafe(16);
    if (!parseIPv6Into(f.text, out, 0)) throw new RdataError(`bad IPv6 address "${f.text}"`, f);
    return out;
  },
  toText(rdata) {
    if (rdata.length !== 16) throw new RdataError('AAAA RDATA must be 16 octets');
    return ipv6ToText(rdata, 0);
  },
};

/** A type whose RDATA is one domain name. */
function singleName(code: number, mnemonic: string, block: 'compressible-name' | 'decompressible-name'): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: [block],
    fromText(fields, ctx) {
      expectFields(fields, 1, mnemonic);
      return ctx.name(fields[0]!);
    },
    toText(rdata) {
      const r = new RdataReader(rdata, mnemonic);
      const t = r.name();
      r.end();
      return t;
    },
  };
}

/** A 16-bit preference then a domain name (MX, AFSDB, KX, RT). */
function preferenceName(code: number, mnemonic: string, block: 'compressible-name' | 'decompressible-name'): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: [2, block],
    fromText(fields, ctx) {
      expectFields(fields, 2, mnemonic);
      const pref = u16(fields[0]!, 'preference');
      const name = ctx.name(fields[1]!);
      const out = Buffer.allocUnsafe(2 + name.length);
      out.writeUInt16BE(pref, 0);
      name.copy(out, 2);
      return out;
    },
    toText(rdata) {
      const r = new RdataReader(rdata, mnemonic);
      const t = `${r.u16()} ${r.name()}`;
      r.end();
      return t;
    },
  };
}

/** Two domain names (RP, MINFO). */
function twoNames(code: number, mnemonic: string, block: 'compressible-name' | 'decompressible-name'): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: [block, block],
    fromText(fields, ctx) {
      expectFields(fields, 2, mnemonic);
      const a = ctx.name(fields[0]!);
      const b = ctx.name(fields[1]!);
      const out = Buffer.allocUnsafe(a.length + b.length);
      a.copy(out, 0);
      b.copy(out, a.length);
      return out;
    },
    toText(rdata) {
      const r = new RdataReader(rdata, mnemonic);
      const t = `${r.name()} ${r.name()}`;
      r.end();
      return t;
    },
  };
}

const SOA: TypeDescriptor = {
  code: 6,
  mnemonic: 'SOA',
  wire: ['compressible-name', 'compressible-name', 20],
  fromText(fields, ctx) {
    expectFields(fields, 7, 'SOA');
    const mname = ctx.name(fields[0]!);
    const rname = ctx.name(fields[1]!);
    const serial = u32(fields[2]!, 'SOA serial');
    // BIND reads the four timers with TTL units (`1h`, `2w`); the serial is a plain number.
    const refresh = durationField(fields[3]!, 'SOA refresh');
    const retry = durationField(fields[4]!, 'SOA retry');
    const expire = durationField(fields[5]!, 'SOA expire');
    const minimum = durationField(fields[6]!, 'SOA minimum');
    const n = mname.length + rname.length;
    const out = Buffer.allocUnsafe(n + 20);
    mname.copy(out, 0);
    rname.copy(out, mname.length);
    out.writeUInt32BE(serial, n);
    out.writeUInt32BE(refresh, n + 4);
    out.writeUInt32BE(retry, n + 8);
    out.writeUInt32BE(expire, n + 12);
    out.writeUInt32BE(minimum, n + 16);
    return out;
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'SOA');
    const t = `${r.name()} ${r.name()} ${r.u32()} ${r.u32()} ${r.u32()} ${r.u32()} ${r.u32()}`;
    r.end();
    return t;
  },
};

/** One or more character-strings (TXT, SPF: RFC 1035 §3.3.14, RFC 7208 §3). */
function strings(code: number, mnemonic: string): TypeDescriptor {
  return {
    code,
    mnemonic,
    wire: ['rest'],
    fromText(fields) {
      expectAtLeast(fields, 1, mnemonic);
      const w = writer.reset();
      for (let i = 0; i < fields.length; i++) writeCharString(w, fields[i]!);
      return w.finish();
    },
    toText(rdata) {
      if (rdata.length === 0) throw new RdataError(`${mnemonic} RDATA is empty`);
      let out = '';
      for (let at = 0; at < rdata.length; ) {
        const s = readCharString(rdata, at);
        out += out.length === 0 ? s.text : ' ' + s.text;
        at = s.next;
      }
      return out;
    },
  };
}

const SRV: TypeDescriptor = {
  code: 33,
  mnemonic: 'SRV',
  // RFC 2782: the target is not compressed (RFC 3597 §4 lists SRV among types that must not be).
  wire: [6, 'decompressible-name'],
  fromText(fields, ctx) {
    expectFields(fields, 4, 'SRV');
    const priority = u16(fields[0]!, 'SRV priority');
    const weight = u16(fields[1]!, 'SRV weight');
    const port = u16(fields[2]!, 'SRV port');
    const target = ctx.name(fields[3]!);
    const out = Buffer.allocUnsafe(6 + target.length);
    out.writeUInt16BE(priority, 0);
    out.writeUInt16BE(weight, 2);
    out.writeUInt16BE(port, 4);
    target.copy(out, 6);
    return out;
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'SRV');
    const t = `${r.u16()} ${r.u16()} ${r.u16()} ${r.name()}`;
    r.end();
    return t;
  },
};

const HINFO: TypeDescriptor = {
  code: 13,
  mnemonic: 'HINFO',
  wire: ['rest'],
  fromText(fields) {
    expectFields(fields, 2, 'HINFO');
    const w = writer.reset();
    writeCharString(w, fields[0]!);
    writeCharString(w, fields[1]!);
    return w.finish();
  },
  toText(rdata) {
    const cpu = readCharString(rdata, 0);
    const os = readCharString(rdata, cpu.next);
    if (os.next !== rdata.length) throw new RdataError('HINFO RDATA has trailing octets');
    return `${cpu.text} ${os.text}`;
  },
};

const NAPTR: TypeDescriptor = {
  code: 35,
  mnemonic: 'NAPTR',
  wire: ['naptr', 'decompressible-name'],
  fromText(fields: readonly RdataField[], ctx: ParseContext) {
    expectFields(fields, 6, 'NAPTR');
    const w = writer.reset();
    w.u16(u16(fields[0]!, 'NAPTR order'));
    w.u16(u16(fields[1]!, 'NAPTR preference'));
    writeCharString(w, fields[2]!);
    writeCharString(w, fields[3]!);
    writeCharString(w, fields[4]!);
    w.bytes(ctx.name(fields[5]!));
    return w.finish();
  },
  toText(rdata) {
    const r = new RdataReader(rdata, 'NAPTR');
    let t = `${r.u16()} ${r.u16()}`;
    for (let i = 0; i < 3; i++) {
      const s = readCharString(rdata, r.pos);
      t += ' ' + s.text;
      r.pos = s.next;
    }
    t += ' ' + r.name();
    r.end();
    return t;
  },
};

// RFC 3597 §4: names in RFC 1035 types (NS, CNAME, SOA, PTR, MX, MB, MG, MR, MINFO) may be
// compressed; later types (RP, AFSDB, KX, SRV, NAPTR, DNAME) must not be. All of them are
// lower-cased in canonical form (RFC 4034 §6.2 as updated by RFC 6840 §5.1).
export const CORE_TYPES: readonly TypeDescriptor[] = [
  A,
  singleName(2, 'NS', 'compressible-name'),
  singleName(3, 'MD', 'compressible-name'),
  singleName(4, 'MF', 'compressible-name'),
  singleName(5, 'CNAME', 'compressible-name'),
  SOA,
  singleName(7, 'MB', 'compressible-name'),
  singleName(8, 'MG', 'compressible-name'),
  singleName(9, 'MR', 'compressible-name'),
  singleName(12, 'PTR', 'compressible-name'),
  HINFO,
  twoNames(14, 'MINFO', 'compressible-name'),
  preferenceName(15, 'MX', 'compressible-name'),
  strings(16, 'TXT'),
  twoNames(17, 'RP', 'decompressible-name'),
  preferenceName(18, 'AFSDB', 'decompressible-name'),
  preferenceName(21, 'RT', 'decompressible-name'),
  AAAA,
  SRV,
  NAPTR,
  preferenceName(36, 'KX', 'decompressible-name'),
  singleName(39, 'DNAME', 'decompressible-name'),
  strings(99, 'SPF'),
];
