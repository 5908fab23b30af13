// RFC 3597 §5 generic RDATA: `\# <length> <hex...>`, usable for any type and printed for types
// without a presentation format of their own.

import { RdataError, type RdataField } from './descriptor.js';
import { hexText, uint, writeHex } from './presentation.js';
import { writer } from './writer.js';

/** True when the fields start with the `\#` token (RFC 3597 §5); the parser checks this first. */
export function isGeneric(fields: readonly RdataField[]): boolean {
  const f = fields[0];
  return f !== undefined && !f.quoted && f.text === '\\#';
}

/** `\# <length> <hex...>` → the RDATA; the hex must encode exactly `length` octets. */
export function genericFromText(fields: readonly RdataField[]): Buffer {
  if (!isGeneric(fields)) throw new RdataError('generic RDATA must start with \\#', fields[0]);
  const lenField = fields[1];
  if (lenField === undefined) throw new RdataError('generic RDATA needs a length after \\#', fields[0]);
  const len = uint(lenField, 0xffff, 'generic RDATA length');
  const hex = fields.slice(2);
  if (len === 0 && hex.length === 0) return Buffer.alloc(0);
  if (hex.length === 0) throw new RdataError(`generic RDATA of length ${len} has no hex data`, lenField);
  const w = writer.reset();
  const n = writeHex(w, hex, 'generic RDATA');
  if (n !== len) throw new RdataError(`generic RDATA length ${len} does not match its ${n} octets of data`, lenField);
  return w.finish();
}

/** `\# <length> <HEX>` as BIND prints it (`\# 0` for empty RDATA). */
export function genericToText(rdata: Buffer): string {
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${hexText(rdata)}`;
}
