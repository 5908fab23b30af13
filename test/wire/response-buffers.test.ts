// Reused response buffers: one per length, handed out again until retained; a handler writing into
// them answers exactly as one that allocates a buffer per response.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseBuffers } from '../../src/wire/response-buffers.js';
import { UDP, TCP, exampleZones, harness, header, query } from './helpers.js';

test('response buffers: the same buffer per length until retained, then a new one', () => {
  const pool = new ResponseBuffers();
  const a = pool.take(100);
  assert.equal(a.length, 100);
  assert.equal(pool.take(100), a);
  assert.notEqual(pool.take(101), a);
  // A view of it (a slipped reply is one) retains the whole buffer.
  pool.retain(a.subarray(0, 20));
  const b = pool.take(100);
  assert.notEqual(b, a);
  assert.notEqual(b.buffer, a.buffer);
  assert.equal(pool.take(100), b);
  // A buffer that is not the pool's changes nothing.
  pool.retain(Buffer.alloc(100));
  assert.equal(pool.take(100), b);
  // Beyond a UDP response's size, every take is a new buffer.
  assert.notEqual(pool.take(5000), pool.take(5000));
});

const DELEGATION = `
sub      NS    ns1.sub
sub      NS    ns.elsewhere.net.
ns1.sub  A     192.0.2.9
`;

/** Cache misses and hits, referral templates, truncation, errors, EDNS variants, TCP. */
function queries(): [Buffer, typeof UDP][] {
  const qs: [Buffer, typeof UDP][] = [];
  for (let round = 0; round < 3; round++) {
    qs.push([query('www.example.com', { id: round }), UDP]);
    qs.push([query('WWW.example.COM', { id: 7, edns: 1232 }), UDP]);
    qs.push([query('example.com', { type: 'MX', edns: 1232, nsid: true }), UDP]);
    qs.push([query('nothing.example.com', { id: 9 }), UDP]);
    qs.push([query(`a${round}.sub.example.com`, { id: 10 + round }), UDP]);
    qs.push([query(`b${round}.deeper.sub.example.com`, { edns: 1232 }), UDP]);
    qs.push([query('big.example.com', { edns: 512 }), UDP]);
    qs.push([query('big.example.com'), TCP]);
    qs.push([query('example.com', { type: 'NS', class: 'CH' }), UDP]);
  }
  // Unreadable after the header: FORMERR; an opcode we don't do: NOTIMP.
  const formerr = query('www.example.com');
  qs.push([formerr.subarray(0, 14), UDP]);
  const notimp = Buffer.from(query('www.example.com'));
  notimp[2] = (notimp[2]! & 0x87) | (2 << 3);
  qs.push([notimp, UDP]);
  return qs;
}

test('response buffers: a handler writing into them answers byte for byte as one allocating per response', () => {
  const big = Array.from({ length: 60 }, (_, i) => `big A 10.0.0.${i}`).join('\n');
  const zones = exampleZones(`${DELEGATION}\n${big}\n`);
  const fresh = harness(zones);
  const pooled = harness(zones, { responseMemory: new ResponseBuffers() });
  const lengths = new Set<number>();
  for (const [q, meta] of queries()) {
    const want = fresh.handler.handle(q, meta);
    const got = pooled.handler.handle(q, meta);
    assert.deepEqual(got, want, `${meta.transport} ${q.toString('hex')}`);
    assert.deepEqual(pooled.infos.at(-1), fresh.infos.at(-1));
    if (got !== null) lengths.add(got.length);
  }
  assert.ok(lengths.size > 5, 'responses of many lengths');
  assert.deepEqual(pooled.errors, []);
});

test('response buffers: an answer of the same length reuses the buffer unless the transport retained it', () => {
  const pool = new ResponseBuffers();
  const h = harness(exampleZones(), { responseMemory: pool });
  const first = h.handler.handle(query('www.example.com', { id: 1 }), UDP)!;
  const kept = Buffer.from(first);
  const second = h.handler.handle(query('www.example.com', { id: 2 }), UDP)!;
  assert.equal(second, first, 'one buffer for one length');
  assert.equal(header(first).id, 2);
  pool.retain(second);
  const third = h.handler.handle(query('www.example.com', { id: 3 }), UDP)!;
  assert.notEqual(third, second);
  assert.equal(header(second).id, 2, 'a retained response is never written again');
  assert.equal(header(third).id, 3);
  assert.deepEqual(third.subarray(2), kept.subarray(2));
});
