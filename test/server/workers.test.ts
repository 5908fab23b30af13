// `workers: 2`: each worker binds its own socket with reusePort and the kernel spreads datagrams by
// source address and port.
//
// Which worker a datagram reaches is the kernel's choice, fixed per source port while the set of
// sockets holds still. To ask each worker on purpose, one worker is stopped (SIGSTOP) while clients
// on fixed ports ask: those left unanswered are the stopped worker's, the others the running one's.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseMessage } from '../helpers/dns-message.js';
import { encodeQuery } from '../helpers/dns-query.js';
import { startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { putFile, zoneText } from '../helpers/zone-text.js';
import { managementUrl, seriesSum } from '../helpers/management.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** PIDs of the processes holding a UDP socket bound to 127.0.0.1:`port`, one entry per socket. */
function udpHolders(port: number): number[] {
  const out = execFileSync('ss', ['-H', '-u', '-l', '-n', '-p', `sport = :${port}`], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(`127.0.0.1:${port} `))
    .flatMap((l) => [...l.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])));
}

/** A client on one source port, kept for the whole test: the kernel sends its queries to one worker. */
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

/** Splits `cs` by the worker their queries reach: [stopped's, the others']. */
async function partition(cs: Client[], stopped: number): Promise<[Client[], Client[]]> {
  process.kill(stopped, 'SIGSTOP');
  let answers: (string | null)[];
  try {
    answers = await Promise.all(cs.map((c) => c.txt('ver.w.test.', 500)));
  } finally {
    process.kill(stopped, 'SIGCONT');
  }
  // The stopped worker answers what queued for it once it runs again; replies to stale IDs are ignored.
  await sleep(200);
  return [cs.filter((_, i) => answers[i] === null), cs.filter((_, i) => answers[i] !== null)];
}

async function management(server: RunningPeer, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${managementUrl(server)}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('workers: 2 with reusePort', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-workers-'));
  let server: RunningPeer;
  let txtQueries = 0;

  before(async () => {
    putFile(dir, 'w.test.zone', zoneText('w.test', 1));
    server = await startAnycastDns([{ origin: 'w.test.', file: join(dir, 'w.test.zone') }], {
      zonesDir: dir,
      ipv6: false,
      workers: 2,
      extraConfig: { management: { listen: '127.0.0.1:0' }, zone_sync: { settle_time: 0.2 } },
    });
    await waitFor(async () => (await management(server, '/ready')).status === 200, { timeoutMs: 10_000, what: 'both workers to be ready' });
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two worker processes each hold a UDP socket on the port; queries from 200 source ports are all answered, counted once each', async () => {
    const holders = udpHolders(server.port);
    assert.equal(holders.length, 2, `UDP sockets on the port: ${holders.join(', ')}`);
    assert.equal(new Set(holders).size, 2, 'held by two processes');
    assert.ok(!holders.includes(server.pid), 'the primary holds none');
    const cs = await clients(server.port, 200);
    try {
      const answers = await Promise.all(cs.map((c) => c.txt('ver.w.test.')));
      txtQueries += cs.length;
      assert.deepEqual(new Set(answers), new Set(['1']), 'every query answered');
    } finally {
      for (const c of cs) c.close();
    }
    const metrics = (await management(server, '/metrics')).body;
    const txt = seriesSum(metrics, 'anycast_dns_queries_total', 'qtype="TXT"');
    assert.equal(txt, txtQueries, 'TXT queries summed over both workers');
  });

  it('a worker killed with SIGKILL is replaced; the other answers throughout; /ready is 503 until the new one serves', async () => {
    const [victim, survivor] = udpHolders(server.port) as [number, number];
    const cs = await clients(server.port, 32);
    try {
      const [, toSurvivor] = await partition(cs, victim);
      assert.ok(toSurvivor.length > 0 && toSurvivor.length < cs.length, `the kernel spreads 32 source ports over both workers (${toSurvivor.length} to one)`);
      process.kill(victim, 'SIGKILL');
      // Datagrams the kernel queued for the victim die with it; once its socket is gone, none go there.
      await waitFor(() => !udpHolders(server.port).includes(victim), { timeoutMs: 5000, what: 'the killed worker to leave the port' });
      let notReady = false;
      let asked = 0;
      await waitFor(async () => {
        // The survivor's clients, and clients on new ports, all answered while the victim is replaced.
        const fresh = await clients(server.port, 4);
        // A fresh port may reach the replacement as soon as it binds; its first answer, cold, may take
        // longer than a warm worker's on a loaded machine.
        const [old, now] = await Promise.all([Promise.all(toSurvivor.map((c) => c.txt('ver.w.test.'))), Promise.all(fresh.map((c) => c.txt('ver.w.test.', 2500)))]);
        for (const c of fresh) c.close();
        asked += old.length + now.length;
        assert.deepEqual(new Set(old), new Set(['1']), "the survivor's clients answered while a worker is replaced");
        assert.deepEqual(new Set(now), new Set(['1']), 'clients on new ports answered while a worker is replaced');
        const ready = (await management(server, '/ready')).status;
        if (ready === 503) notReady = true;
        const holders = udpHolders(server.port);
        return ready === 200 && holders.length === 2 && !holders.includes(victim);
      }, { timeoutMs: 20_000, what: 'a new worker to serve' });
      txtQueries += asked;
      assert.ok(notReady, '/ready said 503 while a worker was missing');
      const holders = udpHolders(server.port);
      assert.ok(holders.includes(survivor), 'the survivor kept serving, not restarted');
      assert.match(server.log(), /"msg":"worker died; starting another"/);
    } finally {
      for (const c of cs) c.close();
    }
  });

  it('a worker that stops answering (SIGSTOP) makes /ready 503 until it runs again', async () => {
    const holders = udpHolders(server.port);
    process.kill(holders[0]!, 'SIGSTOP');
    try {
      await waitFor(async () => (await management(server, '/ready')).status === 503, { timeoutMs: 8000, what: '/ready to answer 503 with a worker stopped' });
    } finally {
      process.kill(holders[0]!, 'SIGCONT');
    }
    await waitFor(async () => (await management(server, '/ready')).status === 200, { timeoutMs: 5000, what: '/ready to answer 200 once it runs again' });
    assert.match(server.log(), /"msg":"worker not answering; not ready until it does"/);
    assert.deepEqual(udpHolders(server.port).sort(), holders.sort(), 'the same two workers: a stuck worker is reported, not restarted');
  });

  it('a zone change reaches every worker, the replaced one too', async () => {
    const holders = udpHolders(server.port);
    const cs = await clients(server.port, 32);
    try {
      // Stop each worker in turn: the clients left unanswered are that worker's.
      const [toFirst] = await partition(cs, holders[0]!);
      const [toSecond] = await partition(cs, holders[1]!);
      assert.ok(toFirst.length > 0 && toSecond.length > 0, `clients reach each worker (${toFirst.length} and ${toSecond.length} of ${cs.length})`);
      assert.equal(toFirst.length + toSecond.length, cs.length, 'every client reaches exactly one worker');
      putFile(dir, 'w.test.zone', zoneText('w.test', 2));
      const t0 = Date.now();
      await waitFor(async () => (await toFirst[0]!.txt('ver.w.test.')) === '2', { timeoutMs: 5000, what: 'serial 2 at the first worker' });
      await waitFor(async () => (await toSecond[0]!.txt('ver.w.test.')) === '2', { timeoutMs: 5000, what: 'serial 2 at the second worker' });
      const spread = Date.now() - t0;
      const answers = await Promise.all(cs.map((c) => c.txt('ver.w.test.')));
      assert.deepEqual(new Set(answers), new Set(['2']), `every client gets the new serial (both within ${spread} ms of the rename)`);
      const loaded = server.log().split('\n').filter((l) => l.includes('"msg":"zone loaded"') && l.includes('"zone":"w.test."'));
      assert.equal(loaded.length, 2, 'the zone was read twice in all (start, change), by the primary only');
    } finally {
      for (const c of cs) c.close();
    }
  });
});

