import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { load, messages, records, SOA_NS } from './helpers.js';
import { BUNDLED_ZONES_DIR, ROOT_ZONE_2018 } from '../helpers/paths.js';
import { readZoneDir } from '../../src/sync/zone-files.js';
import { loadZoneFile } from '../../src/zone/read-zone.js';
import { NodeFlag } from '../../src/zone/zone.js';
import { nameFromText, nameKey } from '../../src/zone/name.js';

const rootZone = ROOT_ZONE_2018;
const key = (t: string) => nameKey(nameFromText(t, null));

test('exactly one SOA, at the apex', () => {
  const none = load('$TTL 1\n@ NS ns1\nns1 A 192.0.2.1\n');
  assert.deepEqual(messages(none), ['test.zone:1: zone example.com. has no SOA record']);
  const two = load(`${SOA_NS}@ SOA ns1 hm 2 2 3 4 5\n`);
  assert.deepEqual(messages(two), ['test.zone:5: example.com.: multiple RRs of singleton type SOA']);
  const notApex = load(`${SOA_NS}x SOA ns1 hm 2 2 3 4 5\n`);
  assert.deepEqual(messages(notApex), ['test.zone:5: SOA record not at top of zone (x.example.com.)']);
});

test('NS at the apex is required', () => {
  const r = load('$TTL 1\n@ SOA ns1 hm 1 2 3 4 5\nns1 A 192.0.2.1\n');
  assert.deepEqual(messages(r), ['test.zone:2: zone example.com. has no NS records at the apex']);
});

test('CNAME and other data; two CNAMEs', () => {
  assert.deepEqual(messages(load(`${SOA_NS}x CNAME ns1\nx A 192.0.2.1\n`)), ['test.zone:6: x.example.com.: CNAME and other data']);
  assert.deepEqual(messages(load(`${SOA_NS}x A 192.0.2.1\nx CNAME ns1\n`)), ['test.zone:6: x.example.com.: CNAME and other data']);
  assert.deepEqual(messages(load(`${SOA_NS}x CNAME ns1\nx CNAME ns2\n`)), ['test.zone:6: x.example.com.: multiple RRs of singleton type CNAME']);
});

test('data below a DNAME and below a delegation is occluded (warning); glue is not', () => {
  const r = load(`${SOA_NS}d DNAME example.net.\nx.d A 192.0.2.1\nsub NS ns.sub\nns.sub A 192.0.2.2\nwww.sub TXT "hidden"\n`);
  assert.ok(r.zone);
  assert.deepEqual(messages(r, 'warnings'), [
    'test.zone:6: x.d.example.com. A is occluded by the DNAME at d.example.com.',
    'test.zone:9: www.sub.example.com. TXT is occluded by a delegation',
  ]);
});

test('data outside the origin is ignored with a warning', () => {
  const r = load(`${SOA_NS}www.example.net. A 192.0.2.1\n`);
  assert.ok(r.zone);
  assert.deepEqual(messages(r, 'warnings'), ['test.zone:5: ignoring out-of-zone data (www.example.net.)']);
  assert.ok(!records(r).some((l) => l.includes('example.net. 300 IN A')));
});

test('an in-zone NS target needs an address', () => {
  const r = load(`${SOA_NS}@ NS ns9\nsub NS ns.sub\n`);
  assert.deepEqual(messages(r), [
    "test.zone:5: NS 'ns9.example.com' has no address records (A or AAAA)",
    "test.zone:6: NS 'ns.sub.example.com' has no address records (A or AAAA)",
  ]);
  assert.ok(load(`${SOA_NS}sub NS ns.example.net.\n`).zone, 'out-of-zone targets are not checked');
});

test('TTLs differing inside an RRset: warning, the first TTL wins', () => {
  const r = load(`${SOA_NS}x 300 A 192.0.2.1\nx 600 A 192.0.2.2\n`);
  assert.deepEqual(messages(r, 'warnings'), ['test.zone:6: x.example.com. A: TTL 600 differs from the RRset\'s; set to prior TTL (300)']);
  assert.ok(records(r).includes('x.example.com. 300 IN A 192.0.2.2'));
});

