// Which TCP connections may open, which give way at the cap and which run out of time, with the
// clock passed in: per-address and per-prefix caps (RFC 7766 §6.2.2) once half the table is in use,
// idle ones first at the cap (RFC 7766 §6.2.3), then silent and stalled ones past the grace period,
// then the biggest prefix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionTable, type TableLimits } from '../../src/server/connection-table.js';
import { sourcePrefix } from '../../src/server/source-prefix.js';

const LIMITS: TableLimits = { capacity: 4, perAddress: 0, perPrefix: 0, idleTimeoutMs: 10_000, ioTimeoutMs: 2000, graceMs: 250 };

function table(limits: Partial<TableLimits> = {}): ConnectionTable<string> {
  return new ConnectionTable<string>({ ...LIMITS, ...limits });
}

/** Admits `name` from `address` (prefix by sourcePrefix) if the table says yes, removing its victim; returns the decision. */
function open(t: ConnectionTable<string>, name: string, address: string, now: number) {
  const prefix = sourcePrefix(address);
  const d = t.admission(address, prefix, now);
  if (d.admit) {
    if (d.evict !== null) t.delete(d.evict);
    return { ...d, entry: t.add(name, address, prefix, now) };
  }
  return { ...d, entry: null };
}

describe('ConnectionTable', () => {
  it('counts connections per address and per prefix, and forgets them on delete', () => {
    const t = table();
    const a = open(t, 'a', '192.0.2.1', 0).entry!;
    open(t, 'b', '192.0.2.1', 0);
    open(t, 'c', '192.0.2.2', 0);
    assert.equal(t.fromAddress('192.0.2.1'), 2);
    assert.equal(t.fromPrefix('192.0.2.0/24'), 3);
    t.delete(a);
    t.delete(a); // twice is harmless
    assert.equal(t.fromAddress('192.0.2.1'), 1);
    assert.equal(t.fromPrefix('192.0.2.0/24'), 2);
    assert.equal(t.size, 2);
  });

  it('holds no source to its caps while less than half the table is in use', () => {
    const t = table({ capacity: 10, perAddress: 2, perPrefix: 3 });
    const mine = [1, 2, 3, 4, 5].map((i) => open(t, `a${i}`, '192.0.2.1', 0));
    assert.deepEqual(
      mine.map((d) => d.admit),
      [true, true, true, true, true],
      'past both caps, the table less than half full before each',
    );
    // Half in use now: the caps hold.
    assert.deepEqual(t.admission('192.0.2.1', '192.0.2.0/24', 0), { admit: false, reason: 'refused_per_address' });
    assert.deepEqual(t.admission('192.0.2.2', '192.0.2.0/24', 0), { admit: false, reason: 'refused_per_prefix' });
    // Below half again: they no longer do.
    t.delete(mine[0]!.entry!);
    assert.deepEqual(t.admission('192.0.2.1', '192.0.2.0/24', 0), { admit: true, evict: null });
  });

  it('under pressure (half the table or more in use), refuses the connection past the per-address cap, and past the per-prefix cap', () => {
    const t = table({ capacity: 10, perAddress: 2, perPrefix: 3 });
    for (let i = 1; i <= 5; i++) open(t, `x${i}`, `10.0.${i}.1`, 0);
    assert.equal(open(t, 'a1', '192.0.2.1', 0).admit, true);
    assert.equal(open(t, 'a2', '192.0.2.1', 0).admit, true);
    assert.deepEqual(t.admission('192.0.2.1', '192.0.2.0/24', 0), { admit: false, reason: 'refused_per_address' });
    assert.equal(open(t, 'b1', '192.0.2.2', 0).admit, true);
    assert.deepEqual(t.admission('192.0.2.3', '192.0.2.0/24', 0), { admit: false, reason: 'refused_per_prefix' });
    assert.equal(open(t, 'c1', '198.51.100.1', 0).admit, true, 'another prefix is not affected');
  });

  it('lets one source fill at most half the table; the rest fills in per-source shares, and when full the biggest gives way', () => {
    const t = table({ capacity: 10, perPrefix: 2 });
    const flood = Array.from({ length: 8 }, (_, i) => open(t, `f${i}`, `192.0.2.${i + 1}`, i));
    assert.equal(flood.filter((d) => d.admit).length, 5, 'admitted until half the table was in use');
    assert.ok(flood.slice(5).every((d) => !d.admit && d.reason === 'refused_per_prefix'));
    for (const [i, address] of ['198.51.100.1', '198.51.100.2', '203.0.113.1', '203.0.113.2'].entries()) assert.equal(open(t, `o${i}`, address, 10).admit, true);
    assert.deepEqual(t.admission('198.51.100.3', '198.51.100.0/24', 10), { admit: false, reason: 'refused_per_prefix' });
    assert.equal(open(t, 'o4', '2001:db8::1', 10).admit, true);
    assert.equal(t.full, true);
    const d = t.admission('2001:db8:1::1', '2001:db8:1::/56', 20);
    assert.equal(d.admit && d.evict?.conn, 'f0', 'the oldest of the prefix holding the most');
    assert.equal(d.admit && d.evict !== null && d.reason, 'evicted_prefix');
  });

  it('at the cap, closes the idle connection that has been idle longest, whatever its age', () => {
    const t = table();
    const e = ['a', 'b', 'c', 'd'].map((n, i) => open(t, n, `192.0.2.${i}`, 0).entry!);
    t.stalled(e[0]!, 1);
    t.idle(e[2]!, 2);
    t.idle(e[1]!, 3);
    const d = t.admission('198.51.100.1', '198.51.100.0/24', 4);
    assert.equal(d.admit && d.evict?.conn, 'c');
    assert.equal(d.admit && d.evict !== null && d.reason, 'evicted_idle');
  });

  it('then one that has said nothing past the grace period, then one stalled past it, else none', () => {
    const t = table();
    const e = ['a', 'b', 'c', 'd'].map((n, i) => open(t, n, `192.0.${i}.1`, 0).entry!);
    t.stalled(e[1]!, 100);
    t.stalled(e[0]!, 110);
    assert.deepEqual(t.admission('198.51.100.1', '198.51.100.0/24', 200), { admit: false, reason: 'refused_full' }, 'all within the grace period');
    let d = t.admission('198.51.100.1', '198.51.100.0/24', 260);
    assert.equal(d.admit && d.evict?.conn, 'c', 'c has said nothing for 260 ms');
    assert.equal(d.admit && d.evict !== null && d.reason, 'evicted_idle');
    t.delete(e[2]!);
    t.delete(e[3]!);
    open(t, 'e', '2001:db8:e::1', 300);
    open(t, 'f', '2001:db8:f::1', 300);
    d = t.admission('198.51.100.1', '198.51.100.0/24', 355);
    assert.equal(d.admit && d.evict?.conn, 'b', 'b, stalled since 100, before a (110); e and f are still in their grace');
    assert.equal(d.admit && d.evict !== null && d.reason, 'evicted_slow');
  });

  it('when all are young and busy, evicts the oldest of the prefix holding the most, never making the newcomer the biggest', () => {
    const t = table();
    open(t, 'a1', '192.0.2.1', 0);
    open(t, 'a2', '192.0.2.2', 1);
    open(t, 'a3', '192.0.2.3', 2);
    open(t, 'b1', '198.51.100.1', 3);
    const d = t.admission('203.0.113.1', '203.0.113.0/24', 10);
    assert.equal(d.admit && d.evict?.conn, 'a1');
    assert.equal(d.admit && d.evict !== null && d.reason, 'evicted_prefix');
    // From the biggest prefix itself, or from one that would become as big: refused.
    assert.deepEqual(t.admission('192.0.2.9', '192.0.2.0/24', 10), { admit: false, reason: 'refused_full' });
    open(t, 'c1', '203.0.113.1', 10); // a1 out; now a:2 b:1 c:1
    assert.deepEqual(t.admission('198.51.100.2', '198.51.100.0/24', 11), { admit: false, reason: 'refused_full' });
    const e = t.admission('2001:db8::1', '2001:db8::/56', 11);
    assert.equal(e.admit && e.evict?.conn, 'a2');
  });

  it('keeps the largest prefix right as counts go up and down', () => {
    const t = table({ capacity: 6 });
    const a = [1, 2, 3].map((i) => open(t, `a${i}`, `192.0.2.${i}`, 0).entry!);
    open(t, 'b1', '198.51.100.1', 0);
    open(t, 'b2', '198.51.100.2', 0);
    open(t, 'c1', '203.0.113.1', 0);
    t.delete(a[0]!);
    t.delete(a[1]!); // a:1 b:2 c:1
    open(t, 'd1', '2001:db8:d::1', 0);
    open(t, 'd2', '2001:db8:d::2', 0);
    const d = t.admission('2001:db8:9::9', '2001:db8:9::/56', 1);
    assert.equal(d.admit && d.evict?.conn, 'b1', 'b and d hold two; b reached two first');
  });

  it('names connections out of time: idle and silent ones after the idle timeout, stalled ones after the I/O timeout', () => {
    const t = table({ capacity: 10 });
    const fresh = open(t, 'fresh', '192.0.2.1', 0).entry!;
    const idle = open(t, 'idle', '192.0.2.2', 0).entry!;
    const slow = open(t, 'slow', '192.0.2.3', 0).entry!;
    t.idle(idle, 100);
    t.stalled(slow, 500);
    assert.equal(t.expired(2499), null);
    assert.deepEqual(t.expired(2500), { entry: slow, reason: 'io_timeout' });
    t.delete(slow);
    assert.equal(t.expired(9999), null);
    assert.deepEqual(t.expired(10_000), { entry: fresh, reason: 'idle_timeout' });
    t.delete(fresh);
    assert.deepEqual(t.expired(10_100), { entry: idle, reason: 'idle_timeout' });
  });

  it('restarts the clock when a connection changes what it is doing', () => {
    const t = table({ capacity: 10 });
    const c = open(t, 'c', '192.0.2.1', 0).entry!;
    t.stalled(c, 1000);
    t.idle(c, 2500); // the message arrived in time
    assert.equal(t.expired(5000), null, 'idle now: the I/O deadline no longer applies');
    t.stalled(c, 6000);
    assert.deepEqual(t.expired(8000), { entry: c, reason: 'io_timeout' });
  });
});

