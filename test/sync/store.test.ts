// The zone store in process, with its real loader thread and real files: each change to the zones
// directory and what is served after it, as the status, the swaps and the log lines show.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { ZoneLoader } from '../../src/sync/loader.js';
import { ZoneStore, type ScanRequest, type ZoneStatus } from '../../src/sync/store.js';
import type { SyncPolicy } from '../../src/sync/policy.js';
import { keyFromText, nameFromText } from '../../src/zone/name.js';
import type { ZoneDiff } from '../../src/zone/patch.js';
import { T } from '../../src/zone/types.js';
import type { Zone, ZoneSet } from '../../src/zone/zone.js';
import { requireBinary } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';
import { putFile, zoneText } from '../helpers/zone-text.js';

const POLICY: SyncPolicy = { serialPolicy: 'increase', maxRecordLoss: 0.5, maxZoneLoss: 0.5 };

/** Put in place with an mtime in the past (so no settle wait) unless told otherwise. */
function put(dir: string, file: string, text: string, ageMs = 5000): void {
  putFile(dir, file, text, ageMs);
}

class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'anycast-dns-store-'));
  readonly loader = new ZoneLoader();
  readonly logs: Record<string, unknown>[] = [];
  readonly swaps: { origin: string; serial: number | null }[] = [];
  zones: ZoneSet | null = null;
  readonly store: ZoneStore;

  constructor(policy: SyncPolicy = POLICY, files: Map<string, string> | null = null, settleMs = 1000) {
    const logs = this.logs;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l !== '') logs.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    this.store = new ZoneStore({
      dir: this.dir,
      files,
      policy,
      settleMs,
      loader: this.loader,
      log: pino({ level: 'debug' }, sink),
      events: {
        changed: (changes, zones) => {
          for (const { origin, zone } of changes) this.swaps.push({ origin, serial: zone?.serial ?? null });
          this.zones = zones;
        },
      },
    });
  }

  scan(req: Partial<ScanRequest> = {}): Promise<void> {
    return this.store.scan({ reason: 'test', ...req });
  }

  get(zone: string): ZoneStatus {
    const s = this.store.status().find((z) => z.zone === zone);
    assert.ok(s, `no status for ${zone}`);
    return s;
  }

  /** The serial the current zone set serves for `zone`, or null. */
  served(zone: string): number | null {
    const key = [...(this.zones?.zones.keys() ?? [])].find((k) => this.zones!.zones.get(k)!.originText === zone);
    return key === undefined ? null : this.zones!.zones.get(key)!.serial;
  }

  messages(): string[] {
    return this.logs.map((l) => String(l.msg));
  }

  async close(): Promise<void> {
    this.store.close();
    await this.loader.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('zone store', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.close());

  it('loads every zone of the directory, with serial, records, file, sha256 and time', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    put(h.dir, 'b.test.zone', zoneText('b.test', 7, 10));
    writeFileSync(join(h.dir, '.c.test.zone.Xy12Ab'), 'half a zone');
    await h.scan();
    assert.deepEqual(h.store.status().map((s) => [s.zone, s.state, s.serial, s.records]), [
      ['a.test.', 'ok', 1, 8],
      ['b.test.', 'ok', 7, 14],
    ]);
    const a = h.get('a.test.');
    assert.equal(a.file, join(h.dir, 'a.test.zone'));
    assert.match(a.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok(Date.now() - Date.parse(a.loaded_at!) < 10_000);
    assert.equal(h.served('a.test.'), 1);
  });

  it('swaps in a new version; an unchanged file is not read again, nor one touched with the same content', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    await h.scan();
    await h.scan();
    assert.equal(h.swaps.length, 1);
    put(h.dir, 'a.test.zone', zoneText('a.test', 1)); // new inode, same bytes
    await h.scan();
    assert.equal(h.swaps.length, 1, 'same content: no swap');
    put(h.dir, 'a.test.zone', zoneText('a.test', 2));
    await h.scan();
    assert.deepEqual(h.swaps.at(-1), { origin: 'a.test.', serial: 2 });
    assert.equal(h.get('a.test.').serial, 2);
  });

  it('keeps the last good version when the new file is broken, reporting file:line; recovers when fixed', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    await h.scan();
    put(h.dir, 'a.test.zone', zoneText('a.test', 2, 4, 'bad A 300.1.2.3\n'));
    await h.scan();
    const s = h.get('a.test.');
    assert.equal(s.state, 'error');
    assert.equal(s.serial, 1);
    assert.match(s.last_error ?? '', new RegExp(`^${join(h.dir, 'a.test.zone')}:10: `));
    assert.equal(h.served('a.test.'), 1);
    const n = h.logs.length;
    await h.scan({ verify: true });
    assert.equal(h.logs.length, n, 'a broken version already reported is not parsed and reported again');
    put(h.dir, 'a.test.zone', zoneText('a.test', 3));
    await h.scan();
    assert.equal(h.get('a.test.').state, 'ok');
    assert.equal(h.served('a.test.'), 3);
  });

  it('treats an empty or truncated file as broken', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    await h.scan();
    put(h.dir, 'a.test.zone', '');
    await h.scan();
    assert.equal(h.get('a.test.').state, 'error');
    assert.match(h.get('a.test.').last_error ?? '', /SOA/);
    put(h.dir, 'a.test.zone', zoneText('a.test', 2).slice(0, 60));
    await h.scan();
    assert.equal(h.get('a.test.').state, 'error');
    assert.equal(h.served('a.test.'), 1);
  });

  it('refuses a serial that goes backwards; --force accepts it; serial_policy any accepts it', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 10));
    await h.scan();
    put(h.dir, 'a.test.zone', zoneText('a.test', 9));
    await h.scan();
    assert.equal(h.get('a.test.').state, 'error');
    assert.match(h.get('a.test.').last_error ?? '', /serial 9 is not newer than the served 10/);
    assert.equal(h.served('a.test.'), 10);
    assert.ok(h.messages().includes('zone change refused'));
    await h.scan({ force: true });
    assert.equal(h.served('a.test.'), 9);
    assert.equal(h.get('a.test.').state, 'ok');

    const any = new Harness({ ...POLICY, serialPolicy: 'any' });
    try {
      put(any.dir, 'a.test.zone', zoneText('a.test', 10));
      await any.scan();
      put(any.dir, 'a.test.zone', zoneText('a.test', 9));
      await any.scan();
      assert.equal(any.served('a.test.'), 9);
    } finally {
      await any.close();
    }
  });

  it('holds a version that lost more than half its records until --force', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1, 100));
    await h.scan();
    put(h.dir, 'a.test.zone', zoneText('a.test', 2, 10));
    await h.scan();
    assert.equal(h.get('a.test.').state, 'held');
    assert.match(h.get('a.test.').last_error ?? '', /14 records, 87% fewer than the 104 served/);
    assert.equal(h.served('a.test.'), 1);
    await h.scan({ verify: true });
    assert.equal(h.served('a.test.'), 1, 'a rescan does not release it');
    await h.scan({ force: true });
    assert.equal(h.served('a.test.'), 2);
    assert.equal(h.get('a.test.').state, 'ok');
  });

  it('stops serving a deleted zone, but holds removals of more than half the zones until --force', async () => {
    for (const z of ['a', 'b', 'c', 'd']) put(h.dir, `${z}.test.zone`, zoneText(`${z}.test`, 1));
    await h.scan();
    unlinkSync(join(h.dir, 'a.test.zone'));
    await h.scan();
    assert.equal(h.served('a.test.'), null);
    assert.deepEqual(h.store.status().map((s) => s.zone), ['b.test.', 'c.test.', 'd.test.']);
    for (const z of ['b', 'c']) unlinkSync(join(h.dir, `${z}.test.zone`));
    await h.scan();
    assert.deepEqual(h.store.status().map((s) => [s.zone, s.state]), [['b.test.', 'held'], ['c.test.', 'held'], ['d.test.', 'ok']]);
    assert.equal(h.served('b.test.'), 1);
    assert.match(h.get('b.test.').last_error ?? '', /2 of 3 zones would stop being served at once/);
    await h.scan({ force: true });
    assert.deepEqual(h.store.status().map((s) => s.zone), ['d.test.']);
    assert.equal(h.served('b.test.'), null);
  });

  it('never empties on an emptied directory, nor on an unreadable one', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    await h.scan();
    unlinkSync(join(h.dir, 'a.test.zone'));
    await h.scan();
    assert.equal(h.served('a.test.'), 1);
    assert.equal(h.get('a.test.').state, 'held');
    rmSync(h.dir, { recursive: true });
    await h.scan();
    assert.equal(h.served('a.test.'), 1);
    assert.ok(h.messages().includes('zones directory unreadable; zones kept as they are'));
    mkdirSync(h.dir);
  });

  it('leaves a file that changed within the settle time for a later scan, then loads it', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    await h.scan();
    writeFileSync(join(h.dir, 'a.test.zone'), zoneText('a.test', 2)); // written just now, in place
    await h.scan();
    assert.equal(h.served('a.test.'), 1, 'not read while it may still be being written');
    await waitFor(() => h.served('a.test.') === 2, { timeoutMs: 3000, what: 'a.test. serial 2 to be read once it settled', detail: () => `serving ${h.served('a.test.')}` });
  });

  it('reloads a zone when a file it $INCLUDEs changes', async () => {
    put(h.dir, 'hosts.inc', 'www A 192.0.2.80\n');
    put(h.dir, 'a.test.zone', zoneText('a.test', 1) + '$INCLUDE hosts.inc\n');
    await h.scan();
    assert.equal(h.get('a.test.').records, 9);
    put(h.dir, 'hosts.inc', 'www A 192.0.2.80\nmail A 192.0.2.25\n');
    await h.scan();
    assert.equal(h.get('a.test.').records, 10);
    assert.equal(h.swaps.length, 2);
  });

  it('merges scans asked for while one runs into one more', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1, 20_000));
    const first = h.scan();
    const queued = [h.scan({ reason: 'x' }), h.scan({ reason: 'y' }), h.scan({ reason: 'z' })];
    await Promise.all([first, ...queued]);
    assert.equal(h.swaps.length, 1);
    assert.equal(h.served('a.test.'), 1);
  });


  it('at start-up, files the scan does not stat: the large zone after the small ones, and none read again unchanged', async () => {
    put(h.dir, 'big.test.zone', zoneText('big.test', 1, 5_000));
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    put(h.dir, 'z.test.zone', zoneText('z.test', 1));
    writeFileSync(join(h.dir, 'young.test.zone'), zoneText('young.test', 1));
    const jobs: number[] = [];
    const loadBatch = h.loader.loadBatch.bind(h.loader);
    h.loader.loadBatch = (batch) => {
      jobs.push(batch.length);
      return loadBatch(batch);
    };
    await h.scan({ reason: 'start', noSettle: true, verify: true });
    assert.deepEqual(
      h.swaps.map((s) => s.origin),
      ['a.test.', 'young.test.', 'z.test.', 'big.test.'],
    );
    assert.equal(h.get('big.test.').records, 5_004);
    jobs.length = 0;
    await h.scan();
    assert.deepEqual(jobs, [], 'the identity the loader took is the one a scan compares');
    assert.equal(h.swaps.length, 4);
  });
  it('serves a configured zone list (origin → file) whatever the file names', async () => {
    const listed = new Harness(POLICY, new Map([['example.test', 'db.example']]));
    try {
      put(listed.dir, 'db.example', zoneText('example.test', 5));
      put(listed.dir, 'other.test.zone', zoneText('other.test', 1));
      await listed.scan();
      assert.deepEqual(listed.store.status().map((s) => [s.zone, s.serial]), [['example.test.', 5]]);
    } finally {
      await listed.close();
    }
  });
});

