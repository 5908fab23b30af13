// `workers: N`: N query threads in one process, each with its own SO_REUSEPORT UDP socket; the kernel
// spreads datagrams over them by source address and port, fixed per source port while the set of
// sockets holds still. A thread is made to crash or hang through the test-only fault hook
// (ANYCAST_DNS_TEST_FAULTS, src/server/test-faults.ts).
//
// Which thread a client reaches can't be asked, so "every thread" is shown by numbers: 64 clients on
// new source ports over 4 sockets leave one socket without a client with probability 4 * (3/4)^64,
// about 4e-8.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMessage } from '../helpers/dns-message.js';
import { encodeQuery } from '../helpers/dns-query.js';
import { startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { putFile, zoneText } from '../helpers/zone-text.js';
import { logRecords, managementUrl, seriesSum, seriesValues } from '../helpers/management.js';
import { floodOneName, sourcePorts } from '../helpers/rrl-flood.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** PIDs of the processes holding a UDP socket bound to 127.0.0.1:`port`, one entry per socket. */
function udpHolders(port: number): number[] {
  const out = execFileSync('ss', ['-H', '-u', '-l', '-n', '-p', `sport = :${port}`], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(`127.0.0.1:${port} `))
    .flatMap((l) => [...l.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
}

/** A client on one source port, kept for the whole test: the kernel sends its queries to one thread. */
class Client {
  private readonly socket: Socket = createSocket('udp4');
  private readonly waiting = new Map<number, (reply: Buffer) => void>();
  private nextId = Math.floor(Math.random() * 0x10000);

  private constructor(private readonly port: number) {
    this.socket.on('message', (msg) => {
      const id = msg.readUInt16BE(0);
      this.waiting.get(id)?.(msg);
      this.waiting.delete(id);
    });
  }

  static async open(port: number): Promise<Client> {
    const c = new Client(port);
    await new Promise<void>((r) => c.socket.bind({ address: '127.0.0.1', port: 0 }, () => r()));
    return c;
  }

  /** The TXT string of `name`, or null when no answer came within `timeoutMs`. */
  async txt(name: string, timeoutMs = 1000): Promise<string | null> {
    this.nextId = (this.nextId + 1) & 0xffff;
    const id = this.nextId;
    const reply = await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, timeoutMs);
      this.waiting.set(id, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.socket.send(encodeQuery({ name, type: 'TXT' }, id), this.port, '127.0.0.1');
    });
    if (reply === null) return null;
    const m = parseMessage(reply);
    assert.equal(m.rcode, 0, `${name} TXT: rcode ${m.rcode}`);
    return m.answer[0]!.rdata.subarray(1).toString('latin1');
  }

  close(): void {
    this.socket.close();
  }
}

/** `n` clients, each on a new source port. */
function clients(port: number, n: number): Promise<Client[]> {
  return Promise.all(Array.from({ length: n }, () => Client.open(port)));
}

async function readyStatus(server: RunningPeer): Promise<number> {
  return (await fetch(`${managementUrl(server)}/ready`)).status;
}

/** Asks every client in rounds until `until` resolves; each round's answers, in order. */
async function askInRounds(cs: Client[], until: Promise<unknown>, timeoutMs = 400): Promise<(string | null)[][]> {
  let done = false;
  void until.finally(() => (done = true));
  const rounds: (string | null)[][] = [];
  while (!done) {
    rounds.push(await Promise.all(cs.map((c) => c.txt('ver.w.test.', timeoutMs))));
    await sleep(20);
  }
  return rounds;
}

/** Milliseconds from the query thread's `test fault` line to the replacement's `listening` line, from the server's log. */
function replacedWithinMs(server: RunningPeer, fault: string): number {
  const records = logRecords(server);
  const at = records.findIndex((r) => r['msg'] === 'test fault' && r['fault'] === fault);
  assert.ok(at >= 0, `a thread logged the ${fault} fault`);
  const thread = records[at]!['thread'];
  const listening = records.slice(at).find((r) => r['msg'] === 'listening' && r['thread'] === thread);
  assert.ok(listening, `thread ${String(thread)} listens again after the ${fault}`);
  return Date.parse(String(listening['time'])) - Date.parse(String(records[at]!['time']));
}

/** Makes one query thread suffer `fault`; resolves once a thread took it. */
async function inflict(faults: string, fault: 'crash' | 'hang'): Promise<void> {
  writeFileSync(join(faults, fault), '');
  await waitFor(() => !existsSync(join(faults, fault)), { timeoutMs: 5000, what: `a query thread to take the ${fault} fault` });
}

describe('workers: 2 as query threads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-workers-'));
  const faults = join(dir, 'faults');
  let server: RunningPeer;
  let txtQueries = 0;

  before(async () => {
    mkdirSync(faults);
    putFile(dir, 'w.test.zone', zoneText('w.test', 1));
    process.env['ANYCAST_DNS_TEST_FAULTS'] = faults;
    try {
      server = await startAnycastDns([{ origin: 'w.test.', file: join(dir, 'w.test.zone') }], {
        zonesDir: dir,
        ipv6: false,
        workers: 2,
        extraConfig: { management: { listen: '127.0.0.1:0' }, zone_sync: { settle_time: 0.2 } },
      });
    } finally {
      delete process.env['ANYCAST_DNS_TEST_FAULTS'];
    }
    await waitFor(async () => (await readyStatus(server)) === 200, { timeoutMs: 10_000, what: 'both threads to be ready' });
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one process holds two UDP sockets on the port; queries from 200 source ports are all answered, counted once each', async () => {
    const holders = udpHolders(server.port);
    assert.deepEqual(holders, [server.pid, server.pid], 'two sockets, both the server process\'s');
    const cs = await clients(server.port, 200);
    try {
      const answers = await Promise.all(cs.map((c) => c.txt('ver.w.test.')));
      txtQueries += cs.length;
      assert.deepEqual(new Set(answers), new Set(['1']), 'every query answered');
    } finally {
      for (const c of cs) c.close();
    }
    const metrics = await (await fetch(`${managementUrl(server)}/metrics`)).text();
    assert.equal(seriesSum(metrics, 'anycast_dns_queries_total', 'qtype="TXT"'), txtQueries, 'TXT queries counted once each, both threads in one registry');
    assert.equal(seriesValues(metrics, 'anycast_dns_build_info').length, 1, 'one registry: one build_info');
  });

  it('a thread that crashes is replaced within 2 s; the other answers throughout; counts go on', async () => {
    const cs = await clients(server.port, 32);
    try {
      const crashed = inflict(faults, 'crash');
      // Until the replacement listens and every client is answered again.
      const back = crashed.then(() =>
        waitFor(async () => {
          const fresh = await Promise.all(cs.map((c) => c.txt('ver.w.test.', 300)));
          return udpHolders(server.port).length === 2 && fresh.every((a) => a === '1') && (await readyStatus(server)) === 200;
        }, { timeoutMs: 10_000, what: 'the crashed thread to be replaced' }),
      );
      const rounds = await askInRounds(cs, back);
      await back;
      // The server's own clock: this test's client, on a loaded machine, may poll late.
      const took = replacedWithinMs(server, 'crash');
      assert.ok(took <= 2000, `the replacement listened ${took} ms after the crash`);
      assert.ok(rounds.every((r) => r.some((a) => a === '1')), 'every round had answers: the other thread answered throughout');
      assert.match(server.log(), /"thread":\d,"code":1,"msg":"query thread died; starting another"/);
      assert.match(server.log(), /crashes as asked/);
      assert.deepEqual(udpHolders(server.port), [server.pid, server.pid]);
    } finally {
      for (const c of cs) c.close();
    }
  });

  it('a thread that hangs makes /ready 503, is ended and replaced within 2 s of its last answer; the other answers throughout', async () => {
    const cs = await clients(server.port, 32);
    try {
      let notReady = false;
      // /ready asked apart from the queries and often: the 503 lasts only from the hang's detection
      // until the replacement listens, which a round of queries (up to 300 ms) could miss.
      let watching = true;
      const watchReady = (async () => {
        while (watching) {
          if ((await readyStatus(server)) === 503) notReady = true;
          await sleep(20);
        }
      })();
      const hung = inflict(faults, 'hang');
      const back = hung.then(() =>
        waitFor(async () => {
          const fresh = await Promise.all(cs.map((c) => c.txt('ver.w.test.', 300)));
          return notReady && udpHolders(server.port).length === 2 && fresh.every((a) => a === '1') && (await readyStatus(server)) === 200;
        }, { timeoutMs: 10_000, what: 'the hung thread to be replaced', detail: () => `503 seen: ${notReady}` }),
      );
      const rounds = await askInRounds(cs, back).finally(() => (watching = false));
      await watchReady;
      await back;
      const took = replacedWithinMs(server, 'hang');
      assert.ok(took <= 2000, `the replacement listened ${took} ms after the hang`);
      assert.ok(notReady, '/ready said 503 while a thread was not answering');
      assert.ok(rounds.every((r) => r.some((a) => a === '1')), 'every round had answers: the other thread answered throughout');
      assert.match(server.log(), /"msg":"query thread not answering; replacing it"/);
    } finally {
      for (const c of cs) c.close();
    }
    const metrics = await (await fetch(`${managementUrl(server)}/metrics`)).text();
    assert.ok(seriesSum(metrics, 'anycast_dns_queries_total', 'qtype="TXT"') >= txtQueries, 'no counter went back to zero with the threads replaced');
  });
});

