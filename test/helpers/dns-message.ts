// A strict, independent reader of DNS responses for tests: every field the differential tests
// compare (header bits, extended rcode, OPT, each section's records), with names decompressed
// everywhere, including inside RDATA, so responses from different servers compare byte for byte.
// Deliberately separate from src/wire: a test must not read answers with the code it checks.
// Hand-written rather than dns-packet (which the in-process wire tests use to decode), because the
// comparisons need what dns-packet does not give: every RDATA as bytes with its names decompressed
// and their case kept, whatever the type; the question as sent; compression pointers followed only
// where a check allows them; and a refusal of anything malformed rather than a best guess.

interface WireQuestion {
  /** Presentation form, case exactly as on the wire, absolute (trailing dot). */
  name: string;
  type: number;
  class: number;
}

export interface WireRecord {
  /** Presentation form, case as on the wire, absolute. */
  name: string;
  type: number;
  class: number;
  ttl: number;
  /** RDATA with every embedded name uncompressed (case as on the wire). */
  rdata: Buffer;
}

interface WireOpt {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  options: { code: number; data: Buffer }[];
}

export interface WireMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** 12-bit rcode: the header's 4 bits plus the OPT's extended bits (RFC 6891 §6.1.3). */
  rcode: number;
  question: WireQuestion[];
  answer: WireRecord[];
  authority: WireRecord[];
  /** Additional records other than the OPT pseudo-record. */
  additional: WireRecord[];
  opt: WireOpt | null;
}

class MalformedMessageError extends Error {}

/**
 * Reads a name at `offset` (following compression pointers); returns its wire form (uncompressed) and
 * where the name ended in the message. Also reads a name inside uncompressed RDATA, as its own buffer.
 */
export function readName(buf: Buffer, offset: number): { wire: Buffer; end: number } {
  const labels: Buffer[] = [];
  let pos = offset;
  let end = -1;
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (pos >= buf.length) throw new MalformedMessageError(`name runs past the message at ${pos}`);
    const len = buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new MalformedMessageError('truncated compression pointer');
      if (end < 0) end = pos + 2;
      if (++jumps > 127) throw new MalformedMessageError('compression pointer loop');
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new MalformedMessageError(`bad label type 0x${len.toString(16)}`);
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    if (pos + 1 + len > buf.length) throw new MalformedMessageError('label runs past the message');
    labels.push(buf.subarray(pos, pos + 1 + len));
    length += len + 1;
    // RFC 1035 §3.1: 255 octets at most, counting the root label.
    if (length + 1 > 255) throw new MalformedMessageError('name longer than 255 octets');
    pos += 1 + len;
  }
  return { wire: Buffer.concat([...labels, Buffer.from([0])]), end };
}

/** Presentation form of a wire name (RFC 4343 escapes for dots, backslashes and non-printables). */
export function nameToText(wire: Buffer): string {
  if (wire.length === 1) return '.';
  let out = '';
  let pos = 0;
  while (wire[pos]! !== 0) {
    const len = wire[pos]!;
    for (let i = pos + 1; i <= pos + len; i++) {
      const c = wire[i]!;
      if (c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) out += '\\' + String.fromCharCode(c);
      else if (c <= 0x20 || c >= 0x7f) out += '\\' + c.toString().padStart(3, '0');
      else out += String.fromCharCode(c);
    }
    out += '.';
    pos += len + 1;
  }
  return out;
}

/** Lower-cases ASCII letters only (RFC 4343: DNS names compare case-insensitively on ASCII only). */
export function lowerAscii(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (c >= 0x41 && c <= 0x5a) out[i] = c + 0x20;
  }
  return out;
}

/**
 * Where names sit inside the RDATA of the types whose names a server may compress or that carry
 * names compared case-insensitively (RFC 3597 §4, RFC 4034 §6.2): a list of steps, each either a
 * fixed number of octets, a name, or a <character-string>.
 */
type Step = number | 'name' | 'string';
const NAME_LAYOUTS: ReadonlyMap<number, readonly Step[]> = new Map<number, Step[]>([
  [2, ['name']], // NS
  [3, ['name']], // MD
  [4, ['name']], // MF
  [5, ['name']], // CNAME
  [6, ['name', 'name', 20]], // SOA
  [7, ['name']], // MB
  [8, ['name']], // MG
  [9, ['name']], // MR
  [12, ['name']], // PTR
  [14, ['name', 'name']], // MINFO
  [15, [2, 'name']], // MX
  [17, ['name', 'name']], // RP
  [18, [2, 'name']], // AFSDB
  [21, [2, 'name']], // RT
  [26, [2, 'name', 'name']], // PX
  [33, [6, 'name']], // SRV
  [35, [4, 'string', 'string', 'string', 'name']], // NAPTR
  [36, [2, 'name']], // KX
  [39, ['name']], // DNAME
]);

