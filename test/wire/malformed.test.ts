// Malformed and unusual queries, byte by byte (like Knot's test_process_query): dropped when the header
// can't be read or QR is set, FORMERR when it can, NOTIMP for other opcodes, BADVERS for EDNS > 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UDP, exampleZones, harness, header, query } from './helpers.js';

const h = harness(exampleZones());
const handle = (b: Buffer) => h.handler.handle(b, UDP);

function withHeader(bytes: number[], body: number[] = []): Buffer {
  return Buffer.from([...bytes, ...body]);
}
/** Header: id 0xabcd, flags 0x0100 (RD), counts as given. */
function hdr(qd: number, an = 0, ns = 0, ar = 0, flags = 0x0100): number[] {
  return [0xab, 0xcd, flags >> 8, flags & 0xff, 0, qd, 0, an, 0, ns, 0, ar];
}
const QNAME = [3, 0x77, 0x77, 0x77, 7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0];
const A_IN = [0, 1, 0, 1];

function expectRcode(b: Buffer, rcode: number, what: string): ReturnType<typeof header> {
  const r = handle(b);
  assert.ok(r !== null, `${what}: answered`);
  const hd = header(r);
  assert.equal(hd.rcode, rcode, `${what}: rcode`);
  assert.equal(hd.qr, true, `${what}: QR`);
  assert.equal(hd.id, b.readUInt16BE(0), `${what}: ID`);
  assert.equal(hd.ra, false, `${what}: RA never set`);
  return hd;
}

test('malformed: unreadable header and responses are dropped', () => {
  for (let n = 0; n < 12; n++) assert.equal(handle(Buffer.alloc(n)), null, `${n}-octet message`);
  const q = query('www.example.com');
  q[2]! |= 0x80;
  assert.equal(handle(q), null, 'QR=1');
  assert.equal(handle(withHeader(hdr(1, 0, 0, 0, 0x8100), [...QNAME, ...A_IN])), null);
});

test('malformed: QDCOUNT other than 1 is FORMERR', () => {
  expectRcode(withHeader(hdr(0)), 1, 'QDCOUNT 0');
  expectRcode(withHeader(hdr(2), [...QNAME, ...A_IN, ...QNAME, ...A_IN]), 1, 'QDCOUNT 2');
});

test('malformed: broken question is FORMERR', () => {
  expectRcode(withHeader(hdr(1), [3, 0x77, 0x77]), 1, 'label past the end');
  expectRcode(withHeader(hdr(1), [...QNAME]), 1, 'no QTYPE/QCLASS');
  expectRcode(withHeader(hdr(1), [...QNAME, 0, 1]), 1, 'half of QTYPE/QCLASS');
  expectRcode(withHeader(hdr(1), [0xc0, 12, ...A_IN]), 1, 'pointer loop (to itself)');
  expectRcode(withHeader(hdr(1), [3, 0x61, 0x62, 0x63, 0xc0, 12, ...A_IN]), 1, 'pointer back to the question start');
  expectRcode(withHeader(hdr(1), [0x40, ...A_IN]), 1, 'extended label type');
  const long: number[] = [];
  for (let i = 0; i < 5; i++) long.push(63, ...Buffer.alloc(63, 0x61));
  expectRcode(withHeader(hdr(1), [...long, 0, ...A_IN]), 1, 'name over 255 octets');
});

test('malformed: bad OPT records are FORMERR', () => {
  const optHead = (rdlen: number) => [0, 0, 41, 0x10, 0, 0, 0, 0, 0, rdlen >> 8, rdlen & 0xff];
  expectRcode(withHeader(hdr(1, 0, 0, 1), [...QNAME, ...A_IN, ...optHead(4), 0, 3, 0, 8]), 1, 'option past RDATA');
  expectRcode(withHeader(hdr(1, 0, 0, 1), [...QNAME, ...A_IN, ...optHead(8)]), 1, 'RDLENGTH past the end');
  expectRcode(withHeader(hdr(1, 0, 0, 2), [...QNAME, ...A_IN, ...optHead(0), ...optHead(0)]), 1, 'two OPT records');
  expectRcode(withHeader(hdr(1, 0, 0, 1), [...QNAME, ...A_IN, 1, 0x61, 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]), 1, 'OPT not owned by the root');
  expectRcode(withHeader(hdr(1, 0, 0, 1), [...QNAME, ...A_IN, 0, 0]), 1, 'truncated additional record');
  // An unknown option is ignored (RFC 6891 §6.1.2).
  expectRcode(withHeader(hdr(1, 0, 0, 1), [...QNAME, ...A_IN, ...optHead(6), 0xfd, 0xe9, 0, 2, 1, 2]), 0, 'unknown option');
});

test('malformed: EDNS version 1 is BADVERS with an OPT of version 0', () => {
  const b = withHeader(hdr(1, 0, 0, 1), [...QNAME, ...A_IN, 0, 0, 41, 0x10, 0, 0, 1, 0, 0, 0, 0]);
  const r = handle(b)!;
  const hd = header(r);
  assert.equal(hd.rcode, 0, 'low 4 bits of BADVERS (16)');
  assert.equal(hd.an, 0);
  assert.equal(hd.ar, 1);
  const optAt = r.length - 11;
  assert.equal(r.readUInt16BE(optAt + 1), 41);
  assert.equal(r[optAt + 5], 1, 'extended rcode: BADVERS >> 4');
  assert.equal(r[optAt + 6], 0, 'version 0');
  assert.equal(h.infos.at(-1)!.rcode, 16);
});

test('malformed: opcodes other than QUERY are NOTIMP', () => {
  for (const opcode of [1, 2, 4, 5, 15]) {
    const hd = expectRcode(withHeader(hdr(1, 0, 0, 0, 0x0100 | (opcode << 11)), [...QNAME, ...A_IN]), 4, `opcode ${opcode}`);
    assert.equal(hd.opcode, opcode);
  }
});

test('malformed: answer and authority records in a query are skipped when well formed', () => {
  const rr = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1];
  expectRcode(withHeader(hdr(1, 1, 1, 0), [...QNAME, ...A_IN, ...rr, ...rr]), 0, 'AN and NS records');
  expectRcode(withHeader(hdr(1, 1, 0, 0), [...QNAME, ...A_IN, ...rr.slice(0, 10)]), 1, 'truncated answer record');
});

test('malformed: random bytes never throw and never answer a message with QR set', () => {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const valid = query('www.example.com', { edns: 1232, nsid: true });
  for (let i = 0; i < 20000; i++) {
    let b: Buffer;
    if (i % 2 === 0) {
      b = Buffer.alloc(rand() % 80);
      for (let j = 0; j < b.length; j++) b[j] = rand();
    } else {
      // Mutations of a valid query reach deeper into the parser.
      b = Buffer.from(valid.subarray(0, (rand() * 2) % (valid.length + 1)));
      for (let k = rand() % 4; k >= 0 && b.length > 0; k--) b[rand() % b.length] = rand();
    }
    const r = handle(b);
    if (b.length < 12 || (b[2]! & 0x80) !== 0) {
      assert.equal(r, null);
      continue;
    }
    assert.ok(r !== null);
    const hd = header(r);
    assert.equal(hd.qr, true);
    assert.equal(hd.id, b.readUInt16BE(0));
  }
  assert.deepEqual(h.errors, [], 'no query hit the SERVFAIL guard');
});
