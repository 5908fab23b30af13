// A transferred version: the whole zone an AXFR brought as the records of a master file, or an
// IXFR's differences condensed into one difference from the version served (RFC 1995 §4), which zone
// sync applies (zone/patch.ts). Pure: records in, a difference and text out. A difference that does
// not apply (a record to delete that is not there, a serial chain that does not start at the version
// served) is an error, and the caller asks for the whole zone.
import { soaSerial, type InRecord, type IxfrDiff } from '../wire/xfr-in.js';
import { nameKey, nameToText } from '../zone/name.js';
import { recordIdentity, setKey, type ZoneDiff } from '../zone/patch.js';
import { recordLine } from '../zone/print.js';
import { T } from '../zone/types.js';
import type { Zone } from '../zone/zone.js';

/**
 * `diffs` condensed into one difference from the version served; a string says why they do not
 * apply. Only the RRsets the differences touch are looked at, so a small change of a big zone costs
 * the size of the change here.
 */
export function applyDiffs(zone: Zone, diffs: readonly IxfrDiff[]): ZoneDiff<InRecord> | string {
  if (diffs.length === 0) return 'an incremental transfer without a difference';
  if (soaSerial(diffs[0]!.from.rdata) !== zone.serial) return `the differences start at serial ${soaSerial(diffs[0]!.from.rdata)}, not at the ${zone.serial} served`;
  /** Identities of the served version's records that go, by the RRset they are in. */
  const gone = new Map<string, Set<string>>();
  /** Records the differences add (and that stay added), by identity. */
  const added = new Map<string, InRecord>();
  const servedHolds = (key: string, r: InRecord, id: string): boolean => {
    const set = zone.nodes.get(key)?.find(r.type);
    if (set === undefined || gone.get(setKey(key, r.type))?.has(id) === true) return false;
    return set.rdatas.some((rdata) => recordIdentity(key, r.type, rdata) === id);
  };
  const drop = (key: string, r: InRecord, id: string): void => {
    const k = setKey(key, r.type);
    const ids = gone.get(k) ?? new Set<string>();
    ids.add(id);
    gone.set(k, ids);
  };
  let soa: InRecord | null = null;
  for (const d of diffs) {
    for (const r of d.deleted) {
      if (r.type === T.SOA) continue;
      const key = nameKey(r.owner);
      const id = recordIdentity(key, r.type, r.rdata);
      if (added.delete(id)) continue;
      if (!servedHolds(key, r, id)) return `serial ${soaSerial(d.to.rdata)} deletes ${nameToText(r.owner)} type ${r.type}, which the version served does not hold`;
      drop(key, r, id);
    }
    for (const r of d.added) {
      if (r.type === T.SOA) continue;
      const key = nameKey(r.owner);
      const id = recordIdentity(key, r.type, r.rdata);
      // Added again, or added where the served version has it (its TTL may be new): the added one is kept.
      if (servedHolds(key, r, id)) drop(key, r, id);
      added.set(id, r);
    }
    soa = d.to;
  }
  return { from: zone.serial, soa: soa!, gone, added: [...added.values()] };
}

/** The version as master file text, in pieces of about 64 KiB: the SOA first, every owner absolute. */
export function* masterFile(origin: string, soa: InRecord, records: Iterable<InRecord>): Generator<string> {
  let chunk = `; ${origin} serial ${soaSerial(soa.rdata)}, transferred\n` + recordLine(nameToText(soa.owner), soa.ttl, T.SOA, soa.rdata);
  for (const r of records) {
    if (r.type === T.SOA) continue;
    chunk += recordLine(nameToText(r.owner), r.ttl, r.type, r.rdata);
    if (chunk.length >= 1 << 16) {
      yield chunk;
      chunk = '';
    }
  }
  yield chunk;
}
