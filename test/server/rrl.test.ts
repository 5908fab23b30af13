// Response rate limiting and DNS cookies on real sockets: anycast-dns on loopback, asked from many
// source addresses (127.1.x.y and 127.2.x.y are different /24s; Linux routes all of 127/8 to lo).
// Every flood is bounded: a few hundred queries in about a second.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseMessage, type WireMessage } from '../helpers/dns-message.js';
import { encodeQuery, exchangeTcp } from '../helpers/dns-query.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { requireBinary, startAnycastDns, startBind, type RunningPeer } from '../helpers/peers.js';
import { managementUrl, seriesSum } from '../helpers/management.js';
import { sleep } from '../helpers/wait.js';

const run = promisify(execFile);
const ZONES = [{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }];
const SECRET = '0123456789abcdef0123456789abcdef';
const RATE = 20;
const FLOOD = 500;

let server: RunningPeer;
let logOnly: RunningPeer;

/** An A query with EDNS, and a cookie when given. */
function query(name: string, id: number, cookie?: Buffer): Buffer {
  return encodeQuery({ name, type: 'A', ...(cookie !== undefined ? { cookie } : {}) }, id);
}

interface Tally {
  /** Full answers (TC clear, NOERROR). */
  answered: number;
  truncated: number;
  badCookie: number;
  replies: WireMessage[];
}

async function bound(address: string): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  return s;
}

/** Sends `count` queries from `source` over about `spreadMs`, then waits for stragglers; tallies the replies. */
async function flood(port: number, source: string, count: number, spreadMs: number, make: (i: number) => Buffer): Promise<Tally> {
  const s = await bound(source);
  const t: Tally = { answered: 0, truncated: 0, badCookie: 0, replies: [] };
  s.on('message', (m) => {
    const r = parseMessage(m);
    t.replies.push(r);
    if (r.rcode === 23) t.badCookie++;
    else if (r.tc) t.truncated++;
    else if (r.rcode === 0 || r.rcode === 3) t.answered++;
  });
  const batches = 20;
  try {
    for (let b = 0; b < batches; b++) {
      const from = Math.floor((b * count) / batches);
      const to = Math.floor(((b + 1) * count) / batches);
      for (let i = from; i < to; i++) s.send(make(i), port, '127.0.0.1');
      await sleep(spreadMs / batches);
    }
    await sleep(400);
  } finally {
    s.close();
  }
  return t;
}

/** One query over TCP from `source`. */
async function tcpQuery(port: number, source: string, msg: Buffer): Promise<WireMessage> {
  return parseMessage(await exchangeTcp('127.0.0.1', port, msg, 2000, source));
}

async function metric(peer: RunningPeer, name: string, labels: string): Promise<number> {
  const body = await (await fetch(`${managementUrl(peer)}/metrics`)).text();
  return seriesSum(body, name, labels);
}

function cookieOf(r: WireMessage): Buffer | undefined {
  return r.opt?.options.find((o) => o.code === 10)?.data;
}

before(async () => {
  const rrl = { responses_per_second: RATE, slip: 2, window: 15, exempt: ['127.3.0.0/16'] };
  const common = { management: { listen: '127.0.0.1:0' }, cookies: { secret: SECRET }, log_level: 'info' };
  server = await startAnycastDns(ZONES, { ipv6: false, identity: 'pop-rrl', extraConfig: { ...common, rrl } });
  logOnly = await startAnycastDns(ZONES, { ipv6: false, identity: 'pop-rrl-log', extraConfig: { ...common, rrl: { ...rrl, log_only: true } } });
});

after(async () => {
  await server?.stop();
  await logOnly?.stop();
});

