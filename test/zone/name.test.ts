import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalSortKey, keyIsAtOrBelow, keyToText, nameFromText, nameKey, nameToText, parentKey, NameError,
} from '../../src/zone/name.js';

const origin = nameFromText('example.com.', null);
const key = (t: string) => nameKey(nameFromText(t, origin));

test('relative, absolute and @ names', () => {
  assert.equal(nameToText(nameFromText('www', origin)), 'www.example.com.');
  assert.equal(nameToText(nameFromText('www.example.org.', origin)), 'www.example.org.');
  assert.equal(nameToText(nameFromText('@', origin)), 'example.com.');
  assert.equal(nameToText(nameFromText('.', origin)), '.');
});

test('escapes: \\X and \\DDD', () => {
  const n = nameFromText('a\\.b\\065\\032c.', null);
  assert.equal(n[0], 6);
  assert.equal(n.subarray(1, 7).toString('latin1'), 'a.bA c');
  assert.equal(nameToText(n), 'a\\.bA\\032c.');
  assert.throws(() => nameFromText('a\\256.', null), NameError);
  assert.throws(() => nameFromText('a\\25x.', null), NameError);
});

test('label and name length limits (RFC 1035 §2.3.4)', () => {
  assert.doesNotThrow(() => nameFromText('a'.repeat(63) + '.', null));
  assert.throws(() => nameFromText('a'.repeat(64) + '.', null), /label longer than 63/);
  const long4 = Array(4).fill('a'.repeat(63)).join('.') + '.'; // 4*64+1 = 257 octets
  assert.throws(() => nameFromText(long4, null), /longer than 255/);
  const ok = Array(3).fill('a'.repeat(63)).join('.') + '.' + 'a'.repeat(61) + '.'; // 255 octets
  assert.equal(nameFromText(ok, null).length, 255);
  assert.throws(() => nameFromText('a..b.', null), /empty label/);
});

test('keys are lower-case and walk to the parent', () => {
  const k = key('WWW.Example.COM.');
  assert.equal(keyToText(k), 'www.example.com.');
  assert.equal(keyToText(parentKey(k)!), 'example.com.');
  assert.equal(parentKey(nameKey(Buffer.from([0]))), null);
  assert.ok(keyIsAtOrBelow(k, key('example.com.')));
  assert.ok(keyIsAtOrBelow(k, nameKey(Buffer.from([0]))));
  assert.ok(!keyIsAtOrBelow(key('www.xexample.com.'), key('example.com.')));
});

test('canonical order (RFC 4034 §6.1 example)', () => {
  const ordered = ['example.', 'a.example.', 'yljkjljk.a.example.', 'Z.a.example.', 'zABC.a.EXAMPLE.', 'z.example.', '\\001.z.example.', '*.z.example.', '\\200.z.example.'];
  const keys = ordered.map((t) => nameKey(nameFromText(t, null)));
  const shuffled = [...keys].reverse();
  assert.deepEqual([...shuffled].sort((a, b) => (canonicalSortKey(a) < canonicalSortKey(b) ? -1 : 1)), keys);
});
