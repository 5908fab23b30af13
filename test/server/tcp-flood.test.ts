// TCP that a flood can't lock, against a running `anycast-dns serve`: 4,000 connections from 200
// loopback /24s each holding a partial frame, while a legitimate client is answered 5 of 5 times
// within 1 s each; a client trickling a message is closed after tcp.io_timeout; with half the table
// in use, the per-address and per-prefix caps refuse the connection past them, closing it in order
// (FIN) even when its query has arrived; new connections per prefix are limited per second when
// configured; the operator gets one summary log line per interval, not one per connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dnsQuery, encodeQuery } from '../helpers/dns-query.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { startSlowFlood } from '../helpers/slow-tcp-flood.js';
import { logRecords, managementUrl, seriesValues } from '../helpers/management.js';
import { frame, RawTcpClient } from '../helpers/tcp-client.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';

const ZONES = [{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }];
const FLOOD_CONNECTIONS = 4000;
const FLOOD_PREFIXES = 200;
const DEFAULT_MAX_CONNECTIONS = 1000;
const LEGIT_QUERIES = 5;
const ANSWER_WITHIN_MS = 1000;

const IO_TIMEOUT_MS = 1000;
const PER_ADDRESS = 5;
const PER_PREFIX = 12;
const MAX_CONNECTIONS = 40;
/** Silent connections, one per /24, that keep half the table in use: the per-source caps hold from there. */
const BALLAST = MAX_CONNECTIONS / 2;
const PER_SECOND = 10;
/** Connections sent past the per-address cap, each with its query. */
const REFUSED = 10;
/** Long enough for a refused connection's close to reach the client. */
const SETTLE_MS = 300;

interface Running {
  server: RunningPeer;
  management: string;
}

