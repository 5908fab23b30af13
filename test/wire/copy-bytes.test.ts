// copyBytes: the same octets as Buffer#copy, by loop below 64 octets and by Buffer#copy above.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyBytes } from '../../src/wire/copy-bytes.js';

test('copyBytes copies a range to a position and returns the end, short and long alike', () => {
  const src = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
  for (const [start, end, at] of [[0, 0, 0], [5, 17, 3], [10, 73, 0], [1, 64, 9], [2, 66, 1], [0, 300, 4]] as const) {
    const got = Buffer.alloc(310, 0xee);
    const want = Buffer.alloc(310, 0xee);
    assert.equal(copyBytes(src, start, end, got, at), at + end - start);
    src.copy(want, at, start, end);
    assert.deepEqual(got, want, `[${start}, ${end}) at ${at}`);
  }
});
