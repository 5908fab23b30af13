// Which files are zones: `<origin>.zone`, never what sync tools and editors leave while working.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { discoverZoneFiles, isWorkInProgressName } from '../../src/sync/zone-files.js';

describe('zone file discovery', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-discover-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ignores rsync temp files, editor backups and swap files, partial downloads', () => {
    for (const n of ['.example.com.zone.Ab12Cd', 'example.com.zone~', '.example.com.zone.swp', 'example.com.zone.tmp', 'example.com.zone.part', 'x.zone.SWP']) {
      assert.equal(isWorkInProgressName(n), true, n);
    }
    for (const n of ['example.com.zone', 'root.zone', 'hosts.inc']) assert.equal(isWorkInProgressName(n), false, n);
  });

  it('finds <origin>.zone files, lower-cased, the root as root.zone, and nothing else', () => {
    for (const n of ['Example.COM.zone', 'root.zone', '2.0.192.in-addr.arpa.zone', 'hosts.inc', '.x.zone.A1b2C3', 'y.zone.tmp', 'README']) writeFileSync(join(dir, n), '');
    const found = discoverZoneFiles(dir, null);
    assert.ok(!(found instanceof Error));
    assert.deepEqual([...found.entries()], [
      ['2.0.192.in-addr.arpa.', join(dir, '2.0.192.in-addr.arpa.zone')],
      ['example.com.', join(dir, 'Example.COM.zone')],
      ['.', join(dir, 'root.zone')],
    ]);
  });

  it('takes a configured list (origin → file relative to the directory) instead', () => {
    const found = discoverZoneFiles(dir, new Map([['Example.net', 'db/example.net'], ['.', '/srv/root.db']]));
    assert.ok(!(found instanceof Error));
    assert.deepEqual([...found.entries()], [['example.net.', join(dir, 'db/example.net')], ['.', '/srv/root.db']]);
  });

  it('reports an unreadable directory as an error, never as "no zones"', () => {
    assert.ok(discoverZoneFiles(join(dir, 'missing'), null) instanceof Error);
  });
});
