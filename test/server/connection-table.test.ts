// Which connection gives way at the TCP connection cap (RFC 7766 §6.2.3): the oldest idle one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionTable } from '../../src/server/connection-table.js';

class Conn {
  constructor(
    readonly name: string,
    public lastActive: number,
    public idle: boolean,
  ) {}
  isIdle(): boolean {
    return this.idle;
  }
}

describe('ConnectionTable', () => {
  it('is full at capacity', () => {
    const t = new ConnectionTable<Conn>(2);
    const a = new Conn('a', 1, true);
    t.add(a);
    assert.equal(t.full, false);
    t.add(new Conn('b', 2, true));
    assert.equal(t.full, true);
    t.delete(a);
    assert.equal(t.full, false);
    assert.equal(t.size, 1);
  });

  it('names the idle connection with the oldest activity, skipping busy ones', () => {
    const t = new ConnectionTable<Conn>(4);
    t.add(new Conn('busy-oldest', 1, false));
    t.add(new Conn('idle-newer', 30, true));
    t.add(new Conn('idle-older', 20, true));
    t.add(new Conn('busy', 5, false));
    assert.equal(t.evictionCandidate()?.name, 'idle-older');
  });

  it('follows activity: a connection that just spoke is no longer the oldest', () => {
    const t = new ConnectionTable<Conn>(2);
    const a = new Conn('a', 1, true);
    const b = new Conn('b', 2, true);
    t.add(a);
    t.add(b);
    a.lastActive = 3;
    assert.equal(t.evictionCandidate(), b);
  });

  it('names none when every connection has work in flight', () => {
    const t = new ConnectionTable<Conn>(2);
    t.add(new Conn('a', 1, false));
    t.add(new Conn('b', 2, false));
    assert.equal(t.evictionCandidate(), null);
  });
});
