// A POP's many small zones in a running server: thousands load with every zone answering and
// listed by `ctl zones`; a change of every zone under a flood of queries loses none and never
// answers from two versions of a zone at once; SIGTERM during the load stops the server at once,
// and a SIGHUP during it is acted on after it.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { SERVE_NODE_FLAGS } from '../../src/server/node-flags.js';
import { CLI_JS, REPO_ROOT } from '../helpers/paths.js';
import { dnsQuery, freePort } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
/** Records of the big zone that keeps a first load going while the small zones already answer. */
const BIG_HOSTS = 400_000;

/** A small customer zone whose `ver` TXT RRset holds two records, both naming the version. */
function zone(origin: string, version: number): string {
  return [
    '$TTL 300',
    `@ SOA ns1.example.net. admin.${origin}. ${version} 3600 600 86400 300`,
    '@ NS ns1.example.net.',
    '@ NS ns2.example.net.',
    '@ A 192.0.2.1',
    'www A 192.0.2.2',
    `ver TXT "${version}a"`,
    `ver TXT "${version}b"`,
    '',
  ].join('\n');
}

function writeZones(dir: string, count: number, version: number): string[] {
  const origins: string[] = [];
  for (let i = 0; i < count; i++) {
    const o = `c${i}.example`;
    writeFileSync(join(dir, `${o}.zone`), zone(o, version));
    origins.push(o);
  }
  return origins;
}

interface Server {
  child: ChildProcess;
  port: number;
  mgmt: number;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, and SIGKILL if it is still there after 10 s. */
  stop(): Promise<void>;
}

async function serve(dir: string, zoneSync: Record<string, unknown> = {}): Promise<Server> {
  const port = await freePort(false);
  const mgmt = await freePort(false);
  const config = { identity: 'many', listen: [`127.0.0.1:${port}`], zones: dir, log_level: 'warn', rrl: { responses_per_second: 0 }, management: { listen: `127.0.0.1:${mgmt}` }, zone_sync: zoneSync };
  const path = join(dir, '..', `config-${port}.yaml`);
  writeFileSync(path, stringify(config));
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, CLI_JS, 'serve', '--config', path], { cwd: REPO_ROOT, stdio: 'ignore' });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(t);
  };
  return { child, port, mgmt, exit, stop };
}

/**
 * A zone of `hosts` A records: large files are loaded after the directory's small ones, so with one
 * beside them the first load is still under way, for seconds, once the small zones answer.
 */
function bigZone(origin: string, hosts: number): string {
  const lines = ['$TTL 300', `@ SOA ns1.example.net. admin.${origin}. 1 3600 600 86400 300`, '@ NS ns1.example.net.', '@ NS ns2.example.net.'];
  for (let i = 0; i < hosts; i++) lines.push(`h${i} A 192.0.2.${i & 0xff}`);
  return lines.join('\n') + '\n';
}

/**
 * Runs `body` against a server of `count` zones at version 1 in a new directory (and one big zone
 * of `bigHosts` records when asked), and cleans up.
 */
async function withZones(count: number, zoneSync: Record<string, unknown>, body: (s: Server, dir: string, origins: string[]) => Promise<void>, bigHosts = 0): Promise<void> {
  const top = mkdtempSync(join(tmpdir(), 'anycast-dns-many-'));
  const dir = join(top, 'zones');
  mkdirSync(dir);
  const origins = writeZones(dir, count, 1);
  if (bigHosts > 0) writeFileSync(join(dir, 'big.example.zone'), bigZone('big.example', bigHosts));
  const s = await serve(dir, zoneSync);
  try {
    await body(s, dir, origins);
  } finally {
    await s.stop();
    rmSync(top, { recursive: true, force: true });
  }
}

/** Until `check` holds, asking every 50 ms for at most `limitMs`. */
async function until(what: string, limitMs: number, check: () => Promise<boolean>): Promise<void> {
  await waitFor(check, { timeoutMs: limitMs, what });
}

