// Whose staleness is it: the pure rule that turns stale zones into a failure only when a reachable
// peer serves a newer serial.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fresherPeer } from '../../src/health/peers.js';

const own = new Map([
  ['example.com.', 41],
  ['example.net.', 1000],
]);

describe('fresherPeer', () => {
  it('no peer answered (unreachable peers are no evidence): shared, null', () => {
    assert.equal(fresherPeer(own, []), null);
    assert.equal(fresherPeer(own, [{ peer: 'a', serials: new Map() }]), null);
  });

  it('peers as stale as this POP, or older: shared, null', () => {
    assert.equal(fresherPeer(own, [{ peer: 'a', serials: new Map([['example.com.', 41], ['example.net.', 999]]) }]), null);
  });

  it('one peer newer in one zone: this POP is behind, naming the zone, both serials and the peer', () => {
    const r = fresherPeer(own, [
      { peer: '192.0.2.11:53', serials: new Map([['example.com.', 41]]) },
      { peer: '192.0.2.12:53', serials: new Map([['example.net.', 1001]]) },
    ]);
    assert.equal(r, 'example.net. serial 1000 here, 1001 at peer 192.0.2.12:53');
  });

  it('compares in serial number arithmetic (RFC 1982): a wrapped serial is newer', () => {
    const wrapped = new Map([['example.com.', 0xfffffff0]]);
    assert.match(fresherPeer(wrapped, [{ peer: 'a', serials: new Map([['example.com.', 5]]) }]) ?? '', /serial 4294967280 here, 5 at peer a/);
    assert.equal(fresherPeer(new Map([['example.com.', 5]]), [{ peer: 'a', serials: new Map([['example.com.', 0xfffffff0]]) }]), null);
  });
});
