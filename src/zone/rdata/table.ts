// The RR-type table: one descriptor per type with a presentation format (Knot's descriptor table
// shape). The parser looks a type up here; types without a descriptor are accepted only in RFC 3597
// generic form and printed that way.

import { RdataError, type RdataField, type TypeDescriptor } from './descriptor.js';
import { CORE_TYPES } from './core.js';
import { DNSSEC_TYPES } from './dnssec.js';
import { LOC } from './loc.js';
import { MISC_TYPES } from './misc.js';
import { SVCB_TYPES } from './svcb.js';
import { genericFromText as parseGeneric, genericToText } from './generic.js';

export { typeFromText, typeToText, classFromText, classToText } from './mnemonics.js';
export { genericToText, isGeneric } from './generic.js';

const byCode = new Map<number, TypeDescriptor>();
for (const d of [...CORE_TYPES, LOC, ...DNSSEC_TYPES, ...MISC_TYPES, ...SVCB_TYPES]) {
  if (byCode.has(d.code)) throw new Error(`duplicate descriptor for type ${d.code}`);
  byCode.set(d.code, d);
}

export function descriptorFor(code: number): TypeDescriptor | undefined {
  return byCode.get(code);
}

/**
 * RFC 3597 §5 generic RDATA. When `type` has a presentation format, the data must be valid RDATA for
 * it (RFC 3597 §5: "the RDATA ... must be valid for the type"); it is checked by rendering it.
 */
export function genericFromText(fields: readonly RdataField[], type?: number): Buffer {
  const rdata = parseGeneric(fields);
  const d = type === undefined ? undefined : byCode.get(type);
  if (d) {
    try {
      d.toText(rdata);
    } catch (e) {
      if (e instanceof RdataError) throw new RdataError(`generic RDATA is not valid ${d.mnemonic} data: ${e.message}`, fields[1]);
      throw e;
    }
  }
  return rdata;
}

/** Presentation form of any RDATA: the type's own format, or `\# len hex` for types without one. */
export function rdataToText(type: number, rdata: Buffer): string {
  const d = byCode.get(type);
  return d ? d.toText(rdata) : genericToText(rdata);
}
