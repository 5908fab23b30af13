// The native UDP path's own faults and guarantees, on real loopback sockets: answers leave from the
// address each query came to on a wildcard socket, a datagram too big for a slot is dropped and
// counted, a close in the middle of a batch or of a flood, ICMP errors, a million hostile datagrams,
// and the fallback to node:dgram when the native part was not built (a full send buffer:
// udp-send-faults.test.ts).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { createLogger } from '../../src/log.js';
import { ServerMetrics } from '../../src/ops/metrics.js';
import { NativeUdpListener } from '../../src/server/udp-native.js';
import { loadNativeUdp } from '../../src/server/native-udp.js';
import { processCookieSecret, serverCookies } from '../../src/wire/cookies.js';
import { createHandler } from '../../src/wire/handler.js';
import type { QueryHandler } from '../../src/wire/handler-types.js';
import { readZoneDir } from '../../src/sync/zone-files.js';
import { parseMessage } from '../helpers/dns-message.js';
import { encodeQuery, exchangeUdp } from '../helpers/dns-query.js';
import { BUNDLED_ZONES_DIR, REPO_ROOT } from '../helpers/paths.js';
import { freePort, startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { openUdpListener } from '../helpers/udp-paths.js';
import { createRng } from '../../bench/prng.js';
import { sleep } from '../helpers/wait.js';

const log = createLogger({ pop: 'test-pop', component: 'server', level: 'silent' });
const metrics = new ServerMetrics('test-pop');
const handler = createHandler(readZoneDir(BUNDLED_ZONES_DIR).zones, { identity: 'test-pop', version: null, ednsUdpSize: 1232, onResponse: metrics.onResponse });
const query = (id: number, name = 'www.example.com'): Buffer => encodeQuery({ name, type: 'A' }, id);

async function metricValue(name: string, labels: string): Promise<number> {
  const line = (await metrics.text()).split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** One query from a fresh socket; the reply and the address it came from. */
function ask(host: string, port: number, q: Buffer, timeoutMs = 2000): Promise<{ msg: Buffer; from: RemoteInfo }> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('message', (msg, from) => {
      clearTimeout(timer);
      sock.close();
      resolve({ msg, from });
    });
    sock.send(q, port, host);
  });
}

function bound(sock: Socket, host: string): Promise<void> {
  return new Promise((resolve) => sock.bind(0, host, () => resolve()));
}

function send(sock: Socket, buf: Buffer, port: number, host: string): Promise<void> {
  return new Promise((resolve) => sock.send(buf, port, host, () => resolve()));
}

