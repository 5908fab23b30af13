// The native UDP path when the kernel refuses answers, in a network namespace of its own:
// - its loopback queues packets behind a slow token bucket (tc tbf), and a socket with the smallest
//   send buffer gets EAGAIN from sendmmsg under a burst, often after part of a batch went out. Every
//   answer is then either received or counted as dropped, never lost silently, and the socket keeps
//   answering;
// - a routing rule forbids answers to one client address (EACCES, as a firewall's reject gives), so
//   sendmmsg stops at the first such answer in each batch: the rest of the batch is sent by the
//   resumed call, and only the forbidden answers are counted.
// The namespace is made and removed by this test; the file runs itself inside it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { ServerMetrics } from '../../src/ops/metrics.js';
import { readZoneDir } from '../../src/sync/zone-files.js';
import { createHandler } from '../../src/wire/handler.js';
import { loadNativeUdp } from '../../src/server/native-udp.js';
import { NativeUdpListener } from '../../src/server/udp-native.js';
import { parseMessage } from '../helpers/dns-message.js';
import { encodeQuery, exchangeUdp } from '../helpers/dns-query.js';
import { BUNDLED_ZONES_DIR, REPO_ROOT } from '../helpers/paths.js';
import { sleep } from '../helpers/wait.js';

const INSIDE = 'ANYCAST_DNS_TEST_IN_SEND_FAULT_NS';
const BURST = 400;

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

if (process.env[INSIDE] !== '1') {
  describe('native UDP send faults', () => {
    it('EAGAIN from a full send buffer and answers the route forbids: counted, none lost uncounted, the rest of each batch sent', () => {
      const ns = `adns-sendfault-${process.pid}`;
      run('ip', ['netns', 'add', ns]);
      try {
        run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
        const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--test', '--test-reporter=spec', fileURLToPath(import.meta.url)], {
          cwd: REPO_ROOT,
          // Without the runner's context variable the inner run reports as a run of its own would.
          env: { ...process.env, NODE_TEST_CONTEXT: undefined, [INSIDE]: '1' },
          encoding: 'utf8',
          timeout: 90_000,
        });
        assert.equal(r.status, 0, `inside the namespace:\n${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /pass 2/);
      } finally {
        run('ip', ['netns', 'del', ns]);
      }
    });
  });
} else {
  const log = createLogger({ pop: 'test-pop', component: 'server', level: 'silent' });
  const metrics = new ServerMetrics('test-pop');
  const handler = createHandler(readZoneDir(BUNDLED_ZONES_DIR).zones, { identity: 'test-pop', version: null, ednsUdpSize: 1232, onResponse: metrics.onResponse });

  async function sendErrors(): Promise<number> {
    const line = (await metrics.text()).split('\n').find((l) => l.startsWith('anycast_dns_dropped_packets_total{') && l.includes('reason="send_error"'));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  describe('inside a namespace of its own', () => {
    it('counts every answer the kernel refused, and answers afterwards', async (t) => {
      // 256 kbit/s: a burst of queries and answers waits in the queue, holding the senders' buffers.
      run('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '256kbit', 'burst', '1600', 'limit', '4000000']);
      t.after(() => run('tc', ['qdisc', 'del', 'dev', 'lo', 'root']));
      // 1 octet: the kernel raises it to its minimum, a few datagrams.
      const { addon, reason } = loadNativeUdp();
      assert.ok(addon !== null, `the native UDP path is built: ${reason}`);
      const udp = new NativeUdpListener({ host: '127.0.0.1', port: 0, family: 4 }, addon, handler, metrics, log, { reusePort: false, sendBufferBytes: 1 });
      await udp.listen();
      const client = createSocket('udp4');
      const answered = new Set<number>();
      client.on('message', (msg) => answered.add(msg.readUInt16BE(0)));
      try {
        await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
        for (let id = 1; id <= BURST; id++) client.send(encodeQuery({ name: `www.example.com`, type: 'A' }, id), udp.port, '127.0.0.1');
        // The queue drains at 256 kbit/s: the burst and its answers are through within seconds.
        let last = -1;
        for (let waited = 0; waited < 30_000 && answered.size !== last; waited += 2000) {
          last = answered.size;
          await sleep(2000);
        }
        const after = parseMessage(await exchangeUdp('127.0.0.1', udp.port, encodeQuery({ name: 'www.example.com', type: 'A' }, 60_000), 10_000));
        assert.equal(after.id, 60_000, 'the socket answers after the burst');
        await udp.close();
        const dropped = await sendErrors();
        assert.ok(dropped > 0, `the kernel refused some answers and they were counted (${answered.size} received)`);
        assert.ok(answered.size > 0, 'some answers of the burst went out');
        assert.equal(answered.size + dropped, BURST, `every answer received (${answered.size}) or counted as dropped (${dropped})`);
      } finally {
        client.close();
        await udp.close();
      }
    });

    it('a batch with answers the route forbids: sendmmsg resumed past each one, only those counted', async (t) => {
      // Documentation addresses on the namespace's loopback; answers to FORBIDDEN are refused by a
      // `prohibit` rule consulted before the local table (EACCES for each such sendmmsg message).
      const SERVER = '192.0.2.1';
      const ALLOWED = '192.0.2.2';
      const FORBIDDEN = '192.0.2.3';
      for (const a of [SERVER, ALLOWED, FORBIDDEN]) run('ip', ['addr', 'add', `${a}/32`, 'dev', 'lo']);
      run('ip', ['rule', 'add', 'pref', '10', 'to', FORBIDDEN, 'ipproto', 'udp', 'prohibit']);
      run('ip', ['rule', 'add', 'pref', '20', 'lookup', 'local']);
      run('ip', ['rule', 'del', 'pref', '0']);
      t.after(() => {
        run('ip', ['rule', 'add', 'pref', '0', 'lookup', 'local']);
        run('ip', ['rule', 'del', 'pref', '20']);
        run('ip', ['rule', 'del', 'pref', '10']);
      });
      const { addon, reason } = loadNativeUdp();
      assert.ok(addon !== null, `the native UDP path is built: ${reason}`);
      const before = await sendErrors();
      const udp = new NativeUdpListener({ host: SERVER, port: 0, family: 4 }, addon, handler, metrics, log, { reusePort: false });
      await udp.listen();
      const allowed = createSocket('udp4');
      const forbidden = createSocket('udp4');
      const answered = new Set<number>();
      allowed.on('message', (msg) => answered.add(msg.readUInt16BE(0)));
      try {
        await new Promise<void>((resolve) => allowed.bind(0, ALLOWED, () => resolve()));
        await new Promise<void>((resolve) => forbidden.bind(0, FORBIDDEN, () => resolve()));
        // Sent in one turn of the event loop, interleaved: each batch the listener reads holds both.
        for (let id = 1; id <= BURST; id++) (id % 2 === 0 ? allowed : forbidden).send(encodeQuery({ name: 'www.example.com', type: 'A' }, id), udp.port, SERVER);
        for (let waited = 0; waited < 10_000 && answered.size < BURST / 2; waited += 100) await sleep(100);
        await sleep(200);
        await udp.close();
        assert.equal(answered.size, BURST / 2, 'every answer to the allowed client arrived, those after a refused one in its batch too');
        assert.ok([...answered].every((id) => id % 2 === 0), 'no answer reached the forbidden client');
        assert.equal((await sendErrors()) - before, BURST / 2, 'each refused answer counted once');
      } finally {
        allowed.close();
        forbidden.close();
        await udp.close();
      }
    });
  });
}
