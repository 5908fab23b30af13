// The lab's client, run inside the client namespace by lab.mjs: queries the anycast address at a
// steady rate, each with NSID (RFC 5001) so the answer names the POP; looks at every POP over its
// unicast address (the serial of each zone, the sidecar's /status); and floods on request. It reports
// JSON lines on stdout and takes commands as JSON lines on stdin.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { randomInt } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dnsPacket = (await import(pathToFileURL(join(ROOT, 'node_modules', 'dns-packet', 'index.js')).href)).default;
const args = JSON.parse(process.argv[2]);
const NSID = 3;
/** A query with no answer after this long is unanswered. */
const ANSWER_TIMEOUT_MS = 1000;
const LOOK_MS = 500;

const say = (m) => process.stdout.write(JSON.stringify(m) + '\n');

// ------------------------------------------------------------------ steady queries with NSID

let rate = args.rate;
const sock = createSocket('udp4');
/** Outstanding queries by ID: their send time. */
const outstanding = new Map();
let current = null;
let lastAnswerAt = null;
let total = 0;

function query(id, name, type, withNsid) {
  const additionals = withNsid ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: NSID, data: Buffer.alloc(0) }] }] : [];
  return dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type, name, class: 'IN' }], additionals });
}

function nsidOf(reply) {
  for (const rr of reply.additionals ?? []) {
    if (rr.type !== 'OPT') continue;
    for (const o of rr.options ?? []) if (o.code === NSID && o.data) return o.data.toString('utf8');
  }
  return null;
}

sock.on('message', (msg) => {
  let reply;
  try {
    reply = dnsPacket.decode(msg);
  } catch {
    return;
  }
  if (!outstanding.has(reply.id)) return;
  outstanding.delete(reply.id);
  const now = Date.now();
  const pop = nsidOf(reply) ?? '?';
  if (pop !== current) {
    say({ type: 'switch', t: now, from: current, to: pop, gapMs: lastAnswerAt === null ? null : now - lastAnswerAt });
    current = pop;
  }
  lastAnswerAt = now;
  answered[pop] = (answered[pop] ?? 0) + 1;
});
sock.on('error', () => {});

const answered = {};
let credit = 0;
let lastTick = performance.now();
setInterval(() => {
  const t = performance.now();
  credit += ((t - lastTick) / 1000) * rate;
  lastTick = t;
  const now = Date.now();
  while (credit >= 1) {
    credit--;
    let id;
    do id = randomInt(0, 65536);
    while (outstanding.has(id));
    outstanding.set(id, now);
    sock.send(query(id, 'www.example.com.', 'A', true), 53, args.service);
    total++;
  }
  let lost = 0;
  let oldest = null;
  for (const [id, sentAt] of outstanding) {
    if (now - sentAt < ANSWER_TIMEOUT_MS) continue;
    outstanding.delete(id);
    // Before the first answer the lab is still coming up (no route yet): not an outage.
    if (current === null) continue;
    lost++;
    oldest = oldest === null ? sentAt : Math.min(oldest, sentAt);
  }
  if (lost > 0) say({ type: 'lost', n: lost, sentAt: oldest });
}, 5);

setInterval(() => {
  for (const [pop, n] of Object.entries(answered)) {
    say({ type: 'answer', pop, n, t: Date.now() });
    delete answered[pop];
  }
  say({ type: 'sent', total });
}, 250);

// ------------------------------------------------------------------ looking at each POP

function soaSerial(host, zone) {
  return new Promise((res) => {
    const s = createSocket('udp4');
    const id = randomInt(0, 65536);
    const done = (v) => {
      clearTimeout(timer);
      s.close();
      res(v);
    };
    const timer = setTimeout(() => done(null), 300);
    s.on('error', () => done(null));
    s.on('message', (m) => {
      try {
        const r = dnsPacket.decode(m);
        const soa = r.answers?.find((a) => a.type === 'SOA');
        done(r.id === id && soa ? soa.data.serial : null);
      } catch {
        done(null);
      }
    });
    s.send(dnsPacket.encode({ type: 'query', id, flags: 0, questions: [{ type: 'SOA', name: zone, class: 'IN' }] }), 53, host);
  });
}

async function sidecar(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(300) });
    const s = await r.json();
    return { state: s.state, announced: s.announced, draining: s.draining, reason: s.reason, since: s.since };
  } catch {
    return null;
  }
}

async function look() {
  const pops = {};
  await Promise.all(
    args.pops.map(async (p) => {
      const serials = {};
      await Promise.all(args.zones.map(async (z) => (serials[z] = await soaSerial(p.unicast, z))));
      pops[p.name] = { serials, sidecar: await sidecar(p.metrics) };
    }),
  );
  say({ type: 'pops', pops });
  setTimeout(() => void look(), LOOK_MS);
}
void look();

// ------------------------------------------------------------------ commands

/** SOA queries for `name` (what the sidecar probes) from forged sources (addresses of the client's loopback that are not its own link's), bounded in rate and time. */
function flood({ sources, name, qps, seconds }) {
  const socks = sources.map((a) => {
    const s = createSocket('udp4');
    s.on('error', () => {});
    s.bind(0, a);
    return s;
  });
  const bytes = query(1, name, 'SOA', false);
  let sent = 0;
  const perTick = Math.max(1, Math.round(qps / 100));
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) socks[sent++ % socks.length].send(bytes, 53, args.service);
  }, 10);
  setTimeout(() => {
    clearInterval(timer);
    for (const s of socks) s.close();
    say({ type: 'flood', sent });
  }, seconds * 1000);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line);
  if (m.cmd === 'rate') rate = m.rate;
  else if (m.cmd === 'flood') flood(m);
});
process.stdin.on('end', () => process.exit(0));
