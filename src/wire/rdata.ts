// RDATA as written in a response: copied from the precompiled zone bytes, except that names inside the
// RDATA of the RFC 1035 types are compressed (RFC 3597 §4: only those; their descriptors mark them 'compressible-name').

import type { WireBlock } from '../zone/rdata/descriptor.js';
import { COMPRESSIBLE_LAYOUTS } from '../zone/rdata/compressible.js';
import { walkRdata, type NameKind } from '../zone/rdata/walk.js';
import type { CompressionTable } from './compress.js';

/** RFC 3597 §4: names are compressed only in the RFC 1035 types, all numbered below 16. */
const RFC1035_TYPES = 16;

/** Per RFC 1035 type: its wire blocks when some name in it may be compressed, else null. */
const layouts: readonly (readonly WireBlock[] | null)[] = Array.from({ length: RFC1035_TYPES }, (_, type) => COMPRESSIBLE_LAYOUTS.get(type) ?? null);

/** The wire blocks to walk for compression, or null: copy the RDATA as is. */
function compressibleLayout(type: number): readonly WireBlock[] | null {
  return type < RFC1035_TYPES ? layouts[type]! : null;
}

/** Copies RDATA into a response, compressing the names RFC 3597 §4 lets it; one per ResponseWriter (its walk callback is bound once, not per record). */
export class RdataCompressor {
  private buf!: Buffer;
  private pos = 0;
  private src!: Buffer;
  /** Next octet of `src` not yet written. */
  private srcAt = 0;
  private table!: CompressionTable;
  /** Writes the `len` octets of RDATA of `type` at `start` of `src` (a zone's data buffer) at `pos` in `buf`; returns the end position. */
  writeFrom(buf: Buffer, pos: number, type: number, src: Buffer, start: number, len: number, table: CompressionTable): number {
    const layout = compressibleLayout(type);
    const end = start + len;
    if (layout === null) return pos + src.copy(buf, pos, start, end);
    this.buf = buf;
    this.pos = pos;
    this.src = src;
    this.srcAt = start;
    this.table = table;
    walkRdata(layout, src, this.onName, start, end);
    // Whatever follows the last name (e.g. the SOA counters) is copied as is.
    return this.pos + src.copy(buf, this.pos, this.srcAt, end);
  }

  /** Writes `rdata` of `type` at `pos` in `buf`; returns the end position. */
  write(buf: Buffer, pos: number, type: number, rdata: Buffer, table: CompressionTable): number {
    return this.writeFrom(buf, pos, type, rdata, 0, rdata.length, table);
  }

  private readonly onName = (offset: number, length: number, kind: NameKind): void => {
    const { buf, src } = this;
    // Everything up to the name's end is copied as is (the name keeps its case); a compressible name
    // is then compressed where it lies.
    for (let i = this.srcAt, end = offset + length, p = this.pos; i < end; i++, p++) buf[p] = src[i]!;
    const nameAt = this.pos + offset - this.srcAt;
    this.pos = kind === 'compressible-name' ? this.table.compress(buf, nameAt) : nameAt + length;
    this.srcAt = offset + length;
  };
}
