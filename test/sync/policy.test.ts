// Zone sync's decisions, as tables: serial arithmetic (RFC 1982), the serial policy, and the two
// guards against sync accidents, with and without an operator's --force.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSerials, judgeRemovals, judgeVersion, type SyncPolicy } from '../../src/sync/policy.js';

const policy: SyncPolicy = { serialPolicy: 'increase', maxRecordLoss: 0.5, maxZoneLoss: 0.5 };

describe('compareSerials (RFC 1982 §3.2)', () => {
  const cases: [number, number, number][] = [
    [1, 1, 0],
    [2, 1, 1],
    [1, 2, -1],
    [0, 0xffffffff, 1], // wrapped: 0 follows 4294967295
    [0xffffffff, 0, -1],
    [0x7fffffff, 0, 1],
    [0x80000000, 0, 0], // exactly 2^31 apart: undefined, neither greater
    [2026113001, 2026112999, 1],
  ];
  for (const [a, b, want] of cases) it(`${a} vs ${b} → ${want}`, () => assert.equal(compareSerials(a, b), want));
});

describe('judgeVersion', () => {
  const served = { serial: 100, records: 1000 };
  const cases: { name: string; next: { serial: number; records: number }; p?: Partial<SyncPolicy>; force?: boolean; want: string; match?: RegExp }[] = [
    { name: 'a newer serial', next: { serial: 101, records: 1000 }, want: 'accept' },
    { name: 'a serial that wrapped forward', next: { serial: 5, records: 1000 }, want: 'refuse' },
    { name: 'an older serial', next: { serial: 99, records: 1000 }, want: 'refuse', match: /serial 99 is not newer than the served 100/ },
    { name: 'an older serial under serial_policy any', next: { serial: 99, records: 1000 }, p: { serialPolicy: 'any' }, want: 'accept' },
    { name: 'an older serial, forced', next: { serial: 99, records: 1000 }, force: true, want: 'accept' },
    { name: 'the same serial (content changed)', next: { serial: 100, records: 1000 }, want: 'accept', match: /serial 100 did not/ },
    { name: 'half the records lost: not more than the limit', next: { serial: 101, records: 500 }, want: 'accept' },
    { name: 'more than half the records lost', next: { serial: 101, records: 499 }, want: 'hold', match: /499 records, 50% fewer than the 1000 served \(limit 50%\)/ },
    { name: 'records lost under a stricter share', next: { serial: 101, records: 800 }, p: { maxRecordLoss: 0.1 }, want: 'hold' },
    { name: 'records lost, forced', next: { serial: 101, records: 3 }, force: true, want: 'accept' },
    { name: 'records gained', next: { serial: 101, records: 5000 }, want: 'accept' },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want}`, () => {
      const v = judgeVersion(served, c.next, { ...policy, ...c.p }, c.force === true);
      assert.equal(v.action, c.want);
      if (c.match) assert.match(v.action === 'accept' ? (v.note ?? '') : v.reason, c.match);
    });
  }
  it('a new zone is accepted whatever it holds', () => assert.equal(judgeVersion(null, { serial: 0, records: 2 }, policy, false).action, 'accept'));
});

describe('judgeRemovals', () => {
  it('removes one zone of two (exactly half)', () => assert.equal(judgeRemovals(2, 1, policy, false).action, 'accept'));
  it('holds the removal of the only zone (an emptied directory)', () => {
    const v = judgeRemovals(1, 1, policy, false);
    assert.equal(v.action, 'hold');
    assert.match(v.action === 'hold' ? v.reason : '', /1 of 1 zones would stop being served at once \(limit 50%\)/);
  });
  it('holds removing 3 of 5', () => assert.equal(judgeRemovals(5, 3, policy, false).action, 'hold'));
  it('removes 3 of 5 when forced', () => assert.equal(judgeRemovals(5, 3, policy, true).action, 'accept'));
  it('removes 3 of 5 when the share allows it', () => assert.equal(judgeRemovals(5, 3, { ...policy, maxZoneLoss: 0.6 }, false).action, 'accept'));
  it('nothing removed, nothing to judge', () => assert.equal(judgeRemovals(0, 0, policy, false).action, 'accept'));
});
