// One rate limiter, one set of TCP caps and one cookie secret per POP, however many threads answer:
// real worker_threads over the memory createPopState makes, racing for the same bucket, the same
// address's connections, and checking each other's cookies; then threads answering on one port
// (reusePort), flooded from one /24 over many source ports. Every race and flood is bounded in count.
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.js';
import { serverConfigFrom, type ServerConfig } from '../../src/ops/config.js';
import { ConnectionTable, type TableLimits } from '../../src/server/connection-table.js';
import { createPopState } from '../../src/server/pop-state.js';
import { AddressBytes } from '../../src/wire/address.js';
import { CookieStatus, serverCookies } from '../../src/wire/cookies.js';
import type { WireMessage } from '../helpers/dns-message.js';
import { encodeQuery } from '../helpers/dns-query.js';
import { freePort } from '../helpers/peers.js';
import { floodOneName, sourcePorts } from '../helpers/rrl-flood.js';
import { lift, runInThread, serveInThread, startLine, type Job, type ServingThread } from '../helpers/pop-state-worker.js';
import { waitFor } from '../helpers/wait.js';

const THREADS = 4;

function config(doc: Record<string, unknown>): ServerConfig {
  return serverConfigFrom({ workers: THREADS, ...doc }, '/tmp');
}

/** Runs `jobs` in as many threads, started at once when each is ready; resolves with what each posted. */
async function race<T>(start: SharedArrayBuffer, jobs: Job[]): Promise<T[]> {
  const results = jobs.map((j) => runInThread<T>(j));
  await lift(start, jobs.length);
  return Promise.all(results);
}

describe('shared memory: one rate limiter per POP', () => {
  it('threads deciding at once for one bucket send exactly the configured rate between them, and slip every other excess response', async () => {
    // A rate that takes the threads a while to spend, so they overlap while it lasts.
    const cfg = config({ rrl: { responses_per_second: 20_000, window: 15, slip: 2, table_size: 1024 } });
    const memory = createPopState(cfg).rrl!;
    const start = startLine();
    const decisions = 20_000;
    const counts = await race<number[]>(
      start,
      Array.from({ length: THREADS }, () => ({ job: 'rrl' as const, cfg: cfg.rrl, memory, start, decisions })),
    );
    const [sent, slipped] = [0, 1].map((v) => counts.reduce((n, c) => n + c[v]!, 0));
    // Each entry is updated under its lock, so the threads count as one would, to the response.
    const rate = cfg.rrl.responsesPerSecond;
    assert.equal(sent, rate, `sent by ${THREADS} threads in one second at ${rate}/s (per thread: ${counts.map((c) => c[0]).join(', ')})`);
    assert.equal(slipped, (THREADS * decisions - rate) / 2, 'every other limited response slipped');
  });

  it('is off, with no table, when responses_per_second is 0', () => {
    assert.equal(createPopState(config({ rrl: { responses_per_second: 0 } })).rrl, null);
  });
});