test('duplicate records are dropped with a warning (names compared case-insensitively)', () => {
  const r = load(`${SOA_NS}x A 192.0.2.1\nx A 192.0.2.1\n@ NS NS1\n`);
  assert.deepEqual(messages(r, 'warnings'), ['test.zone:6: duplicate A record at x.example.com. ignored', 'test.zone:7: duplicate NS record at example.com. ignored']);
  assert.equal(r.zone!.recordCount, 4);
});

test('compiled zone: ENTs are nodes; apex, delegation, below-cut and wildcard flags', () => {
  const r = load(`${SOA_NS}a.b.c A 192.0.2.1\nsub NS ns.sub\nns.sub A 192.0.2.2\n*.w TXT "x"\n`);
  const z = r.zone!;
  const flags = (t: string) => z.nodes.get(key(t))!.flags;
  assert.ok(flags('example.com.') & NodeFlag.Apex);
  assert.ok(flags('b.c.example.com.') & NodeFlag.EmptyNonTerminal);
  assert.ok(flags('c.example.com.') & NodeFlag.EmptyNonTerminal);
  assert.ok(flags('sub.example.com.') & NodeFlag.Delegation);
  assert.ok(flags('ns.sub.example.com.') & NodeFlag.BelowCut);
  assert.ok(flags('w.example.com.') & NodeFlag.WildcardChild);
  assert.equal(z.serial, 1);
});

test('the bundled zones load cleanly', () => {
  const { zones, results } = readZoneDir(BUNDLED_ZONES_DIR);
  for (const r of results) assert.deepEqual([...r.errors, ...r.warnings], [], r.file);
  assert.ok(zones.zones.size >= 2);
  assert.ok(zones.find(key('www.example.com.')));
});

test('the 2018 root zone loads; its trailing second SOA is a dropped duplicate', () => {
  assert.ok(existsSync(rootZone), `${rootZone} is missing: the repository must be cloned beside shared/`);
  const r = loadZoneFile(rootZone);
  assert.deepEqual(r.errors, []);
  assert.equal(r.origin, '.');
  assert.equal(r.zone!.serial, 2018031200);
  assert.equal(r.zone!.recordCount, 19597);
  assert.deepEqual(messages(r, 'warnings').map((m) => m.replace(/^.*\//, '')), ['root-2018-03-12.zone:19598: duplicate SOA record at . ignored']);
});

test('zones built one after another are each whole: a builder reuses the last one\'s record arrays, never what a zone keeps', () => {
  const first = load(`${SOA_NS}${Array.from({ length: 300 }, (_, i) => `h${i} A 192.0.2.${i % 250}\nh${i} TXT "first ${i}"\n`).join('')}`);
  const printed = records(first);
  // Fewer records, other names and data, in the arrays the first zone's builder left.
  const second = load(`${SOA_NS}www A 198.51.100.7\nmail MX 10 www\n`, 'example.org.');
  assert.deepEqual(records(second), [
    'example.org. 300 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300',
    'example.org. 300 IN NS ns1.example.org.',
    'mail.example.org. 300 IN MX 10 www.example.org.',
    'ns1.example.org. 300 IN A 192.0.2.53',
    'www.example.org. 300 IN A 198.51.100.7',
  ]);
  assert.deepEqual(records(first), printed, 'the first zone is as it was');
  assert.equal(printed.length, 3 + 600);
  // A small zone's data fits the first chunk, which the next builder takes: the zone must not keep it.
  const third = load(`${SOA_NS}a TXT "third zone"\nb A 203.0.113.9\n`, 'example.net.');
  const thirdPrinted = records(third);
  assert.ok(thirdPrinted.includes('a.example.net. 300 IN TXT "third zone"'));
  load(`${SOA_NS}c TXT "fourth zone, longer than the third's"\nd AAAA 2001:db8::4\n`, 'example.net.');
  assert.deepEqual(records(third), thirdPrinted, 'the third zone is as it was after the fourth took its builder\'s chunk');
  // A diagnostic's line comes from the builder's arrays too: the second build's, not the first's.
  assert.deepEqual(messages(load(`${SOA_NS}x CNAME ns1\nx A 192.0.2.1\n`)), ['test.zone:6: x.example.com.: CNAME and other data']);
});
