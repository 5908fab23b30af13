// The `health:` config section and the ExaBGP 4 text API lines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { healthConfigFrom } from '../../src/health/config.js';
import { BUNDLED_ZONES_DIR } from '../../src/ops/config.js';
import { exabgpTextApi4 as api } from '../../src/health/exabgp-api.js';

const base = { identity: 'pop1', health: { local_as: 65001, routes: [{ prefix: '198.18.53.0/24' }, { prefix: '2001:db8:53::/48', next_hop: '2001:db8::1' }] } };

describe('health config', () => {
  it('has the documented defaults', () => {
    const c = healthConfigFrom(base);
    assert.equal(c.identity, 'pop1');
    assert.equal(c.zonesDir, BUNDLED_ZONES_DIR);
    assert.equal(c.zonesUrl, 'http://127.0.0.1:9153/zones');
    assert.deepEqual(c.server, { host: '127.0.0.1', port: 53 });
    assert.deepEqual(
      [c.interval, c.fastInterval, c.timeout, c.attempts, c.rise, c.fall, c.drainTime],
      [1000, 250, 250, 5, 3, 3, 15_000],
    );
    assert.deepEqual(c.holdDown, { base: 10_000, max: 300_000, window: 900_000 });
    assert.deepEqual(c.attributes.degraded, { med: null, asPathPrepend: 3, communities: [] });
    assert.equal(c.routes[1]!.nextHop, '2001:db8::1');
    assert.equal(c.metricsListen, null);
  });

  const bad: { name: string; health: Record<string, unknown>; key: RegExp }[] = [
    { name: 'unknown key', health: { intervall: 1 }, key: /health\.intervall: unknown key/ },
    { name: 'bad metrics_listen', health: { metrics_listen: 'localhost:9154' }, key: /health\.metrics_listen/ },
    { name: 'bad server', health: { server: 'localhost' }, key: /health\.server/ },
    { name: 'bad prefix', health: { routes: [{ prefix: '198.18.53.0/33' }] }, key: /health\.routes\[0\]\.prefix/ },
    { name: 'no routes', health: { routes: [] }, key: /health\.routes/ },
    { name: 'bad community', health: { attributes: { up: { communities: ['65536:1'] } } }, key: /health\.attributes\.up\.communities\[0\]/ },
    { name: 'unknown attribute', health: { attributes: { down: {} } }, key: /health\.attributes\.down: unknown key/ },
    { name: 'prepend without local_as', health: { local_as: null }, key: /health\.local_as/ },
    { name: 'fast_interval longer than interval', health: { interval: 1, fast_interval: 2 }, key: /health\.fast_interval/ },
    { name: 'hold_down max below base', health: { hold_down: { base: 10, max: 5 } }, key: /health\.hold_down\.max/ },
    { name: 'confirm_interval longer than fast_interval', health: { confirm_interval: 0.5 }, key: /health\.confirm_interval: must not be longer/ },
    { name: 'a peer that is not ADDRESS:PORT', health: { peers: ['pop2.example.net:53'], freshness: { max_age: 60 } }, key: /health\.peers\[0\]/ },
    { name: 'peers without freshness', health: { peers: ['192.0.2.11:53'] }, key: /health\.peers: needs health\.freshness\.max_age/ },
  ];
  for (const b of bad) {
    it(`rejects ${b.name}, naming the key`, () => {
      assert.throws(() => healthConfigFrom({ ...base, health: { ...base.health, ...b.health } }), b.key);
    });
  }

  it('reads the server keys as the server does: zones relative to the config file, the /zones URL from management.listen', () => {
    const c = healthConfigFrom({ ...base, zones: '../zones', management: { listen: '127.0.0.1:9153' }, health: { ...base.health, freshness: { max_age: 600 } } }, '/etc/anycast-dns');
    assert.equal(c.zonesDir, '/etc/zones');
    assert.equal(c.zonesUrl, 'http://127.0.0.1:9153/zones');
    assert.equal(c.freshnessMaxAge, 600);
    const p = healthConfigFrom({ ...base, health: { ...base.health, freshness: { max_age: 60 }, peers: ['192.0.2.11:53', '[2001:db8::11]:5300'] } });
    assert.deepEqual(p.peers, [{ host: '192.0.2.11', port: 53 }, { host: '2001:db8::11', port: 5300 }]);
  });

  it('rejects what the server rejects, naming the key, and freshness without a management listener', () => {
    assert.throws(() => healthConfigFrom({ ...base, tcp: { idle_timeout: 'soon' } }), /tcp\.idle_timeout/);
    assert.throws(() => healthConfigFrom({ ...base, management: { listen: null }, health: { ...base.health, freshness: { max_age: 600 } } }), /health\.freshness\.max_age: needs management\.listen/);
  });
});

describe('ExaBGP 4 text API', () => {
  const route = { prefix: '198.18.53.0/24', nextHop: 'self' };
  it('announces with MED, the AS path (own AS once plus the prepends) and communities', () => {
    assert.equal(api.announce(route, { med: null, asPathPrepend: 0, communities: [] }, 65001, []), 'announce route 198.18.53.0/24 next-hop self');
    assert.equal(
      api.announce(route, { med: 50, asPathPrepend: 2, communities: ['65001:100'] }, 65001, ['65535:0']),
      'announce route 198.18.53.0/24 next-hop self med 50 as-path [ 65001 65001 65001 ] community [ 65001:100 65535:0 ]',
    );
  });
  it('withdraws', () => {
    assert.equal(api.withdraw(route), 'withdraw route 198.18.53.0/24 next-hop self');
  });
  it('parses acknowledgements', () => {
    assert.deepEqual(api.parseReply('done\n'), { kind: 'done' });
    assert.deepEqual(api.parseReply('error'), { kind: 'error', message: null });
    assert.deepEqual(api.parseReply('error: no neighbor matching'), { kind: 'error', message: 'no neighbor matching' });
    assert.deepEqual(api.parseReply('shutdown'), { kind: 'shutdown' });
    assert.deepEqual(api.parseReply('{"exabgp": "4.0"}'), { kind: 'other', line: '{"exabgp": "4.0"}' });
  });
});
