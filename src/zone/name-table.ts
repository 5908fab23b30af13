// A set of names numbered 0..count-1, held as lower-cased wire bytes in one arena with an
// open-addressing hash index in a typed array. A million names cost a few dozen megabytes and, unlike
// a Map of strings, nothing the garbage collector has to visit one by one.

const EMPTY = 0; // slots hold id + 1

/** FNV-1a over the octets of a key (latin1: one char, one octet). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** FNV-1a over `buf[start, end)`: the same hash as hashKey, for octets. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

export interface NameTableParts {
  names: Uint8Array;
  offsets: Uint32Array;
  count: number;
  slots: Int32Array;
}

export class NameTable {
  /** Name bytes; name `id` is `names[offsets[id], offsets[id + 1])`. */
  names: Buffer;
  offsets: Uint32Array;
  count = 0;
  private slots: Int32Array;
  private mask: number;

  /** The table's state as plain arrays, to hand to another thread or process (see fromParts). */
  parts(): NameTableParts {
    return { names: this.names, offsets: this.offsets, count: this.count, slots: this.slots };
  }

  /** A table over arrays made by parts() (in this thread or another); they are used, not copied. */
  static fromParts(p: NameTableParts): NameTable {
    const t = new NameTable(0);
    t.names = Buffer.from(p.names.buffer, p.names.byteOffset, p.names.byteLength);
    t.offsets = p.offsets;
    t.count = p.count;
    t.slots = p.slots;
    t.mask = p.slots.length - 1;
    return t;
  }

  constructor(expected = 1024) {
    this.names = Buffer.allocUnsafe(expected * 24);
    this.offsets = new Uint32Array(expected + 1);
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  /**
   * The id of `key` (from offset `start`), or -1. The probe loop is written twice, here for a key string (every query's
   * lookups) and in findBytes for arena bytes (the build): converting one to the other would cost
   * an allocation per lookup.
   */
  find(key: string, start = 0): number {
    const names = this.names;
    const offsets = this.offsets;
    const len = key.length - start;
    // `key.substring(start)`'s hash, without making the substring: the query path walks a name's
    // ancestors as suffixes of its key (`start` on a label boundary).
    let h = 0x811c9dc5;
    for (let i = start; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    for (let s = (h >>> 0) & this.mask; ; s = (s + 1) & this.mask) {
      const v = this.slots[s]!;
      if (v === EMPTY) return -1;
      const id = v - 1;
      const off = offsets[id]!;
      if (offsets[id + 1]! - off !== len) continue;
      let i = 0;
      while (i < len && names[off + i] === key.charCodeAt(start + i)) i++;
      if (i === len) return id;
    }
  }

  /** The id of the name in `buf[start, end)`, or -1. */
  findBytes(buf: Uint8Array, start: number, end: number): number {
    const names = this.names;
    const offsets = this.offsets;
    const len = end - start;
    for (let s = hashBytes(buf, start, end) & this.mask; ; s = (s + 1) & this.mask) {
      const v = this.slots[s]!;
      if (v === EMPTY) return -1;
      const id = v - 1;
      const off = offsets[id]!;
      if (offsets[id + 1]! - off !== len) continue;
      let i = 0;
      while (i < len && names[off + i] === buf[start + i]) i++;
      if (i === len) return id;
    }
  }

  /** The id of `key`, added if new. */
  insert(key: string): number {
    const found = this.find(key);
    if (found >= 0) return found;
    const id = this.append(key.length);
    this.names.write(key, this.offsets[id]!, 'latin1');
    this.index(id, hashKey(key));
    return id;
  }

  /** Adds the name in `buf[start, end)`, which must not be present yet (see findBytes); returns its id. */
  insertNewBytes(buf: Uint8Array, start: number, end: number): number {
    const id = this.append(end - start);
    // `buf` may be this table's own arena, which append may just have replaced: copy from the source given.
    this.names.set(buf.subarray(start, end), this.offsets[id]!);
    this.index(id, hashBytes(buf, start, end));
    return id;
  }

  /** The key (lower-cased wire form as a latin1 string) of name `id`. */
  keyOf(id: number): string {
    return this.names.toString('latin1', this.offsets[id]!, this.offsets[id + 1]!);
  }


  private append(len: number): number {
    const id = this.count;
    if (id + 2 > this.offsets.length) {
      const next = new Uint32Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
    }
    const off = this.offsets[id]!;
    if (off + len > this.names.length) {
      const next = Buffer.allocUnsafe(Math.max(this.names.length * 2, off + len));
      this.names.copy(next, 0, 0, off);
      this.names = next;
    }
    this.offsets[id + 1] = off + len;
    this.count = id + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  private index(id: number, hash: number): void {
    let s = hash & this.mask;
    while (this.slots[s] !== EMPTY) s = (s + 1) & this.mask;
    this.slots[s] = id + 1;
  }

  /** Doubles the index; load stays under one half so probes stay short. */
  private rehash(): void {
    const size = this.slots.length * 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    // The newest name is indexed by the caller.
    for (let id = 0; id < this.count - 1; id++) this.index(id, hashBytes(this.names, this.offsets[id]!, this.offsets[id + 1]!));
  }
}