describe('shared memory: TCP caps per POP', () => {
  const cfg = config({ tcp: { max_connections: 100, max_connections_per_address: 10, max_connections_per_prefix: 15 } });
  const limits: TableLimits = {
    capacity: cfg.tcp.maxConnections,
    perAddress: cfg.tcp.maxConnectionsPerAddress,
    perPrefix: cfg.tcp.maxConnectionsPerPrefix,
    idleTimeoutMs: 10_000,
    ioTimeoutMs: 2000,
    graceMs: 250,
  };

  /** Each thread first fills 13 places from sources of its own (52 in all: the POP's table is under pressure, no thread's alone is), then races the others through `attempts`. */
  async function admittedAcrossThreads(attempts: (thread: number) => string[]): Promise<number> {
    const memory = createPopState(cfg).tcp;
    const start = startLine();
    const admitted = await race<number>(
      start,
      Array.from({ length: THREADS }, (_, thread) => ({
        job: 'tcp' as const,
        limits,
        memory,
        thread,
        start,
        fill: Array.from({ length: 13 }, (_, i) => `10.${thread}.${i}.1`),
        attempts: attempts(thread),
      })),
    );
    return admitted.reduce((a, b) => a + b, 0);
  }

  it('holds one address to max_connections_per_address across threads', async () => {
    const n = await admittedAcrossThreads(() => Array.from({ length: 20 }, () => '192.0.2.1'));
    // Two threads racing for the last place may both give it up: never both take it.
    assert.ok(n <= limits.perAddress && n >= limits.perAddress - THREADS + 1, `${n} connections admitted from one address (cap ${limits.perAddress})`);
  });

  it('holds one prefix to max_connections_per_prefix across threads', async () => {
    const n = await admittedAcrossThreads((thread) => Array.from({ length: 10 }, (_, i) => `198.51.100.${thread * 10 + i + 1}`));
    assert.ok(n <= limits.perPrefix && n >= limits.perPrefix - THREADS + 1, `${n} connections admitted from one /24 (cap ${limits.perPrefix})`);
  });

  it('counts every thread in the total and per source; a thread replacing another starts from none of its connections', () => {
    const memory = createPopState(cfg).tcp;
    const mine = new ConnectionTable<string>(limits, { memory, thread: 0 });
    const other = new ConnectionTable<string>(limits, { memory, thread: 1 });
    for (let i = 0; i < 3; i++) {
      assert.equal(mine.admission('192.0.2.1', '192.0.2.0/24', 0).admit, true);
      mine.add(`c${i}`, '192.0.2.1', '192.0.2.0/24', 0);
    }
    assert.equal(other.admission('192.0.2.2', '192.0.2.0/24', 0).admit, true);
    other.add('d', '192.0.2.2', '192.0.2.0/24', 0);
    assert.deepEqual([other.fromAddress('192.0.2.1'), other.fromPrefix('192.0.2.0/24'), other.size], [3, 4, 1]);
    new ConnectionTable<string>(limits, { memory, thread: 0 });
    assert.deepEqual([other.fromAddress('192.0.2.1'), other.fromPrefix('192.0.2.0/24')], [0, 1], "the replaced thread's connections closed with it");
  });

  it('refuses a thread index the memory has no slice for', () => {
    const memory = createPopState(cfg).tcp;
    assert.throws(() => new ConnectionTable<string>(limits, { memory, thread: THREADS }), /has no slice 4 for 100 connections/);
  });
});

describe('shared memory: one cookie secret per process', () => {
  const NOW = 1_800_000_000;
  const client = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

  /** The server cookie one thread makes for `client` from 192.0.2.1 under `secret`, checked by another thread under `checkedUnder`. */
  async function mintedThenChecked(secret: Uint8Array, checkedUnder: Uint8Array): Promise<CookieStatus> {
    const server = await runInThread<Uint8Array>({ job: 'mint', secret, client, ip: '192.0.2.1', now: NOW });
    const option = new Uint8Array([...client, ...server]);
    return runInThread<CookieStatus>({ job: 'check', secret: checkedUnder, option, ip: '192.0.2.1', now: NOW + 60 });
  }

  it('accepts in one thread the cookie another made, with no cookies.secret configured', async () => {
    const { cookieSecret } = createPopState(config({}));
    assert.equal(await mintedThenChecked(cookieSecret, cookieSecret), CookieStatus.Valid);
  });

  it('draws a new secret per process: a cookie of another process is not accepted', async () => {
    const ours = createPopState(config({})).cookieSecret;
    const theirs = createPopState(config({})).cookieSecret;
    assert.equal(await mintedThenChecked(ours, theirs), CookieStatus.Invalid);
  });

  it('answers with the process secret when none is configured, and with the configured one when it is', () => {
    const log = createLogger({ pop: 'test-pop', component: 'server', level: 'silent' });
    const { cookieSecret } = createPopState(config({}));
    const ip = new AddressBytes();
    ip.parse('192.0.2.1');
    const out = new Uint8Array(16);
    serverCookies({ secret: null, secretPrevious: null }, cookieSecret, log).issue(client, 0, ip, NOW, out, 0);
    const option = new Uint8Array([...client, ...out]);
    assert.equal(serverCookies({ secret: null, secretPrevious: null }, cookieSecret, log).check(option, 0, 24, ip, NOW), CookieStatus.Valid);
    const configured = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    assert.equal(serverCookies({ secret: configured, secretPrevious: null }, cookieSecret, log).check(option, 0, 24, ip, NOW), CookieStatus.Invalid);
  });
});

