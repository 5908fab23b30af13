// Differential test of the zone reader against BIND's (issue 2): for the bundled zones, a generated
// zone using every supported type and syntax feature, and the 2018 root zone, the records printed by
// `anycast-dns check --print` equal, as a set, the records named-compilezone reads from the file.
// And every file named-checkzone rejects, `anycast-dns check` rejects too, at the right line.
//
// How records are compared, and why: owner, TTL, class and type are compared directly (absolute,
// lower-cased owners). RDATA text legitimately differs between printers (base64 line breaks, hex
// case, LOC and SVCB spellings, which escapes a TXT uses), and normalising every such form by hand
// would be a second presentation parser that could share our bugs. So our printed zone is read back
// by named-compilezone and compared with BIND's reading of the original file: BIND's printer renders
// both sides, so equal text means equal wire data as BIND understands it, and the canonicaliser is
// independent of the code under test. The direct text comparison is still made and reported for
// diagnosis when the two sides differ.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BUNDLED_ZONES_DIR, CLI_JS, ROOT_ZONE_2018 } from '../helpers/paths.js';
import { FEATURE_ZONE_ORIGIN, writeFeatureZone } from '../helpers/zone-fixture.js';
import { checkZoneWithBind, compileZone, normaliseZoneText, type ZoneRecordText } from './zone-text.js';

