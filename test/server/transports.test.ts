// The UDP and TCP transports in-process, with the real handler on the bundled zones: RFC 7766
// framing, pipelining, split frames, half-close, I/O and idle timeouts, garbage frames, backpressure, and
// the connection cap closing the oldest idle connection first.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { ServerMetrics } from '../../src/ops/metrics.js';
import { newTcpConnections, TcpListener } from '../../src/server/tcp.js';
import { createHandler } from '../../src/wire/handler.js';
import { readZoneDir } from '../../src/sync/zone-files.js';
import { parseMessage } from '../helpers/dns-message.js';
import { encodeQuery, exchangeUdp } from '../helpers/dns-query.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { freePort } from '../helpers/peers.js';
import { seriesValues } from '../helpers/management.js';
import { frame, RawTcpClient } from '../helpers/tcp-client.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';
import { openUdpListener, UDP_PATHS } from '../helpers/udp-paths.js';

const IDLE_TIMEOUT_MS = 400;
/** Longer than the backpressure test's pause, in which the server is blocked on its answers. */
const IO_TIMEOUT_MS = 800;
const CAP = 20;

const log = createLogger({ pop: 'test-pop', component: 'server', level: 'silent' });
const metrics = new ServerMetrics('test-pop');
const handler = createHandler(readZoneDir(BUNDLED_ZONES_DIR).zones, {
  identity: 'test-pop',
  version: null,
  ednsUdpSize: 1232,
  onResponse: metrics.onResponse,
});

let port = 0;
let tcp: TcpListener;
const clients: RawTcpClient[] = [];

async function client(): Promise<RawTcpClient> {
  const c = await RawTcpClient.connect(port);
  clients.push(c);
  return c;
}

const query = (id: number, name = 'www.example.com', type = 'A'): Buffer => encodeQuery({ name, type }, id);

async function metricValue(name: string, labels: string): Promise<number> {
  return seriesValues(await metrics.text(), name, labels)[0] ?? 0;
}

before(async () => {
  port = await freePort(true);
  const connections = await newTcpConnections(
    {
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      ioTimeoutMs: IO_TIMEOUT_MS,
      maxConnections: CAP,
      // Every client here is 127.0.0.1: per-source limits are tested in tcp-flood.test.ts.
      maxConnectionsPerAddress: 0,
      maxConnectionsPerPrefix: 0,
      newConnectionsPerSecondPerPrefix: 0,
      ipv4PrefixLength: 24,
      ipv6PrefixLength: 56,
    },
    log,
  );
  tcp = new TcpListener({ host: '127.0.0.1', port, family: 4 }, handler, metrics, log, connections);
  await tcp.listen({ reusePort: false });
});

after(async () => {
  for (const c of clients) c.destroy();
  await tcp.close();
});

for (const path of UDP_PATHS) describe(`UDP transport (${path})`, () => {
  let port = 0;
  const udp: { close(): Promise<void> }[] = [];
  before(async () => {
    port = await freePort(true);
    udp.push(await openUdpListener(path, { host: '127.0.0.1', port, family: 4 }, handler, metrics, log));
    udp.push(await openUdpListener(path, { host: '::1', port, family: 6 }, handler, metrics, log));
  });
  after(() => Promise.all(udp.map((u) => u.close())));

  it('answers over IPv4 and IPv6, with the question as asked', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const m = parseMessage(await exchangeUdp(host, port, query(7, 'WwW.Example.COM'), 2000));
      assert.equal(m.id, 7);
      assert.equal(m.rcode, 0);
      assert.equal(m.question[0]!.name, 'WwW.Example.COM.');
      assert.equal(m.answer.length, 1);
    }
  });

  it('drops an unreadable datagram and keeps answering', async () => {
    await assert.rejects(exchangeUdp('127.0.0.1', port, Buffer.from([1, 2, 3, 4, 5]), 300), /no UDP reply/);
    const before = await metricValue('anycast_dns_dropped_packets_total', 'reason="unanswerable"');
    assert.ok(before >= 1);
    assert.equal(parseMessage(await exchangeUdp('127.0.0.1', port, query(8), 2000)).rcode, 0);
  });
});

