// handleInto, the native UDP path's entry: the answer written once, at an offset in the caller's send
// memory, is byte for byte what handle() returns, over every way a response is made (a fresh answer,
// a cache hit, a referral from a cut's template, a header-only error, a cookie written per query),
// and the same minimal reply when rate limiting slips it; a response too long for the room is not
// written there.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerCookies } from '../../src/wire/cookies.js';
import { CacheUse } from '../../src/wire/handler-types.js';
import { ROOT_ZONE_2018 } from '../helpers/paths.js';
import { zoneFromFile, zoneSet } from '../answer/helpers.js';
import { UDP, harness, query } from './helpers.js';

const zones = zoneSet(zoneFromFile(ROOT_ZONE_2018, '.'));
const SECRET = Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex');
const CLIENT = Buffer.from('2464c4abcf10c957', 'hex');
const SLOT = 4096;

const make = () => harness(zones, { cookies: new ServerCookies(SECRET), now: () => 1_700_000_000_000 });

function queries(): Buffer[] {
  const out: Buffer[] = [];
  const names = ['.', 'com', 'www.example.com', 'WWW.Example.COM', 'a.b.c.org', 'x1.de', 'x2.de', 'nothing.local', 'y.home', 'random-tld-q9z'];
  let id = 1;
  // Twice: the first round misses (and makes templates), the second is answered from the cache.
  for (let round = 0; round < 2; round++) {
    for (const name of names) {
      for (const type of ['A', 'NS', 'SOA', 'DS', 'DNSKEY']) {
        out.push(query(name, { id: id++, type }));
        out.push(query(name, { id: id++, type, edns: 1232 }));
        out.push(query(name, { id: id++, type, edns: 4096, do: true, nsid: true }));
        out.push(query(name, { id: id++, type, edns: 1232, cookie: CLIENT }));
      }
      out.push(query(name, { id: id++, class: 'CH', type: 'TXT' }));
    }
  }
  // Header-only and question-only errors: a truncated question, an opcode not served.
  out.push(query('www.example.com', { id: id++ }).subarray(0, 20));
  const notify = query('com', { id });
  notify[2] = (notify[2]! & 0x87) | (4 << 3);
  out.push(notify);
  return out;
}

test('handleInto writes at the offset exactly what handle returns, and nothing outside it', () => {
  const plain = make();
  const into = make();
  const send = Buffer.alloc(SLOT * 3, 0xa5);
  let slot = 0;
  for (const q of queries()) {
    const expected = plain.handler.handle(q, UDP);
    // A stale answer of another query fills the memory around and under the slot.
    send.fill(0xa5);
    const at = SLOT * (1 + (slot++ % 2));
    const length = into.handler.handleInto(q, UDP, send, at, SLOT);
    if (expected === null) {
      assert.equal(length, -1);
      continue;
    }
    assert.equal(length, expected.length);
    assert.deepEqual(send.subarray(at, at + length), expected, `query ${q.readUInt16BE(0)}`);
    assert.ok(send.subarray(0, at).every((b) => b === 0xa5) && send.subarray(at + length).every((b) => b === 0xa5), 'nothing written outside the answer');
    assert.deepEqual({ ...into.handler.info }, { ...plain.handler.info });
  }
  assert.deepEqual(into.errors, []);
  assert.ok(into.infos.filter((i) => i.cache === CacheUse.Hit).length > 100, 'the cache and the referral templates answered too');
});

test('handleInto: a slipped answer is cut in place to handle and slip\'s bytes', () => {
  const plain = make();
  const into = make();
  const send = Buffer.alloc(SLOT * 2);
  for (const q of [query('www.example.com', { edns: 1232, cookie: CLIENT }), query('nothing.local', { edns: 1232 }), query('com', { type: 'NS' })]) {
    const expected = plain.handler.slip(plain.handler.handle(q, UDP)!);
    const length = into.handler.handleInto(q, UDP, send, SLOT, SLOT);
    const cut = into.handler.slip(send.subarray(SLOT, SLOT + length));
    assert.equal(cut.byteOffset - send.byteOffset, SLOT, 'cut where it was written');
    assert.deepEqual(cut, expected);
  }
});

test('handleInto: a response longer than the room is not written there, and its length says so', () => {
  const h = make();
  const send = Buffer.alloc(1024, 0xa5);
  const length = h.handler.handleInto(query('com', { type: 'NS', edns: 4096, do: true }), UDP, send, 512, 100);
  assert.ok(length > 100, `a referral with glue is longer than 100 octets (${length})`);
  assert.ok(send.every((b) => b === 0xa5));
});
