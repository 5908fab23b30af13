// One reusable scratch buffer that a type's fromText writes into, then copies out once: no
// Buffer.concat of small pieces, one allocation per record (from Node's pool for small RDATA).

import { RdataError } from './descriptor.js';

const MAX_RDATA = 0xffff; // RFC 1035 §3.2.1: RDLENGTH is 16 bits

export class RdataWriter {
  readonly buf = Buffer.allocUnsafe(MAX_RDATA + 256);
  pos = 0;

  reset(): this {
    this.pos = 0;
    return this;
  }

  private room(n: number): void {
    if (this.pos + n > MAX_RDATA) throw new RdataError('RDATA longer than 65535 octets');
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Reserves `n` octets for the caller to fill at the returned offset. */
  skip(n: number): number {
    this.room(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** A copy of what was written. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }
}

/** Shared by all fromText implementations; fromText is synchronous and never re-entered. */
export const writer = new RdataWriter();
