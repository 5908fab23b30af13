// ZONEMD verification (RFC 8976 §4) against real digests: the RFC's Appendix A zones, and zones
// that ldns-signzone digests (unsigned, and signed with NSEC and NSEC3), then edited.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadZoneFile, loadZoneText } from '../../src/zone/read-zone.js';
import { verifyZonemd, type ZonemdResult } from '../../src/zone/zonemd.js';
import { REPO_ROOT } from '../helpers/paths.js';

const FIXTURES = join(REPO_ROOT, 'test', 'zone', 'zonemd');
const ORIGIN = 'example.com.';

// SOA MINIMUM above the TTLs, names in mixed case, a delegation with glue and DS, a wildcard, and
// RRsets with different TTLs at one name (so their RRSIGs differ in TTL too).
const SOURCE = `$TTL 300
@ IN SOA ns1 hostmaster 2026113001 7200 3600 1209600 3600
@ IN NS ns1
@ IN NS NS2.Example.COM.
ns1 IN A 192.0.2.53
ns2 IN A 192.0.2.54
www 600 IN A 192.0.2.80
www 600 IN AAAA 2001:db8::80
www 60 IN TXT "web"
Mail IN MX 10 MX1.example.com.
mx1 IN A 192.0.2.25
sub IN NS ns.sub
sub IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.sub IN A 192.0.2.99
txt IN TXT "hello" "World"
*.wild 60 IN TXT "wild"
`;

function run(cmd: string, args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Runs `fn` in a fresh temporary directory, removed afterwards even when `fn` throws. */
function inTempDir<R>(fn: (dir: string) => R): R {
  const dir = mkdtempSync(join(tmpdir(), 'adns-zonemd-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The zone text (SOURCE by default) with ZONEMD records made by ldns-signzone for each `-z scheme:hash` given: unsigned (-Z),
 * or signed with a new ECDSA P-256 key, with NSEC or NSEC3 (-n).
 */
function ldnsDigested(digests: string[], signing: 'unsigned' | 'nsec' | 'nsec3', source = SOURCE): string {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'in.zone'), source);
    const args = digests.flatMap((d) => ['-z', d]);
    const keys: string[] = [];
    if (signing === 'unsigned') {
      args.push('-Z');
    } else {
      const key = run('ldns-keygen', ['-a', 'ECDSAP256SHA256', ORIGIN], dir);
      assert.equal(key.status, 0, key.out);
      keys.push(key.out.trim());
      if (signing === 'nsec3') args.push('-n');
    }
    args.push('-o', ORIGIN, '-f', 'out.zone', 'in.zone', ...keys);
    const signed = run('ldns-signzone', args, dir);
    assert.equal(signed.status, 0, signed.out);
    return readFileSync(join(dir, 'out.zone'), 'utf8');
  });
}

/** Whether `ldns-verify-zone -Z` accepts the zone text (its ZONEMD, and its signatures if any). */
function ldnsVerifies(text: string): boolean {
  return inTempDir((dir) => {
    writeFileSync(join(dir, 'z.zone'), text);
    return run('ldns-verify-zone', ['-Z', 'z.zone'], dir).status === 0;
  });
}

/** The ZONEMD outcome as the loader reports it: a mismatch is an error that leaves the zone unloaded. */
function verifyText(text: string, origin = ORIGIN): ZonemdResult {
  const r = loadZoneText(text, origin, 'test.zone');
  const prefix = 'ZONEMD digest mismatch: ';
  const mismatch = r.errors.find((d) => d.message.startsWith(prefix));
  if (mismatch !== undefined) {
    assert.equal(r.zone, null, 'a zone that fails its digest is not loaded');
    assert.match(text.split('\n')[mismatch.line - 1] ?? '', /ZONEMD/, 'the error is reported on the ZONEMD line');
    return { status: 'mismatch', message: mismatch.message.slice(prefix.length) };
  }
  assert.ok(r.zone, `zone did not load: ${r.errors.map((d) => `${d.line}: ${d.message}`).join('; ')}`);
  const result = r.zonemd ?? { status: 'absent' };
  assert.deepEqual(result, verifyZonemd(r.zone));
  return result;
}

/** `text` with the first match of `from` replaced; fails when there is none, so no edit goes unnoticed. */
function edit(text: string, from: RegExp, to: string): string {
  assert.match(text, from);
  return text.replace(from, to);
}

function zonemdLines(text: string): string[] {
  return text.split('\n').filter((l) => /\tZONEMD\t/.test(l));
}

const VERIFIED_384: ZonemdResult = { status: 'verified', scheme: 1, hashAlgorithm: 1 };
const VERIFIED_512: ZonemdResult = { status: 'verified', scheme: 1, hashAlgorithm: 2 };

