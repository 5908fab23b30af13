// A difference applied to a compiled zone (zone/patch.ts) gives the zone a whole build of the new
// version's text gives: the same names, flags (empty non-terminals, wildcards), RRsets and glue
// targets, whether the arrays were patched or the version was built from the records; and what
// the patch can't do exactly as the build would is left to the build.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyDiffs } from '../../src/secondary/versions.js';
import type { InRecord, IxfrDiff } from '../../src/wire/xfr-in.js';
import { keyToText, keyToWire, nameFromText } from '../../src/zone/name.js';
import { ZoneParser, type Diagnostic } from '../../src/zone/parser.js';
import { patchParts } from '../../src/zone/patch.js';
import { buildPatchedZone, loadPatchedZone, loadZoneText } from '../../src/zone/read-zone.js';
import { T } from '../../src/zone/types.js';
import { CompactZone, type Zone } from '../../src/zone/zone.js';

const ORIGIN = 'p.example.';
const BASE = ['mail MX 10 mx.other.example.', 'mail MX 20 later', 'www A 192.0.2.1', 'www A 192.0.2.2', 'x.y.ent A 192.0.2.3', 'txt TXT "one" "two"', 'sub NS ns.sub', 'ns.sub A 192.0.2.9', '*.wild A 192.0.2.4'];

function text(serial: number, lines: readonly string[]): string {
  return [`$ORIGIN ${ORIGIN}`, '$TTL 300', `@ SOA ns hostmaster ${serial} 3600 600 86400 300`, '@ NS ns', 'ns A 192.0.2.53', ...lines].join('\n') + '\n';
}

function load(serial: number, lines: readonly string[]): CompactZone {
  const r = loadZoneText(text(serial, lines), ORIGIN);
  assert.deepEqual(r.errors, []);
  return r.zone as CompactZone;
}

/** A record of the zone's text, as a transfer carries it. */
function rec(line: string): InRecord {
  const got: InRecord[] = [];
  const errors: Diagnostic[] = [];
  const sink = { add: (owner: string, type: number, ttl: number, rdata: Buffer) => got.push({ owner: keyToWire(owner), type, ttl, rdata: Buffer.from(rdata) }) };
  new ZoneParser({ origin: nameFromText(ORIGIN, null), zoneDir: '.', errors, warnings: [] }, sink).parseText(`$TTL 300\n${line}\n`, 'line');
  assert.deepEqual(errors, []);
  return got[0]!;
}

function soa(z: Zone): InRecord {
  return { owner: nameFromText(ORIGIN, null), type: T.SOA, ttl: z.soa.ttl, rdata: z.soa.rdatas[0]! };
}

/** Every name with its flags, RRsets (records sorted) and the names its NS, MX and SRV targets resolve to: what answers are made of. */
function dump(z: Zone): string[] {
  const out: string[] = [];
  for (let node = 0; node < z.nodes.size; node++) {
    const sets: string[] = [];
    for (let s = z.firstSetOf(node); s < z.firstSetOf(node + 1); s++) {
      const set = z.rrset(s);
      const targets = Array.from({ length: z.targetCount(s) }, (_, i) => z.targetNode(s, i)).map((t) => (t < 0 ? '-' : keyToText(z.nodeKey(t))));
      sets.push(`${set.type}/${set.ttl}:${set.rdatas.map((r) => r.toString('hex')).sort().join(',')}${targets.length > 0 ? ` → ${targets.sort().join(',')}` : ''}`);
    }
    out.push(`${keyToText(z.nodeKey(node))} flags ${z.nodeFlags(node)} ${sets.join(' ')}`);
  }
  return out.sort();
}

/** The served zone, the difference to the next serial, and the new version's text. */
function scenario(deleted: string[], added: string[], extra: { base?: string[] } = {}): { served: CompactZone; diff: IxfrDiff[]; want: CompactZone | null } {
  const baseLines = extra.base ?? BASE;
  const served = load(1, baseLines);
  const next = baseLines.filter((l) => !deleted.includes(l)).concat(added);
  const r = loadZoneText(text(2, next), ORIGIN);
  const to = { ...soa(served), rdata: Buffer.from(served.soa.rdatas[0]!) };
  to.rdata.writeUInt32BE(2, to.rdata.length - 20);
  return { served, diff: [{ from: soa(served), to, deleted: deleted.map(rec), added: added.map(rec) }], want: r.errors.length === 0 ? (r.zone as CompactZone) : null };
}