describe('shared memory: threads answering on one port', () => {
  const RATE = 20;
  const SOURCE_PORTS = 32;
  let port = 0;
  let threads: ServingThread[] = [];

  before(async () => {
    port = await freePort(false);
    const doc = { workers: 2, listen: [`127.0.0.1:${port}`], rrl: { responses_per_second: RATE, window: 15, slip: 2 } };
    const pop = createPopState(serverConfigFrom(doc, '/tmp'));
    threads = await Promise.all([0, 1].map((thread) => serveInThread({ job: 'serve', config: doc, identity: `thread-${thread}`, share: { pop, thread } })));
  });

  after(async () => {
    await Promise.all(threads.map((t) => t.stop()));
  });

  function nsidOf(r: WireMessage): string | undefined {
    return r.opt?.options.find((o) => o.code === 3)?.data.toString();
  }

  function cookieOf(r: WireMessage): Buffer | undefined {
    return r.opt?.options.find((o) => o.code === 10)?.data;
  }

  /** Sends from each socket in `from` the query `make` gives for its index, again (up to 5 times, a second apart) from those whose reply has not come; resolves with the replies. */
  async function askEach(from: Socket[], replies: WireMessage[], make: (i: number) => Buffer): Promise<WireMessage[]> {
    const answered = (i: number): boolean => replies.some((r) => r.id === make(i).readUInt16BE(0));
    for (let round = 0; round < 5 && !from.every((_, i) => answered(i)); round++) {
      from.forEach((s, i) => answered(i) || s.send(make(i), port, '127.0.0.1'));
      await waitFor(() => from.every((_, i) => answered(i)), { timeoutMs: 1000, what: 'replies' }).catch(() => undefined);
    }
    assert.ok(from.every((_, i) => answered(i)), `replies to ${from.filter((_, i) => answered(i)).length} of ${from.length} sockets`);
    return from.map((_, i) => replies.find((r) => r.id === make(i).readUInt16BE(0))!);
  }

  it('both threads answer: the kernel spreads source ports over their sockets', async () => {
    const replies: WireMessage[] = [];
    const from = await sourcePorts('127.5.0.1', SOURCE_PORTS, replies);
    try {
      const got = await askEach(from, replies, (i) => encodeQuery({ name: 'www.example.com', type: 'A', nsid: true }, i));
      assert.deepEqual([...new Set(got.map(nsidOf))].sort(), ['thread-0', 'thread-1']);
    } finally {
      for (const s of from) s.close();
    }
  });

  it('a flood of one name from one /24 over many source ports gets the configured rate from the two threads together', async () => {
    const { replies, full } = await floodOneName(port, { address: '127.6.0.1', ports: SOURCE_PORTS }, { name: 'www.example.com', type: 'A' }, 2);
    assert.ok(Math.abs(full - RATE) <= RATE * 0.1, `${full} full answers to 200 queries at ${RATE}/s (one limiter per thread would give up to ${2 * RATE})`);
    assert.ok(replies.length > full, 'the excess slipped, truncated');
  });

  it('a cookie one thread made is accepted by the other', async () => {
    const replies: WireMessage[] = [];
    const from = await sourcePorts('127.7.0.1', SOURCE_PORTS, replies);
    try {
      const client = Buffer.from('0102030405060708', 'hex');
      const [first] = await askEach(from.slice(0, 1), replies, () => encodeQuery({ name: 'www.example.com', type: 'A', nsid: true, cookie: client }, 1));
      assert.ok(first !== undefined);
      const cookie = cookieOf(first)!;
      assert.equal(cookie.length, 24);
      // The same client cookie and server cookie from every source port: the other thread answers some.
      const got = await askEach(from, replies, (i) => encodeQuery({ name: 'www.example.com', type: 'A', nsid: true, cookie }, 100 + i));
      const other = got.filter((r) => nsidOf(r) !== nsidOf(first));
      assert.ok(other.length > 0, 'the other thread answered');
      // A valid cookie under half an hour old comes back as it was sent (RFC 9018 §4.3); one the other
      // thread could not check would be replaced by a new one.
      for (const r of other) assert.deepEqual(cookieOf(r), cookie, `${nsidOf(r)} should accept the cookie ${nsidOf(first)} made`);
    } finally {
      for (const s of from) s.close();
    }
  });
});