/** Which RR types have names inside their RDATA at fixed places (used to lower-case them for comparison). */
export function rdataNameLayout(type: number): readonly Step[] | undefined {
  return NAME_LAYOUTS.get(type);
}

/** RFC 3597 §4: the types whose RDATA names a server may compress are those of RFC 1035. */
const RFC1035_COMPRESSIBLE: ReadonlySet<number> = new Set([2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 15]);

export interface ParseOptions {
  /**
   * Follow compression pointers in the RDATA of RFC 1035 types only (RFC 3597 §4), to check a
   * server's own encoder: a pointer anywhere else stays in the RDATA, where a comparison sees it.
   * By default every type with names at known places is decompressed, as RFC 3597 §4 asks of a
   * receiver, so answers of any server compare.
   */
  rfc1035CompressionOnly?: boolean;
}

function readRdata(buf: Buffer, type: number, start: number, rdlen: number, opts: ParseOptions): Buffer {
  const end = start + rdlen;
  const layout = NAME_LAYOUTS.get(type);
  if (!layout || rdlen === 0 || (opts.rfc1035CompressionOnly && !RFC1035_COMPRESSIBLE.has(type))) return Buffer.from(buf.subarray(start, end));
  const parts: Buffer[] = [];
  let pos = start;
  for (const step of layout) {
    if (step === 'name') {
      const n = readName(buf, pos);
      parts.push(n.wire);
      pos = n.end;
    } else if (step === 'string') {
      const len = buf[pos]!;
      parts.push(buf.subarray(pos, pos + 1 + len));
      pos += 1 + len;
    } else {
      parts.push(buf.subarray(pos, pos + step));
      pos += step;
    }
    if (pos > end) throw new MalformedMessageError(`RDATA of type ${type} runs past its RDLENGTH`);
  }
  if (pos !== end) throw new MalformedMessageError(`RDATA of type ${type} has ${end - pos} trailing octets`);
  return Buffer.concat(parts);
}

/** Parses a whole DNS message; throws MalformedMessageError on anything a strict reader refuses. */
export function parseMessage(buf: Buffer, opts: ParseOptions = {}): WireMessage {
  if (buf.length < 12) throw new MalformedMessageError(`message of ${buf.length} octets is shorter than a header`);
  const flags = buf.readUInt16BE(2);
  const counts = [buf.readUInt16BE(4), buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10)];
  let pos = 12;
  const question: WireQuestion[] = [];
  for (let i = 0; i < counts[0]!; i++) {
    const n = readName(buf, pos);
    pos = n.end;
    if (pos + 4 > buf.length) throw new MalformedMessageError('truncated question');
    question.push({ name: nameToText(n.wire), type: buf.readUInt16BE(pos), class: buf.readUInt16BE(pos + 2) });
    pos += 4;
  }
  const sections: WireRecord[][] = [[], [], []];
  let opt: WireOpt | null = null;
  let extendedRcode = 0;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const n = readName(buf, pos);
      pos = n.end;
      if (pos + 10 > buf.length) throw new MalformedMessageError('truncated record header');
      const type = buf.readUInt16BE(pos);
      const klass = buf.readUInt16BE(pos + 2);
      const ttl = buf.readUInt32BE(pos + 4);
      const rdlen = buf.readUInt16BE(pos + 8);
      pos += 10;
      if (pos + rdlen > buf.length) throw new MalformedMessageError('RDATA runs past the message');
      if (type === 41) {
        // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
        if (s !== 2 || opt !== null || n.wire.length !== 1) throw new MalformedMessageError('misplaced or repeated OPT');
        const options: { code: number; data: Buffer }[] = [];
        for (let p = pos; p < pos + rdlen; ) {
          if (p + 4 > pos + rdlen) throw new MalformedMessageError('truncated EDNS option');
          const code = buf.readUInt16BE(p);
          const len = buf.readUInt16BE(p + 2);
          if (p + 4 + len > pos + rdlen) throw new MalformedMessageError('EDNS option runs past the OPT');
          options.push({ code, data: Buffer.from(buf.subarray(p + 4, p + 4 + len)) });
          p += 4 + len;
        }
        extendedRcode = ttl >>> 24;
        opt = { udpSize: klass, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options };
      } else {
        sections[s]!.push({ name: nameToText(n.wire), type, class: klass, ttl, rdata: readRdata(buf, type, pos, rdlen, opts) });
      }
      pos += rdlen;
    }
  }
  if (pos !== buf.length) throw new MalformedMessageError(`${buf.length - pos} octets after the last record`);
  return {
    id: buf.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: (extendedRcode << 4) | (flags & 0xf),
    question,
    answer: sections[0]!,
    authority: sections[1]!,
    additional: sections[2]!,
    opt,
  };
}
