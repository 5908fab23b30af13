// The secondary's pure parts, as tables: a transfer's records told apart (RFC 5936 §2.2, RFC 1995
// §4), an IXFR applied to the version served, the version written as a master file that reads back
// the same, and the SOA timers within their bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRefreshS, expireS } from '../../src/secondary/timers.js';
import { applyDiffs, masterFile } from '../../src/secondary/versions.js';
import { TransferStream, type InRecord } from '../../src/wire/xfr-in.js';
import { nameFromText } from '../../src/zone/name.js';
import { allRecords, soaRecord } from '../../src/wire/axfr.js';
import type { ZoneDiff } from '../../src/zone/patch.js';
import { loadPatchedZone, loadZoneText } from '../../src/zone/read-zone.js';
import { T } from '../../src/zone/types.js';
import type { CompactZone, Zone } from '../../src/zone/zone.js';

const ORIGIN = 'x.example.';

function soa(serial: number): InRecord {
  const rdata = Buffer.concat([nameFromText('ns.x.example.', null), nameFromText('h.x.example.', null), Buffer.alloc(20)]);
  rdata.writeUInt32BE(serial, rdata.length - 20);
  for (const [i, v] of [3600, 600, 86400, 300].entries()) rdata.writeUInt32BE(v, rdata.length - 16 + 4 * i);
  return { owner: nameFromText(ORIGIN, null), type: T.SOA, ttl: 300, rdata };
}

function a(name: string, last: number): InRecord {
  return { owner: nameFromText(`${name}.${ORIGIN}`, null), type: T.A, ttl: 300, rdata: Buffer.from([192, 0, 2, last]) };
}

function zone(text: string): Zone {
  const r = loadZoneText(`$ORIGIN ${ORIGIN}\n$TTL 300\n@ SOA ns h 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n${text}`, ORIGIN);
  assert.deepEqual(r.errors, []);
  return r.zone!;
}

describe('TransferStream', () => {
  const cases: { name: string; incremental: boolean; messages: InRecord[][]; want: string | RegExp }[] = [
    { name: 'AXFR in one message', incremental: false, messages: [[soa(2), a('a', 1), soa(2)]], want: 'axfr 1' },
    { name: 'AXFR over two messages', incremental: false, messages: [[soa(2), a('a', 1)], [a('b', 2), soa(2)]], want: 'axfr 2' },
    { name: 'IXFR answered with the SOA alone: current', incremental: true, messages: [[soa(1)]], want: 'current' },
    { name: 'IXFR answered AXFR-style', incremental: true, messages: [[soa(2), a('a', 1), a('b', 2), soa(2)]], want: 'axfr 2' },
    { name: 'IXFR, one difference', incremental: true, messages: [[soa(2), soa(1), a('a', 1), soa(2), a('a', 2), soa(2)]], want: 'ixfr 1' },
    { name: 'IXFR, two differences chained', incremental: true, messages: [[soa(3), soa(1), a('a', 1), soa(2), a('a', 2)], [soa(2), soa(3), a('b', 3), soa(3)]], want: 'ixfr 2' },
    { name: 'a difference that does not follow the one before', incremental: true, messages: [[soa(3), soa(1), soa(2), soa(5), soa(3), soa(3)]], want: /a difference from serial 5 follows one to serial 2/ },
    { name: 'no SOA first', incremental: false, messages: [[a('a', 1), soa(2)]], want: /does not begin with the SOA/ },
    { name: 'records after the closing SOA', incremental: false, messages: [[soa(2), soa(2), a('a', 1)]], want: /after the closing SOA/ },
    { name: 'another serial inside an AXFR', incremental: false, messages: [[soa(2), a('a', 1), soa(3)]], want: /a SOA of serial 3 inside/ },
  ];
  for (const c of cases) {
    it(`${c.name} → ${String(c.want)}`, () => {
      const s = new TransferStream(c.incremental);
      const run = (): string => {
        for (const m of c.messages) s.add(m);
        const got = s.content;
        if (got === null) return 'unfinished';
        return got.style === 'current' ? 'current' : got.style === 'axfr' ? `axfr ${got.records.length}` : `ixfr ${got.diffs.length}`;
      };
      if (typeof c.want === 'string') assert.equal(run(), c.want);
      else assert.throws(run, c.want);
    });
  }
  it('an unfinished AXFR has no content yet', () => {
    const s = new TransferStream(false);
    s.add([soa(2), a('a', 1)]);
    assert.equal(s.content, null);
  });
});