describe('sourcePrefix', () => {
  it('is the /24 of an IPv4 address and the /56 of an IPv6 one', () => {
    assert.equal(sourcePrefix('192.0.2.77'), '192.0.2.0/24');
    assert.equal(sourcePrefix('::ffff:192.0.2.77'), '192.0.2.0/24');
    assert.equal(sourcePrefix('2001:db8:1:2345::9'), '2001:db8:1:2300::/56');
    assert.equal(sourcePrefix('2001:db8:1:23ff:1:2:3:4'), '2001:db8:1:2300::/56');
    assert.equal(sourcePrefix('2001:db8::'), '2001:db8:0:0::/56');
    assert.equal(sourcePrefix('::1'), '0:0:0:0::/56');
    assert.equal(sourcePrefix('fe80::1%eth0'), 'fe80:0:0:0::/56');
    assert.equal(sourcePrefix('::a:b:c:d:1.2.3.4'), '0:0:a:0::/56', 'a dotted tail fills two groups');
  });

  it('takes other prefix lengths, cutting inside an octet or a group where they fall', () => {
    assert.equal(sourcePrefix('192.0.2.77', 16), '192.0.0.0/16');
    assert.equal(sourcePrefix('198.51.100.77', 20), '198.51.96.0/20');
    assert.equal(sourcePrefix('192.0.2.77', 32), '192.0.2.77/32');
    assert.equal(sourcePrefix('192.0.2.77', 0), '0.0.0.0/0');
    assert.equal(sourcePrefix('2001:db8:1:2345::9', 24, 48), '2001:db8:1::/48');
    assert.equal(sourcePrefix('2001:db8:1:2345::9', 24, 64), '2001:db8:1:2345::/64');
    assert.equal(sourcePrefix('2001:db8:1:2345:6:7:8:9', 24, 124), '2001:db8:1:2345:6:7:8:0/124');
    assert.equal(sourcePrefix('2001:db8:1:2345:6:7:8:9', 24, 128), '2001:db8:1:2345:6:7:8:9/128');
    assert.equal(sourcePrefix('2001:db8:1:2345::9', 24, 0), '::/0');
  });

  it('leaves text that is no address as its own key', () => {
    assert.equal(sourcePrefix('not-an-address'), 'not-an-address');
  });
});
