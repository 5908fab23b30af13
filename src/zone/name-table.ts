// A set of names numbered 0..count-1, held as lower-cased wire bytes in one arena with an
// open-addressing hash index in a typed array. A million names cost a few dozen megabytes and, unlike
// a Map of strings, nothing the garbage collector has to visit one by one. Each index slot keeps the
// name's hash beside its id: a probe that meets another name is rejected without reading the arena
// (at a million names every such read is a cache miss), and growing the index rehashes nothing.

const EMPTY = 0; // ids are stored + 1

/** FNV-1a over the octets of a key (latin1: one char, one octet). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

export interface NameTableParts {
  names: Uint8Array;
  offsets: Uint32Array;
  count: number;
  /** The index: pairs of (hash, id + 1). */
  slots: Int32Array;
}

export class NameTable {
  /** Name bytes; name `id` is `names[offsets[id], offsets[id + 1])`. */
  names: Buffer;
  offsets: Uint32Array;
  count = 0;
  /** Slot `s` is `slots[2s]` (the name's hash) and `slots[2s + 1]` (its id + 1, or EMPTY). */
  private slots: Int32Array;
  /** Slots - 1 (a power of two minus one). */
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
    t.mask = (p.slots.length >> 1) - 1;
    return t;
  }

  constructor(expected = 1024) {
    this.names = Buffer.allocUnsafe(expected * 24);
    this.offsets = new Uint32Array(expected + 1);
    let size = 1024;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
  }

  /**
   * The id of `key`, or -1. The probe loop is written twice, here for a key string (every query's
   * lookups) and in findBytes for arena bytes (the build): converting one to the other would cost
   * an allocation per lookup.
   */
  find(key: string): number {
    const s = this.probe(key, hashKey(key) | 0);
    return this.slots[s + 1]! - 1;
  }

  /** The id of the name in `buf[start, end)`, or -1. */
  findBytes(buf: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(buf, start, end) | 0;
    const names = this.names;
    const offsets = this.offsets;
    const slots = this.slots;
    const mask = this.mask;
    const len = end - start;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const v = slots[2 * s + 1]!;
      if (v === EMPTY) return -1;
      if (slots[2 * s] !== hash) continue;
      const off = offsets[v - 1]!;
      if (offsets[v]! - off !== len) continue;
      let i = 0;
      while (i < len && names[off + i] === buf[start + i]) i++;
      if (i === len) return v - 1;
    }
  }

  /** The id of `key`, added if new. */
  insert(key: string): number {
    const hash = hashKey(key) | 0;
    let s = this.probe(key, hash);
    const found = this.slots[s + 1]!;
    if (found !== EMPTY) return found - 1;
    const len = key.length;
    const id = this.append(len);
    const names = this.names;
    for (let i = 0, off = this.offsets[id]!; i < len; i++) names[off + i] = key.charCodeAt(i);
    if (this.grown()) s = this.emptySlot(hash);
    this.slots[s] = hash;
    this.slots[s + 1] = id + 1;
    return id;
  }

  /** Adds the name in `buf[start, end)`, which must not be present yet (see findBytes); returns its id. */
  insertNewBytes(buf: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(buf, start, end) | 0;
    const id = this.append(end - start);
    // `buf` may be this table's own arena, which append may just have replaced: copy from the source given.
    this.names.set(buf.subarray(start, end), this.offsets[id]!);
    this.grown();
    const s = this.emptySlot(hash);
    this.slots[s] = hash;
    this.slots[s + 1] = id + 1;
    return id;
  }

  /** The key (lower-cased wire form as a latin1 string) of name `id`. */
  keyOf(id: number): string {
    return this.names.toString('latin1', this.offsets[id]!, this.offsets[id + 1]!);
  }

  /** Where `key` is in `slots` (the index of its hash), or the empty slot where it would go. */
  private probe(key: string, hash: number): number {
    const names = this.names;
    const offsets = this.offsets;
    const slots = this.slots;
    const mask = this.mask;
    const len = key.length;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const v = slots[2 * s + 1]!;
      if (v === EMPTY) return 2 * s;
      if (slots[2 * s] !== hash) continue;
      const off = offsets[v - 1]!;
      if (offsets[v]! - off !== len) continue;
      let i = 0;
      while (i < len && names[off + i] === key.charCodeAt(i)) i++;
      if (i === len) return 2 * s;
    }
  }

  /** The first empty slot for `hash` (the name is known to be absent). */
  private emptySlot(hash: number): number {
    let s = hash & this.mask;
    while (this.slots[2 * s + 1] !== EMPTY) s = (s + 1) & this.mask;
    return 2 * s;
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
    return id;
  }

  /** Doubles the index when the names fill half its slots, so probes stay short; says whether it did. */
  private grown(): boolean {
    if (this.count * 2 <= this.mask + 1) return false;
    const old = this.slots;
    const size = (this.mask + 1) * 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
    // Every name already indexed moves by its stored hash; the newest is indexed by the caller.
    for (let o = 0; o < old.length; o += 2) {
      if (old[o + 1] === EMPTY) continue;
      const s = this.emptySlot(old[o]!);
      this.slots[s] = old[o]!;
      this.slots[s + 1] = old[o + 1]!;
    }
    return true;
  }
}