async function start(identity: string, tcp: Record<string, number>): Promise<Running> {
  const server = await startAnycastDns(ZONES, { identity, extraConfig: { management: { listen: '127.0.0.1:0' }, ...(Object.keys(tcp).length > 0 ? { tcp } : {}) } });
  try {
    return { server, management: managementUrl(server) };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** A value of anycast_dns_tcp_connections_total{event} or anycast_dns_tcp_connections_open (no label). */
async function tcpMetric(r: Running, event: string | null): Promise<number> {
  const text = await (await fetch(`${r.management}/metrics`)).text();
  const values = event === null ? seriesValues(text, 'anycast_dns_tcp_connections_open') : seriesValues(text, 'anycast_dns_tcp_connections_total', `event="${event}"`);
  return values[0] ?? 0;
}

async function waitForLogLine(server: RunningPeer, msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
  return waitFor(() => logRecords(server).find((r) => r.msg === msg), { timeoutMs, intervalMs: 250, what: `"${msg}" log line` });
}

async function connectFrom(r: Running, source: string, into: RawTcpClient[]): Promise<RawTcpClient> {
  const c = await RawTcpClient.connect(r.server.port, '127.0.0.1', source);
  into.push(c);
  return c;
}

describe('TCP under a slow flood (default tcp settings)', () => {
  let r: Running;
  before(async () => {
    r = await start('pop-flood', {});
  });
  after(async () => {
    await r?.server.stop();
  });

  it(`answers a legitimate client ${LEGIT_QUERIES} of ${LEGIT_QUERIES} times within ${ANSWER_WITHIN_MS} ms while ${FLOOD_CONNECTIONS} connections from ${FLOOD_PREFIXES} /24s hold partial frames`, async (t) => {
    const flood = await startSlowFlood({ port: r.server.port, connections: FLOOD_CONNECTIONS, prefixes: FLOOD_PREFIXES, maxSeconds: 60 });
    try {
      // The flood fills the table before the legitimate client arrives.
      // (The gauge may count a connection being closed for a newcomer a moment longer.)
      await waitFor(async () => (await tcpMetric(r, null)) >= DEFAULT_MAX_CONNECTIONS, { timeoutMs: 10_000, intervalMs: 100, what: 'the flood to fill the connection table' });
      const outcomes: string[] = [];
      let answered = 0;
      for (let i = 0; i < LEGIT_QUERIES; i++) {
        try {
          const reply = await dnsQuery({ port: r.server.port }, { name: 'www.example.com', type: 'A', tcp: true, timeoutMs: ANSWER_WITHIN_MS });
          assert.equal(reply.message.answer.length, 1);
          answered++;
          outcomes.push(`${reply.elapsedMs.toFixed(1)} ms`);
        } catch (err) {
          outcomes.push((err as Error).message);
        }
        await sleep(200);
      }
      const s = flood.stats();
      t.diagnostic(`legitimate client: ${outcomes.join(', ')}; flood: ${s.open} open, ${s.attempted} attempted, ${s.closed} closed by the server`);
      assert.equal(answered, LEGIT_QUERIES, outcomes.join('; '));
      assert.ok(s.open >= DEFAULT_MAX_CONNECTIONS * 0.9, `the flood still holds the table (${s.open} open)`);
      const evictedSlow = await tcpMetric(r, 'evicted_slow');
      const ioTimeouts = await tcpMetric(r, 'io_timeout');
      t.diagnostic(
        `server: evicted_slow ${evictedSlow}, evicted_idle ${await tcpMetric(r, 'evicted_idle')}, evicted_prefix ${await tcpMetric(r, 'evicted_prefix')}, ` +
          `io_timeout ${ioTimeouts}, refused_full ${await tcpMetric(r, 'refused_full')}, refused_rate ${await tcpMetric(r, 'refused_rate')}`,
      );
      assert.ok(evictedSlow + ioTimeouts > 0, 'stalled connections were closed');
      // What the operator reads: one summary line per 10 s, naming the busiest prefix.
      const summary = await waitForLogLine(r.server, 'tcp connections refused, closed for room or out of I/O time', 15_000);
      t.diagnostic(JSON.stringify(summary));
      assert.ok(Number(summary['evicted_slow'] ?? 0) > 0);
      assert.match(String(summary['busiest_prefix']), /^127\.10\.\d+\.0\/24$/);
    } finally {
      await flood.stop();
    }
  });
});

describe('TCP per-source limits with half the table in use, and the I/O timeout', () => {
  let r: Running;
  const clients: RawTcpClient[] = [];
  before(async () => {
    r = await start('pop-limits', {
      idle_timeout: 120_000,
      io_timeout: IO_TIMEOUT_MS,
      max_connections: MAX_CONNECTIONS,
      max_connections_per_address: PER_ADDRESS,
      max_connections_per_prefix: PER_PREFIX,
      new_connections_per_second_per_prefix: PER_SECOND,
    });
    const ballast = await Promise.all(Array.from({ length: BALLAST }, (_, i) => connectFrom(r, `127.35.${i}.1`, clients)));
    await sleep(SETTLE_MS);
    assert.equal(ballast.filter((c) => c.isClosed).length, 0);
    assert.equal(await tcpMetric(r, null), BALLAST, 'half the table in use');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await r?.server.stop();
  });

  it(`closes a client that trickles a message a byte at a time after the I/O timeout (${IO_TIMEOUT_MS} ms), unanswered`, async () => {
    const before = await tcpMetric(r, 'io_timeout');
    const c = await connectFrom(r, '127.30.0.1', clients);
    const start = Date.now();
    const trickle = setInterval(() => void c.write(Buffer.from([0])).catch(() => {}), 100);
    try {
      await c.write(Buffer.from([0, 40]));
      await withTimeout(c.closed, IO_TIMEOUT_MS * 4, 'the I/O timeout');
    } finally {
      clearInterval(trickle);
    }
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= IO_TIMEOUT_MS - 100, `closed after ${elapsed} ms`);
    assert.equal(c.replies.length, 0);
    assert.equal((await tcpMetric(r, 'io_timeout')) - before, 1);
  });

  it(`refuses connection ${PER_ADDRESS + 1} from one address, and not the next address`, async () => {
    const before = await tcpMetric(r, 'refused_per_address');
    const held: RawTcpClient[] = [];
    for (let i = 0; i < PER_ADDRESS; i++) held.push(await connectFrom(r, '127.31.0.1', clients));
    const extra = await connectFrom(r, '127.31.0.1', clients);
    const neighbour = await connectFrom(r, '127.31.0.2', clients);
    await withTimeout(extra.closed, 2000, 'the extra connection to be refused');
    await sleep(SETTLE_MS);
    assert.ok(held.every((c) => !c.isClosed), 'the first ones stay open');
    assert.equal(neighbour.isClosed, false);
    assert.equal((await tcpMetric(r, 'refused_per_address')) - before, 1);
    for (const c of [...held, extra, neighbour]) c.destroy();
  });

  it('closes a connection past a cap in order (FIN), its query unanswered, never with a reset', async () => {
    const before = await tcpMetric(r, 'refused_per_address');
    const held: RawTcpClient[] = [];
    for (let i = 0; i < PER_ADDRESS; i++) held.push(await connectFrom(r, '127.34.0.1', clients));
    await sleep(1100); // a new second for the rate limit
    const query = frame(encodeQuery({ name: 'www.example.com', type: 'A' }, 1));
    const refused = await Promise.all(Array.from({ length: REFUSED }, () => RawTcpClient.connect(r.server.port, '127.0.0.1', '127.34.0.1', query)));
    clients.push(...refused);
    await withTimeout(Promise.all(refused.map((c) => c.closed)), 2000, 'the refused connections to close');
    assert.deepEqual(
      refused.map((c) => [c.endedByServer, c.replies.length]),
      refused.map(() => [true, 0]),
    );
    assert.equal((await tcpMetric(r, 'refused_per_address')) - before, REFUSED);
    for (const c of [...held, ...refused]) c.destroy();
  });

  it(`refuses connection ${PER_PREFIX + 1} from one /24, and not from the next /24`, async () => {
    const before = await tcpMetric(r, 'refused_per_prefix');
    const held: RawTcpClient[] = [];
    for (let i = 1; i <= PER_SECOND; i++) held.push(await connectFrom(r, `127.32.0.${i}`, clients));
    await sleep(1100); // a new second for the rate limit
    for (let i = PER_SECOND + 1; i <= PER_PREFIX; i++) held.push(await connectFrom(r, `127.32.0.${i}`, clients));
    const extra = await connectFrom(r, '127.32.0.200', clients);
    const neighbour = await connectFrom(r, '127.32.1.1', clients);
    await withTimeout(extra.closed, 2000, 'the extra connection to be refused');
    await sleep(SETTLE_MS);
    assert.equal(held.filter((c) => c.isClosed).length, 0, 'the first ones stay open');
    assert.equal(neighbour.isClosed, false);
    assert.equal((await tcpMetric(r, 'refused_per_prefix')) - before, 1);
    for (const c of [...held, extra, neighbour]) c.destroy();
  });

  it(`admits ${PER_SECOND} new connections a second from one /24, and the next second ${PER_SECOND} more`, async () => {
    const before = await tcpMetric(r, 'refused_rate');
    const burst = await Promise.all(Array.from({ length: 25 }, (_, i) => connectFrom(r, `127.33.0.${i + 1}`, clients)));
    const neighbour = await connectFrom(r, '127.33.1.1', clients);
    await sleep(SETTLE_MS);
    const admitted = burst.filter((c) => !c.isClosed);
    assert.equal(admitted.length, PER_SECOND);
    assert.equal(neighbour.isClosed, false, 'another /24 has its own budget');
    assert.equal((await tcpMetric(r, 'refused_rate')) - before, 25 - PER_SECOND);
    for (const c of admitted) c.destroy();
    await sleep(1100 - SETTLE_MS);
    const next = await connectFrom(r, '127.33.0.100', clients);
    await sleep(SETTLE_MS);
    assert.equal(next.isClosed, false, 'a new second, a new budget');
  });
});

describe('TCP prefix lengths from the config', () => {
  let r: Running;
  const clients: RawTcpClient[] = [];
  before(async () => {
    r = await start('pop-prefix16', { new_connections_per_second_per_prefix: PER_SECOND, ipv4_prefix_length: 16 });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await r?.server.stop();
  });

  it(`with ipv4_prefix_length: 16, two /24s of one /16 share one budget of ${PER_SECOND} a second, and another /16 has its own`, async () => {
    const before = await tcpMetric(r, 'refused_rate');
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => connectFrom(r, `127.36.${i % 2}.${i + 1}`, clients)));
    const other = await connectFrom(r, '127.37.0.1', clients);
    await sleep(SETTLE_MS);
    assert.equal(burst.filter((c) => !c.isClosed).length, PER_SECOND);
    assert.equal(other.isClosed, false);
    assert.equal((await tcpMetric(r, 'refused_rate')) - before, 20 - PER_SECOND);
  });
});
