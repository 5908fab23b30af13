// A zone in canonical presentation form: one record a line, absolute lower-case owners, names in
// RFC 4034 §6.1 order, the SOA first and then types ascending (as named-compilezone prints),
// RDATA in canonical order (§6.3). Comparable with `named-compilezone` output once both are normalised.

import { canonicalSortKey, keyToText } from './name.js';
import { canonicalRdata } from './rdata/canonical.js';
import { rdataToText, typeToText } from './rdata/table.js';
import { T } from './types.js';
import type { Zone, ZoneNode } from './zone.js';

export function printZone(zone: Zone, write: (chunk: string) => void): void {
  const nodes: { sort: string; node: ZoneNode }[] = [];
  for (const node of zone.nodes.values()) if (node.rrsets.length > 0) nodes.push({ sort: canonicalSortKey(node.key), node });
  nodes.sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));
  let chunk = '';
  for (const { node } of nodes) {
    const owner = keyToText(node.key);
    const sets = node.rrsets.filter((s) => s.type === T.SOA).concat(node.rrsets.filter((s) => s.type !== T.SOA));
    for (const set of sets) {
      const rdatas = set.rdatas.map((r) => canonicalRdata(set.type, r)).sort(Buffer.compare);
      for (const r of rdatas) chunk += recordLine(owner, set.ttl, set.type, r);
    }
    if (chunk.length > 1 << 16) {
      write(chunk);
      chunk = '';
    }
  }
  if (chunk) write(chunk);
}

/** One record of class IN as a master file line (RFC 1035 §5.1): owner, TTL, class, type, RDATA. */
export function recordLine(owner: string, ttl: number, type: number, rdata: Buffer): string {
  return `${owner}\t${ttl}\tIN\t${typeToText(type)}\t${rdataToText(type, rdata)}\n`;
}