describe('rate limiting with workers: 2 and reusePort', () => {
  it('each worker limits on its own: one source sees at most twice the configured rate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-workers-rrl-'));
    putFile(dir, 'w.test.zone', zoneText('w.test', 1));
    const rate = 20;
    const server = await startAnycastDns([{ origin: 'w.test.', file: join(dir, 'w.test.zone') }], {
      zonesDir: dir,
      ipv6: false,
      workers: 2,
      // slip 0: every response over the limit is dropped, so answered = allowed.
      extraConfig: { rrl: { responses_per_second: rate, slip: 0, window: 1 } },
    });
    const cs = await clients(server.port, 64);
    try {
      // Start-up's SOA probes spent their own bucket; wait for any debt they made to go.
      await sleep(1100);
      // 384 identical queries from one address, 64 source ports, in about half a second.
      const started = performance.now();
      let lastAnswer = started;
      const pending: Promise<string | null>[] = [];
      for (let round = 0; round < 6; round++) {
        for (const c of cs) pending.push(c.txt('ver.w.test.', 1500).then((a) => ((lastAnswer = a === null ? lastAnswer : performance.now()), a)));
        await sleep(100);
      }
      const answered = (await Promise.all(pending)).filter((a) => a !== null).length;
      // Every answer was decided before it arrived: credit earned after the last one can't count.
      const seconds = (lastAnswer - started) / 1000;
      // A bucket holds one second's credit and earns `rate` a second (docs/guide.md, Rate limiting and cookies); the
      // limiter counts whole seconds, so a burst that straddles a second boundary gets two seconds' credit.
      const onePerProcess = rate * (1 + seconds);
      const mostPerProcess = rate * (Math.floor(seconds) + 2);
      assert.ok(answered <= 2 * mostPerProcess, `answered ${answered} of ${pending.length} in ${seconds.toFixed(2)} s: at most twice ${mostPerProcess}`);
      assert.ok(answered > onePerProcess + 2, `answered ${answered}: more than one process's limit (${onePerProcess.toFixed(0)}): each worker counts only its own`);
    } finally {
      for (const c of cs) c.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
