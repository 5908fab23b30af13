// Hostile input against a running `anycast-dns serve`: truncated headers, labels running past the
// packet, compression-pointer loops, QDCOUNT 0 and 2, random bytes, a TCP length with nothing after
// it, and 500 silent TCP connections against a cap of 100. Afterwards it must still answer normal
// queries over UDP and TCP.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { parseMessage } from '../helpers/dns-message.js';
import { dnsQuery, encodeQuery, exchangeTcp, exchangeUdp } from '../helpers/dns-query.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { frame, RawTcpClient } from '../helpers/tcp-client.js';
import { sleep, waitFor, withTimeout } from '../helpers/wait.js';

const CAP = 100;
const IDLE_TIMEOUT_MS = 1000;
const IO_TIMEOUT_MS = 500;
const FORMERR = 1;

let server: RunningPeer;
const clients: RawTcpClient[] = [];

before(async () => {
  server = await startAnycastDns([{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }], {
    identity: 'pop-robust',
    extraConfig: { tcp: { idle_timeout: IDLE_TIMEOUT_MS, io_timeout: IO_TIMEOUT_MS, max_connections: CAP } },
  });
});

after(async () => {
  for (const c of clients) c.destroy();
  await server?.stop();
});

// Hand-built messages where a test needs what no encoder writes: a header whose counts or flags lie,
// names that run past the packet or point at themselves, two questions. Valid queries come from the
// kit's encodeQuery.
function header(id: number, qdcount: number, flags = 0): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qdcount, 4);
  return h;
}
const question = (name: string): Buffer => encodeQuery({ name, type: 'A', noEdns: true }, 0).subarray(12);

/** Messages whose header can be read but whose question cannot: each gets FORMERR. */
const malformed: [string, Buffer][] = [
  ['a label length running past the packet', Buffer.concat([header(1, 1), Buffer.from([63, 0x61, 0x62])])],
  ['a compression pointer to itself', Buffer.concat([header(2, 1), Buffer.from([0xc0, 12, 0, 1, 0, 1])])],
  ['two compression pointers pointing at each other', Buffer.concat([header(3, 1), Buffer.from([0xc0, 14, 0xc0, 12, 0, 1, 0, 1])])],
  ['QDCOUNT 0', header(4, 0)],
  ['QDCOUNT 2', Buffer.concat([header(5, 2), question('example.com'), question('www.example.com')])],
  ['a question missing its type and class', Buffer.concat([header(6, 1), Buffer.from([7]), Buffer.from('example'), Buffer.from([3]), Buffer.from('com'), Buffer.from([0])])],
];

async function stillAnswers(): Promise<void> {
  for (const tcp of [false, true]) {
    const r = await dnsQuery({ port: server.port }, { name: 'www.example.com', type: 'A', tcp, timeoutMs: 2000 });
    assert.equal(r.message.rcode, 0);
    assert.equal(r.message.answer.length, 1);
  }
}

