// Bounds-checked reading of wire RDATA for toText: RDATA can arrive in RFC 3597 generic form, so
// every read is checked and a short or overlong RDATA is an RdataError, never a wrong print.

import { RdataError } from './descriptor.js';
import { nameToText, wireNameLength } from '../name.js';

export class RdataReader {
  pos = 0;
  constructor(
    readonly b: Buffer,
    private readonly what: string,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.b.length) throw new RdataError(`${this.what} RDATA is too short`);
  }

  get left(): number {
    return this.b.length - this.pos;
  }

  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** The uncompressed name at the current position, as absolute presentation text. */
  name(): string {
    const len = wireNameLength(this.b, this.pos);
    if (len < 0) throw new RdataError(`${this.what} RDATA holds a bad name`);
    const text = nameToText(this.b, this.pos);
    this.pos += len;
    return text;
  }

  /** Skips `n` octets and returns where they start. */
  take(n: number): number {
    this.need(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** The RDATA must end here. */
  end(): void {
    if (this.pos !== this.b.length) throw new RdataError(`${this.what} RDATA has ${this.b.length - this.pos} trailing octets`);
  }
}
