// Which of a compiled zone's buffers leave the loader thread by transfer: every one chosen must be
// transferable on this runtime (a Buffer sliced from Node's shared pool can't be, and the pool's size
// differs between versions), and the large ones must be transferred, not copied.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { runJob } from '../../src/sync/load-job.js';
import { writeSnapshot } from '../../src/sync/snapshot.js';
import { transferableBuffer } from '../../src/sync/transfer.js';
import { CompactZone } from '../../src/zone/zone.js';
import { transferables } from '../../src/sync/transfer.js';
import type { ZoneParts } from '../../src/zone/zone.js';
import { zoneText } from '../helpers/zone-text.js';

const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-transfer-'));

function compiled(hosts: number): ZoneParts {
  const file = join(dir, `t${hosts}.zone`);
  writeFileSync(file, zoneText('t.test', 1, hosts));
  const outcome = runJob({ kind: 'load', origin: 't.test.', file, known: [] });
  assert.equal(outcome.kind, 'loaded');
  return (outcome as { parts: ZoneParts }).parts;
}

/** Posts `parts` through a real message port with `list` transferred; resolves with what arrived. */
function post(parts: ZoneParts, list: ArrayBuffer[]): Promise<ZoneParts> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<ZoneParts>((resolve) => {
    port2.once('message', resolve);
    port1.postMessage(parts, list);
  }).finally(() => port1.close());
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('transferables', () => {
  for (const hosts of [4, 3000, 50_000]) {
    it(`a zone of ${hosts} hosts: every buffer chosen transfers, and arrives whole`, async () => {
      const parts = compiled(hosts);
      const before = parts.data.length;
      const list = transferables(parts);
      const got = await post(parts, list);
      assert.equal(got.data.length, before);
      if (hosts === 50_000) assert.ok(list.length > 0 && parts.data.length === 0, 'the large arrays moved, not copied');
    });
  }
});

describe('zone snapshots (how the primary hands zones to worker processes)', () => {
  for (const hosts of [4, 50_000]) {
    it(`a zone of ${hosts} hosts comes back from its file as the same zone, one transferable buffer`, async () => {
      const parts = compiled(hosts);
      const original = CompactZone.fromParts(parts);
      const path = join(dir, `snap${hosts}`);
      writeSnapshot(path, parts);
      const read = runJob({ kind: 'read', path });
      assert.equal(read.kind, 'read');
      const { parts: back, buffer } = read as { parts: ZoneParts; buffer: ArrayBuffer };
      const got = await post(back, transferableBuffer(buffer));
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
      if (hosts === 50_000) assert.equal(buffer.byteLength, 0, 'the file\'s buffer moved, not copied');
    });
  }

  it('a snapshot that is gone fails the read, not the thread', () => {
    assert.throws(() => runJob({ kind: 'read', path: join(dir, 'missing') }), /ENOENT/);
  });
});