function runCheck(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI_JS, 'check', ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function setDiff(a: readonly string[], b: readonly string[]): { onlyA: string[]; onlyB: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  return { onlyA: [...sa].filter((x) => !sb.has(x)).sort(), onlyB: [...sb].filter((x) => !sa.has(x)).sort() };
}

function show(title: string, lines: string[]): string {
  return lines.length === 0 ? '' : `\n  ${title} (${lines.length}):\n    ${lines.slice(0, 25).join('\n    ')}${lines.length > 25 ? '\n    …' : ''}`;
}

/** Reads `file` with both readers and asserts the record sets are equal. */
function assertSameRecords(origin: string, file: string, work: string): number {
  const bind = compileZone(origin, file, dirname(file));
  assert.ok(bind.ok, `named-compilezone refuses ${file}:\n${bind.messages}`);
  const ours = runCheck([file, '--origin', origin, '--print']);
  assert.equal(ours.status, 0, `anycast-dns check --print failed on ${file}:\n${ours.stderr}`);
  const bindRecords = normaliseZoneText(bind.text);
  const ourRecords = normaliseZoneText(ours.stdout);
  assert.ok(bindRecords.length > 0 && ourRecords.length > 0, 'both readers produce records');

  // 1. Owner, TTL, class and type of every record, directly.
  const keys = (rs: ZoneRecordText[]): string[] => rs.map((r) => r.key);
  const direct = setDiff(
    ourRecords.map((r) => r.line),
    bindRecords.map((r) => r.line),
  );
  const keyDiff = setDiff(keys(ourRecords), keys(bindRecords));
  assert.ok(
    keyDiff.onlyA.length === 0 && keyDiff.onlyB.length === 0,
    `${file}: owner/TTL/class/type differ${show('only anycast-dns', keyDiff.onlyA)}${show('only named-compilezone', keyDiff.onlyB)}`,
  );
  assert.equal(new Set(ourRecords.map((r) => r.line)).size, ourRecords.length, `${file}: --print repeats a record`);

  // 2. The RDATA: our printed zone read back by BIND equals BIND's reading of the original.
  const printed = join(work, `${basename(file)}.printed`);
  writeFileSync(printed, ours.stdout);
  const reread = compileZone(origin, printed, work);
  assert.ok(reread.ok, `named-compilezone cannot read anycast-dns's --print output of ${file}:\n${reread.messages}${show('direct text differences, ours', direct.onlyA)}${show('BIND', direct.onlyB)}`);
  const round = setDiff(
    normaliseZoneText(reread.text).map((r) => r.line),
    bindRecords.map((r) => r.line),
  );
  assert.ok(
    round.onlyA.length === 0 && round.onlyB.length === 0,
    `${file}: records differ from named-compilezone's${show('only anycast-dns (as BIND reads our --print)', round.onlyA)}${show('only named-compilezone', round.onlyB)}${show('direct text, ours', direct.onlyA)}${show('direct text, BIND', direct.onlyB)}`,
  );
  return ourRecords.length;
}

describe('zone reader differential: anycast-dns check --print against named-compilezone', () => {
  let work = '';
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'anycast-dns-diff-zone-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  const bundled = readdirSync(BUNDLED_ZONES_DIR).filter((f) => f.endsWith('.zone'));
  test('there are bundled zones to compare', () => {
    assert.ok(bundled.length >= 2, `zones/ holds ${bundled.length} zone files`);
  });
  for (const f of bundled) {
    test(`bundled zone ${f}`, () => {
      const origin = f === 'root.zone' ? '.' : f.slice(0, -'.zone'.length) + '.';
      assertSameRecords(origin, join(BUNDLED_ZONES_DIR, f), work);
    });
  }

  test('generated zone with every type and syntax feature', () => {
    const dir = mkdtempSync(join(work, 'features-'));
    const n = assertSameRecords(FEATURE_ZONE_ORIGIN, writeFeatureZone(dir), work);
    assert.ok(n >= 75, `only ${n} records read from the feature zone`);
  });

  test('the 2018 root zone (with its trailing duplicate SOA)', () => {
    const n = assertSameRecords('.', ROOT_ZONE_2018, work);
    assert.ok(n > 19_000, `only ${n} records read from the root zone`);
  });
});

/** A zone file broken in one way, and the line(s) an error message may rightly name. */
interface Broken {
  what: string;
  /** Records after the 5-line header (so the first body line is line 6). */
  body: string[];
  /** Accepted lines for the first error (the most helpful one first). */
  lines: number[];
  /** Replace the header (for zone-level errors about the SOA or apex NS). */
  header?: string[];
  /** Extra files beside the zone (for $INCLUDE). */
  files?: Record<string, string>;
}

const HEADER = ['$ORIGIN broken.example.', '$TTL 300', '@ IN SOA ns hostmaster 1 3600 600 86400 300', '@ IN NS ns', 'ns IN A 192.0.2.1'];

// Not here because named-checkzone 9.18 (with -i local) accepts them: data below a DNAME, data outside
// the origin (ignored with a warning), an in-zone NS target without an address (a warning).
const BROKEN: Broken[] = [
  { what: 'label longer than 63 octets', body: [`${'a'.repeat(64)} A 192.0.2.2`], lines: [6] },
  { what: 'name longer than 255 octets', body: [`${Array(5).fill('b'.repeat(60)).join('.')} A 192.0.2.2`], lines: [6] },
  { what: 'label too long inside RDATA', body: [`x CNAME ${'c'.repeat(64)}.example.`], lines: [6] },
  { what: 'bad base64', body: ['k DNSKEY 257 3 8 AwEA!!!'], lines: [6] },
  { what: 'base64 with non-zero padding bits', body: ['k CERT 1 12345 8 AwEAAa=='], lines: [6] },
  { what: 'bad hex', body: ['d DS 12345 8 2 XYZ1'], lines: [6] },
  { what: 'number out of range (MX preference)', body: ['m MX 65536 mail'], lines: [6] },
  { what: 'IPv4 octet out of range', body: ['h A 192.0.2.256'], lines: [6] },
  { what: 'bad IPv6 address', body: ['h AAAA 2001:db8::1::2'], lines: [6] },
  { what: 'TTL out of range', body: ['h 4294967296 A 192.0.2.2'], lines: [6] },
  { what: 'bad TTL unit', body: ['h 1x A 192.0.2.2'], lines: [6] },
  { what: 'unknown type mnemonic', body: ['h FOOBAR 1'], lines: [6] },
  { what: 'unknown class mnemonic', body: ['h CLASSX A 192.0.2.2'], lines: [6] },
  { what: 'RFC 3597 length mismatch', body: ['g TYPE65534 \\# 4 0a0b0c'], lines: [6] },
  { what: 'escape \\DDD above 255 in a name', body: ['a\\256b A 192.0.2.2'], lines: [6] },
  { what: 'unbalanced opening parenthesis', body: ['t TXT ( "a"', 'u A 192.0.2.3'], lines: [6, 7] },
  { what: 'closing parenthesis without an opening one', body: ['t TXT "a" )'], lines: [6] },
  { what: 'unbalanced quote', body: ['t TXT "abc'], lines: [6] },
  { what: 'second SOA at the apex', body: ['@ IN SOA ns2 hostmaster 2 3600 600 86400 300'], lines: [6] },
  { what: 'SOA below the apex', body: ['sub IN SOA ns hostmaster 1 3600 600 86400 300'], lines: [6] },
  { what: 'CNAME and other data', body: ['w A 192.0.2.2', 'w CNAME ns'], lines: [7, 6] },
  { what: 'other data after a CNAME', body: ['w CNAME ns', 'w TXT "x"'], lines: [7, 6] },
  { what: 'two CNAMEs at one name', body: ['w CNAME ns', 'w CNAME host'], lines: [7, 6] },
  { what: 'CNAME at the apex', body: ['@ CNAME elsewhere.example.'], lines: [6] },
  { what: 'no NS at the apex', header: ['$ORIGIN broken.example.', '$TTL 300', '@ IN SOA ns hostmaster 1 3600 600 86400 300', 'ns IN A 192.0.2.1', '; no NS'], body: ['www A 192.0.2.2'], lines: [3] },
  { what: 'no SOA', header: ['$ORIGIN broken.example.', '$TTL 300', '; no SOA', '@ IN NS ns', 'ns IN A 192.0.2.1'], body: ['www A 192.0.2.2'], lines: [1, 3, 4] },
  { what: 'missing $INCLUDE file', body: ['$INCLUDE missing.inc'], lines: [6] },
  { what: 'error inside an $INCLUDE file is reported in that file', body: ['$INCLUDE part.inc'], files: { 'part.inc': 'ok A 192.0.2.9\nbad A 192.0.2.999\n' }, lines: [2] },
  { what: 'bad $GENERATE range', body: ['$GENERATE 5-1 h$ A 192.0.2.$'], lines: [6] },
];

describe('zones named-checkzone rejects, anycast-dns check rejects at the right line', () => {
  let work = '';
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'anycast-dns-diff-broken-'));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  for (const [i, b] of BROKEN.entries()) {
    test(b.what, () => {
      const dir = mkdtempSync(join(work, `case${i}-`));
      const file = join(dir, 'broken.example.zone');
      writeFileSync(file, [...(b.header ?? HEADER), ...b.body, ''].join('\n'));
      for (const [name, text] of Object.entries(b.files ?? {})) writeFileSync(join(dir, name), text);
      const bind = checkZoneWithBind('broken.example.', file, dir);
      assert.equal(bind.ok, false, `the snippet must be one named-checkzone rejects; it said:\n${bind.messages}`);

      const ours = runCheck([file, '--origin', 'broken.example.']);
      assert.notEqual(ours.status, 0, `anycast-dns check accepted it (BIND: ${bind.messages.trim()}); it said:\n${ours.stdout}${ours.stderr}`);
      const errorFile = b.files ? join(dir, Object.keys(b.files)[0]!) : file;
      const found = [...`${ours.stdout}\n${ours.stderr}`.matchAll(/^(.*?):(\d+): (.*)$/gm)].filter((m) => basename(m[1]!) === basename(errorFile) && !/\(warning\)|warning:/i.test(m[3]!));
      assert.ok(found.length > 0, `no "file:line: message" naming ${basename(errorFile)} in:\n${ours.stdout}${ours.stderr}\n(BIND: ${bind.messages.trim()})`);
      const line = Number(found[0]![2]);
      assert.ok(b.lines.includes(line), `error at line ${line}, expected line ${b.lines.join(' or ')}: ${found[0]![0]}\n(BIND: ${bind.messages.trim()})`);
    });
  }
});
