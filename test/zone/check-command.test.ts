import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOA_NS, tempFiles } from './helpers.js';
import { CLI_JS, REPO_ROOT } from '../helpers/paths.js';

const repo = REPO_ROOT;
const cli = CLI_JS;

function check(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'check', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('check DIR: one summary line per zone, exit 0', () => {
  const r = check(join(repo, 'zones'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^zone 2\.0\.192\.in-addr\.arpa\/IN: loaded serial 2026112501 \(\d+ records\)$/m);
  assert.match(r.out, /^zone example\.com\/IN: loaded serial 2026112501 \(\d+ records\)$/m);
});

test('check FILE with errors: file:line messages on stderr, exit 1', () => {
  const { dir, cleanup } = tempFiles({ 'example.com.zone': `${SOA_NS}x A 192.0.2.300\ny CNAME x\ny TXT "z"\n` });
  try {
    const r = check(join(dir, 'example.com.zone'));
    assert.equal(r.code, 1);
    assert.match(r.err, /example\.com\.zone:5: /);
    assert.match(r.err, /example\.com\.zone:7: y\.example\.com\.: CNAME and other data/);
    assert.match(r.err, /zone example\.com\/IN: not loaded due to errors/);
    assert.equal(r.out, '');
  } finally {
    cleanup();
  }
});

test('check --origin and --print: canonical presentation, absolute lower-case, canonical order', () => {
  const { dir, cleanup } = tempFiles({ 'z.txt': `${SOA_NS}B A 192.0.2.2\na MX 10 MAIL\nMAIL A 192.0.2.25\n*.a TXT "w"\n` });
  try {
    const r = check(join(dir, 'z.txt'), '--origin', 'Example.COM', '--print');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /zone example\.com\/IN: loaded serial 1 \(7 records\)/);
    assert.deepEqual(r.out.trim().split('\n'), [
      'example.com.\t300\tIN\tSOA\tns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300',
      'example.com.\t300\tIN\tNS\tns1.example.com.',
      'a.example.com.\t300\tIN\tMX\t10 mail.example.com.',
      '*.a.example.com.\t300\tIN\tTXT\t"w"',
      'b.example.com.\t300\tIN\tA\t192.0.2.2',
      'mail.example.com.\t300\tIN\tA\t192.0.2.25',
      'ns1.example.com.\t300\tIN\tA\t192.0.2.53',
    ]);
  } finally {
    cleanup();
  }
});

test('check usage errors exit 2', () => {
  assert.equal(check().code, 2);
  assert.equal(check('--bogus', 'x').code, 2);
});

// RFC 8976 Appendix A.1, whose ZONEMD record starts on line 6 of the fixture.
const A1 = readFileSync(join(repo, 'test/zone/zonemd/rfc8976-a1.zone'), 'latin1');

test('check: a zone that matches its ZONEMD says so, exit 0', () => {
  const { dir, cleanup } = tempFiles({ 'example.zone': A1 });
  try {
    const r = check(join(dir, 'example.zone'));
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'zone example/IN: loaded serial 2018031900 (6 records), ZONEMD verified (scheme 1, hash algorithm 1)\n');
    assert.equal(r.err, '');
  } finally {
    cleanup();
  }
});

test('check: a ZONEMD digest mismatch is an error at the ZONEMD line, exit 1', () => {
  const { dir, cleanup } = tempFiles({ 'example.zone': A1.replace('203.0.113.63', '203.0.113.64') });
  try {
    const r = check(join(dir, 'example.zone'));
    assert.equal(r.code, 1);
    assert.match(r.err, /^\S*example\.zone:6: ZONEMD digest mismatch: scheme 1 hash algorithm 1 \(SHA-384\): zone digest [0-9a-f]{16}\.\.\. differs from the ZONEMD's c68090d90a7aed71\.\.\.$/m);
    assert.match(r.err, /^zone example\/IN: not loaded due to errors$/m);
    assert.equal(r.out, '');
  } finally {
    cleanup();
  }
});

test('check: a ZONEMD that cannot be verified is a warning, exit 0', () => {
  const { dir, cleanup } = tempFiles({ 'example.zone': A1.replace('ZONEMD  2018031900 1 1', 'ZONEMD  2018031900 1 240') });
  try {
    const r = check(join(dir, 'example.zone'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /example\.zone:6: ZONEMD not verified: scheme 1 hash algorithm 240 is not supported \(warning\)$/m);
    assert.equal(r.out, 'zone example/IN: loaded serial 2018031900 (6 records)\n');
  } finally {
    cleanup();
  }
});
