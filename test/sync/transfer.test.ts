// How a compiled zone leaves the loader thread: every array of one zone in ONE SharedArrayBuffer
// (one allocation per zone, however small), which a thread it is posted to shares instead of copying.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { runJob } from '../../src/sync/load-job.js';
import { partsBuffers } from '../../src/sync/transfer.js';
import { CompactZone, type ZoneParts } from '../../src/zone/zone.js';
import { zoneText } from '../helpers/zone-text.js';

const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-transfer-'));

function compiled(hosts: number): ZoneParts {
  const file = join(dir, `t${hosts}.zone`);
  writeFileSync(file, zoneText('t.test', 1, hosts));
  const outcome = runJob({ kind: 'load', origin: 't.test.', file, known: [] });
  assert.equal(outcome.kind, 'loaded');
  return (outcome as { parts: ZoneParts }).parts;
}

/** Posts `parts` through a real message port; resolves with what arrived. */
function post(parts: ZoneParts): Promise<ZoneParts> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<ZoneParts>((resolve) => {
    port2.once('message', resolve);
    port1.postMessage(parts);
  }).finally(() => port1.close());
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('a compiled zone in shared memory', () => {
  for (const hosts of [4, 50_000]) {
    it(`a zone of ${hosts} hosts: one SharedArrayBuffer, shared (not copied) when posted, and the same zone over it`, async () => {
      const parts = compiled(hosts);
      const buffers = [...partsBuffers(parts)];
      assert.equal(buffers.length, 1, 'every array in one buffer');
      assert.ok(buffers[0] instanceof SharedArrayBuffer);
      const got = await post(parts);
      // A write through the sender's view shows in the receiver's: the same memory.
      const before = got.setTtl[0]!;
      parts.setTtl[0] = before + 1;
      assert.equal(got.setTtl[0], before + 1, 'the receiver sees the same memory');
      parts.setTtl[0] = before;
      const original = CompactZone.fromParts(parts);
      const zone = CompactZone.fromParts(got);
      assert.equal(zone.serial, original.serial);
      assert.equal(zone.recordCount, original.recordCount);
      assert.equal(zone.nodes.size, original.nodes.size);
      for (const n of original.nodes.values()) {
        const m = zone.nodes.get(n.key);
        assert.ok(m, `node ${n.key} kept`);
        assert.equal(m.flags, n.flags);
        assert.deepEqual(m.rrsets.map((r) => [r.type, r.ttl, r.rdatas.map((d) => d.toString('hex'))]), n.rrsets.map((r) => [r.type, r.ttl, r.rdatas.map((d) => d.toString('hex'))]));
      }
    });
  }
});
