// Responses and plans as comparable lines, so the encoder's output can be compared byte for byte (as
// canonical RDATA) with the plan it was written from. The response is read with the test kit's strict
// reader, following compression pointers only where RFC 1035 types allow them.

import { canonicalRdata } from '../../src/zone/rdata/canonical.js';
import type { PlanRR } from '../../src/answer/plan.js';
import { keyToText } from '../../src/zone/name.js';
import { parseMessage } from '../helpers/dns-message.js';

/** Every record of sections 1-3 (OPT left out) as `owner ttl type class canonical-rdata-hex`, per section, sorted. */
export function expandResponse(msg: Buffer): string[][] {
  const m = parseMessage(msg, { rfc1035CompressionOnly: true });
  return [m.answer, m.authority, m.additional].map((records) =>
    records.map((r) => `${r.name.toLowerCase()} ${r.ttl} ${r.type} ${r.class} ${canonicalRdata(r.type, r.rdata).toString('hex')}`).sort(),
  );
}

/** The same lines from plan records. */
export function planRecords(rrs: readonly PlanRR[], rrclass: number): string[] {
  const out: string[] = [];
  for (const rr of rrs)
    for (const rd of rr.set.rdatas)
      out.push(`${keyToText(rr.ownerKey)} ${rr.ttl} ${rr.set.type} ${rrclass} ${canonicalRdata(rr.set.type, rd).toString('hex')}`);
  return out.sort();
}
