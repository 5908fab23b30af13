// How compiled zones leave the loader thread: every array of a zone in shared memory, which a thread
// it is posted to shares instead of copying; the small zones of a batch in one buffer (one allocation
// for hundreds of zones), a large zone in a buffer of its own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { queryObjects, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageChannel } from 'node:worker_threads';
import { runJobs } from '../../src/sync/load-job.js';
import { partsBuffers } from '../../src/sync/transfer.js';
import { loadZoneFile } from '../../src/zone/read-zone.js';
import { CompactZone, type ZoneParts } from '../../src/zone/zone.js';
import { signZone } from '../helpers/signed-zones.js';
import { zoneText } from '../helpers/zone-text.js';

const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-transfer-'));

/** One batch of zones of these many hosts each, compiled. */
function compiled(hostsEach: number[]): ZoneParts[] {
  const outcomes = runJobs(
    hostsEach.map((hosts, i) => {
      const file = join(dir, `t${i}-${hosts}.zone`);
      writeFileSync(file, zoneText(`t${i}.test`, 1, hosts));
      return { kind: 'load', origin: `t${i}.test.`, file, known: [] };
    }),
  );
  return outcomes.map((o) => {
    assert.equal(o.kind, 'loaded');
    return (o as { parts: ZoneParts }).parts;
  });
}

/** Every array of `p` by its path (`names.slots`, `dnssec.sigFirst`), as compiled or as shared. */
function arraysOf(p: ZoneParts): Map<string, ArrayBufferView> {
  const out = new Map<string, ArrayBufferView>();
  const walk = (o: object, at: string): void => {
    for (const [k, v] of Object.entries(o)) {
      if (ArrayBuffer.isView(v)) out.set(at + k, v);
      else if (v !== null && typeof v === 'object') walk(v as object, `${at}${k}.`);
    }
  };
  walk(p, '');
  return out;
}

/** The one buffer every array of `parts` is a view of. */
function bufferOf(parts: ZoneParts): ArrayBufferLike {
  const buffers = [...partsBuffers(parts)];
  assert.equal(buffers.length, 1, 'every array in one buffer');
  assert.ok(buffers[0] instanceof SharedArrayBuffer);
  return buffers[0];
}

/** A full collection (returns 0, to add to a count): only objects still held are counted after it. */
function collect(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return 0;
}

