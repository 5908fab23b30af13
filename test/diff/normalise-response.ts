// A response reduced to what the differential test compares: header bits, the question as sent,
// the OPT's DO bit, version and NSID, and each section as a set of RRsets, with owner names and the
// names inside RDATA lower-cased (RFC 4343) and RDATA rendered readably for the report.
import { isIPv6 } from 'node:net';
import { lowerAscii, nameToText, rdataNameLayout, readName, type WireMessage, type WireRecord } from '../helpers/dns-message.js';

export interface NormalResponse {
  rcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** Exactly as the server echoed it (case kept): RFC 1035 §4.1.2, the question is copied. */
  question: string;
  /** `none`, or `do=0|1 version=N nsid=...`. */
  opt: string;
  /** Each section: RRset lines `owner TTL CLASS TYPE rdata | rdata ...`, sorted; records in an RRset sorted. */
  answer: string[];
  authority: string[];
  additional: string[];
}

export type Section = 'answer' | 'authority' | 'additional';
export const SECTIONS: readonly Section[] = ['answer', 'authority', 'additional'];

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 28: 'AAAA', 33: 'SRV',
  35: 'NAPTR', 39: 'DNAME', 43: 'DS', 44: 'SSHFP', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 50: 'NSEC3', 64: 'SVCB', 65: 'HTTPS', 257: 'CAA',
};
const CLASS_NAMES: Record<number, string> = { 1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY' };

function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

function className(c: number): string {
  return CLASS_NAMES[c] ?? `CLASS${c}`;
}

function charString(b: Buffer): string {
  let s = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c >= 0x7f) s += '\\' + c.toString().padStart(3, '0');
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

/** Readable, canonical RDATA: names lower-cased; types without a known layout as RFC 3597 hex. */
function renderRdata(type: number, rdata: Buffer): string {
  if (type === 1 && rdata.length === 4) return [...rdata].join('.');
  if (type === 28 && rdata.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(rdata.readUInt16BE(i).toString(16));
    const text = groups.join(':');
    return isIPv6(text) ? text : `\\# 16 ${rdata.toString('hex')}`;
  }
  if (type === 16 || type === 13) {
    const parts: string[] = [];
    for (let p = 0; p < rdata.length; p += 1 + rdata[p]!) parts.push(charString(rdata.subarray(p + 1, p + 1 + rdata[p]!)));
    return parts.join(' ');
  }
  const layout = rdataNameLayout(type);
  if (!layout) return `\\# ${rdata.length} ${rdata.toString('hex')}`;
  const parts: string[] = [];
  let pos = 0;
  for (const step of layout) {
    if (step === 'name') {
      const n = readName(rdata, pos);
      parts.push(nameToText(lowerAscii(n.wire)));
      pos = n.end;
    } else if (step === 'string') {
      parts.push(charString(rdata.subarray(pos + 1, pos + 1 + rdata[pos]!)));
      pos += 1 + rdata[pos]!;
    } else {
      // Fixed fields of the known layouts are 16- or 32-bit numbers (SOA's five are 32-bit).
      const width = type === 6 ? 4 : 2;
      for (let i = 0; i < step; i += width) parts.push(String(width === 4 ? rdata.readUInt32BE(pos + i) : rdata.readUInt16BE(pos + i)));
      pos += step;
    }
  }
  return parts.join(' ');
}

/** One section as sorted RRset lines; records of one RRset (same owner, class, type) are grouped with their TTLs. */
function rrsetLines(records: readonly WireRecord[]): string[] {
  const sets = new Map<string, { ttls: Set<number>; rdatas: Set<string> }>();
  for (const r of records) {
    // RRSIGs of different covered types are compared apart, each with the RRset it signs (RFC 4035 §3.1.1).
    const covered = r.type === 46 && r.rdata.length >= 2 ? ` ${r.rdata.readUInt16BE(0)}` : '';
    const key = `${r.name.toLowerCase()} ${className(r.class)} ${typeName(r.type)}${covered}`;
    let set = sets.get(key);
    if (!set) sets.set(key, (set = { ttls: new Set(), rdatas: new Set() }));
    set.ttls.add(r.ttl);
    set.rdatas.add(renderRdata(r.type, r.rdata));
  }
  const lines: string[] = [];
  for (const [key, { ttls, rdatas }] of sets) {
    const [owner, rest] = [key.slice(0, key.indexOf(' ')), key.slice(key.indexOf(' ') + 1).replace(/^(\S+ RRSIG) \d+$/, '$1')];
    lines.push(`${owner} ${[...ttls].sort((a, b) => a - b).join(',')} ${rest} ${[...rdatas].sort().join(' | ')}`);
  }
  return lines.sort();
}

export function normaliseResponse(m: WireMessage): NormalResponse {
  const q = m.question.map((x) => `${x.name} ${className(x.class)} ${typeName(x.type)}`).join('; ');
  let opt = 'none';
  if (m.opt) {
    const nsid = m.opt.options.find((o) => o.code === 3);
    opt = `do=${m.opt.dnssecOk ? 1 : 0} version=${m.opt.version}${nsid ? ` nsid=${JSON.stringify(nsid.data.toString('latin1'))}` : ''}`;
  }
  return {
    rcode: m.rcode,
    aa: m.aa,
    tc: m.tc,
    rd: m.rd,
    ra: m.ra,
    question: q,
    opt,
    answer: rrsetLines(m.answer),
    authority: rrsetLines(m.authority),
    additional: rrsetLines(m.additional),
  };
}

/** The type a line's records are data of: the covered type for an RRSIG line (RFC 4034 §3.1.1), else its own. */
export function dataType(line: string): string {
  const f = line.split(' ');
  if (f[3] !== 'RRSIG') return f[3]!;
  const hex = f[4] === '\\#' ? f[6] : undefined;
  return hex === undefined ? 'RRSIG' : typeName(parseInt(hex.slice(0, 4), 16));
}

export function headerLine(r: NormalResponse): string {
  return `rcode=${r.rcode} aa=${+r.aa} tc=${+r.tc} rd=${+r.rd} ra=${+r.ra}`;
}
