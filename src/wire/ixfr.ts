// Incremental zone transfer (RFC 1995): the differences between a version the secondary holds and
// the one served, as one condensed sequence (§4 allows it): the new SOA, the old SOA, the records
// gone, the new SOA, the records come, the new SOA. Pure: two compiled zones in, messages out.

import { recordsOf, soaRecord, transferMessages, type OutRecord } from './axfr.js';
import { WireRRset, type RRset } from '../zone/rrset.js';
import { T } from '../zone/types.js';
import type { Zone } from '../zone/zone.js';

export function ixfrMessages(old: Zone, now: Zone, query: Buffer, questionEnd: number, reserve: number): Generator<Buffer> {
  return transferMessages(ixfrRecords(old, now), now, query, questionEnd, reserve);
}

/** Nodes compared between pauses: a few milliseconds of work. */
const NODES_PER_STEP = 2048;

function* ixfrRecords(old: Zone, now: Zone): Generator<OutRecord | null> {
  const newSoa = soaRecord(now);
  yield newSoa;
  yield soaRecord(old);
  yield* missingFrom(old, now);
  yield newSoa;
  yield* missingFrom(now, old);
  yield newSoa;
}

/**
 * The records of `a` that `b` lacks, the apex SOA aside. An RRset whose octets are the same in both
 * costs one comparison; one whose TTL changed is every record gone and come again (a record is its
 * name, type, class, TTL and data: RFC 1995 §2).
 */
function* missingFrom(a: Zone, b: Zone): Generator<OutRecord | null> {
  let step = 0;
  for (const node of a.nodes.values()) {
    if (++step === NODES_PER_STEP) {
      step = 0;
      yield null;
    }
    const sets = node.rrsets;
    if (sets.length === 0) continue;
    const other = b.nodes.get(node.key);
    for (const set of sets) {
      if (set.type === T.SOA && node.key === a.origin) continue;
      const o = other?.find(set.type);
      if (o === undefined || o.ttl !== set.ttl) {
        yield* recordsOf(node.name, set);
        continue;
      }
      if (sameOctets(set, o)) continue;
      const kept = new Set(o.rdatas.map((r) => r.toString('latin1')));
      for (const r of recordsOf(node.name, set)) if (!kept.has(r.rdata.toString('latin1'))) yield r;
    }
  }
}

function sameOctets(a: RRset, b: RRset): boolean {
  if (a instanceof WireRRset && b instanceof WireRRset) return a.end - a.start === b.end - b.start && a.src.subarray(a.start, a.end).equals(b.src.subarray(b.start, b.end));
  return false;
}
