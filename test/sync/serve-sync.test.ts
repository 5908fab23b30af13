// Zone sync in a running server, as an operator's sync tools drive it: files renamed into place,
// rewritten slowly in place, broken, rolled back, emptied, deleted; SIGHUP; rsync, `git checkout`
// and a Kubernetes `..data` swap; `ctl`, /zones, /reload and the metrics; every worker; the health
// sidecar's freshness. A prober asks every zone over UDP throughout and checks each answer.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freshnessAttempt } from '../../src/health/probe.js';
import { CLI_JS } from '../helpers/paths.js';
import { dnsQuery, requireBinary, startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { putFile, zoneText } from '../helpers/zone-text.js';
import { logRecords, managementUrl, seriesValues } from '../helpers/management.js';
import { sleep, waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
/** What the server answers for `ver.<zone> TXT`: the serial of the version served, or the rcode's name. */
async function version(port: number, zone: string, timeoutMs = 1000): Promise<string> {
  const r = await dnsQuery({ port }, { name: `ver.${zone}`, type: 'TXT', timeoutMs });
  if (r.message.rcode === 5) return 'REFUSED';
  if (r.message.rcode !== 0 || r.message.answer.length !== 1) return `rcode ${r.message.rcode}, ${r.message.answer.length} answers`;
  return r.message.answer[0]!.rdata.subarray(1).toString('latin1');
}

/** Until `zone` answers `want`, or `limitMs` pass; resolves with the time it took. */
async function waitForVersion(port: number, zone: string, want: string, limitMs: number): Promise<number> {
  const start = performance.now();
  let last = '';
  await waitFor(async () => (last = await version(port, zone)) === want, { timeoutMs: limitMs, intervalMs: 25, what: `${zone} to answer ${want}`, detail: () => `it still answers ${last}` });
  return performance.now() - start;
}

/**
 * Asks every zone in turn, every few ms, until stopped; records each answer. Checks that nothing
 * went unanswered and that each zone's answers only move forward through the versions it lists.
 */
class Prober {
  readonly seen = new Map<string, string[]>();
  unanswered = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(port: number, zones: string[]) {
    this.done = (async () => {
      // Bounded: at most 5 minutes, about 100 queries a second.
      const until = Date.now() + 300_000;
      for (let i = 0; this.running && Date.now() < until; i++) {
        const zone = zones[i % zones.length]!;
        try {
          const v = await version(port, zone, 1000);
          const list = this.seen.get(zone) ?? [];
          if (list.at(-1) !== v) list.push(v);
          this.seen.set(zone, list);
        } catch {
          this.unanswered++;
        }
        await sleep(10);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

interface Mgmt {
  port: number;
  get(path: string): Promise<{ status: number; body: string }>;
  post(path: string): Promise<{ status: number; body: string }>;
  metric(name: string, labels: string): Promise<number>;
}

function management(server: RunningPeer): Mgmt {
  const base = managementUrl(server);
  const port = Number(new URL(base).port);
  const call = async (method: string, path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(`${base}${path}`, { method });
    return { status: res.status, body: await res.text() };
  };
  return {
    port,
    get: (p) => call('GET', p),
    post: (p) => call('POST', p),
    metric: async (name, labels) => seriesValues((await call('GET', '/metrics')).body, name, labels)[0] ?? NaN,
  };
}

function loads(server: RunningPeer, zone: string): number {
  return logRecords(server).filter((l) => l.msg === 'zone loaded' && l.zone === zone && l.reason !== 'start').length;
}

/** Written aside, then renamed into place (a fresh mtime: the server waits for it to settle). */
async function ctl(mgmtPort: number, ...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run(process.execPath, [CLI_JS, 'ctl', '--server', `127.0.0.1:${mgmtPort}`, ...args], { timeout: 30_000 });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, out: e.stdout };
  }
}

async function startSyncServer(zonesDir: string, origins: string[], extra: Record<string, unknown> = {}): Promise<RunningPeer> {
  return startAnycastDns(
    origins.map((o) => ({ origin: o, file: join(zonesDir, `${o}zone`) })),
    { zonesDir, ipv6: false, extraConfig: { management: { listen: '127.0.0.1:0' }, ...extra } },
  );
}

describe('zone sync in a running server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-sync-'));
  const zones = join(dir, 'zones');
  const names = ['a.test.', 'b.test.', 'c.test.', 'd.test.', 'e.test.'];
  let server: RunningPeer;
  let mgmt: Mgmt;
  let prober: Prober;

  before(async () => {
    mkdirSync(zones);
    for (const z of names) putFile(zones, `${z}zone`, zoneText(z.slice(0, -1), 1));
    server = await startSyncServer(zones, names);
    mgmt = management(server);
    prober = new Prober(server.port, names);
  });
  after(async () => {
    await prober?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a version renamed into place within 2 s', async () => {
    putFile(zones, 'a.test.zone', zoneText('a.test', 2));
    const ms = await waitForVersion(server.port, 'a.test.', '2', 2000);
    assert.ok(ms < 2000, `served after ${ms} ms`);
  });

  it('never reads a file rewritten slowly in place half way; serves it within 3 s of the last write', async () => {
    const text = zoneText('b.test', 2, 40);
    const fd = openSync(join(zones, 'b.test.zone'), 'w');
    const piece = Math.ceil(text.length / 5);
    for (let i = 0; i < 5; i++) {
      writeSync(fd, text.slice(i * piece, (i + 1) * piece));
      await sleep(300);
    }
    closeSync(fd);
    await waitForVersion(server.port, 'b.test.', '2', 3000);
    await sleep(300); // the prober's turn to ask b.test. again
    assert.deepEqual(prober.seen.get('b.test.'), ['1', '2']);
    assert.equal(logRecords(server).filter((l) => l.zone === 'b.test.' && l.level === 'error').length, 0, 'no partial read was ever tried');
    assert.equal(loads(server, 'b.test.'), 1, 'one load for the whole write');
  });

  it('keeps the last good version of a broken file, of a serial rolled back, and of an emptied file', async () => {
    putFile(zones, 'c.test.zone', zoneText('c.test', 2, 4, 'oops A 192.0.2\n'));
    putFile(zones, 'a.test.zone', zoneText('a.test', 1));
    putFile(zones, 'd.test.zone', '');
    await sleep(2000);
    assert.equal(await version(server.port, 'c.test.'), '1');
    assert.equal(await version(server.port, 'a.test.'), '2');
    assert.equal(await version(server.port, 'd.test.'), '1');
    const status = JSON.parse((await mgmt.get('/zones')).body) as { zones: { zone: string; state: string; serial: number; last_error: string | null }[] };
    const by = new Map(status.zones.map((z) => [z.zone, z]));
    assert.equal(by.get('c.test.')!.state, 'error');
    assert.match(by.get('c.test.')!.last_error!, /c\.test\.zone:10: /);
    assert.match(by.get('a.test.')!.last_error!, /serial 1 is not newer than the served 2/);
    assert.equal(by.get('d.test.')!.state, 'error');
    const failed = logRecords(server).find((l) => l.zone === 'c.test.' && l.msg === 'zone not reloaded; the last good version stays');
    assert.ok(failed, 'the broken file is logged');
    assert.match((failed.errors as string[])[0]!, /c\.test\.zone:10: /);
  });

  it('stops serving a deleted zone (REFUSED)', async () => {
    unlinkSync(join(zones, 'e.test.zone'));
    await waitForVersion(server.port, 'e.test.', 'REFUSED', 2000);
    const status = JSON.parse((await mgmt.get('/zones')).body) as { zones: { zone: string }[] };
    assert.deepEqual(status.zones.map((z) => z.zone), ['a.test.', 'b.test.', 'c.test.', 'd.test.']);
  });

  it('rescans on SIGHUP and keeps running', async () => {
    const before = logRecords(server).length;
    process.kill(server.pid, 'SIGHUP');
    await sleep(500);
    assert.ok(logRecords(server).slice(before).some((l) => l.msg === 'reloading zones' && l.signal === 'SIGHUP'));
    assert.equal(await version(server.port, 'a.test.'), '2');
  });

  it('holds the removal of most zones at once; ctl shows it; ctl reload --force releases it', async () => {
    for (const z of ['a', 'b', 'c']) unlinkSync(join(zones, `${z}.test.zone`));
    await sleep(1500);
    for (const z of ['a.test.', 'b.test.', 'c.test.']) assert.notEqual(await version(server.port, z), 'REFUSED', z);
    assert.equal(await mgmt.metric('anycast_dns_zone_changes_held', 'pop='), 3);
    const shown = await ctl(mgmt.port, 'zones');
    assert.equal(shown.code, 1, 'held zones: exit 1');
    assert.match(shown.out, /^a\.test\.\s+2\s+8\s+held\s/m);
    assert.match(shown.out, /held: file gone; removal held: 3 of 4 zones would stop being served at once \(limit 50%\)/);
    const released = await ctl(mgmt.port, 'reload', '--force');
    assert.match(released.out, /^d\.test\./m);
    assert.doesNotMatch(released.out, /a\.test\./);
    for (const z of ['a.test.', 'b.test.', 'c.test.']) assert.equal(await version(server.port, z), 'REFUSED', z);
  });

  it('answered every query, each from one version of its zone, moving only forward', async () => {
    await sleep(300); // one more turn over every zone
    await prober.stop();
    assert.equal(prober.unanswered, 0);
    assert.deepEqual(prober.seen.get('a.test.'), ['1', '2', 'REFUSED']);
    assert.deepEqual(prober.seen.get('b.test.'), ['1', '2', 'REFUSED']);
    assert.deepEqual(prober.seen.get('c.test.'), ['1', 'REFUSED']);
    assert.deepEqual(prober.seen.get('d.test.'), ['1']);
    assert.deepEqual(prober.seen.get('e.test.'), ['1', 'REFUSED']);
  });

  it('counts it all in the metrics, with exact values', async () => {
    const m = (zone: string, result: string): Promise<number> => mgmt.metric('anycast_dns_zone_reloads_total', `zone="${zone}",result="${result}"`);
    assert.equal(await m('a.test.', 'success'), 2);
    assert.equal(await m('a.test.', 'refused'), 1);
    assert.equal(await m('c.test.', 'failure'), 1);
    assert.equal(await m('d.test.', 'failure'), 2, 'the emptied file, then again when reload --force read it once more');
    assert.equal(await m('a.test.', 'held'), 1);
    assert.equal(await mgmt.metric('anycast_dns_zones_loaded', 'pop='), 1);
    assert.equal(await mgmt.metric('anycast_dns_zone_serial', 'zone="d.test."'), 1);
    assert.equal(await mgmt.metric('anycast_dns_zone_state', 'zone="d.test.",state="error"'), 1);
    assert.equal(await mgmt.metric('anycast_dns_zone_changes_held', 'pop='), 0);
    assert.ok(Math.abs((await mgmt.metric('anycast_dns_zone_last_reload_success_timestamp_seconds', 'zone="d.test."')) - Date.now() / 1000) < 120);
  });

  it('answers POST /reload for one zone, 404 for an unknown one, 405 for GET', async () => {
    const one = await mgmt.post('/reload?zone=D.test');
    assert.equal(one.status, 200);
    assert.deepEqual((JSON.parse(one.body) as { zones: { zone: string }[] }).zones.map((z) => z.zone), ['d.test.']);
    assert.equal((await mgmt.post('/reload?zone=nope.test')).status, 404);
    assert.equal((await mgmt.get('/reload')).status, 405);
  });
});

describe('zone sync with sync tools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-synctools-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('rsync of several zones and an $INCLUDEd file: one reload per changed zone', async () => {
    const src = join(dir, 'rsync-src');
    const zones = join(dir, 'rsync-zones');
    mkdirSync(src);
    mkdirSync(zones);
    const names = ['r1.test.', 'r2.test.', 'r3.test.', 'r4.test.'];
    for (const z of names) writeFileSync(join(src, `${z}zone`), zoneText(z.slice(0, -1), 1));
    writeFileSync(join(src, 'hosts.inc'), 'www A 192.0.2.80\n');
    writeFileSync(join(src, 'r4.test.zone'), zoneText('r4.test', 1) + '$INCLUDE hosts.inc\n');
    const rsync = requireBinary('rsync', 'rsync');
    const sync = (): void => assert.equal(spawnSync(rsync, ['-a', '--delete', `${src}/`, `${zones}/`]).status, 0);
    sync();
    const server = await startSyncServer(zones, names);
    try {
      for (const z of ['r1', 'r2']) writeFileSync(join(src, `${z}.test.zone`), zoneText(z, 2));
      writeFileSync(join(src, 'hosts.inc'), 'www A 192.0.2.80\nftp A 192.0.2.21\n');
      sync();
      await waitForVersion(server.port, 'r1.test.', '2', 2000);
      await waitForVersion(server.port, 'r2.test.', '2', 2000);
      await waitFor(() => loads(server, 'r4.test.') > 0, { timeoutMs: 2000, what: 'r4.test. to load' });
      await sleep(1500); // anything else the burst would trigger
      assert.deepEqual(names.map((z) => loads(server, z)), [1, 1, 0, 1]);
      const r = await dnsQuery({ port: server.port }, { name: 'ftp.r4.test', type: 'A' });
      assert.equal(r.message.rcode, 0);
    } finally {
      await server.stop();
    }
  });

  it('git checkout of 50 zones at once: 50 reloads, one each', async () => {
    const zones = join(dir, 'git-zones');
    mkdirSync(zones);
    const git = (...args: string[]): void => {
      const r = spawnSync('git', ['-C', zones, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    const names = Array.from({ length: 50 }, (_, i) => `g${i}.test.`);
    git('init', '-q', '-b', 'main');
    for (const z of names) writeFileSync(join(zones, `${z}zone`), zoneText(z.slice(0, -1), 1));
    git('add', '-A');
    git('commit', '-qm', 'v1');
    git('checkout', '-qb', 'v2');
    for (const z of names) writeFileSync(join(zones, `${z}zone`), zoneText(z.slice(0, -1), 2));
    git('commit', '-qam', 'v2');
    git('checkout', '-q', 'main');
    const server = await startSyncServer(zones, names);
    try {
      git('checkout', '-q', 'v2');
      for (const z of names) await waitForVersion(server.port, z, '2', 4000);
      await sleep(1500);
      assert.deepEqual(new Set(names.map((z) => loads(server, z))), new Set([1]));
    } finally {
      await server.stop();
    }
  });

  it('a Kubernetes ConfigMap swap (..data symlink) and a zones directory that is a symlink swapped', async () => {
    const top = join(dir, 'k8s');
    const zones = join(top, 'zones');
    mkdirSync(join(zones, '..v1'), { recursive: true });
    writeFileSync(join(zones, '..v1', 'k.test.zone'), zoneText('k.test', 1));
    symlinkSync('..v1', join(zones, '..data'));
    symlinkSync('..data/k.test.zone', join(zones, 'k.test.zone'));
    // The same zone also reached through a directory symlink swapped as a whole.
    mkdirSync(join(top, 'r1'));
    writeFileSync(join(top, 'r1', 'l.test.zone'), zoneText('l.test', 1));
    symlinkSync('r1', join(top, 'live'));
    const server = await startSyncServer(zones, ['k.test.']);
    const linked = await startSyncServer(join(top, 'live'), ['l.test.']);
    try {
      mkdirSync(join(zones, '..v2'));
      writeFileSync(join(zones, '..v2', 'k.test.zone'), zoneText('k.test', 2));
      symlinkSync('..v2', join(zones, '..data_tmp'));
      renameSync(join(zones, '..data_tmp'), join(zones, '..data'));
      rmSync(join(zones, '..v1'), { recursive: true });
      await waitForVersion(server.port, 'k.test.', '2', 2000);

      mkdirSync(join(top, 'r2'));
      writeFileSync(join(top, 'r2', 'l.test.zone'), zoneText('l.test', 2));
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(top, 'r2', 'l.test.zone'), old, old);
      symlinkSync('r2', join(top, 'live.tmp'));
      renameSync(join(top, 'live.tmp'), join(top, 'live'));
      await waitForVersion(linked.port, 'l.test.', '2', 3000);
    } finally {
      await server.stop();
      await linked.stop();
    }
  });
});

describe('zone sync with workers: 2', () => {
  it('the main thread loads once and every query thread serves the new version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-syncw-'));
    putFile(dir, 'w.test.zone', zoneText('w.test', 1));
    const server = await startSyncServer(dir, ['w.test.'], { workers: 2 });
    try {
      putFile(dir, 'w.test.zone', zoneText('w.test', 2));
      await waitForVersion(server.port, 'w.test.', '2', 2000);
      await sleep(200);
      // Each query from a new socket (a new source port), so the kernel spreads them over both threads.
      const answers = await Promise.all(Array.from({ length: 40 }, () => version(server.port, 'w.test.')));
      assert.deepEqual(new Set(answers), new Set(['2']));
      const lines = logRecords(server);
      assert.equal(lines.filter((l) => l.msg === 'zone loaded' && l.zone === 'w.test.').length, 2, 'loaded once at start and once on change, by the main thread');
      const status = JSON.parse((await management(server).get('/zones')).body) as { zones: { serial: number }[] };
      assert.equal(status.zones[0]!.serial, 2);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('health freshness from the server /zones', () => {
  it('goes stale when no new zone version is loaded for max_age, fresh again after one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-fresh-'));
    putFile(dir, 'f.test.zone', zoneText('f.test', 1));
    const server = await startSyncServer(dir, ['f.test.']);
    try {
      const url = `http://127.0.0.1:${management(server).port}/zones`;
      assert.equal((await freshnessAttempt(url, 1500, 1000)).outcome, 'ok');
      await sleep(1700);
      const stale = await freshnessAttempt(url, 1500, 1000);
      // Stale alone is 'stale' (the POP degrades); only a fresher peer makes it a failure (health/peers.ts).
      assert.equal(stale.outcome, 'stale');
      assert.match(stale.detail ?? '', /newest zone version was loaded \d+ s ago/);
      putFile(dir, 'f.test.zone', zoneText('f.test', 2));
      await waitForVersion(server.port, 'f.test.', '2', 2000);
      assert.equal((await freshnessAttempt(url, 1500, 1000)).outcome, 'ok');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