describe('TCP transport', () => {
  it('answers many queries sent in one write (pipelining)', async () => {
    const c = await client();
    const ids = Array.from({ length: 50 }, (_, i) => 1000 + i);
    await c.write(Buffer.concat(ids.map((id) => frame(query(id)))));
    const replies = await c.waitReplies(ids.length);
    assert.deepEqual(replies.map((r) => parseMessage(r).id).sort((a, b) => a - b), ids);
    assert.ok(replies.every((r) => parseMessage(r).rcode === 0));
  });

  it('reassembles frames split across reads, one byte at a time and across frame boundaries', async () => {
    const c = await client();
    const bytes = Buffer.concat([frame(query(1)), frame(query(2, 'mail.example.com', 'AAAA')), frame(query(3))]);
    for (let i = 0; i < bytes.length; i++) {
      await c.write(bytes.subarray(i, i + 1));
      if (i % 7 === 0) await sleep(1);
    }
    const replies = await c.waitReplies(3);
    assert.deepEqual(replies.map((r) => parseMessage(r).id), [1, 2, 3]);
  });

  it('answers queries sent before the client half-closes, then closes', async () => {
    const c = await client();
    await c.write(Buffer.concat([frame(query(11)), frame(query(12))]));
    c.socket.end();
    await withTimeout(c.closed, 3000, 'the server to close');
    assert.deepEqual(c.replies.map((r) => parseMessage(r).id), [11, 12]);
  });

  it('closes a connection that sends a length and then nothing, after the I/O timeout', async () => {
    const c = await client();
    const start = Date.now();
    await c.write(Buffer.from([0, 40]));
    await withTimeout(c.closed, IO_TIMEOUT_MS * 5, 'the I/O timeout');
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= IO_TIMEOUT_MS - 50, `closed after ${elapsed} ms`);
    assert.equal(c.replies.length, 0);
  });

  it('closes a connection that is answered and then says nothing, after the idle timeout', async () => {
    const c = await client();
    await c.write(frame(query(21)));
    await c.waitReplies(1);
    const start = Date.now();
    await withTimeout(c.closed, IDLE_TIMEOUT_MS * 10, 'the idle timeout');
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= IDLE_TIMEOUT_MS - 50, `closed after ${elapsed} ms`);
  });

  it('closes only the connection that sends a frame shorter than a header', async () => {
    const good = await client();
    const bad = await client();
    await bad.write(Buffer.from([0, 4, 1, 2, 3, 4]));
    await withTimeout(bad.closed, 2000, 'the bad connection to close');
    await good.write(frame(query(21)));
    assert.equal(parseMessage((await good.waitReplies(1))[0]!).id, 21);
  });

  it('closes a connection that sends a response (QR=1) instead of a query', async () => {
    const c = await client();
    const msg = query(31);
    msg[2]! |= 0x80;
    await c.write(frame(msg));
    await withTimeout(c.closed, 2000, 'the connection to close');
    assert.equal(c.replies.length, 0);
  });

  it('stops reading while the client does not read, and loses nothing when it resumes', async () => {
    const c = await client();
    c.socket.pause();
    const count = 20000;
    const q = frame(query(0, 'example.com', 'MX'));
    const burst = Buffer.alloc(q.length * count);
    for (let i = 0; i < count; i++) {
      q.copy(burst, i * q.length);
      burst.writeUInt16BE(i, i * q.length + 2);
    }
    c.socket.write(burst);
    await sleep(200);
    c.socket.resume();
    const replies = await c.waitReplies(count, 20000);
    const ids = new Set(replies.map((r) => r.readUInt16BE(0)));
    assert.equal(ids.size, count);
  });

  it('at the cap, closes the oldest idle connection for each new one', async () => {
    for (const c of clients) c.destroy();
    await sleep(100);
    const evictedBefore = await metricValue('anycast_dns_tcp_connections_total', 'event="evicted_idle"');
    const conns: RawTcpClient[] = [];
    for (let i = 0; i < CAP * 3; i++) {
      const c = await client();
      await c.write(frame(query(i))); // each does some work, then sits idle
      await c.waitReplies(1);
      conns.push(c);
    }
    await waitFor(() => conns.filter((c) => !c.isClosed).length === CAP, { timeoutMs: 5000, what: `only the cap (${CAP}) of connections left open` });
    const open = conns.map((c) => !c.isClosed);
    assert.deepEqual(open, conns.map((_, i) => i >= CAP * 2), 'the newest CAP connections stay open');
    assert.equal((await metricValue('anycast_dns_tcp_connections_total', 'event="evicted_idle"')) - evictedBefore, CAP * 2);
    assert.equal(tcp.connections, CAP);
  });

  it('turns a newcomer away when every connection has a query in flight', async () => {
    for (const c of clients) c.destroy();
    await sleep(100);
    const busy: RawTcpClient[] = [];
    for (let i = 0; i < CAP; i++) {
      const c = await client();
      await c.write(Buffer.from([0, 40, 0])); // a partial frame: not idle
      busy.push(c);
    }
    await sleep(50);
    const rejectedBefore = await metricValue('anycast_dns_tcp_connections_total', 'event="refused_full"');
    const late = await client();
    await withTimeout(late.closed, 2000, 'the newcomer to be closed');
    assert.ok(busy.every((c) => !c.isClosed));
    assert.equal((await metricValue('anycast_dns_tcp_connections_total', 'event="refused_full"')) - rejectedBefore, 1);
  });
});