describe('native UDP path', () => {
  it('answers each query from the address it was sent to, on sockets bound to 0.0.0.0 and ::', async () => {
    const port = await freePort(true);
    const v4 = await openUdpListener('native', { host: '0.0.0.0', port, family: 4 }, handler, metrics, log);
    const v6 = await openUdpListener('native', { host: '::', port, family: 6 }, handler, metrics, log);
    try {
      let id = 100;
      for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3', '::1']) {
        const { msg, from } = await ask(host, port, query(++id));
        assert.equal(from.address, host, `the answer to a query sent to ${host} came from ${from.address}`);
        assert.equal(from.port, port);
        assert.equal(parseMessage(msg).id, id);
      }
    } finally {
      await Promise.all([v4.close(), v6.close()]);
    }
  });

  it('drops and counts a datagram too big for a slot, and answers the next', async () => {
    const port = await freePort(false);
    const udp = await openUdpListener('native', { host: '127.0.0.1', port, family: 4 }, handler, metrics, log);
    try {
      const before = await metricValue('anycast_dns_dropped_packets_total', 'reason="oversized"');
      const big = Buffer.concat([query(5), Buffer.alloc(5000)]);
      await assert.rejects(exchangeUdp('127.0.0.1', port, big, 300), /no UDP reply/);
      assert.equal(parseMessage(await exchangeUdp('127.0.0.1', port, query(6), 2000)).id, 6);
      assert.equal(await metricValue('anycast_dns_dropped_packets_total', 'reason="oversized"'), before + 1);
    } finally {
      await udp.close();
    }
  });

  it('answers a query longer than the part of each datagram kept side by side, read whole', async () => {
    const port = await freePort(false);
    const cookies = serverCookies({ secret: null, secretPrevious: null }, processCookieSecret(), null);
    const answering = createHandler(readZoneDir(BUNDLED_ZONES_DIR).zones, { identity: 'test-pop', version: null, ednsUdpSize: 1232, cookies });
    const udp = await openUdpListener('native', { host: '127.0.0.1', port, family: 4 }, answering, metrics, log);
    try {
      const cookie = Buffer.from('0123456789abcdef', 'hex');
      // Padding (RFC 7830) first, so the question sits in the first part and the cookie at the end of the second.
      for (const padding of [400, 1000, 3000]) {
        const q = encodeQuery({ name: 'www.example.com', type: 'A', options: [{ code: 12, data: Buffer.alloc(padding) }], cookie }, padding);
        const r = parseMessage(await exchangeUdp('127.0.0.1', port, q, 2000));
        assert.equal(r.id, padding);
        assert.equal(r.rcode, 0, `the ${q.length}-octet query was answered`);
        assert.equal(r.answer.length, 1);
        assert.deepEqual(r.opt?.options.find((o) => o.code === 10)?.data.subarray(0, 8), cookie, 'the client cookie, last in the query, echoed');
      }
    } finally {
      await udp.close();
    }
  });

  it('closes safely in the middle of a batch: the batch is not answered, nothing is read after it', async () => {
    const { addon } = loadNativeUdp();
    assert.ok(addon !== null, 'the native UDP path is built');
    const port = await freePort(false);
    let handled = 0;
    let closing: Promise<void> | null = null;
    const closer: QueryHandler = Object.create(handler, {
      handleInto: {
        value: (...args: Parameters<QueryHandler['handleInto']>) => {
          handled++;
          closing ??= udp.close();
          return handler.handleInto(...args);
        },
      },
    });
    const udp = new NativeUdpListener({ host: '127.0.0.1', port, family: 4 }, addon, closer, metrics, log, { reusePort: false });
    await udp.listen();
    const client = createSocket('udp4');
    await bound(client, '127.0.0.1');
    let replies = 0;
    client.on('message', () => replies++);
    try {
      for (let i = 0; i < 200; i++) client.send(query(i), port, '127.0.0.1');
      await sleep(300);
      // Set by the handler, which TypeScript can't see run.
      const closed = closing as Promise<void> | null;
      assert.ok(closed !== null, 'the batch was delivered');
      await closed;
      assert.equal(replies, 0, 'no answer of the batch being closed was sent');
      const seen = handled;
      assert.ok(seen >= 1 && seen <= 64, `only the batch being handled was read (${seen})`);
      await send(client, query(999), port, '127.0.0.1');
      await sleep(100);
      assert.equal(handled, seen);
      // Closing again is harmless, and the port is free once close resolves.
      await udp.close();
      const again = await openUdpListener('native', { host: '127.0.0.1', port, family: 4 }, handler, metrics, log);
      assert.equal(parseMessage(await exchangeUdp('127.0.0.1', port, query(7), 2000)).id, 7);
      await again.close();
    } finally {
      client.close();
    }
  });

  it('closes in the middle of a flood without a crash, again and again; the port then answers', async () => {
    const port = await freePort(false);
    const client = createSocket('udp4');
    await bound(client, '127.0.0.1');
    let flooding = true;
    const flood = (async () => {
      for (let i = 0; flooding; i++) {
        for (let k = 0; k < 199; k++) client.send(query(k), port, '127.0.0.1');
        await send(client, query(i & 0xffff), port, '127.0.0.1');
        // A send done at once calls back within this turn: let the loop (and the listener) run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
      for (let round = 0; round < 5; round++) {
        const udp = await openUdpListener('native', { host: '127.0.0.1', port, family: 4 }, handler, metrics, log);
        await sleep(20 + round * 15);
        await udp.close();
      }
      flooding = false;
      await flood;
      const udp = await openUdpListener('native', { host: '127.0.0.1', port, family: 4 }, handler, metrics, log);
      try {
        assert.equal(parseMessage(await exchangeUdp('127.0.0.1', port, query(8), 2000)).id, 8);
      } finally {
        await udp.close();
      }
    } finally {
      flooding = false;
      await flood;
      client.close();
    }
  });

  it('keeps answering when clients vanish before their answers (ICMP port unreachable)', async () => {
    const port = await freePort(false);
    const udp = await openUdpListener('native', { host: '127.0.0.1', port, family: 4 }, handler, metrics, log);
    try {
      for (let i = 0; i < 50; i++) {
        const gone = createSocket('udp4');
        await bound(gone, '127.0.0.1');
        await send(gone, query(i), port, '127.0.0.1');
        gone.close();
      }
      await sleep(100);
      assert.equal(parseMessage(await exchangeUdp('127.0.0.1', port, query(77), 2000)).id, 77);
    } finally {
      await udp.close();
    }
  });
});

describe('native UDP path under a million hostile datagrams', () => {
  let server: RunningPeer;
  before(async () => {
    server = await startAnycastDns([{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }], { ipv6: false, identity: 'pop-hostile', extraConfig: { udp_io: 'native' } });
  });
  after(() => server?.stop());

  it('answers the readable ones, drops the rest, and still answers afterwards', async () => {
    const rng = createRng(20261207);
    const next = (): number => rng.int(0x1_0000_0000);
    const pool: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const len = i % 4 === 0 ? next() % 12 : 12 + (next() % 500); // short of a header, or random after one
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = next() & 0xff;
      if (len >= 12 && i % 2 === 0) {
        buf.writeUInt16BE(0x0000, 2); // QUERY, so parsing goes past the header
        buf.writeUInt16BE(1, 4);
        // A name that points at itself (a compression loop) at the question's start.
        if (i % 8 === 2 && len >= 14) buf.writeUInt16BE(0xc00c, 12);
      }
      pool.push(buf);
    }
    const sock = createSocket('udp4');
    await bound(sock, '127.0.0.1');
    let replies = 0;
    sock.on('message', () => replies++);
    try {
      for (let i = 0; i < 1_000_000; i += 1000) {
        for (let k = 0; k < 999; k++) sock.send(pool[k]!, server.port, '127.0.0.1');
        await send(sock, pool[999]!, server.port, '127.0.0.1');
      }
      await sleep(500);
      assert.ok(replies > 0, 'the readable ones were answered');
      assert.ok(server.log().includes('"path":"native"'), 'the server ran the native path');
      const m = parseMessage(await exchangeUdp('127.0.0.1', server.port, query(4242), 5000));
      assert.equal(m.id, 4242);
      assert.equal(m.answer.length, 1);
    } finally {
      sock.close();
    }
  });
});