describe('response rate limiting over UDP', () => {
  it('cuts a flood of one name from one /24 to the limit, half the excess truncated; another /24 and TCP are served', async () => {
    const [flooded, slow] = await Promise.all([
      flood(server.port, '127.1.1.1', FLOOD, 1000, (i) => query('www.example.com', i)),
      // Another /24 asking the same name, slowly, at the same time.
      flood(server.port, '127.2.1.1', 10, 1000, (i) => query('www.example.com', 1000 + i)),
    ]);
    // The first second's credit, and at most one more second's: the rest of the flood is over the limit.
    assert.ok(flooded.answered >= RATE && flooded.answered <= 3 * RATE, `answered ${flooded.answered}`);
    const excess = FLOOD - flooded.answered;
    assert.ok(Math.abs(flooded.truncated - excess / 2) <= excess * 0.1, `truncated ${flooded.truncated} of ${excess} over the limit`);
    for (const r of flooded.replies.filter((r) => r.tc)) {
      assert.deepEqual([r.answer.length, r.authority.length, r.additional.length, r.question.length], [0, 0, 0, 1], 'question only');
    }
    assert.equal(slow.answered, 10, 'the other /24 got every answer');
    // The flooded source is still answered in full over TCP (never rate limited).
    for (let i = 0; i < 3; i++) {
      const r = await tcpQuery(server.port, '127.1.1.1', query('www.example.com', 2000 + i));
      assert.equal(r.tc, false);
      assert.equal(r.answer.length, 1);
    }
    assert.ok((await metric(server, 'anycast_dns_rrl_limited_responses_total', 'action="slipped",kind="answer"')) >= flooded.truncated);
    assert.ok((await metric(server, 'anycast_dns_rrl_limited_responses_total', 'action="dropped",kind="answer"')) > 0);
    const started = server.log().split('\n').filter((l) => l.includes('"msg":"rate limiting started"'));
    assert.ok(started.some((l) => l.includes('"prefix":"127.1.1.0/24"') && l.includes('"kind":"answer"') && l.includes('www.example.com.')), 'episode logged');
    assert.ok(started.length < 10, `one line per episode, not per packet (${started.length})`);
  });

  it('never limits an exempt prefix', async () => {
    const t = await flood(server.port, '127.3.9.9', 300, 1000, (i) => query('www.example.com', i));
    assert.equal(t.answered, 300);
  });

  it('limits random names under a wildcard as one bucket', async () => {
    const t = await flood(server.port, '127.1.2.1', 300, 1000, (i) => query(`r${i}-${Math.random().toString(36).slice(2)}.apps.example.com`, i));
    assert.ok(t.answered <= 3 * RATE, `answered ${t.answered} of 300 distinct names`);
    assert.ok(t.truncated > 50);
    const started = server.log().split('\n').filter((l) => l.includes('"msg":"rate limiting started"') && l.includes('"kind":"wildcard"'));
    assert.equal(started.length, 1, 'one episode for all the names');
  });

  it('never limits a client with a valid server cookie; a cookie client over the limit gets BADCOOKIE with a cookie', async () => {
    const client = Buffer.from('a1a2a3a4a5a6a7a8', 'hex');
    // Learn the server cookie from this address (another /24, so it starts with a full bucket).
    const s = await bound('127.1.3.1');
    const first = await new Promise<WireMessage>((resolve) => {
      s.once('message', (m) => resolve(parseMessage(m)));
      s.send(query('www.example.com', 1, client), server.port, '127.0.0.1');
    });
    s.close();
    const cookie = cookieOf(first)!;
    assert.equal(cookie.length, 24);
    const valid = await flood(server.port, '127.1.3.1', 300, 1000, (i) => query('www.example.com', i, cookie));
    assert.equal(valid.answered, 300, 'all answered');
    // Only a client cookie: limited, and the slipped replies are BADCOOKIE carrying a server cookie.
    const fresh = await flood(server.port, '127.1.4.1', 300, 1000, (i) => query('www.example.com', i, client));
    assert.ok(fresh.answered <= 3 * RATE, `answered ${fresh.answered}`);
    assert.ok(fresh.badCookie > 50, `BADCOOKIE ${fresh.badCookie}`);
    assert.equal(fresh.truncated, 0);
    const bad = fresh.replies.find((r) => r.rcode === 23)!;
    assert.equal(cookieOf(bad)!.length, 24);
    assert.equal(bad.answer.length, 0);
    assert.ok((await metric(server, 'anycast_dns_cookies_total', 'result="valid"')) >= 300);
    assert.ok((await metric(server, 'anycast_dns_cookies_total', 'result="badcookie"')) >= fresh.badCookie);
  });

  it('log_only limits nothing but counts what it would have limited', async () => {
    const t = await flood(logOnly.port, '127.1.5.1', 300, 1000, (i) => query('www.example.com', i));
    assert.equal(t.answered, 300);
    const would = (await metric(logOnly, 'anycast_dns_rrl_limited_responses_total', 'action="would_drop"')) + (await metric(logOnly, 'anycast_dns_rrl_limited_responses_total', 'action="would_slip"'));
    assert.ok(would >= 300 - 3 * RATE, `would have limited ${would}`);
    assert.equal(await metric(logOnly, 'anycast_dns_rrl_limited_responses_total', 'action="dropped"'), 0);
  });
});