describe('a difference patched into the compiled zone', () => {
  const patched: { name: string; deleted: string[]; added: string[] }[] = [
    { name: 'a record added to an RRset', deleted: [], added: ['www A 192.0.2.7'] },
    { name: 'a record deleted from an RRset', deleted: ['www A 192.0.2.2'], added: [] },
    { name: 'a record replaced', deleted: ['www A 192.0.2.2'], added: ['www A 192.0.2.8'] },
    { name: 'a new name under new empty non-terminals', deleted: [], added: ['a.b.c.new A 192.0.2.10'] },
    { name: 'data at an existing empty non-terminal', deleted: [], added: ['y.ent TXT "now real"'] },
    { name: 'a wildcard added', deleted: [], added: ['*.fresh TXT "synthesised"'] },
    { name: 'the target of an existing MX added (its glue now in the zone)', deleted: [], added: ['later A 192.0.2.11'] },
    { name: 'an MX whose target is added with it', deleted: [], added: ['shop MX 5 mx.shop', 'mx.shop AAAA 2001:db8::5'] },
    { name: 'data at the apex', deleted: [], added: ['@ TXT "v=spf1 -all"'] },
    { name: 'a TXT RRset changed whole', deleted: ['txt TXT "one" "two"'], added: ['txt TXT "three"'] },
  ];
  for (const c of patched) {
    it(`${c.name}: patched, and the same as the version built whole and as its text`, () => {
      const { served, diff, want } = scenario(c.deleted, c.added);
      const d = applyDiffs(served, diff);
      assert.ok(typeof d !== 'string', String(d));
      const parts = patchParts(served.parts(), d);
      assert.ok(parts !== null, 'patched');
      const got = CompactZone.fromParts(parts);
      assert.deepEqual(dump(got), dump(want!));
      assert.equal(got.recordCount, want!.recordCount);
      assert.equal(got.serial, 2);
      assert.deepEqual(dump(buildPatchedZone(served, d, 'p.zone').zone!), dump(want!));
    });
  }

  const built: { name: string; deleted: string[]; added: string[]; error?: RegExp }[] = [
    { name: 'an address RRset deleted whole (an NS may need it)', deleted: ['ns.sub A 192.0.2.9'], added: [], error: /NS 'ns\.sub\.p\.example' has no address records/ },
    { name: 'a name deleted whole', deleted: ['txt TXT "one" "two"'], added: [] },
    { name: 'a delegation added', deleted: [], added: ['other NS ns.elsewhere.example.'] },
    { name: 'data below a zone cut', deleted: [], added: ['deep.sub TXT "occluded"'] },
    { name: 'a CNAME beside other data', deleted: [], added: ['www CNAME elsewhere.example.'], error: /CNAME and other data/ },
    { name: 'a TTL that differs within the RRset', deleted: [], added: ['www 60 A 192.0.2.7'] },
    { name: 'so many names added that the name index grows', deleted: [], added: Array.from({ length: 40 }, (_, i) => `n${i} A 192.0.2.${i}`) },
  ];
  for (const c of built) {
    it(`${c.name}: left to the whole build, which gives the version's text or its errors`, () => {
      const { served, diff, want } = scenario(c.deleted, c.added);
      const d = applyDiffs(served, diff);
      assert.ok(typeof d !== 'string', String(d));
      assert.equal(patchParts(served.parts(), d), null);
      const r = loadPatchedZone(served.parts(), d, 'p.zone');
      if (c.error !== undefined) {
        assert.equal(r.zone, null);
        assert.match(r.errors.map((e) => e.message).join('\n'), c.error);
        return;
      }
      assert.deepEqual(r.errors, []);
      if (c.name.startsWith('a TTL')) assert.match(r.warnings.map((w) => w.message).join('\n'), /TTL 60 differs/);
      else assert.deepEqual(dump(r.zone!), dump(want!));
    });
  }
});
