// Geo rules by network against Knot DNS's geoip module in subnet mode, fed the same rules (Knot's
// config written from ours): every rule's prefix, its edges and just outside, nested prefixes, /0,
// IPv6, no ECS with the source address inside and outside a rule, types no rule gives, NXDOMAIN, each
// asked of both with `kdig +subnet`. rcode, AA, the answer RRsets and TTLs must be equal; the scope
// too where a rule giving the type matched and no rule nests in its network. Where Knot gives a nested
// prefix its parent's scope, or scope 0 to a client no rule matches or whose rule lacks the type,
// RFC 7871 §7.2.1 forbids it (the scope would cover networks answered otherwise): ours must be at least
// Knot's there. With SOURCE PREFIX-LENGTH 0 we answer by the source address, Knot by no address.
// These are the known differences of docs/reference.md (Geo rules).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrefix } from '../../src/wire/address.js';
import type { GeoRuleSet } from '../../src/answer/geo.js';
import type { RunningPeer } from '../helpers/peers.js';
import { typeCode } from '../helpers/dns-query.js';
import { kdig, startGeoPair, type GeoPair } from './geo-kdig.js';

/** Beside GEO_ZONE_HEAD. */
const MORE = `www TXT "zone data"
www MX 10 mail
mail A 192.0.2.25
src A 192.0.2.2
out A 192.0.2.3
plain A 192.0.2.4
`;

/** Nested prefixes (198.18/15 > 198.19/18 > 198.19.2/24), two families, a rule of two networks, a name for the source address. */
const RULES = `ttl: 60
names:
  www.example.com.:
    rules:
      - id: outer
        networks: [198.18.0.0/15]
        A: 198.18.0.1
      - id: mid
        networks: [198.19.0.0/18, 2001:db8::/32]
        A: [198.19.0.1, 198.19.0.2]
        AAAA: 2001:db8::1
      - id: inner
        networks: [198.19.2.0/24]
        A: 198.19.2.1
      - id: doc
        networks: [192.0.2.0/25, 198.51.100.128/25]
        A: 192.0.2.100
      - id: v6
        networks: [2001:db8:ff00::/40]
        AAAA: 2001:db8:ff00::1
  src.example.com.:
    rules:
      - id: loopback
        networks: [127.0.0.0/8]
        A: 127.0.0.100
  out.example.com.:
    rules:
      - id: far
        networks: [203.0.113.0/24]
        A: 203.0.113.1
`;

interface Case {
  name: string;
  type: string;
  subnet: string | null;
}

let pair: GeoPair;
let rules: GeoRuleSet;
let knot: RunningPeer;
let ours: RunningPeer;

before(async () => {
  pair = await startGeoPair('geo-subnet', RULES, MORE, 'subnet', ['mode: subnet']);
  ({ rules, knot, ours } = pair);
});

after(() => pair?.stop());

/** The address `delta` away from `bytes` (wrapping never happens for the networks used here). */
function offset(bytes: Uint8Array, delta: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  let carry = delta;
  for (let i = out.length - 1; i >= 0 && carry !== 0; i--) {
    const v = out[i]! + carry;
    out[i] = ((v % 256) + 256) % 256;
    carry = Math.floor(v / 256);
  }
  return out;
}

function text(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const g: string[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return g.join(':');
}

/** The last address of a network. */
function last(bytes: Uint8Array, bits: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = bits >= (i + 1) * 8 ? 8 : Math.max(0, bits - i * 8);
    out[i] = out[i]! | (0xff >> keep);
  }
  return out;
}

function matrix(): Case[] {
  const cases: Case[] = [];
  const www = rules.names.get(Buffer.from('\x03www\x07example\x03com\x00', 'latin1').toString('latin1'))!;
  for (const r of www.rules) {
    for (const net of r.networks) {
      const host = net.length * 8;
      const type = net.length === 4 ? 'A' : 'AAAA';
      const end = last(net.bytes, net.bits);
      for (const subnet of [
        `${text(net.bytes)}/${net.bits}`,
        `${text(net.bytes)}/${host}`,
        `${text(end)}/${host}`,
        `${text(offset(net.bytes, -1))}/${host}`,
        `${text(offset(end, 1))}/${host}`,
      ]) {
        cases.push({ name: 'www.example.com', type, subnet });
        // Types the rules give in one family asked from the other, and types no rule gives.
        if (subnet.endsWith(`/${net.bits}`)) for (const t of ['A', 'AAAA', 'TXT', 'MX']) if (t !== type) cases.push({ name: 'www.example.com', type: t, subnet });
      }
    }
  }
  // A prefix shorter than the rules inside it, the whole space, a network between rules.
  for (const subnet of ['198.16.0.0/14', '198.19.0.0/17', '0.0.0.0/0', '::/0', '2001:db8:ff00::/24', '2001:db8:ff00::/48', '198.51.100.0/25', '2001:db8:ff00::1/128'])
    for (const t of ['A', 'AAAA']) cases.push({ name: 'www.example.com', type: t, subnet });
  // No ECS: the source address (127.0.0.1) inside a rule, outside one, and on a name without rules.
  for (const name of ['src.example.com', 'out.example.com', 'www.example.com', 'plain.example.com']) cases.push({ name, type: 'A', subnet: null });
  // Source prefix 0: the source address again.
  cases.push({ name: 'src.example.com', type: 'A', subnet: '0.0.0.0/0' });
  cases.push({ name: 'nx.example.com', type: 'A', subnet: '198.19.2.0/24' });
  cases.push({ name: 'plain.example.com', type: 'A', subnet: '198.19.2.0/24' });
  cases.push({ name: 'example.com', type: 'SOA', subnet: '198.19.2.0/24' });
  return cases;
}

