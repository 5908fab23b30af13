// EDNS0 (RFC 6891), NSID (RFC 5001), header bits, CHAOS identity over the wire.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TCP, UDP, decode, exampleZones, harness, header, opt, query } from './helpers.js';

const h = harness(exampleZones());

test('edns: OPT in the reply only when the query had one', () => {
  const plain = h.handler.handle(query('www.example.com'), UDP)!;
  assert.equal(opt(decode(plain)), undefined);
  assert.equal(header(plain).ar, 0);
  const withOpt = decode(h.handler.handle(query('www.example.com', { edns: 4096 }), UDP));
  const o = opt(withOpt)!;
  assert.ok(o);
  assert.equal(o.udpPayloadSize, 1232, 'we advertise our own size');
  assert.equal(o.ednsVersion, 0);
  assert.deepEqual(o.options, []);
});

test('edns: DO copied into the reply OPT', () => {
  const d = decode(h.handler.handle(query('www.example.com', { edns: 1232, do: true }), UDP));
  assert.equal(opt(d)!.flags & 0x8000, 0x8000);
  const n = decode(h.handler.handle(query('www.example.com', { edns: 1232 }), UDP));
  assert.equal(opt(n)!.flags & 0x8000, 0);
});

test('edns: NSID answered with the identity when asked', () => {
  const d = decode(h.handler.handle(query('www.example.com', { edns: 1232, nsid: true }), UDP));
  const o = opt(d)!;
  assert.equal(o.options.length, 1);
  assert.equal(o.options[0]!.code, 3);
  assert.equal(o.options[0]!.data!.toString(), 'pop-test-1');
  // Also on an error response, and on a refused one.
  const r = decode(h.handler.handle(query('example.org', { edns: 1232, nsid: true }), UDP));
  assert.equal(r.rcode, 'REFUSED');
  assert.equal(opt(r)!.options[0]!.data!.toString(), 'pop-test-1');
});

test('edns: header bits: RD copied, RA never, AA by outcome, CD copied', () => {
  const rd = header(h.handler.handle(query('www.example.com', { rd: true }), UDP)!);
  assert.equal(rd.rd, true);
  assert.equal(rd.ra, false);
  assert.equal(rd.aa, true);
  const nord = header(h.handler.handle(query('www.example.com', { rd: false }), UDP)!);
  assert.equal(nord.rd, false);
  const refused = header(h.handler.handle(query('example.org'), UDP)!);
  assert.equal(refused.rcode, 5);
  assert.equal(refused.aa, false);
  const q = query('www.example.com');
  q[3]! |= 0x10;
  assert.equal(h.handler.handle(q, UDP)![3]! & 0x10, 0x10);
});

test('edns: CHAOS TXT id.server, hostname.bind, version.bind', () => {
  for (const name of ['id.server', 'hostname.bind']) {
    const d = decode(h.handler.handle(query(name, { type: 'TXT', class: 'CH' }), UDP));
    assert.equal(d.rcode, 'NOERROR');
    assert.equal((d.answers![0] as { class: string }).class, 'CH');
    assert.deepEqual((d.answers![0] as { data: Buffer[] }).data.map(String), ['pop-test-1']);
  }
  const v = decode(h.handler.handle(query('version.bind', { type: 'TXT', class: 'CH' }), UDP));
  assert.deepEqual((v.answers![0] as { data: Buffer[] }).data.map(String), ['anycast-dns test']);
  const hidden = harness(exampleZones(), { version: null });
  assert.equal(decode(hidden.handler.handle(query('version.bind', { type: 'TXT', class: 'CH' }), UDP)).rcode, 'REFUSED');
  assert.equal(decode(h.handler.handle(query('www.example.com', { class: 'CH' }), UDP)).rcode, 'REFUSED');
});

test('edns: onResponse sees every response with its outcome', () => {
  const k = harness(exampleZones());
  k.handler.handle(query('www.example.com'), UDP);
  k.handler.handle(query('nope.example.com'), TCP);
  k.handler.handle(query('www.example.com', { type: 'TXT' }), UDP);
  k.handler.handle(query('www.sub.example.org'), UDP);
  assert.deepEqual(
    k.infos.map((i) => [i.transport, i.outcome, i.rcode, i.zone]),
    [
      ['udp', 'answer', 0, 'example.com.'],
      ['tcp', 'nxdomain', 3, 'example.com.'],
      ['udp', 'nodata', 0, 'example.com.'],
      ['udp', 'refused', 5, null],
    ],
  );
  assert.ok(k.infos.every((i) => !i.truncated));
});

test('edns: a bug in answering is SERVFAIL, reported through onError', () => {
  const broken = exampleZones();
  (broken as unknown as { find: () => never }).find = () => {
    throw new Error('boom');
  };
  const k = harness(broken);
  const q = query('www.example.com', { id: 777 });
  const r = k.handler.handle(q, UDP)!;
  const hd = header(r);
  assert.equal(hd.rcode, 2);
  assert.equal(hd.id, 777);
  assert.equal(hd.qd, 1);
  assert.equal(k.errors.length, 1);
  assert.equal((k.errors[0] as Error).message, 'boom');
  assert.equal(k.infos.at(-1)!.outcome, 'servfail');
});
