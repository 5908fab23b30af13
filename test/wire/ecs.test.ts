// EDNS Client Subnet (RFC 7871) on the wire: every malformed option answered as BIND 9 answers it
// (raw packets to both: rcode, OPT, sections), the option echoed as received with our scope when ECS
// is on, and ignored (never echoed, never FORMERR) when it is off.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dnsQuery, startBind, type RunningPeer } from '../helpers/peers.js';
import { geoFixture, startGeoServer, type GeoFixture } from '../helpers/geo-fixture.js';
import type { WireMessage } from '../helpers/dns-message.js';

const RULES = `names:
  www.example.com.:
    rules:
      - networks: [198.51.100.0/24]
        A: 203.0.113.1
`;

const ECS = 8;

/** ECS option data: FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, ADDRESS octets. */
function ecs(family: number, source: number, scope: number, address: number[]): Buffer {
  return Buffer.from([family >> 8, family & 0xff, source, scope, ...address]);
}

/** Each malformed case BIND answers FORMERR, and well-formed ones at the edges. */
const CASES: { what: string; data: Buffer }[] = [
  { what: 'shorter than FAMILY and the two lengths', data: Buffer.from([0, 1, 24]) },
  { what: 'an unknown FAMILY', data: ecs(3, 0, 0, []) },
  { what: 'FAMILY 0 with a source prefix', data: ecs(0, 8, 0, [198]) },
  { what: 'an IPv4 source prefix longer than 32', data: ecs(1, 33, 0, [198, 51, 100, 3, 4]) },
  { what: 'an IPv6 source prefix longer than 128', data: ecs(2, 129, 0, new Array<number>(17).fill(0x20)) },
  { what: 'more address octets than the source prefix needs', data: ecs(1, 24, 0, [198, 51, 100, 0]) },
  { what: 'fewer address octets than the source prefix needs', data: ecs(1, 24, 0, [198, 51]) },
  { what: 'address bits set past the source prefix', data: ecs(1, 23, 0, [198, 51, 101]) },
  { what: 'a non-zero SCOPE PREFIX-LENGTH', data: ecs(1, 24, 8, [198, 51, 100]) },
  { what: 'well formed: IPv4 /24', data: ecs(1, 24, 0, [198, 51, 100]) },
  { what: 'well formed: IPv6 /56', data: ecs(2, 56, 0, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0]) },
  { what: 'well formed: FAMILY 0, /0', data: ecs(0, 0, 0, []) },
  { what: 'well formed: IPv4 /0', data: ecs(1, 0, 0, []) },
  { what: 'well formed: IPv4 /32', data: ecs(1, 32, 0, [198, 51, 100, 3]) },
];

/** What is compared with BIND: rcode, the OPT's presence, the question and answer counts (BIND adds the apex NS to positive answers). */
function shape(m: WireMessage): string {
  return `rcode ${m.rcode} opt ${m.opt !== null} question ${m.question.length} answer ${m.answer.length}`;
}

function echoed(m: WireMessage): Buffer | null {
  return m.opt?.options.find((o) => o.code === ECS)?.data ?? null;
}

let fixture: GeoFixture;
let bind: RunningPeer;
let on: RunningPeer;
let off: RunningPeer;

before(async () => {
  fixture = geoFixture('ecs', RULES);
  [bind, on, off] = await Promise.all([startBind(fixture.zones, { ipv6: false }), startGeoServer(fixture, { ecs: true }), startGeoServer(fixture)]);
});

after(async () => {
  await Promise.all([bind?.stop(), on?.stop(), off?.stop()]);
  fixture?.remove();
});

describe('ECS on', () => {
  for (const c of CASES) {
    test(`${c.what}: answered as BIND answers it`, async () => {
      const q = { name: 'www.example.com', type: 'A', options: [{ code: ECS, data: c.data }] };
      const [b, o] = await Promise.all([dnsQuery(bind, q), dnsQuery(on, q)]);
      assert.equal(shape(o.message), shape(b.message));
      // Echoed exactly when answered, with FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as received.
      const echo = echoed(o.message);
      if (o.message.rcode !== 0) assert.equal(echo, null);
      else assert.deepEqual(echo?.subarray(4), c.data.subarray(4));
    });
  }

  test('the echo carries our scope: the rule network for a client inside it, 0 for a name without rules', async () => {
    const inside = await dnsQuery(on, { name: 'www.example.com', type: 'A', options: [{ code: ECS, data: ecs(1, 24, 0, [198, 51, 100]) }] });
    assert.deepEqual(echoed(inside.message), ecs(1, 24, 24, [198, 51, 100]));
    assert.deepEqual(inside.message.answer.map((r) => [...r.rdata].join('.')), ['203.0.113.1']);
    const noRules = await dnsQuery(on, { name: 'ns1.example.com', type: 'A', options: [{ code: ECS, data: ecs(1, 24, 0, [198, 51, 100]) }] });
    assert.deepEqual(echoed(noRules.message), ecs(1, 24, 0, [198, 51, 100]));
    const nx = await dnsQuery(on, { name: 'nx.example.com', type: 'A', options: [{ code: ECS, data: ecs(1, 24, 0, [198, 51, 100]) }] });
    assert.equal(nx.message.rcode, 3);
    assert.deepEqual(echoed(nx.message), ecs(1, 24, 0, [198, 51, 100]));
  });
});

describe('ECS off', () => {
  test('every option, malformed or not, is ignored: NOERROR, no echo, the source address chooses', async () => {
    for (const c of CASES) {
      const r = await dnsQuery(off, { name: 'www.example.com', type: 'A', options: [{ code: ECS, data: c.data }] });
      assert.equal(r.message.rcode, 0, c.what);
      assert.equal(echoed(r.message), null, c.what);
      // 127.0.0.1 is in no rule: the zone's address, whatever network the option names.
      assert.deepEqual(r.message.answer.map((rr) => [...rr.rdata].join('.')), ['192.0.2.1'], c.what);
    }
  });
});
