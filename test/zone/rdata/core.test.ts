import { test } from 'node:test';
import assert from 'node:assert/strict';
import { text, wire } from './helpers.js';

test('A parses a dotted quad into 4 octets and prints it back', () => {
  assert.deepEqual(wire('A', '192.0.2.1'), Buffer.from([192, 0, 2, 1]));
  assert.equal(text('A', Buffer.from([203, 0, 113, 255])), '203.0.113.255');
});