/** Whether Knot's scope must equal ours: the client's network is matched by a rule with no rule network inside it. */
function scopeMustEqual(c: Case): boolean {
  if (c.subnet === null) return true;
  const p = parsePrefix(c.subnet)!;
  if (p.bits === 0) return true;
  // kdig sends the address cut to its prefix (RFC 7871 §6).
  const addr = Uint8Array.from(p.bytes, (v, i) => (p.bits >= (i + 1) * 8 ? v : p.bits <= i * 8 ? 0 : v & (0xff << (8 - (p.bits - i * 8)))));
  const nr = rules.names.get(Buffer.from(`\x03${c.name.split('.')[0]}\x07example\x03com\x00`, 'latin1').toString('latin1'));
  if (nr === undefined) return true;
  const nets = nr.rules.flatMap((r) => r.networks).filter((n) => n.length === p.length);
  const inside = (outer: { bytes: Uint8Array; bits: number }, addr: Uint8Array): boolean => {
    for (let i = 0; i < outer.bits; i++) if (((outer.bytes[i >> 3]! ^ addr[i >> 3]!) & (0x80 >> (i & 7))) !== 0) return false;
    return true;
  };
  const matched = nets.filter((n) => inside(n, addr)).sort((a, b) => b.bits - a.bits)[0];
  if (matched === undefined) return false;
  const rule = nr.rules.find((r) => r.networks.includes(matched))!;
  if (!rule.answers.has(typeCode(c.type))) return false;
  return !nets.some((n) => n.bits > matched.bits && inside(matched, n.bytes));
}

test('geo rules by network answer as Knot geoip in subnet mode, with scopes at least as narrow', async () => {
  const cases = matrix();
  const problems: string[] = [];
  let narrower = 0;
  for (const c of cases) {
    const [k, o] = await Promise.all([kdig(knot, c.name, c.type, c.subnet), kdig(ours, c.name, c.type, c.subnet)]);
    const what = `${c.name} ${c.type} ${c.subnet ?? 'no ECS'}`;
    if (c.subnet?.endsWith('/0') === true && c.name === 'src.example.com') {
      // Known difference: the source address (127.0.0.1) chooses for us, nothing for Knot; scope 0 from both.
      assert.deepEqual(o.answer, ['src.example.com. 60 in a 127.0.0.100'], what);
      assert.deepEqual(k.answer, ['src.example.com. 3600 in a 192.0.2.2'], what);
      assert.equal(o.scope, 0, what);
      continue;
    }
    if (k.status !== o.status || k.aa !== o.aa) problems.push(`${what}: knot ${k.status} aa=${k.aa}, ours ${o.status} aa=${o.aa}`);
    if (k.answer.join('\n') !== o.answer.join('\n')) problems.push(`${what}: answers differ\n  knot: ${k.answer.join('\n        ')}\n  ours: ${o.answer.join('\n        ')}`);
    if ((k.scope === null) !== (o.scope === null)) problems.push(`${what}: ECS echoed by ${k.scope === null ? 'us only' : 'Knot only'}`);
    if (k.scope === null || o.scope === null) continue;
    if (scopeMustEqual(c) ? o.scope !== k.scope : o.scope < k.scope) problems.push(`${what}: scope knot /${k.scope}, ours /${o.scope}`);
    if (o.scope > k.scope) narrower++;
  }
  assert.deepEqual(problems, [], `${problems.length} of ${cases.length} cases differ:\n${problems.join('\n')}`);
  // The matrix reaches the known differences (nested prefixes and defaults), or it tests less than it says.
  assert.ok(narrower > 0, 'no case where our scope is narrower than Knot’s');
});
