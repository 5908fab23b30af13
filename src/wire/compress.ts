// Name compression (RFC 1035 §4.1.4) for one message being written: remembers where each name suffix
// was written, by key, and forgets positions past a rollback so a dropped RRset leaves no dangling pointer.

const MAX_POINTER = 0x3fff;

export class CompressionTable {
  private readonly offsets = new Map<string, number>();
  private readonly order: string[] = [];
  private readonly orderOffsets: number[] = [];

  reset(): void {
    this.offsets.clear();
    this.order.length = 0;
    this.orderOffsets.length = 0;
  }

  /** Remembers that the name with this key (a suffix of something written) is at `offset`. */
  add(key: string, offset: number): void {
    if (offset > MAX_POINTER || this.offsets.has(key)) return;
    this.offsets.set(key, offset);
    this.order.push(key);
    this.orderOffsets.push(offset);
  }

  get(key: string): number | undefined {
    return this.offsets.get(key);
  }

  /** Forgets every name written at or after `offset` (entries are added in increasing offset order). */
  rollback(offset: number): void {
    const order = this.order;
    const offs = this.orderOffsets;
    while (offs.length > 0 && offs[offs.length - 1]! >= offset) {
      this.offsets.delete(order.pop()!);
      offs.pop();
    }
  }
}

/**
 * Writes the name whose key is `key` at `pos` in `buf`, ending in a pointer to the longest suffix already
 * written; returns the new position. Label octets come from `src` at `srcOff` (the name as stored, case
 * kept) or, when `src` is null, from the key itself. `buf` must have room for `key.length` octets.
 */
export function writeName(
  buf: Buffer,
  pos: number,
  key: string,
  src: Uint8Array | null,
  srcOff: number,
  table: CompressionTable,
): number {
  let i = 0;
  for (;;) {
    const len = key.charCodeAt(i);
    if (len === 0) {
      buf[pos] = 0;
      return pos + 1;
    }
    const suffix = i === 0 ? key : key.substring(i);
    const at = table.get(suffix);
    if (at !== undefined) {
      buf[pos] = 0xc0 | (at >> 8);
      buf[pos + 1] = at & 0xff;
      return pos + 2;
    }
    table.add(suffix, pos);
    if (src === null) {
      for (let j = 0; j <= len; j++) buf[pos + j] = key.charCodeAt(i + j);
    } else {
      for (let j = 0; j <= len; j++) buf[pos + j] = src[srcOff + i + j]!;
    }
    pos += len + 1;
    i += len + 1;
  }
}
