// The compression table on its own: the longest suffix already written becomes a pointer, whatever the
// case of either copy; rolled-back names are never pointed to; offsets past 0x3FFF are never targets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompressionTable } from '../../src/wire/compress.js';
import { nameFromText, nameToText } from '../../src/zone/name.js';
import { readName } from '../helpers/dns-message.js';

/** A message buffer and a table, with the question's name registered at 12 as the handler does. */
function message(question: string): { buf: Buffer; table: CompressionTable; pos: number } {
  const buf = Buffer.alloc(70_000);
  const table = new CompressionTable();
  const wire = nameFromText(question, Buffer.alloc(1));
  wire.copy(buf, 12);
  table.register(buf, 12);
  return { buf, table, pos: 12 + wire.length };
}

/** Writes `name` in full at `at`, compresses it, and checks it still reads as `name`; returns its end. */
function put(m: { buf: Buffer; table: CompressionTable }, at: number, name: string): number {
  const wire = nameFromText(name, Buffer.alloc(1));
  wire.copy(m.buf, at);
  const end = m.table.compress(m.buf, at);
  const read = readName(m.buf, at);
  assert.equal(read.end, end);
  assert.equal(nameToText(read.wire).toLowerCase(), nameToText(wire).toLowerCase(), 'reads back as the same name');
  return end;
}

test('compression table: the longest suffix written before becomes a pointer, ignoring case', () => {
  const m = message('WWW.Example.COM');
  let at = m.pos;
  let end = put(m, at, 'mail.example.com');
  assert.equal(end - at, 5 + 2, '"mail" then a pointer');
  assert.deepEqual([m.buf[at + 5], m.buf[at + 6]], [0xc0, 16], 'to "Example.COM" inside the question');
  at = end;
  end = put(m, at, 'EXAMPLE.com');
  assert.deepEqual([end - at, m.buf[at], m.buf[at + 1]], [2, 0xc0, 16]);
  at = end;
  end = put(m, at, 'smtp.mail.example.com');
  assert.equal(end - at, 5 + 2, 'points to the whole of "mail.example.com", written before');
  at = end;
  assert.equal(put(m, at, '.'), at + 1, 'the root is one octet');
  at += 1;
  end = put(m, at, 'other.org');
  assert.equal(end - at, 11, 'nothing in common: in full');
});

test('compression table: a rollback forgets the names written from there on', () => {
  const m = message('example.com');
  const at = m.pos;
  put(m, at, 'ns.other.org');
  m.table.rollback(at);
  // Overwritten by the next RRset: nothing may point into it any more.
  const end2 = put(m, at, 'x.other.org');
  assert.equal(end2 - at, 13, 'in full again');
  // Names before the rollback point are still known.
  assert.equal(put(m, end2, 'www.example.com') - end2, 4 + 2);
});

test('compression table: the longest names, and no pointer past offset 0x3FFF', () => {
  const m = message('example.com');
  const long = `${'a.'.repeat(126)}z`; // 127 labels, 255 octets
  let at = m.pos;
  let end = put(m, at, long);
  assert.equal(end - at, 255);
  at = end;
  end = put(m, at, long);
  assert.equal(end - at, 2);
  // Written beyond 0x3FFF: the name can't be a pointer target, so its second copy is in full.
  end = put(m, 20_000, 'far.example.net');
  assert.equal(put(m, end, 'far.example.net') - end, 17);
});