/** A seeded generator: the same "random" packets every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s;
  };
}

describe('robustness', () => {
  it('drops UDP packets too short to hold a header', async () => {
    for (let len = 0; len < 12; len++) {
      await assert.rejects(exchangeUdp('127.0.0.1', server.port, Buffer.alloc(len, 0x41), 150), /no UDP reply/, `${len} bytes`);
    }
    await stillAnswers();
  });

  for (const [what, msg] of malformed) {
    it(`answers FORMERR to ${what}, over UDP and TCP`, async () => {
      for (const reply of [await exchangeUdp('127.0.0.1', server.port, msg, 2000), await exchangeTcp('127.0.0.1', server.port, msg, 2000)]) {
        assert.equal(reply.readUInt16BE(0), msg.readUInt16BE(0), 'same ID');
        assert.equal(reply[2]! & 0x80, 0x80, 'QR set');
        assert.equal(reply[3]! & 0x0f, FORMERR);
      }
    });
  }

  it('never answers a packet with QR set', async () => {
    await assert.rejects(exchangeUdp('127.0.0.1', server.port, Buffer.concat([header(9, 1, 0x8000), question('example.com')]), 300), /no UDP reply/);
  });

  it('survives 2000 datagrams of random bytes (and random bytes behind a valid-looking header)', async () => {
    const next = prng(20261125);
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    let replies = 0;
    sock.on('message', () => replies++);
    for (let i = 0; i < 2000; i++) {
      const len = next() % 600;
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = next() & 0xff;
      if (i % 2 === 0 && len >= 12) {
        buf.writeUInt16BE(0x0000, 2); // a query with opcode QUERY, so parsing goes past the header
        buf.writeUInt16BE(1, 4);
      }
      await new Promise<void>((r) => sock.send(buf, server.port, '127.0.0.1', () => r()));
      if (i % 100 === 0) await sleep(5); // bounded rate: stay well inside the socket buffer
    }
    await sleep(300);
    sock.close();
    assert.ok(replies > 0, 'the readable ones were answered');
    await stillAnswers();
  });

  it('closes a TCP connection that sends a length and then nothing, after the I/O timeout', async () => {
    const c = await RawTcpClient.connect(server.port);
    clients.push(c);
    const start = Date.now();
    await c.write(Buffer.from([0, 29]));
    await withTimeout(c.closed, IO_TIMEOUT_MS * 5, 'the I/O timeout');
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= IO_TIMEOUT_MS - 100 && elapsed < IDLE_TIMEOUT_MS, `closed after ${elapsed} ms`);
    await stillAnswers();
  });

  it('closes only a TCP connection that sends garbage frames', async () => {
    const good = await RawTcpClient.connect(server.port);
    const bad = await RawTcpClient.connect(server.port);
    clients.push(good, bad);
    await bad.write(Buffer.from([0, 3, 0xff, 0xff, 0xff]));
    await withTimeout(bad.closed, 2000, 'the garbage connection to close');
    await good.write(frame(encodeQuery({ name: 'example.com', type: 'SOA', noEdns: true }, 77)));
    assert.equal(parseMessage((await good.waitReplies(1))[0]!).rcode, 0);
    good.destroy();
  });

  it(`holds 500 silent TCP connections against a cap of ${CAP}, closing the oldest silent ones for newcomers`, async () => {
    // Its own server, whose idle timeout can't close connections while 500 are being opened on a slow machine.
    const capped = await startAnycastDns([{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }], {
      identity: 'pop-robust-cap',
      // Every client is 127.0.0.1 or ::1: per-source limits off, so the cap alone is tested.
      extraConfig: {
        tcp: { idle_timeout: 120_000, max_connections: CAP, max_connections_per_address: 0, max_connections_per_prefix: 0, new_connections_per_second_per_prefix: 0 },
      },
    });
    const conns: RawTcpClient[] = [];
    try {
      // In batches of the cap: a connection that has said nothing is evicted only once it is past
      // the grace period (250 ms) in which a client's first query is still on its way.
      for (let batch = 0; batch < 5; batch++) {
        if (batch > 0) await sleep(400);
        for (let i = 0; i < CAP; i++) {
          const c = await RawTcpClient.connect(capped.port, i % 2 === 0 ? '127.0.0.1' : '::1'); // the cap covers both listeners
          clients.push(c);
          conns.push(c);
        }
      }
      const openCount = (): number => conns.filter((c) => !c.isClosed).length;
      await waitFor(() => openCount() === CAP, { timeoutMs: 5000, what: `exactly the cap (${CAP}) of connections open`, detail: () => `${openCount()} open` });
      assert.ok(conns.slice(0, 4 * CAP).every((c) => c.isClosed), 'each batch was closed for the next');
      // The survivors still work, and a newcomer is served by evicting the oldest idle survivor.
      const survivor = conns.at(-1)!;
      await survivor.write(frame(encodeQuery({ name: 'www.example.com', type: 'A', noEdns: true }, 88)));
      assert.equal(parseMessage((await survivor.waitReplies(1))[0]!).id, 88);
      const r = await dnsQuery({ port: capped.port }, { name: 'www.example.com', type: 'A', tcp: true, timeoutMs: 2000 });
      assert.equal(r.message.answer.length, 1);
      await waitFor(() => survivor.isClosed, { timeoutMs: 5000, what: 'the idle survivor to be closed for room' });
    } finally {
      for (const c of conns) c.destroy();
      await capped.stop();
    }
    await stillAnswers();
  });
});