describe('zone store: ZONEMD (RFC 8976)', () => {
  const h = new Harness();
  after(() => h.close());

  /** The zone with a ZONEMD digest that ldns-signzone computed (no signing). */
  function digested(text: string): string {
    const src = join(h.dir, 'src.zone.tmp');
    writeFileSync(src, text);
    const r = spawnSync(requireBinary('ldns-signzone', 'ldnsutils'), ['-Z', '-z', '1:1', '-o', 'z.test.', '-f', '-', src], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  }

  it('loads a zone whose digest verifies, keeps it when the next version does not match its digest', async () => {
    const v1 = digested(zoneText('z.test', 1));
    assert.match(v1, /ZONEMD/);
    put(h.dir, 'z.test.zone', v1);
    await h.scan();
    assert.equal(h.get('z.test.').state, 'ok');
    const v2 = digested(zoneText('z.test', 2)).replace('198.51.100.1\n', '198.51.100.111\n');
    put(h.dir, 'z.test.zone', v2);
    await h.scan();
    assert.equal(h.get('z.test.').state, 'error');
    assert.match(h.get('z.test.').last_error ?? '', /ZONEMD digest mismatch/);
    assert.equal(h.served('z.test.'), 1);
    assert.ok(readFileSync(join(h.dir, 'z.test.zone'), 'utf8').includes('198.51.100.111'));
  });
});

describe('zone store: a difference applied to the version served (a secondary IXFR)', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.close());

  const file = (): string => join(h.dir, 'a.test.zone');
  /** From `from` to `to`: the SOA's serial, and an address for a new name. */
  const diff = (from: number, to: number): ZoneDiff => {
    const zone = h.zones!.zones.get(keyFromText('a.test.', null))!;
    const rdata = Buffer.from(zone.soa.rdatas[0]!);
    rdata.writeUInt32BE(to, rdata.length - 20);
    return { from, soa: { owner: nameFromText('a.test.', null), type: T.SOA, ttl: 300, rdata }, gone: new Map(), added: [{ owner: nameFromText(`new${to}.a.test.`, null), type: T.A, ttl: 300, rdata: Buffer.from([192, 0, 2, to]) }] };
  };
  /** Writes the version as zone sync would read it, and its SHA-256. */
  const write = (zone: Zone): string => {
    const text = `; serial ${zone.serial}\n${zoneText('a.test', zone.serial)}`;
    writeFileSync(file(), text);
    return createHash('sha256').update(text).digest('hex');
  };

  it('serves it before it is written, then a scan finds the file written and reads nothing; a newer difference stops the write under way, but not two in a row', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 1));
    await h.scan();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let stopped: boolean | null = null;
    const first = await h.store.applyDiff('a.test.', diff(1, 2), async (zone, stop) => {
      await gate;
      stopped = stop();
      return stopped ? null : write(zone);
    });
    assert.equal(first, true);
    assert.equal(h.served('a.test.'), 2, 'served while its write waits');
    assert.equal(h.zones!.zones.get(keyFromText('a.test.', null))!.nodes.has(keyFromText('new2.a.test.', null)), true);
    let releaseSecond!: () => void;
    const gateSecond = new Promise<void>((r) => (releaseSecond = r));
    let secondStopped: boolean | null = null;
    const second = h.store.applyDiff('a.test.', diff(2, 3), async (zone, stop) => {
      await gateSecond;
      secondStopped = stop();
      return secondStopped ? null : write(zone);
    });
    release();
    assert.equal(await second, true);
    assert.equal(stopped, true, 'the older write stopped');
    assert.equal(h.served('a.test.'), 3);
    // Not two in a row: the next write finishes before a newer version is applied.
    const third = h.store.applyDiff('a.test.', diff(3, 4), async (zone) => write(zone));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.served('a.test.'), 3, 'waits for the write under way');
    releaseSecond();
    assert.equal(await third, true);
    assert.equal(secondStopped, false, 'the write after a stopped one is not stopped');
    assert.equal(h.served('a.test.'), 4);
    // Scans wait for the write; then the file is the version served, and nothing is read again.
    const swaps = h.swaps.length;
    await h.scan({ reason: 'rescan', noSettle: true });
    assert.equal(h.swaps.length, swaps);
    const status = h.get('a.test.');
    assert.deepEqual([status.state, status.serial, status.records], ['ok', 4, 11]);
    assert.equal(status.sha256, createHash('sha256').update(readFileSync(file())).digest('hex'));
    assert.match(h.messages().join('\n'), /zone loaded/);
  });

  it('judges it like a file: a serial that goes backwards is refused and the last good version serves, unwritten; a difference for another version is not applied', async () => {
    put(h.dir, 'a.test.zone', zoneText('a.test', 5));
    await h.scan();
    let writes = 0;
    const persist = async (zone: Zone): Promise<string> => {
      writes++;
      return write(zone);
    };
    assert.equal(await h.store.applyDiff('a.test.', diff(5, 4), persist), false);
    assert.equal(h.served('a.test.'), 5);
    assert.equal(h.get('a.test.').state, 'error');
    assert.match(h.get('a.test.').last_error ?? '', /serial/);
    assert.equal(await h.store.applyDiff('a.test.', diff(3, 6), persist), false);
    assert.equal(h.served('a.test.'), 5);
    assert.equal(writes, 0);
    assert.match(readFileSync(file(), 'utf8'), / 5 3600 /);
  });
});