describe('RFC 8976 Appendix A example zones verify', () => {
  const cases = [
    { file: 'rfc8976-a1.zone', origin: 'example.', what: 'A.1 simple', ldns: true },
    { file: 'rfc8976-a2.zone', origin: 'example.', what: 'A.2 complex: duplicates, occluded, out-of-zone and non-apex ZONEMD', ldns: true },
    { file: 'rfc8976-a3.zone', origin: 'example.', what: 'A.3 multiple digests, private-range ones beside', ldns: true },
    // Its signatures expired in 2018, so ldns-verify-zone rejects it for that reason alone.
    { file: 'rfc8976-a4.zone', origin: 'uri.arpa.', what: 'A.4 URI.ARPA, signed, RRSIGs of different TTLs at one name', ldns: false, at: '2018-10-10' },
    { file: 'rfc8976-a5.zone', origin: 'root-servers.net.', what: 'A.5 ROOT-SERVERS.NET', ldns: true },
  ];
  for (const c of cases) {
    test(c.what, () => {
      const path = join(FIXTURES, c.file);
      // A signed fixture is loaded as on a day its signatures were valid (expired ones reject a zone).
      const r = loadZoneFile(path, c.origin, c.at === undefined ? {} : { now: Date.parse(c.at) / 1000 });
      assert.ok(r.zone, r.errors.map((d) => d.message).join('; '));
      assert.deepEqual(verifyZonemd(r.zone), VERIFIED_384);
      if (c.ldns) assert.ok(ldnsVerifies(readFileSync(path, 'utf8')), 'the fixture is as the RFC prints it (ldns-verify-zone -Z agrees)');
    });
  }

  test('A.3 with its SHA-384 record removed verifies by SHA-512', () => {
    const text = edit(readFileSync(join(FIXTURES, 'rfc8976-a3.zone'), 'utf8'), /^example\. .*ZONEMD +2018031900 1 1 \([^)]*\)\n/m, '');
    assert.deepEqual(verifyText(text, 'example.'), VERIFIED_512);
  });

  test('A.3 with only its private-range records is unverifiable, not a mismatch', () => {
    let text = readFileSync(join(FIXTURES, 'rfc8976-a3.zone'), 'utf8');
    text = edit(text, /^example\. .*ZONEMD +2018031900 1 1 \([^)]*\)\n/m, '');
    text = edit(text, /^example\. .*ZONEMD +2018031900 1 2 \([^)]*\)\n/m, '');
    const r = verifyText(text, 'example.');
    assert.equal(r.status, 'unverifiable');
    assert.match(r.status === 'unverifiable' ? r.message : '', /scheme 1 hash algorithm 240 is not supported; scheme 241 hash algorithm 1 is not supported/);
  });
});

