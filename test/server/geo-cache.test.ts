// The response cache never gives one network's geo answer to another (RFC 7871 §7.3.1): two clients of
// different networks alternate on one name 10,000 times over UDP, by ECS option and by source address
// (127.0.0.2 and 127.0.0.3), and each always gets its own answer; the cache is on and serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { encodeQuery } from '../helpers/dns-query.js';
import { dnsQuery, type RunningPeer } from '../helpers/peers.js';
import { geoFixture, startGeoServer, type GeoFixture } from '../helpers/geo-fixture.js';
import { managementUrl, seriesSum } from '../helpers/management.js';

const ROUNDS = 10_000;

const RULES = `names:
  www.example.com.:
    rules:
      - id: ecs-a
        networks: [198.51.100.0/24]
        A: 192.0.2.11
      - id: ecs-b
        networks: [203.0.113.0/24]
        A: 192.0.2.12
      - id: src-a
        networks: [127.0.0.2/32]
        A: 127.0.0.102
      - id: src-b
        networks: [127.0.0.3/32]
        A: 127.0.0.103
`;

let fixture: GeoFixture;
let server: RunningPeer;

before(async () => {
  fixture = geoFixture('geo-cache', RULES, 'sub NS ns.sub\nns.sub A 192.0.2.54\n');
  server = await startGeoServer(fixture, { ecs: true, management: { listen: '127.0.0.1:0' } });
});

after(async () => {
  await server?.stop();
  fixture?.remove();
});

/** A UDP client bound to `address`: one query at a time, the reply's answer addresses. */
async function client(address: string): Promise<{ ask(query: Buffer): Promise<string[]>; close(): void }> {
  const socket: Socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  let waiting: ((msg: Buffer) => void) | null = null;
  socket.on('message', (msg) => waiting?.(msg));
  return {
    ask: (query) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply within 2 s to ${address}`)), 2000);
        waiting = (msg) => {
          if (msg.readUInt16BE(0) !== query.readUInt16BE(0)) return;
          clearTimeout(timer);
          resolve(answerAddresses(msg));
        };
        socket.send(query, server.port, '127.0.0.1');
      }),
    close: () => socket.close(),
  };
}

/** The A records' addresses of a response (the answer section follows the question; names are pointers). */
function answerAddresses(msg: Buffer): string[] {
  let at = 12;
  while (msg[at] !== 0) at += msg[at]! + 1;
  at += 5;
  const out: string[] = [];
  for (let n = msg.readUInt16BE(6); n > 0; n--) {
    at += (msg[at]! & 0xc0) === 0xc0 ? 2 : 0;
    const rdlength = msg.readUInt16BE(at + 8);
    if (msg.readUInt16BE(at) === 1) out.push([...msg.subarray(at + 10, at + 10 + rdlength)].join('.'));
    at += 10 + rdlength;
  }
  return out;
}

function query(id: number, ecs: Buffer | null): Buffer {
  return encodeQuery({ name: 'www.example.com', type: 'A', ...(ecs === null ? {} : { options: [{ code: 8, data: ecs }] }) }, id);
}

test(`two networks alternating ${ROUNDS} times by ECS each get their own answer`, async () => {
  const c = await client('127.0.0.1');
  try {
    const qa = query(1, Buffer.from([0, 1, 24, 0, 198, 51, 100]));
    const qb = query(2, Buffer.from([0, 1, 24, 0, 203, 0, 113]));
    for (let i = 0; i < ROUNDS; i++) {
      assert.deepEqual(await c.ask(qa), ['192.0.2.11'], `round ${i}, 198.51.100.0/24`);
      assert.deepEqual(await c.ask(qb), ['192.0.2.12'], `round ${i}, 203.0.113.0/24`);
    }
  } finally {
    c.close();
  }
  // Answered from the cache, per network: not merely never cached.
  const exposition = await (await fetch(`${managementUrl(server)}/metrics`)).text();
  const hits = seriesSum(exposition, 'anycast_dns_cache_requests_total', 'result="hit"');
  assert.ok(hits >= 2 * ROUNDS - 2, `cache hits: ${hits}`);
});

test(`two source addresses alternating ${ROUNDS} times without ECS each get their own answer`, async () => {
  const [a, b] = await Promise.all([client('127.0.0.2'), client('127.0.0.3')]);
  try {
    const q = query(3, null);
    for (let i = 0; i < ROUNDS; i++) {
      assert.deepEqual(await a.ask(q), ['127.0.0.102'], `round ${i}, from 127.0.0.2`);
      assert.deepEqual(await b.ask(q), ['127.0.0.103'], `round ${i}, from 127.0.0.3`);
    }
  } finally {
    a.close();
    b.close();
  }
});

test('referrals for new names below a cut (answered from one template) echo each network its own option', async () => {
  const a = Buffer.from([0, 1, 24, 0, 198, 51, 100]);
  const b = Buffer.from([0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1]);
  for (let i = 0; i < 500; i++) {
    for (const ecs of [a, b]) {
      const r = await dnsQuery(server, { name: `n${i}.sub.example.com`, type: 'A', options: [{ code: 8, data: ecs }] });
      const m = r.message;
      assert.deepEqual(m.authority.map((rr) => rr.type), [2], `round ${i}: a referral`);
      assert.deepEqual(m.opt?.options.find((o) => o.code === 8)?.data, ecs, `round ${i}: the echo of ${ecs.toString('hex')}`);
    }
  }
});
