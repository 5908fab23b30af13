// The handler answers every cache miss into one plan it keeps (answer's `into`): a plan reused after
// any other must be the very plan a fresh one would be, whatever the previous question left in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answer } from '../../src/answer/answer.js';
import { emptyPlan, RCODE, type Question } from '../../src/answer/plan.js';
import { readZoneDir } from '../../src/sync/zone-files.js';
import { typeFromText } from '../../src/zone/rdata/table.js';
import { CLASS } from '../../src/zone/types.js';
import { ZoneSet } from '../../src/zone/zone.js';
import { keyOf, zoneFromFile } from './helpers.js';
import { BUNDLED_ZONES_DIR, ROOT_ZONE_2018 } from '../helpers/paths.js';

const bundled = readZoneDir(BUNDLED_ZONES_DIR).zones;
const root = zoneFromFile(ROOT_ZONE_2018, '.');
const zones = new ZoneSet(new Map([[root.origin, root], ...bundled.zones]));

function q(name: string, type: string, dnssecOk = false, qclass: number = CLASS.IN): Question {
  return { key: keyOf(name), qtype: typeFromText(type)!, qclass, dnssecOk };
}

// Every outcome, with and without the DNSSEC step: referrals with glue, chains, wildcards, negative
// answers with and without proofs, additional addresses, refusals.
const QUESTIONS: Question[] = [
  q('www.example.com', 'A'),
  q('host.sub.example.com', 'A'),
  q('nope.example.com', 'A'),
  q('alias.example.com', 'AAAA'),
  q('x.apps.example.com', 'A'),
  q('example.com', 'MX'),
  q('example.com', 'NS'),
  q('b.deep.example.com', 'A'),
  q('com', 'NS'),
  q('www.example.org', 'A', true),
  q('nosuchtld', 'A', true),
  q('nosuchtld', 'A'),
  q('.', 'DNSKEY', true),
  q('com', 'DS', true),
  q('.', 'NS', true),
  q('aaa', 'DS', true),
  q('example.com', 'ANY'),
  q('www.example.com', 'A', false, CLASS.CH),
  q('www.example.com', 'AXFR'),
];

test('a reused plan equals a fresh one after every other question, in either order', () => {
  const into = emptyPlan('refused', RCODE.REFUSED, false, CLASS.IN, null);
  for (const order of [QUESTIONS, [...QUESTIONS].reverse()]) {
    for (const question of order) {
      const reused = answer(zones, question, into);
      assert.equal(reused, into, 'written into the plan given');
      assert.deepEqual({ ...reused }, { ...answer(zones, question) }, `${question.key} ${question.qtype} do=${question.dnssecOk}`);
    }
  }
});

test('a reused plan keeps its sections\' arrays', () => {
  const into = emptyPlan('refused', RCODE.REFUSED, false, CLASS.IN, null);
  const { answer: a, authority, additional } = into;
  answer(zones, q('com', 'NS'), into);
  assert.ok(into.authority.length > 0 && into.additional.length > 0);
  answer(zones, q('nosuchtld', 'A'), into);
  assert.equal(into.answer, a);
  assert.equal(into.authority, authority);
  assert.equal(into.additional, additional);
  assert.equal(into.additional.length, 0, 'the referral\'s glue is gone');
  assert.equal(into.authority.length, 1, 'the SOA alone');
});