async function ready(s: Server): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${s.mgmt}/ready`)).status;
  } catch {
    return 0;
  }
}

/**
 * The `ver` TXT strings a zone answers, or the rcode. `timeoutMs` short for a poll during the load: a
 * query sent before the server listens gets no answer, and a long wait for it could outlast the load.
 */
async function versions(port: number, origin: string, timeoutMs = 2000): Promise<string[] | number> {
  const r = await dnsQuery({ port }, { name: `ver.${origin}`, type: 'TXT', timeoutMs });
  if (r.message.rcode !== 0) return r.message.rcode;
  return r.message.answer.map((rr) => rr.rdata.subarray(1).toString('latin1')).sort();
}

/**
 * Asks `ver.<zone> TXT` of every zone in turn, at most `window` queries in flight, until `stop()`;
 * each answer is checked for one version (both records of the RRset) that never goes back.
 */
function flood(port: number, origins: string[], window: number): { stop(): Promise<{ sent: number; answered: number; lost: number; mixed: string[]; backwards: string[]; latest: Map<string, number> }> } {
  const sock = createSocket('udp4');
  const inflight = new Map<number, { zone: string; at: number }>();
  const latest = new Map<string, number>();
  const mixed: string[] = [];
  const backwards: string[] = [];
  let sent = 0;
  let answered = 0;
  let lost = 0;
  let next = 0;
  let id = 0;
  let running = true;
  const ask = (): void => {
    while (running && inflight.size < window) {
      const zone = origins[next++ % origins.length]!;
      id = (id % 0xffff) + 1;
      inflight.set(id, { zone, at: Date.now() });
      const q = Buffer.concat([Buffer.from([id >> 8, id & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...`ver.${zone}`.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 16, 0, 1])]);
      sock.send(q, port, '127.0.0.1');
      sent++;
    }
  };
  sock.on('message', (m) => {
    const q = inflight.get(m.readUInt16BE(0));
    if (q === undefined) return;
    inflight.delete(m.readUInt16BE(0));
    answered++;
    // Answers are two TXT records of one string each, after the question: read the strings.
    const texts: string[] = [];
    let p = 12;
    while (m[p] !== 0) p += m[p]! + 1;
    p += 5;
    for (let i = 0; i < m.readUInt16BE(6); i++) {
      p += 2; // compressed owner
      const len = m.readUInt16BE(p + 8);
      texts.push(m.toString('latin1', p + 11, p + 10 + len));
      p += 10 + len;
    }
    const v = new Set(texts.map((t) => t.slice(0, -1)));
    if ((m[3]! & 15) !== 0 || texts.length !== 2 || v.size !== 1) mixed.push(`${q.zone}: rcode ${m[3]! & 15}, ${texts.join(' ')}`);
    else {
      const n = Number([...v][0]);
      if (n < (latest.get(q.zone) ?? 0)) backwards.push(`${q.zone}: ${n} after ${latest.get(q.zone)}`);
      latest.set(q.zone, n);
    }
    ask();
  });
  const reaper = setInterval(() => {
    for (const [k, q] of inflight) {
      if (Date.now() - q.at > 2000) {
        inflight.delete(k);
        lost++;
      }
    }
    ask();
  }, 100);
  ask();
  return {
    async stop() {
      running = false;
      await new Promise((r) => setTimeout(r, 2100));
      clearInterval(reaper);
      lost += inflight.size;
      sock.close();
      return { sent, answered, lost, mixed, backwards, latest };
    },
  };
}

describe('many zones', { timeout: 300_000 }, () => {
  it('loads 5,000 zones, every one answering and listed by `ctl zones`', async () => {
    await withZones(5000, {}, async (s, _dir, origins) => {
      await until('/ready 200', 120_000, async () => (await ready(s)) === 200);
      for (const o of origins) assert.deepEqual(await versions(s.port, o), ['1a', '1b'], o);
      const { stdout } = await run(process.execPath, [CLI_JS, 'ctl', '--server', `127.0.0.1:${s.mgmt}`, 'zones'], { maxBuffer: 64 << 20 });
      const listed = new Set(stdout.split('\n').map((l) => l.split(/\s+/)[0]));
      for (const o of origins) assert.ok(listed.has(`${o}.`), `ctl zones lists ${o}.`);
    });
  });

  it('changes every zone during a query flood: no query lost, no answer mixing two versions of a zone', async () => {
    await withZones(2000, { settle_time: 0 }, async (s, dir, origins) => {
      await until('/ready 200', 120_000, async () => (await ready(s)) === 200);
      const f = flood(s.port, origins, 20);
      await new Promise((r) => setTimeout(r, 500));
      writeZones(dir, origins.length, 2);
      await until('every zone at version 2', 120_000, async () => (await versions(s.port, origins.at(-1)!)).toString() === '2a,2b' && (await versions(s.port, origins[0]!)).toString() === '2a,2b');
      await new Promise((r) => setTimeout(r, 500));
      const r = await f.stop();
      assert.ok(r.answered > origins.length, `the flood ran through every zone (${r.answered} answers)`);
      assert.equal(r.lost, 0, `${r.lost} of ${r.sent} queries unanswered`);
      assert.deepEqual(r.mixed, []);
      assert.deepEqual(r.backwards, []);
      for (const o of origins) assert.deepEqual(await versions(s.port, o), ['2a', '2b'], o);
    });
  });

  it('stops on SIGTERM during the load of 10,000 zones, at once and with status 0', async () => {
    await withZones(10_000, {}, async (s, _dir, origins) => {
      await until('the first zone answers', 60_000, async () => {
        try {
          return Array.isArray(await versions(s.port, origins[0]!, 250));
        } catch {
          return false;
        }
      });
      assert.equal(await ready(s), 503, 'the load is still under way');
      const t = Date.now();
      s.child.kill('SIGTERM');
      const { code, signal } = await Promise.race([s.exit, new Promise<never>((_, no) => setTimeout(() => no(new Error('no exit within 5 s')), 5000))]);
      assert.ok(Date.now() - t < 5000);
      assert.deepEqual({ code, signal }, { code: 0, signal: null });
    }, BIG_HOSTS);
  });

  it('acts on a SIGHUP received during the load once the load is over', async () => {
    // No watch and no rescan: only the SIGHUP can make the server read the change.
    await withZones(10_000, { watch: false, rescan_interval: 0, settle_time: 0 }, async (s, dir, origins) => {
      let loaded = '';
      await until('a zone answers', 60_000, async () => {
        for (const o of [origins[0]!, origins[1]!, origins.at(-1)!]) {
          try {
            if (Array.isArray(await versions(s.port, o, 250))) loaded = o;
          } catch {
            // not listening yet
          }
        }
        return loaded !== '';
      });
      writeFileSync(join(dir, `${loaded}.zone`), zone(loaded, 2));
      assert.equal(await ready(s), 503, 'the load is still under way');
      s.child.kill('SIGHUP');
      await until('/ready 200', 120_000, async () => (await ready(s)) === 200);
      await until(`${loaded} at version 2`, 10_000, async () => (await versions(s.port, loaded)).toString() === '2a,2b');
    }, BIG_HOSTS);
  });
});
