// Catalog zones (RFC 9432 v2): the members read from a compiled catalog, the broken catalogs that
// must not be processed, name clashes, and what a new version adds, removes and resets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catalogChanges, readCatalog, type CatalogMember } from '../../src/secondary/catalog.js';
import { loadZoneText } from '../../src/zone/read-zone.js';
import type { Zone } from '../../src/zone/zone.js';

const HEAD = ['$TTL 0', '@ SOA invalid. invalid. 1 3600 600 2147483646 0', '@ NS invalid.'];

function catalog(...lines: string[]): Zone {
  const r = loadZoneText([...HEAD, ...lines].join('\n') + '\n', 'catalog.example.');
  assert.deepEqual(r.errors, []);
  return r.zone!;
}

const member = (id: string, zone: string, extra: Partial<CatalogMember> = {}): CatalogMember => ({ id, zone, groups: [], coo: null, ...extra });

describe('readCatalog', () => {
  it('lists each unique-N PTR under zones as a member, with its group and coo properties', () => {
    const r = readCatalog(
      catalog(
        'version TXT "2"',
        'a1.zones PTR Example.COM.',
        'group.a1.zones TXT "primary-eu" "-x"',
        'b2.zones PTR example.net.',
        'coo.b2.zones PTR other-catalog.example.',
        'ext.b2.zones TXT "ignored"',
        'c3.zones TXT "not a member: no PTR"',
        'something.else A 192.0.2.1',
      ),
    );
    assert.equal(r.error, null);
    assert.deepEqual(
      r.members?.sort((a, b) => (a.id < b.id ? -1 : 1)),
      [member('a1', 'example.com.', { groups: ['primary-eu-x'] }), member('b2', 'example.net.', { coo: 'other-catalog.example.' })],
    );
  });

  it('refuses a catalog without version 2, or with a member or coo of two PTR records', () => {
    assert.match(readCatalog(catalog('a1.zones PTR example.com.')).error ?? '', /version\.catalog\.example\. TXT must be one record "2" \(found none\)/);
    assert.match(readCatalog(catalog('version TXT "1"', 'a1.zones PTR example.com.')).error ?? '', /found "1"/);
    assert.match(readCatalog(catalog('version TXT "2"', 'version TXT "1"')).error ?? '', /found "2", "1"|found "1", "2"/);
    const two = readCatalog(catalog('version TXT "2"', 'a1.zones PTR example.com.', 'a1.zones PTR example.org.'));
    assert.equal(two.members, null);
    assert.match(two.error ?? '', /a1\.zones\.catalog\.example\. has 2 PTR records/);
    const coo = readCatalog(catalog('version TXT "2"', 'a1.zones PTR example.com.', 'coo.a1.zones PTR x.example.', 'coo.a1.zones PTR y.example.'));
    assert.match(coo.error ?? '', /coo\.a1\.zones\.catalog\.example\. has 2 PTR records/);
  });

  it('a member zone under two unique IDs: the instance already served stays, the other is ignored and said', () => {
    const z = catalog('version TXT "2"', 'a1.zones PTR example.com.', 'b2.zones PTR example.com.');
    const fresh = readCatalog(z);
    assert.deepEqual(fresh.members, [member('a1', 'example.com.')]);
    assert.match(fresh.ignored[0] ?? '', /example\.com\. under b2: already a member under a1/);
    const kept = readCatalog(z, [member('b2', 'example.com.')]);
    assert.deepEqual(kept.members, [member('b2', 'example.com.')]);
    assert.match(kept.ignored[0] ?? '', /under a1: already a member under b2/);
  });
});

describe('catalogChanges', () => {
  it('by zone name: added, removed, and reset when the unique ID changed', () => {
    const before = [member('a1', 'a.example.'), member('b1', 'b.example.'), member('c1', 'c.example.')];
    const after = [member('a1', 'a.example.'), member('b2', 'b.example.'), member('d1', 'd.example.')];
    assert.deepEqual(catalogChanges(before, after), { added: [member('d1', 'd.example.')], removed: [member('c1', 'c.example.')], reset: [member('b2', 'b.example.')] });
    assert.deepEqual(catalogChanges(after, after), { added: [], removed: [], reset: [] });
  });
});
