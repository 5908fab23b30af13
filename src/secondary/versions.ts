// A transferred version as the records of a master file: the whole zone an AXFR brought, or the
// served version with an IXFR's differences applied (RFC 1995 §4). Pure: records in, records and
// text out. A difference that does not apply (a record to delete that is not there, a serial chain
// that does not start at the version served) is an error, and the caller asks for the whole zone.
import { recordsOf, soaRecord } from '../wire/axfr.js';
import { soaSerial, type InRecord, type IxfrDiff } from '../wire/xfr-in.js';
import { nameKey, nameToText } from '../zone/name.js';
import { recordLine } from '../zone/print.js';
import { canonicalRdata } from '../zone/rdata/walk.js';
import { T } from '../zone/types.js';
import type { Zone } from '../zone/zone.js';

/** A record's identity (RFC 1995 §2 compares name, type, class and data; the TTL is not part of it). */
function identity(r: InRecord): string {
  return `${nameKey(r.owner)}${String.fromCharCode(r.type >> 8, r.type & 0xff)}${canonicalRdata(r.type, r.rdata).toString('latin1')}`;
}

/** `owner key + type`: the RRsets a difference touches. */
function setKey(ownerKey: string, type: number): string {
  return ownerKey + String.fromCharCode(type >> 8, type & 0xff);
}

/** The version served with differences applied: the new SOA, and every other record, read from the served version as they are written. */
export interface AppliedVersion {
  soa: InRecord;
  records: Iterable<InRecord>;
}

/**
 * The served version with `diffs` applied; a string says why they do not apply. Only the RRsets the
 * differences touch are looked at now; the records of the other sets are read from the served
 * version lazily, as the file is written, so a small change of a big zone never walks the whole zone
 * in one turn of the event loop (answering goes on between the written pieces).
 */
export function applyDiffs(zone: Zone, diffs: readonly IxfrDiff[]): AppliedVersion | string {
  if (diffs.length === 0) return 'an incremental transfer without a difference';
  if (soaSerial(diffs[0]!.from.rdata) !== zone.serial) return `the differences start at serial ${soaSerial(diffs[0]!.from.rdata)}, not at the ${zone.serial} served`;
  /** Identities of the served version's records that go, by the RRset they are in. */
  const gone = new Map<string, Set<string>>();
  /** Records the differences add (and that stay added), by identity. */
  const added = new Map<string, InRecord>();
  const servedHolds = (r: InRecord, id: string): boolean => {
    const key = nameKey(r.owner);
    const node = zone.nodes.get(key);
    const set = node?.rrsets.find((s) => s.type === r.type);
    if (node === undefined || set === undefined || gone.get(setKey(key, r.type))?.has(id) === true) return false;
    for (const x of recordsOf(node.name, set)) if (identity(x) === id) return true;
    return false;
  };
  const drop = (r: InRecord, id: string): void => {
    const k = setKey(nameKey(r.owner), r.type);
    const ids = gone.get(k) ?? new Set<string>();
    ids.add(id);
    gone.set(k, ids);
  };
  let soa: InRecord = { ...soaRecord(zone) };
  for (const d of diffs) {
    for (const r of d.deleted) {
      if (r.type === T.SOA) continue;
      const id = identity(r);
      if (added.delete(id)) continue;
      if (!servedHolds(r, id)) return `serial ${soaSerial(d.to.rdata)} deletes ${nameToText(r.owner)} type ${r.type}, which the version served does not hold`;
      drop(r, id);
    }
    for (const r of d.added) {
      if (r.type === T.SOA) continue;
      const id = identity(r);
      // Added again, or added where the served version has it (its TTL may be new): the added one is written.
      if (servedHolds(r, id)) drop(r, id);
      added.set(id, r);
    }
    soa = d.to;
  }
  return { soa, records: appliedRecords(zone, gone, added) };
}

function* appliedRecords(zone: Zone, gone: ReadonlyMap<string, ReadonlySet<string>>, added: ReadonlyMap<string, InRecord>): Generator<InRecord> {
  for (const node of zone.nodes.values()) {
    for (const set of node.rrsets) {
      if (set.type === T.SOA && node.key === zone.origin) continue;
      const ids = gone.get(setKey(node.key, set.type));
      // Views of the zone's memory: the zone outlives the file written from them.
      for (const r of recordsOf(node.name, set)) if (ids === undefined || !ids.has(identity(r))) yield r;
    }
  }
  yield* added.values();
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