describe('udp_io without the native part', () => {
  // A copy of the built server without build/: what a machine without a compiler installs.
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'anycast-dgram-only-'));
    cpSync(join(REPO_ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(REPO_ROOT, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function serve(udpIo: string, port: number): { output: () => string; exited: Promise<number | null>; stop: () => void } {
    const config = join(dir, `${udpIo}.yaml`);
    writeFileSync(config, stringify({ listen: [`127.0.0.1:${port}`], zones: BUNDLED_ZONES_DIR, management: { listen: null }, udp_io: udpIo }));
    const child = spawn(process.execPath, [join(dir, 'dist', 'src', 'cli.js'), 'serve', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { output: () => output, exited, stop: () => child.kill('SIGTERM') };
  }

  it('auto serves through node:dgram and says so once, with the reason', async () => {
    const port = await freePort(false);
    const s = serve('auto', port);
    try {
      let answered = false;
      for (let i = 0; i < 100 && !answered; i++) {
        answered = await exchangeUdp('127.0.0.1', port, query(9), 200).then(() => true, () => false);
      }
      assert.ok(answered, `no answer; output:\n${s.output()}`);
      const lines = s.output().split('\n').filter((l) => l.includes('udp path'));
      assert.equal(lines.length, 1, s.output());
      assert.match(lines[0]!, /"path":"dgram"/);
      assert.match(lines[0]!, /native path is unavailable: .*anycast_udp\.node was not built/);
    } finally {
      s.stop();
      await s.exited;
    }
  });

  it('native stops start-up with an error naming udp_io', async () => {
    const s = serve('native', await freePort(false));
    const code = await Promise.race([s.exited, sleep(20_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') s.stop();
    assert.notEqual(code, 0);
    assert.notEqual(code, 'timeout');
    assert.match(s.output(), /config: udp_io: is native, but the native UDP path is unavailable/);
  });
});

describe('the native part hands free memory back', () => {
  it('releaseFreeMemory returns to the system, in the background, the pages malloc holds free below memory still in use', () => {
    const addon = loadNativeUdp().addon;
    assert.ok(addon !== null, 'the native part is built');
    // 64 KiB buffers (malloc'd in an arena, below mmap's threshold), each followed by a small one that
    // stays: freed, the large ones leave holes glibc never gives back by itself.
    const script = `
      const { readFileSync } = require('node:fs');
      const addon = require(${JSON.stringify(join(REPO_ROOT, 'build', 'Release', 'anycast_udp.node'))});
      const rss = () => Number(/^VmRSS:\\s+(\\d+)/m.exec(readFileSync('/proc/self/status', 'latin1'))[1]) / 1024;
      let big = [];
      const kept = [];
      for (let i = 0; i < 800; i++) { big.push(Buffer.alloc(64 * 1024, 1)); kept.push(Buffer.allocUnsafeSlow(8 * 1024).fill(1)); }
      big = null;
      globalThis.gc();
      setTimeout(() => {
        globalThis.gc();
        const before = rss();
        addon.releaseFreeMemory().then((released) => console.log(JSON.stringify({ released, freed: before - rss(), kept: kept.length })));
      }, 500);
    `;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { released: boolean; freed: number };
    assert.equal(got.released, true);
    assert.ok(got.freed > 20, `RSS down by ${got.freed.toFixed(1)} MiB of the 50 MiB freed`);
  });
});
