// Which files are zones: `<origin>.zone`, never what sync tools and editors leave while working; and
// `anycast-dns check` reads a zones directory exactly as `serve` does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { canonicalOrigin, discoverZoneFiles, findZoneFile, isWorkInProgressName, zoneOfFileName } from '../../src/sync/zone-files.js';
import { CLI_JS } from '../helpers/paths.js';
import { freePort, startAnycastDns } from '../helpers/peers.js';
import { zoneText } from '../helpers/zone-text.js';

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

  it('reads a zone off a canonical file name as parsing the name would, and only a domain name', () => {
    const label63 = 'a'.repeat(63);
    const longest = `${label63}.${label63}.${label63}.${'b'.repeat(61)}`; // 253 characters: 255 octets in wire form
    const parsed = (n: string): string | null => {
      try {
        return canonicalOrigin(n.slice(0, -'.zone'.length));
      } catch {
        return null;
      }
    };
    for (const n of ['a.zone', 'x_y-z.example.zone', '0.0.127.in-addr.arpa.zone', `${label63}.zone`, `${longest}.zone`, 'Mixed.Case.zone']) {
      assert.equal(zoneOfFileName(n), parsed(n), n);
      assert.notEqual(zoneOfFileName(n), null, n);
    }
    for (const n of [`${label63}a.zone`, `c${longest}.zone`, 'a..b.zone', '.zone']) assert.equal(zoneOfFileName(n), null, n);
    assert.equal(zoneOfFileName('root.zone'), '.');
  });

  it('finds one zone\'s file among the files named, as a listing would choose it', () => {
    for (const n of ['Example.ORG.zone', 'example.org.zone', '.example.org.zone.Zz9']) writeFileSync(join(dir, n), '');
    const files = ['example.org.zone', 'Example.ORG.zone', '.example.org.zone.Zz9', 'other.org.zone', 'gone.example.org.zone'].map((n) => join(dir, n));
    const listed = discoverZoneFiles(dir, null);
    assert.ok(!(listed instanceof Error));
    // The first in sorted order, as discoverZoneFiles takes it; a temp file, another zone's file and a missing file are not it.
    assert.equal(findZoneFile('example.org.', files), listed.get('example.org.'));
    assert.equal(findZoneFile('example.org.', [files[1], files[0]]), join(dir, 'Example.ORG.zone'));
    assert.equal(findZoneFile('example.org.', [files[0], undefined]), join(dir, 'example.org.zone'));
    assert.equal(findZoneFile('example.org.', files.slice(2)), null);
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

/** Zone → serial served (null: refused or broken), as `check` reports it. */
function checked(args: string[]): Record<string, number | null> {
  const r = spawnSync(process.execPath, [CLI_JS, 'check', ...args], { encoding: 'utf8' });
  const out: Record<string, number | null> = {};
  for (const m of (r.stdout + r.stderr).matchAll(/^zone (\S+)\/IN: (?:loaded serial (\d+)|not loaded)/gm)) {
    const zone = m[1] === '.' ? '.' : `${m[1]!.toLowerCase()}.`;
    assert.ok(!(zone in out), `check reported ${zone} twice:\n${r.stdout}${r.stderr}`);
    out[zone] = m[2] === undefined ? null : Number(m[2]);
  }
  return out;
}

/** The same, as a running server's GET /zones reports it. */
async function served(zonesDir: string, extraConfig: Record<string, unknown>): Promise<{ zones: Record<string, number | null>; config: string; stop: () => Promise<void> }> {
  const mport = await freePort(false);
  // b.test. is served in both layouts: the readiness check asks for it.
  const server = await startAnycastDns([{ origin: 'b.test.', file: join(zonesDir, 'b.test.zone') }], { zonesDir, ipv6: false, extraConfig: { management: { listen: `127.0.0.1:${mport}` }, ...extraConfig } });
  try {
    const body = (await (await fetch(`http://127.0.0.1:${mport}/zones`)).json()) as { zones: { zone: string; state: string; serial: number | null }[] };
    const zones: Record<string, number | null> = {};
    for (const z of body.zones) zones[z.zone] = z.state === 'ok' ? z.serial : null;
    return { zones, config: join(server.dir, 'anycast-dns.yaml'), stop: () => server.stop() };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

describe('check and serve read a zones directory alike', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-agree-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const put = (name: string, text: string): void => writeFileSync(join(dir, name), text);
  // Two files naming one zone (the first in sorted order is the zone), a broken zone, a name that is
  // no domain name, and the files sync tools and editors leave while they work.
  put('A.Test.zone', zoneText('a.test', 7));
  put('a.test.zone', zoneText('a.test', 1));
  put('b.test.zone', zoneText('b.test', 2));
  put('c.test.zone', 'this is not a zone\n');
  put('bad..name.zone', zoneText('x.test', 3));
  put('.d.test.zone', zoneText('d.test', 4));
  put('.d.test.zone.Ab12Cd', zoneText('d.test', 4));
  put('e.test.zone.tmp', zoneText('e.test', 5));
  put('f.test.zone~', zoneText('f.test', 6));
  put('g.test.zone.swp', zoneText('g.test', 6));
  put('hosts.inc', 'www A 192.0.2.1\n');
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'db', 'h.test'), zoneText('h.test', 8));

  it('every <origin>.zone file', async () => {
    const server = await served(dir, {});
    try {
      assert.deepEqual(server.zones, { 'a.test.': 7, 'b.test.': 2, 'c.test.': null });
      assert.deepEqual(checked([dir]), server.zones);
      assert.deepEqual(checked(['--config', server.config]), server.zones);
    } finally {
      await server.stop();
    }
  });

  it('the zones zone_files lists, and only those', async () => {
    const server = await served(dir, { zone_files: { 'H.test': 'db/h.test', 'b.test': 'b.test.zone', 'i.test': 'missing.zone' } });
    try {
      assert.deepEqual(server.zones, { 'h.test.': 8, 'b.test.': 2, 'i.test.': null });
      assert.deepEqual(checked(['--config', server.config]), server.zones);
    } finally {
      await server.stop();
    }
  });
});
