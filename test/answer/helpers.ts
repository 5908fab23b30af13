// Shared by the answer tests: build a ZoneSet from zone text, run a question, and print the plan as zone
// text lines (sorted per section) so tables compare records, not objects.

import assert from 'node:assert/strict';
import { answer } from '../../src/answer/answer.js';
import type { AnswerPlan, PlanRR } from '../../src/answer/plan.js';
import { loadZoneFile, loadZoneText } from '../../src/zone/read-zone.js';
import { keyToText, nameFromText, nameKey } from '../../src/zone/name.js';
import { classToText, rdataToText, typeFromText, typeToText } from '../../src/zone/rdata/table.js';
import { ZoneSet, type Zone } from '../../src/zone/zone.js';

export function zoneFromText(origin: string, text: string): Zone {
  const r = loadZoneText(text, origin);
  assert.deepEqual(r.errors, [], `zone ${origin} has errors`);
  return r.zone!;
}

export function zoneFromFile(path: string, origin?: string): Zone {
  const r = loadZoneFile(path, origin);
  assert.deepEqual(r.errors, [], `zone ${path} has errors`);
  return r.zone!;
}

export function zoneSet(...zones: Zone[]): ZoneSet {
  return new ZoneSet(new Map(zones.map((z) => [z.origin, z])));
}

export function keyOf(name: string): string {
  return nameKey(nameFromText(name.endsWith('.') ? name : name + '.', null));
}

/** One row of a table: the question and the expected response, records as zone text. */
export interface Case {
  name?: string;
  qname: string;
  qtype: string;
  do?: boolean;
  rcode: number;
  aa: boolean;
  answer?: string[];
  authority?: string[];
  additional?: string[];
}

export function rrLines(rrs: readonly PlanRR[], rrclass: number): string[] {
  const out: string[] = [];
  for (const rr of rrs)
    for (const rd of rr.set.rdatas)
      out.push(`${keyToText(rr.ownerKey)} ${rr.ttl} ${classToText(rrclass)} ${typeToText(rr.set.type)} ${rdataToText(rr.set.type, rd)}`);
  return out.sort();
}

/** Normalizes expected lines: runs of blanks become one space; sorted like rrLines. */
function norm(lines: readonly string[] | undefined): string[] {
  return (lines ?? []).map((l) => l.trim().split(/\s+/).join(' ')).sort();
}

export function check(plan: AnswerPlan, c: Case): void {
  const label = c.name ?? `${c.qname} ${c.qtype}`;
  assert.deepEqual(
    {
      rcode: plan.rcode,
      aa: plan.aa,
      answer: rrLines(plan.answer, plan.rrclass),
      authority: rrLines(plan.authority, plan.rrclass),
      additional: rrLines(plan.additional, plan.rrclass),
    },
    { rcode: c.rcode, aa: c.aa, answer: norm(c.answer), authority: norm(c.authority), additional: norm(c.additional) },
    label,
  );
}

export function ask(zones: ZoneSet, qname: string, qtype: string, dnssecOk = false): AnswerPlan {
  const t = typeFromText(qtype);
  assert.ok(t !== undefined, `unknown type ${qtype}`);
  return answer(zones, { key: keyOf(qname), qtype: t, qclass: 1, dnssecOk });
}

export function runTable(zones: ZoneSet, cases: readonly Case[]): void {
  for (const c of cases) check(ask(zones, c.qname, c.qtype, c.do ?? false), c);
}
