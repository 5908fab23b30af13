// A test-side reader of responses that follows compression pointers everywhere, so the encoder's output
// can be compared byte for byte (as canonical RDATA) with the plan it was written from.

import { nameKey, nameToText } from '../../src/zone/name.js';
import { descriptorFor } from '../../src/zone/rdata/table.js';
import { canonicalRdata } from '../../src/zone/rdata/walk.js';
import type { PlanRR } from '../../src/answer/plan.js';
import { keyToText } from '../../src/zone/name.js';

/** Reads the (possibly compressed) name at `at`: its uncompressed wire form and the offset after it. */
export function readName(msg: Buffer, at: number): { wire: Buffer; next: number } {
  const parts: number[] = [];
  let next = -1;
  for (let hops = 0; ; ) {
    const l = msg[at]!;
    if ((l & 0xc0) === 0xc0) {
      if (next < 0) next = at + 2;
      at = ((l & 0x3f) << 8) | msg[at + 1]!;
      if (++hops > 128) throw new Error('pointer loop');
      continue;
    }
    parts.push(...msg.subarray(at, at + l + 1));
    at += l + 1;
    if (l === 0) break;
  }
  return { wire: Buffer.from(parts), next: next < 0 ? at : next };
}

/** Uncompressed RDATA: names in the RFC 1035 types' 'compressible-name' blocks expanded. */
function expandRdata(msg: Buffer, type: number, start: number, end: number): Buffer {
  const wire = descriptorFor(type)?.wire;
  if (wire === undefined || !wire.includes('compressible-name')) return Buffer.from(msg.subarray(start, end));
  const out: Buffer[] = [];
  let at = start;
  for (const block of wire) {
    if (block === 'compressible-name') {
      const n = readName(msg, at);
      out.push(n.wire);
      at = n.next;
    } else if (typeof block === 'number') {
      out.push(msg.subarray(at, at + block));
      at += block;
    }
  }
  out.push(msg.subarray(at, end));
  return Buffer.concat(out);
}

/** Every record of sections 1-3 (OPT left out) as `owner ttl type class canonical-rdata-hex`, per section, sorted. */
export function expandResponse(msg: Buffer): string[][] {
  let at = 12;
  const qd = msg.readUInt16BE(4);
  for (let i = 0; i < qd; i++) at = readName(msg, at).next + 4;
  const sections: string[][] = [];
  for (let s = 0; s < 3; s++) {
    const lines: string[] = [];
    for (let i = msg.readUInt16BE(6 + 2 * s); i > 0; i--) {
      const owner = readName(msg, at);
      at = owner.next;
      const type = msg.readUInt16BE(at);
      const cls = msg.readUInt16BE(at + 2);
      const ttl = msg.readUInt32BE(at + 4);
      const rdlen = msg.readUInt16BE(at + 8);
      const rd = expandRdata(msg, type, at + 10, at + 10 + rdlen);
      at += 10 + rdlen;
      if (type === 41) continue;
      lines.push(`${nameToText(Buffer.from(nameKey(owner.wire), 'latin1'))} ${ttl} ${type} ${cls} ${canonicalRdata(type, rd).toString('hex')}`);
    }
    sections.push(lines.sort());
  }
  return sections;
}

/** The same lines from plan records. */
export function planRecords(rrs: readonly PlanRR[], rrclass: number): string[] {
  const out: string[] = [];
  for (const rr of rrs)
    for (const rd of rr.set.rdatas)
      out.push(`${keyToText(rr.ownerKey)} ${rr.ttl} ${rr.set.type} ${rrclass} ${canonicalRdata(rr.set.type, rd).toString('hex')}`);
  return out.sort();
}