describe('zones digested by ldns-signzone', () => {
  for (const [digests, signing, expected] of [
    [['1:1'], 'unsigned', VERIFIED_384],
    [['1:2'], 'unsigned', VERIFIED_512],
    [['1:1', '1:2'], 'nsec', VERIFIED_384],
    [['1:2'], 'nsec3', VERIFIED_512],
  ] as const) {
    test(`${signing}, -z ${digests.join(' -z ')}: verified`, () => {
      const text = ldnsDigested([...digests], signing);
      assert.equal(zonemdLines(text).length, digests.length);
      if (signing !== 'unsigned') {
        // The RRSIG over the apex ZONEMD exists and must be left out of the digest (RFC 8976 §3.3.1.1).
        assert.match(text, /^example\.com\.\t\d+\tIN\tRRSIG\tZONEMD /m);
        assert.match(text, signing === 'nsec' ? /\tIN\tNSEC\t/ : /\tIN\tNSEC3\t/);
      }
      assert.ok(ldnsVerifies(text));
      assert.deepEqual(verifyText(text), expected);
    });
  }

  test('one changed record: mismatch, in an unsigned and in a signed zone', () => {
    for (const signing of ['unsigned', 'nsec'] as const) {
      const text = edit(ldnsDigested(['1:1'], signing), /192\.0\.2\.80/, '192.0.2.81');
      assert.equal(ldnsVerifies(text), false);
      const r = verifyText(text);
      assert.equal(r.status, 'mismatch', signing);
      assert.match(r.status === 'mismatch' ? r.message : '', /^scheme 1 hash algorithm 1 \(SHA-384\): zone digest [0-9a-f]{16}\.\.\. differs from the ZONEMD's [0-9a-f]{16}\.\.\.$/);
    }
  });

  test('a changed TTL, a removed record, a removed signature: mismatch', () => {
    const unsigned = ldnsDigested(['1:2'], 'unsigned');
    assert.equal(verifyText(edit(unsigned, /^(www\.example\.com\.\t)600(\tIN\tAAAA)/m, '$1601$2')).status, 'mismatch');
    assert.equal(verifyText(edit(unsigned, /^txt\.example\.com\..*\n/m, '')).status, 'mismatch');
    const signed = ldnsDigested(['1:2'], 'nsec');
    assert.equal(verifyText(edit(signed, /^ns1\.example\.com\.\t\d+\tIN\tRRSIG\tNSEC .*\n/m, '')).status, 'mismatch');
  });

  test('canonical form: owner and NS target case do not matter, TXT case does', () => {
    const text = ldnsDigested(['1:1'], 'nsec');
    assert.deepEqual(verifyText(edit(text, /^www\.example\.com\.(\t\d+\tIN\tA\t)/m, 'WWW.Example.com.$1')), VERIFIED_384);
    assert.deepEqual(verifyText(edit(text, /(\tIN\tNS\t)ns1\.example\.com\./, '$1NS1.EXAMPLE.COM.')), VERIFIED_384);
    assert.equal(verifyText(edit(text, /"World"/, '"WORLD"')).status, 'mismatch');
  });

  test('records of nearly 64 KiB each, more than one per hash update', () => {
    const txt = Array.from({ length: 250 }, (_, i) => `"${String.fromCharCode(65 + (i % 26)).repeat(254)}"`).join(' ');
    const text = ldnsDigested(['1:1'], 'unsigned', `${SOURCE}big1 TXT ${txt}\nbig2 TXT ${txt}\nbig3 TXT ${txt}\n`);
    assert.deepEqual(verifyText(text), VERIFIED_384);
    assert.equal(verifyText(edit(text, /(big2\.example\.com\.\t\d+\tIN\tTXT\t"A+)A"/, '$1B"')).status, 'mismatch');
  });

  test('a duplicate record is digested once', () => {
    const text = ldnsDigested(['1:1'], 'unsigned');
    assert.deepEqual(verifyText(text + 'ns1.example.com.\t300\tIN\tA\t192.0.2.53\n'), VERIFIED_384);
  });

  test('ZONEMD serial other than the SOA serial: mismatch naming both (RFC 8976 §4 step 5a)', () => {
    const text = ldnsDigested(['1:1'], 'unsigned');
    // The digest itself is still right: only the serial of the ZONEMD record is stale.
    const r = verifyText(edit(text, /(\tZONEMD\t)2026113001/, '$12026113000'));
    assert.equal(r.status, 'mismatch');
    assert.match(r.status === 'mismatch' ? r.message : '', /ZONEMD serial 2026113000 is not the SOA serial 2026113001/);
    // A new SOA serial without a new digest: the same.
    const bumped = verifyText(edit(text, /(\tSOA\t\S+ \S+ )2026113001/, '$12026113002'));
    assert.match(bumped.status === 'mismatch' ? bumped.message : '', /ZONEMD serial 2026113001 is not the SOA serial 2026113002/);
  });

  test('unknown hash algorithm or scheme: unverifiable, unless another record verifies', () => {
    const text = ldnsDigested(['1:1', '1:2'], 'unsigned');
    const unknownAlg = edit(edit(text, /(\tZONEMD\t\d+ 1 )1 /, '$1240 '), /(\tZONEMD\t\d+ )1 2 /, '$1200 2 ');
    assert.deepEqual(verifyText(unknownAlg), {
      status: 'unverifiable',
      message: 'scheme 1 hash algorithm 240 is not supported; scheme 200 hash algorithm 2 is not supported',
    });
    assert.deepEqual(verifyText(edit(text, /(\tZONEMD\t\d+ 1 )1 /, '$1240 ')), VERIFIED_512);
    // An unknown record does not rescue a zone whose supported digest fails.
    const r = verifyText(edit(edit(text, /(\tZONEMD\t\d+ 1 )1 /, '$1240 '), /192\.0\.2\.80/, '192.0.2.81'));
    assert.equal(r.status, 'mismatch');
  });

  test('a digest of the wrong length for its algorithm fails that record only (RFC 8976 §4 step 5d)', () => {
    const text = ldnsDigested(['1:1', '1:2'], 'unsigned');
    const short = edit(text, /(\tZONEMD\t\d+ 1 1 [0-9a-f]{48})[0-9a-f]+/, '$1');
    assert.deepEqual(verifyText(short), VERIFIED_512);
    const r = verifyText(edit(short, /^.*\tZONEMD\t\d+ 1 2 .*\n/m, ''));
    assert.deepEqual(r, { status: 'mismatch', message: 'scheme 1 hash algorithm 1 (SHA-384): digest of 24 octets, expected 48' });
  });

  test('two records with one scheme and algorithm verify nothing, even when one is right (RFC 8976 §4 step 4)', () => {
    const text = ldnsDigested(['1:1'], 'unsigned');
    const [line] = zonemdLines(text);
    const r = verifyText(text + edit(line!, /[0-9a-f]{8}$/, '00000000') + '\n');
    assert.equal(r.status, 'mismatch');
    assert.match(r.status === 'mismatch' ? r.message : '', /more than one ZONEMD record with this scheme and hash algorithm/);
  });

  test('a placeholder ZONEMD (digest not yet computed) does not verify', () => {
    const text = ldnsDigested(['1:1'], 'unsigned');
    assert.equal(verifyText(edit(text, /(\tZONEMD\t\d+ 1 1 )[0-9a-f]+/, `$1${'00'.repeat(48)}`)).status, 'mismatch');
  });

  test('no apex ZONEMD: absent, whatever ZONEMD lies below the apex', () => {
    assert.deepEqual(verifyText(SOURCE), { status: 'absent' });
    assert.deepEqual(verifyText(`${SOURCE}below ZONEMD 2026113001 1 1 ${'ab'.repeat(48)}\n`), { status: 'absent' });
  });
});