const served = zone('a A 192.0.2.10\nb A 192.0.2.11\n');

/** The version `diff` makes of the served one, as master file text. */
function printed(diff: ZoneDiff): string {
  const r = loadPatchedZone((served as CompactZone).parts(), diff, 'x.example.zone');
  assert.deepEqual(r.errors, []);
  return [...masterFile(ORIGIN, soaRecord(r.zone!), allRecords(r.zone!))].join('');
}

describe('applyDiffs', () => {
  it('deletes and adds, whatever the case of the names sent', () => {
    const got = applyDiffs(served, [{ from: soa(1), to: soa(2), deleted: [{ ...a('A', 10) }], added: [a('c', 12)] }]);
    assert.ok(typeof got !== 'string', String(got));
    const text = printed(got);
    const back = loadZoneText(text, ORIGIN);
    assert.deepEqual(back.errors, []);
    assert.equal(back.zone!.serial, 2);
    assert.equal(back.zone!.nodes.get(served.origin) !== undefined, true);
    assert.match(text, /^c\.x\.example\.\t300\tIN\tA\t192\.0\.2\.12$/m);
    assert.doesNotMatch(text, /^a\.x\.example\./m);
    // SOA, NS, ns A, b A, c A.
    assert.equal(back.zone!.recordCount, 5);
  });
  it('differences in a chain: a record added then deleted, one deleted then added again, one added where it is (its TTL new)', () => {
    const got = applyDiffs(served, [
      { from: soa(1), to: soa(2), deleted: [a('a', 10)], added: [a('c', 12), { ...a('b', 11), ttl: 60 }] },
      { from: soa(2), to: soa(3), deleted: [a('c', 12)], added: [a('a', 10)] },
    ]);
    assert.ok(typeof got !== 'string', String(got));
    const text = printed(got);
    assert.match(text, /^a\.x\.example\.\t300\tIN\tA\t192\.0\.2\.10$/m);
    assert.match(text, /^b\.x\.example\.\t60\tIN\tA\t192\.0\.2\.11$/m);
    assert.doesNotMatch(text, /^c\.x\.example\./m);
    assert.equal(text.match(/^b\.x\.example\./gm)?.length, 1);
    assert.equal(loadZoneText(text, ORIGIN).zone!.serial, 3);
    // Deleted twice: the second finds nothing to delete.
    assert.match(String(applyDiffs(served, [{ from: soa(1), to: soa(2), deleted: [a('a', 10)], added: [] }, { from: soa(2), to: soa(3), deleted: [a('a', 10)], added: [] }])), /serial 3 deletes a\.x\.example\. type 1/);
  });
  it('a record to delete that is not there', () => {
    assert.match(String(applyDiffs(served, [{ from: soa(1), to: soa(2), deleted: [a('zz', 1)], added: [] }])), /deletes zz\.x\.example\. type 1, which the version served does not hold/);
  });
  it('a chain that does not start at the serial served', () => {
    assert.match(String(applyDiffs(served, [{ from: soa(7), to: soa(8), deleted: [], added: [] }])), /start at serial 7, not at the 1 served/);
  });
});

describe('SOA timers within their bounds', () => {
  const b = { refreshMin: 60, refreshMax: 3600, retryMin: 10, retryMax: 600, expireMin: 3600, expireMax: 86400 };
  const soaTimers = { refresh: 7200, retry: 5, expire: 604800 };
  it('refresh after a success, capped', () => assert.equal(nextRefreshS(soaTimers, true, b), 3600));
  it('retry after a failure, raised', () => assert.equal(nextRefreshS(soaTimers, false, b), 10));
  it('no SOA yet: a minute, within the retry bounds', () => assert.equal(nextRefreshS(null, false, b), 60));
  it('expire, capped', () => assert.equal(expireS(soaTimers, b), 86400));
});
