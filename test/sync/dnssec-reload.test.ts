// Zone sync with signed zones: the loader thread hands over the DNSSEC index with the zone, and a new
// version whose signatures have expired or whose NSEC chain is broken is a broken zone: the last good
// version keeps serving (issue 9), until a good one comes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { ZoneLoader } from '../../src/sync/loader.js';
import { ZoneStore } from '../../src/sync/store.js';
import type { ZoneSet } from '../../src/zone/zone.js';
import { signZone } from '../helpers/signed-zones.js';
import { putFile } from '../helpers/zone-text.js';

const work = mkdtempSync(join(tmpdir(), 'anycast-dns-dnssec-sync-'));
const zonesDir = mkdtempSync(join(tmpdir(), 'anycast-dns-dnssec-zones-'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(zonesDir, { recursive: true, force: true });
});

function text(serial: number): string {
  return `$ORIGIN s.test.\n$TTL 3600\n@ SOA ns1 hostmaster ${serial} 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n`;
}

/** The zone signed in its own directory, so every version has keys of its own. */
function signedVersion(serial: number, extra: string[] = []): string {
  return readFileSync(signZone(mkdtempSync(join(work, `v${serial}-`)), 's.test.', text(serial), 'nsec', extra).file, 'utf8');
}

/** Renamed into place with an mtime in the past, as rsync leaves it (no settle wait). */
function put(content: string): void {
  putFile(zonesDir, 's.test.zone', content, 5000);
}

test('a signed zone reloads with its DNSSEC index; expired signatures and a broken chain keep the last good version', async () => {
  const loader = new ZoneLoader();
  let zones: ZoneSet | null = null;
  const store = new ZoneStore({
    dir: zonesDir,
    files: null,
    policy: { serialPolicy: 'increase', maxRecordLoss: 0.5, maxZoneLoss: 0.5 },
    settleMs: 1000,
    loader,
    log: pino({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() })),
    events: { changed: (_changes, set) => (zones = set) },
  });
  const status = () => store.status().find((z) => z.zone === 's.test.')!;
  const served = () => {
    const z = [...(zones as ZoneSet | null)?.zones.values() ?? []][0];
    return { serial: z?.serial ?? null, signed: z?.dnssec?.signed ?? false };
  };
  try {
    put(signedVersion(1));
    await store.scan({ reason: 'test' });
    assert.deepEqual(served(), { serial: 1, signed: true }, 'the index came over from the loader thread');

    // -P: dnssec-signzone's own verification would refuse signatures that have expired.
    put(signedVersion(2, ['-P', '-s', '20200101000000', '-e', '20200201000000']));
    await store.scan({ reason: 'test' });
    assert.equal(status().state, 'error');
    assert.match(status().last_error ?? '', /signatures have expired/);
    assert.deepEqual(served(), { serial: 1, signed: true });

    const lines = signedVersion(3).split('\n');
    put(lines.filter((l) => !/^www\.s\.test\.\s+\d+\s+IN\s+NSEC\s/.test(l)).join('\n'));
    await store.scan({ reason: 'test' });
    assert.equal(status().state, 'error');
    assert.match(status().last_error ?? '', /www\.s\.test\. has no NSEC record/);
    assert.deepEqual(served(), { serial: 1, signed: true });

    put(signedVersion(4));
    await store.scan({ reason: 'test' });
    assert.equal(status().state, 'ok');
    assert.deepEqual(served(), { serial: 4, signed: true });
  } finally {
    store.close();
    await loader.close();
  }
});
