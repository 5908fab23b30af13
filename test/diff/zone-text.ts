// Zone-file text as the differential test of the reader compares it: one record a line, owner
// absolute and lower-cased, TTL, class, type, and RDATA with whitespace collapsed outside quotes
// and the names inside lower-cased where the type's RDATA holds names (RFC 4034 §6.2 list).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '../helpers/peers.js';

/** Types whose RDATA is only names and numbers: the whole RDATA compares case-insensitively. */
const NAMES_AND_NUMBERS = new Set(['NS', 'MD', 'MF', 'CNAME', 'SOA', 'MB', 'MG', 'MR', 'PTR', 'MINFO', 'MX', 'RP', 'AFSDB', 'RT', 'PX', 'KX', 'SRV', 'DNAME']);

/** Splits presentation text into tokens, keeping each quoted string (escapes included) as one token. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    let j = i;
    if (c === '"') {
      j++;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      j++;
    } else {
      while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j += line[j] === '\\' ? 2 : 1;
    }
    out.push(line.slice(i, j));
    i = j;
  }
  return out;
}

export interface ZoneRecordText {
  /** `owner TTL CLASS TYPE` */
  key: string;
  /** key plus normalised RDATA */
  line: string;
}

/** Normalises one `owner TTL CLASS TYPE RDATA` line (full-form output of named-compilezone or `check --print`); null for anything else. */
function normaliseRecordLine(raw: string): ZoneRecordText | null {
  const line = raw.trim();
  if (line === '' || line.startsWith(';') || line.startsWith('$')) return null;
  const t = tokens(line);
  if (t.length < 4 || !/^\d+$/.test(t[1]!)) return null;
  const [owner, ttl, klass, type] = [t[0]!.toLowerCase(), t[1]!, t[2]!.toUpperCase(), t[3]!.toUpperCase()];
  const rdata = t.slice(4);
  let fields = rdata;
  if (NAMES_AND_NUMBERS.has(type)) fields = rdata.map((f) => f.toLowerCase());
  else if (type === 'RRSIG' && rdata[7] !== undefined) fields = rdata.map((f, i) => (i === 7 ? f.toLowerCase() : f)); // signer's name
  else if (type === 'NSEC' && rdata[0] !== undefined) fields = rdata.map((f, i) => (i === 0 ? f.toLowerCase() : f)); // next owner name
  else if (type === 'NAPTR' && rdata.length === 6) fields = rdata.map((f, i) => (i === 5 ? f.toLowerCase() : f)); // replacement
  const key = `${owner} ${ttl} ${klass} ${type}`;
  return { key, line: `${key} ${fields.join(' ')}`.trimEnd() };
}

export function normaliseZoneText(text: string): ZoneRecordText[] {
  const out: ZoneRecordText[] = [];
  for (const l of text.split('\n')) {
    const r = normaliseRecordLine(l);
    if (r) out.push(r);
  }
  return out;
}

/**
 * The records BIND reads from `file` for `origin`, as named-compilezone writes them: full owner
 * names (-s full), no integrity, name or MX/SRV checks that would drop or refuse records (-i none,
 * -k/-n/-m/-r/-M/-S ignore, -W ignore), so the comparison is of reading, not of policy.
 */
export function compileZone(origin: string, file: string, cwd: string): { ok: boolean; text: string; messages: string } {
  const bin = requireBinary('named-compilezone', 'bind9-utils');
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-compilezone-'));
  try {
    const out = join(dir, 'out.zone');
    const args = ['-f', 'text', '-F', 'text', '-s', 'full', '-i', 'none', '-k', 'ignore', '-n', 'ignore', '-m', 'ignore', '-r', 'ignore', '-M', 'ignore', '-S', 'ignore', '-W', 'ignore', '-o', out, origin, file];
    const r = spawnSync(bin, args, { cwd, encoding: 'utf8', timeout: 60_000 });
    const messages = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    if (r.status !== 0) return { ok: false, text: '', messages };
    return { ok: true, text: readFileSync(out, 'utf8'), messages };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `named-checkzone` (integrity checks on, local only: never a lookup off the machine) and returns whether it accepts the zone and what it said. */
export function checkZoneWithBind(origin: string, file: string, cwd: string): { ok: boolean; messages: string } {
  const bin = requireBinary('named-checkzone', 'bind9-utils');
  const r = spawnSync(bin, ['-i', 'local', origin, file], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, messages: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
