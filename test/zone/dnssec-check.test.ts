// Checks of signed zones at load (`check` and every reload), as dnssec-verify makes them: zones signed
// here by dnssec-signzone pass untouched, and each break a signer or a careless edit makes is reported
// at the line of the record at fault: a broken NSEC chain, a missing NSEC3, an NSEC3PARAM matching no
// chain, expired signatures; signatures about to expire are a warning.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadZoneFile } from '../../src/zone/read-zone.js';
import { signZone, type Denial } from '../helpers/signed-zones.js';
import { CLI_JS } from '../helpers/paths.js';

const cli = CLI_JS;
const dir = mkdtempSync(join(tmpdir(), 'anycast-dnssec-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function zoneText(origin: string): string {
  return `$ORIGIN ${origin}
$TTL 3600
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
www A 192.0.2.2
*.wild TXT "w"
a.ent A 192.0.2.3
secure NS ns.secure
secure DS 12345 13 2 ${'AB'.repeat(32)}
ns.secure A 192.0.2.4
insecure NS ns.insecure
ns.insecure A 192.0.2.5
`;
}

let n = 0;
function signed(denial: Denial, extra: string[] = []): { file: string; origin: string; lines: string[] } {
  const origin = `z${n++}.test.`;
  const z = signZone(dir, origin, zoneText(origin), denial, extra);
  return { file: z.file, origin, lines: readFileSync(z.file, 'utf8').split('\n') };
}

/** The line number (1-based) of the first line matching `re`. */
function lineOf(lines: string[], re: RegExp): number {
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no line matches ${re}`);
  return i + 1;
}

function check(file: string, ...args: string[]): { code: number | null; err: string; out: string } {
  const r = spawnSync(process.execPath, [cli, 'check', file, ...args], { encoding: 'utf8' });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

test('zones signed with NSEC, NSEC3 and NSEC3 opt-out load with no DNSSEC problem', () => {
  for (const denial of ['nsec', 'nsec3', 'nsec3-optout'] as const) {
    const z = signed(denial);
    const r = loadZoneFile(z.file, z.origin);
    assert.deepEqual(r.errors, [], denial);
    assert.deepEqual(r.warnings.filter((w) => /NSEC|signature/.test(w.message)), [], denial);
    assert.ok(r.zone !== null);
  }
});

test('a broken NSEC chain is an error at the NSEC that points to the missing name', () => {
  const z = signed('nsec');
  const removed = lineOf(z.lines, new RegExp(`^www\\.${z.origin.replace(/\./g, '\\.')}\\s+\\d+\\s+IN\\s+NSEC\\s`));
  z.lines.splice(removed - 1, 1);
  const before = lineOf(z.lines, new RegExp(`\\sIN\\s+NSEC\\s+www\\.${z.origin.replace(/\./g, '\\.')}`));
  writeFileSync(z.file, z.lines.join('\n'));
  const r = check(z.file);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`${z.file}:${before}: NSEC of \\S+ points to www\\.${z.origin}; the next name in the chain is `));
  assert.match(r.err, new RegExp(`${z.file}:\\d+: www\\.${z.origin} has no NSEC record`));
  assert.match(r.err, /not loaded due to errors/);
});

test('a missing NSEC3 is an error naming the name left without one', () => {
  const z = signed('nsec3');
  // An NSEC3 whose bitmap is `A RRSIG`: the one of www or ns1.
  const idx = z.lines.findIndex((l) => /\sIN\s+NSEC3\s.*\sA RRSIG$/.test(l));
  assert.ok(idx >= 0);
  z.lines.splice(idx, 1);
  writeFileSync(z.file, z.lines.join('\n'));
  const r = check(z.file);
  assert.equal(r.code, 1);
  assert.match(r.err, /has no NSEC3 record \(hash [0-9a-v]{32}\.z\d+\.test\.\): the NSEC3 chain is broken/);
  assert.match(r.err, /: NSEC3 [0-9a-v]{32}\.z\d+\.test\. points to [0-9a-v]{32}; the next hash in the chain is [0-9a-v]{32}/);
});

test('an NSEC3PARAM that matches no NSEC3 chain is an error at its line', () => {
  const z = signed('nsec3');
  const at = lineOf(z.lines, /\sIN\s+NSEC3PARAM\s/);
  z.lines[at - 1] = z.lines[at - 1]!.replace(/NSEC3PARAM\s+1 0 0 -/, 'NSEC3PARAM 1 0 0 AABB');
  writeFileSync(z.file, z.lines.join('\n'));
  const r = check(z.file);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`${z.file}:${at}: NSEC3PARAM 1 0 0 AABB matches no NSEC3 record of the zone`));
});

test('expired signatures are an error, soon-expiring ones a warning, at the first such RRSIG', () => {
  // -P: dnssec-signzone's own verification would reject signatures that have expired.
  const old = signed('nsec', ['-P', '-s', '20200101000000', '-e', '20200201000000']);
  const r = check(old.file);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, new RegExp(`${old.file}:\\d+: \\d+ signatures have expired \\(earliest: RRSIG \\S+ of \\S+, 2020-02-01T00:00:00Z\\): the signer must re-sign the zone\n`));
  // Judged on a day inside their validity, the same zone loads.
  assert.ok(loadZoneFile(old.file, old.origin, { now: Date.parse('2020-01-15') / 1000 }).zone !== null);
  const soon = signed('nsec3', ['-e', 'now+259200']);
  const s = check(soon.file);
  assert.equal(s.code, 0, s.err);
  assert.match(s.err, /\d+ signatures expire within 7 days \(earliest: RRSIG/);
  // A threshold below the time left: nothing to say.
  const quiet = check(soon.file, '--expiry-warning-days', '2');
  assert.doesNotMatch(quiet.err, /signature/);
});