/** Posts `parts` through a real message port; resolves with what arrived. */
function post(parts: ZoneParts[]): Promise<ZoneParts[]> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<ZoneParts[]>((resolve) => {
    port2.once('message', resolve);
    port1.postMessage(parts);
  }).finally(() => port1.close());
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('compiled zones in shared memory', () => {
  it('the small zones of a batch share one buffer; a large one has its own', () => {
    const [a, b, large, c] = compiled([4, 4, 50_000, 4]);
    assert.equal(bufferOf(a!), bufferOf(b!));
    assert.notEqual(bufferOf(large!), bufferOf(a!));
    assert.notEqual(bufferOf(c!), bufferOf(large!));
  });

  it('posted, the memory is shared (not copied), and each zone over it is the zone compiled', async () => {
    const list = compiled([4, 7, 50_000]);
    const got = await post(list);
    for (let i = 0; i < list.length; i++) {
      const parts = list[i]!;
      // A write through the sender's view shows in the receiver's: the same memory.
      const before = got[i]!.setTtl[0]!;
      parts.setTtl[0] = before + 1;
      assert.equal(got[i]!.setTtl[0], before + 1, 'the receiver sees the same memory');
      parts.setTtl[0] = before;
      const original = CompactZone.fromParts(parts);
      const zone = CompactZone.fromParts(got[i]!);
      assert.equal(zone.originText, original.originText);
      assert.equal(zone.serial, original.serial);
      assert.equal(zone.recordCount, original.recordCount);
      assert.equal(zone.nodes.size, original.nodes.size);
      for (const n of original.nodes.values()) {
        const m = zone.nodes.get(n.key);
        assert.ok(m, `node ${n.key} kept`);
        assert.equal(m.flags, n.flags);
        assert.deepEqual(m.rrsets.map((r) => [r.type, r.ttl, r.rdatas.map((d) => d.toString('hex'))]), n.rrsets.map((r) => [r.type, r.ttl, r.rdatas.map((d) => d.toString('hex'))]));
      }
    }
  });

  it('a signed zone comes out of its batch with every array of the type and content it was compiled with', () => {
    const signed = signZone(dir, 'signed.test.', zoneText('signed.test', 1, 6, 'mail A 192.0.2.25\n@ MX 10 mail\n'), 'nsec3');
    const [outcome] = runJobs([{ kind: 'load', origin: 'signed.test.', file: signed.file, known: [] }]);
    assert.equal(outcome!.kind, 'loaded');
    const shared = arraysOf((outcome as { parts: ZoneParts }).parts);
    const direct = loadZoneFile(signed.file, 'signed.test.').zone as CompactZone;
    const compiled = arraysOf(direct.parts());
    assert.ok(compiled.has('dnssec.nsec3Order') && compiled.has('dnssec.sigFirst'), 'the signed zone has its DNSSEC arrays');
    assert.deepEqual([...shared.keys()].sort(), [...compiled.keys()].sort());
    for (const [path, a] of compiled) {
      const b = shared.get(path)!;
      assert.ok(b.buffer instanceof SharedArrayBuffer, `${path} in shared memory`);
      // A Buffer is shared as the Uint8Array it is.
      assert.equal(b.constructor, a instanceof Uint8Array ? Uint8Array : a.constructor, `${path}'s type`);
      assert.deepEqual(Buffer.from(b.buffer, b.byteOffset, b.byteLength), Buffer.from(a.buffer, a.byteOffset, a.byteLength), `${path}'s content`);
    }
  });

  it('the small zones of a batch larger than one buffer go into several, each zone whole', () => {
    const list = compiled(Array.from({ length: 600 }, () => 40));
    const buffers = new Set(list.map(bufferOf));
    assert.ok(buffers.size >= 2, `${buffers.size} buffers`);
    for (const b of buffers) assert.ok(b.byteLength <= 1 << 20, `a buffer of ${b.byteLength} octets`);
    for (const [i, p] of list.entries()) {
      const z = CompactZone.fromParts(p);
      assert.equal(z.originText, `t${i}.test.`);
      assert.equal(z.recordCount, 44);
      assert.ok(z.soa.rdatas[0]!.toString('latin1').includes(`t${i}\x04test`), `the SOA of zone ${i}`);
      assert.equal(z.nodes.size, CompactZone.fromParts(list[0]!).nodes.size);
    }
  });

  it('zones served from one batch read it through shared views: a small zone holds no typed array of its own', () => {
    const views = (): number => collect() + queryObjects(Uint32Array, { format: 'count' }) + queryObjects(Int32Array, { format: 'count' }) + queryObjects(Uint16Array, { format: 'count' }) + queryObjects(Uint8Array, { format: 'count' });
    // The zone builder keeps one set of record arrays per thread for the next zone (zone/build.ts): there before counting.
    compiled([4]);
    const before = views();
    // In a function of its own: the parts it makes are garbage once it returns.
    const zones = ((): CompactZone[] => compiled(Array.from({ length: 200 }, () => 4)).map((p) => CompactZone.fromParts(p)))();
    const held = views() - before;
    // One view per element type of the batch's buffer, whatever the number of zones (11 per zone when each held its own).
    assert.ok(held <= 8, `${held} typed arrays held by ${zones.length} zones`);
    for (const [i, z] of zones.entries()) {
      // Each zone reads its own part of the shared arrays: its names, and its records.
      assert.ok(z.has(z.origin));
      assert.ok(!z.has(zones[(i + 1) % zones.length]!.origin));
      assert.equal(z.serial, 1);
      assert.ok(z.soa.rdatas[0]!.toString('latin1').includes(`t${i}\x04test`), `the SOA of zone ${i}`);
    }
  });
});
