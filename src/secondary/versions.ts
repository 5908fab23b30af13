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

/** The records of `zone` with `diffs` applied: the new SOA and every other record; a string says why they do not apply. */
export function applyDiffs(zone: Zone, diffs: readonly IxfrDiff[]): { soa: InRecord; records: InRecord[] } | string {
  if (diffs.length === 0) return 'an incremental transfer without a difference';
  if (soaSerial(diffs[0]!.from.rdata) !== zone.serial) return `the differences start at serial ${soaSerial(diffs[0]!.from.rdata)}, not at the ${zone.serial} served`;
  const records = new Map<string, InRecord>();
  for (const node of zone.nodes.values()) {
    for (const set of node.rrsets) {
      if (set.type === T.SOA && node.key === zone.origin) continue;
      // Views of the zone's memory: the zone outlives the file written from them.
      for (const r of recordsOf(node.name, set)) records.set(identity(r), r);
    }
  }
  let soa: InRecord = { ...soaRecord(zone) };
  for (const d of diffs) {
    for (const r of d.deleted) {
      if (r.type === T.SOA) continue;
      if (!records.delete(identity(r))) return `serial ${soaSerial(d.to.rdata)} deletes ${nameToText(r.owner)} type ${r.type}, which the version served does not hold`;
    }
    for (const r of d.added) if (r.type !== T.SOA) records.set(identity(r), r);
    soa = d.to;
  }
  return { soa, records: [...records.values()] };
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