describe('workers: 2, both threads crashing at once', () => {
  it('the process lives on and both are replaced (the native UDP part outlives the threads that used it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-workers-both-'));
    const faults = join(dir, 'faults');
    mkdirSync(faults);
    putFile(dir, 'w.test.zone', zoneText('w.test', 1));
    process.env['ANYCAST_DNS_TEST_FAULTS'] = faults;
    let server: RunningPeer | null = null;
    try {
      server = await startAnycastDns([{ origin: 'w.test.', file: join(dir, 'w.test.zone') }], {
        zonesDir: dir,
        ipv6: false,
        workers: 2,
        extraConfig: { management: { listen: '127.0.0.1:0' } },
      });
      delete process.env['ANYCAST_DNS_TEST_FAULTS'];
      const running = server;
      await waitFor(async () => (await readyStatus(running)) === 200, { timeoutMs: 10_000, what: 'both threads to be ready' });
      await inflict(faults, 'crash');
      await inflict(faults, 'crash');
      const cs = await clients(running.port, 16);
      try {
        await waitFor(
          async () => udpHolders(running.port).length === 2 && (await readyStatus(running)) === 200 && (await Promise.all(cs.map((c) => c.txt('ver.w.test.', 300)))).every((a) => a === '1'),
          { timeoutMs: 10_000, what: 'both threads to be replaced', detail: () => running.log().slice(-2000) },
        );
      } finally {
        for (const c of cs) c.close();
      }
      assert.equal(logRecords(running).filter((r) => r['msg'] === 'query thread died; starting another').length, 2);
      assert.deepEqual(new Set(logRecords(running).filter((r) => r['msg'] === 'test fault').map((r) => r['thread'])), new Set([0, 1]), 'each thread crashed');
    } finally {
      delete process.env['ANYCAST_DNS_TEST_FAULTS'];
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('workers: 4, a zone replaced under load', () => {
  it('loses no query, and every client (so every thread) serves the new serial', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-workers-load-'));
    putFile(dir, 'w.test.zone', zoneText('w.test', 1, 2000));
    const server = await startAnycastDns([{ origin: 'w.test.', file: join(dir, 'w.test.zone') }], {
      zonesDir: dir,
      ipv6: false,
      workers: 4,
      extraConfig: { management: { listen: '127.0.0.1:0' }, zone_sync: { settle_time: 0.2 } },
    });
    const cs = await clients(server.port, 64);
    try {
      await waitFor(async () => (await readyStatus(server)) === 200, { timeoutMs: 10_000, what: 'four threads to be ready' });
      assert.equal(udpHolders(server.port).length, 4);
      assert.deepEqual(new Set(await Promise.all(cs.map((c) => c.txt('ver.w.test.')))), new Set(['1']));
      let changed = false;
      const allNew = (async () => {
        await sleep(300);
        putFile(dir, 'w.test.zone', zoneText('w.test', 2, 2000));
        changed = true;
      })().then(() =>
        waitFor(async () => (await Promise.all(cs.map((c) => c.txt('ver.w.test.', 2000)))).every((a) => a === '2'), { timeoutMs: 15_000, what: 'every client to get serial 2' }),
      );
      const rounds = await askInRounds(cs, allNew, 2000);
      await allNew;
      assert.ok(changed && rounds.length > 2, `${rounds.length} rounds of 64 queries while the zone was replaced`);
      const lost = rounds.flat().filter((a) => a === null).length;
      assert.equal(lost, 0, `${lost} of ${rounds.length * cs.length} queries unanswered while the zone was replaced`);
      // Once a client has the new serial it never gets the old one again: every thread swapped once.
      for (let i = 0; i < cs.length; i++) {
        const seen = rounds.map((r) => r[i]!).join('');
        assert.match(seen, /^1*2*$/, `client ${i} saw ${seen}`);
      }
    } finally {
      for (const c of cs) c.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('workers: 4, one rate limit and one cookie secret for the POP', () => {
  const RATE = 20;
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-workers-rrl-'));
  let server: RunningPeer;

  before(async () => {
    putFile(dir, 'w.test.zone', zoneText('w.test', 1));
    server = await startAnycastDns([{ origin: 'w.test.', file: join(dir, 'w.test.zone') }], {
      zonesDir: dir,
      ipv6: false,
      workers: 4,
      extraConfig: { management: { listen: '127.0.0.1:0' }, rrl: { responses_per_second: RATE, window: 15, slip: 2 } },
    });
    await waitFor(async () => (await readyStatus(server)) === 200, { timeoutMs: 10_000, what: 'four threads to be ready' });
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a flood of one name from one address over 64 source ports gets the configured rate, not one rate per thread', async () => {
    const { replies, full } = await floodOneName(server.port, { address: '127.8.0.1', ports: 64 }, { name: 'ver.w.test', type: 'TXT' }, 4);
    assert.ok(Math.abs(full - RATE) <= RATE * 0.1, `${full} full answers to 400 queries at ${RATE}/s (a limiter per thread would give up to ${4 * RATE})`);
    assert.ok(replies.length > full, 'the excess slipped as truncated replies');
  });

  it('says the POP-wide settings once, not once per thread: the UDP path, rate limiting, the cookie secret', () => {
    const said = (msg: RegExp): number => logRecords(server).filter((r) => msg.test(String(r.msg))).length;
    assert.equal(said(/^udp path: /), 1, server.log());
    assert.equal(said(/^response rate limiting on /), 1, server.log());
    assert.equal(said(/^no cookies\.secret configured/), 1, server.log());
    // Each thread still says what is its own: its listeners.
    assert.equal(said(/^listening$/), 4, server.log());
  });

  it('a server cookie one thread made is accepted by every other', async () => {
    const replies: ReturnType<typeof parseMessage>[] = [];
    const from = await sourcePorts('127.9.0.1', 64, replies);
    const cookieOf = (r: ReturnType<typeof parseMessage>): Buffer | undefined => r.opt?.options.find((o) => o.code === 10)?.data;
    try {
      from[0]!.send(encodeQuery({ name: 'ver.w.test', type: 'TXT', cookie: Buffer.from('0102030405060708', 'hex') }, 1), server.port, '127.0.0.1');
      await waitFor(() => replies.length === 1, { timeoutMs: 2000, what: 'the first reply' });
      const cookie = cookieOf(replies[0]!)!;
      assert.equal(cookie.length, 24);
      from.forEach((s, i) => s.send(encodeQuery({ name: 'ver.w.test', type: 'TXT', cookie }, 100 + i), server.port, '127.0.0.1'));
      await waitFor(() => replies.length === 1 + from.length, { timeoutMs: 3000, what: 'a reply to every socket' });
      // A valid server cookie comes back as sent (RFC 9018 §4.3); one a thread could not check would be replaced.
      for (const r of replies.slice(1)) assert.deepEqual(cookieOf(r), cookie);
    } finally {
      for (const s of from) s.close();
    }
  });
});