describe('DNS cookies with dig and kdig', () => {
  it('dig +cookie and kdig +cookie get a server cookie, and a second query with it is accepted', async () => {
    const dig = await run(requireBinary('dig', 'bind9-dnsutils'), ['-p', String(server.port), '@127.0.0.1', '+norec', '+time=2', '+tries=1', '+cookie', 'www.example.com', 'A'], { timeout: 10_000 });
    assert.match(dig.stdout, /; COOKIE: [0-9a-f]{48}/i);
    assert.match(dig.stdout, /status: NOERROR/);
    const kdig = (...a: string[]) => run(requireBinary('kdig', 'knot-dnsutils'), ['-p', String(server.port), '@127.0.0.1', '+norec', '+time=2', '+retry=0', ...a], { timeout: 10_000 });
    const first = await kdig('+cookie', 'www.example.com', 'A');
    const cookie = /COOKIE: ([0-9A-F]{48})/i.exec(first.stdout)![1]!;
    const before = await metric(server, 'anycast_dns_cookies_total', 'result="valid"');
    const second = await kdig(`+cookie=${cookie}`, 'www.example.com', 'A');
    assert.match(second.stdout, /status: NOERROR/);
    // A fresh valid cookie comes back unchanged (RFC 9018 §4.3: renewed only after half an hour).
    assert.equal(/COOKIE: ([0-9A-F]{48})/i.exec(second.stdout)![1]!.toLowerCase(), cookie.toLowerCase());
    assert.equal(await metric(server, 'anycast_dns_cookies_total', 'result="valid"'), before + 1);
  });
});

describe('slipped replies against BIND 9', () => {
  // Both at 5 responses a second with slip 1: every response over the limit is the minimal truncated one.
  let ours: RunningPeer;
  let bind: RunningPeer;
  before(async () => {
    ours = await startAnycastDns(ZONES, { ipv6: false, identity: 'pop-slip', extraConfig: { rrl: { responses_per_second: 5, window: 1, slip: 1 }, cookies: { secret: SECRET } } });
    bind = await startBind(ZONES, { ipv6: false, identity: 'pop-slip', namedOptions: ['rate-limit { responses-per-second 5; window 1; slip 1; };'] });
  });
  after(async () => {
    await ours?.stop();
    await bind?.stop();
  });

  /** The first reply to a burst of 60 copies of `msg` from `source` that is truncated or BADCOOKIE. */
  async function firstSlipped(port: number, source: string, msg: Buffer): Promise<Buffer> {
    const s = await bound(source);
    const replies: Buffer[] = [];
    s.on('message', (m) => replies.push(m));
    try {
      for (let i = 0; i < 60; i++) s.send(msg, port, '127.0.0.1');
      await sleep(500);
    } finally {
      s.close();
    }
    const slipped = replies.find((r) => (r[2]! & 0x02) !== 0 || parseMessage(r).rcode === 23);
    assert.ok(slipped, `a slipped reply among ${replies.length}`);
    return slipped;
  }

  const noEdns = encodeQuery({ name: 'www.example.com', type: 'A', noEdns: true, recursionDesired: true }, 7);

  it('without EDNS and with EDNS, the truncated reply is byte for byte BIND\'s', async () => {
    for (const [i, msg] of [noEdns, query('www.example.com', 8)].entries()) {
      const source = `127.41.${i + 1}.1`;
      const mine = await firstSlipped(ours.port, source, msg);
      const theirs = await firstSlipped(bind.port, source, msg);
      assert.equal(parseMessage(mine).tc, true);
      assert.deepEqual(mine, theirs, `query ${i}: ${mine.toString('hex')} against BIND's ${theirs.toString('hex')}`);
    }
  });

  it('with only a client cookie, over the limit both answer BADCOOKIE with the client cookie and a server cookie', async () => {
    const client = Buffer.from('0102030405060708', 'hex');
    const msg = query('www.example.com', 9, client);
    const mine = parseMessage(await firstSlipped(ours.port, '127.41.9.1', msg));
    const theirs = parseMessage(await firstSlipped(bind.port, '127.41.9.1', msg));
    const shape = (r: WireMessage) => ({ rcode: r.rcode, tc: r.tc, aa: r.aa, qd: r.question.length, an: r.answer.length, ns: r.authority.length, ar: r.additional.length, cookieLength: cookieOf(r)?.length, clientPart: cookieOf(r)?.subarray(0, 8) });
    assert.deepEqual(shape(mine), shape(theirs));
    assert.equal(mine.rcode, 23);
    assert.deepEqual(cookieOf(mine)!.subarray(0, 8), client);
  });
});
