// A set of names numbered 0..count-1, held as lower-cased wire bytes in one arena with an
// open-addressing hash index in a typed array. A million names cost a few dozen megabytes and, unlike
// a Map of strings, nothing the garbage collector has to visit one by one. Each index slot keeps the
// name's hash beside its id: a probe that meets another name is rejected without reading the arena
// (at a million names every such read is a cache miss), and growing the index rehashes nothing.

import { located } from './located.js';

const EMPTY = 0; // ids are stored + 1

/** Slots for `expected` names: a power of two, at least twice as many, so the index stays at most half full. */
function indexSize(expected: number): number {
  // A small zone's table stays small: a POP may hold 100,000 zones of a few names each.
  let size = 16;
  while (size < expected * 2) size *= 2;
  return size;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the octets of a key (latin1: one char, one octet), from `start`. */
export function hashKey(key: string, start = 0): number {
  let h = FNV_OFFSET;
  for (let i = start; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

/** FNV-1a over `buf[start, end)`: the same hash as hashKey, for octets. */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
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
  /** Name bytes; name `id` is `names[namesAt + offsets[offsetsAt + id], namesAt + offsets[offsetsAt + id + 1])`. */
  names: Buffer;
  offsets: Uint32Array;
  /**
   * Where this table's part of each array begins: 0 for a table being built; for one over parts, the
   * arrays are the views of the whole buffer its zone was packed into, one per type for every zone
   * there (see located), so a table of a small zone holds no views of its own.
   */
  readonly namesAt: number = 0;
  readonly offsetsAt: number = 0;
  private readonly slotsAt: number = 0;
  count = 0;
  /** Slot `s` is `slots[slotsAt + 2s]` (the name's hash) and `slots[slotsAt + 2s + 1]` (its id + 1, or EMPTY). */
  private slots: Int32Array;
  /** Slots - 1 (a power of two minus one). */
  private mask: number;

  /** The table's state as plain arrays, to hand to another thread or process (see fromParts). */
  parts(): NameTableParts {
    // The arena and offsets as used, not as allocated (they grow by doubling).
    const offsets = this.offsets.subarray(this.offsetsAt, this.offsetsAt + this.count + 1);
    return {
      names: this.names.subarray(this.namesAt, this.namesAt + offsets[this.count]!),
      offsets,
      count: this.count,
      slots: this.slots.subarray(this.slotsAt, this.slotsAt + 2 * (this.mask + 1)),
    };
  }

  /** A read-only table over arrays made by parts() (in this thread or another); they are used, not copied. */
  static fromParts(p: NameTableParts): NameTable {
    return new NameTable(0, p, true);
  }

  /**
   * An empty table sized for `expected` names, or (with `parts`) one over those arrays, allocating
   * nothing: as they are (a table still being built, which may grow them), or, `shared`, read
   * through the views of their whole buffers (located).
   */
  constructor(expected = 1024, parts?: NameTableParts, shared = false) {
    if (parts !== undefined) {
      this.count = parts.count;
      this.mask = (parts.slots.length >> 1) - 1;
      if (!shared) {
        this.names = Buffer.from(parts.names.buffer, parts.names.byteOffset, parts.names.byteLength);
        this.offsets = parts.offsets;
        this.slots = parts.slots;
        return;
      }
      const names = located(parts.names);
      const offsets = located(parts.offsets);
      const slots = located(parts.slots);
      this.names = names.whole;
      this.namesAt = names.at;
      this.offsets = offsets.whole;
      this.offsetsAt = offsets.at;
      this.slots = slots.whole;
      this.slotsAt = slots.at;
      return;
    }
    this.names = Buffer.allocUnsafe(expected * 24);
    this.offsets = new Uint32Array(expected + 1);
    const size = indexSize(expected);
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
  }

  /**
   * The id of `key` (from offset `start`), or -1. The probe loop is written twice, here for a key string (every query's
   * lookups) and in findBytes for arena bytes (the build): converting one to the other would cost
   * an allocation per lookup.
   */
  find(key: string, start = 0): number {
    // `key.substring(start)`, without making the substring: the query path walks a name's ancestors
    // as suffixes of its key (`start` on a label boundary).
    const hash = hashKey(key, start) | 0;
    const names = this.names;
    const namesAt = this.namesAt;
    const offsets = this.offsets;
    const offsetsAt = this.offsetsAt;
    const slots = this.slots;
    const slotsAt = this.slotsAt;
    const mask = this.mask;
    const len = key.length - start;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const v = slots[slotsAt + 2 * s + 1]!;
      if (v === EMPTY) return -1;
      if (slots[slotsAt + 2 * s] !== hash) continue;
      const off = namesAt + offsets[offsetsAt + v - 1]!;
      if (namesAt + offsets[offsetsAt + v]! - off !== len) continue;
      let i = 0;
      while (i < len && names[off + i] === key.charCodeAt(start + i)) i++;
      if (i === len) return v - 1;
    }
  }

  /** The id of the name in `buf[start, end)`, or -1. */
  findBytes(buf: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(buf, start, end) | 0;
    const names = this.names;
    const namesAt = this.namesAt;
    const offsets = this.offsets;
    const offsetsAt = this.offsetsAt;
    const slots = this.slots;
    const slotsAt = this.slotsAt;
    const mask = this.mask;
    const len = end - start;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const v = slots[slotsAt + 2 * s + 1]!;
      if (v === EMPTY) return -1;
      if (slots[slotsAt + 2 * s] !== hash) continue;
      const off = namesAt + offsets[offsetsAt + v - 1]!;
      if (namesAt + offsets[offsetsAt + v]! - off !== len) continue;
      let i = 0;
      while (i < len && names[off + i] === buf[start + i]) i++;
      if (i === len) return v - 1;
    }
  }

  /** Adds the name in `buf[start, end)`, which must not be present yet (see findBytes); returns its id. */
  insertNewBytes(buf: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(buf, start, end) | 0;
    const id = this.append(end - start);
    // `buf` may be this table's own arena, which append may just have replaced: copy from the source given.
    this.names.set(buf.subarray(start, end), this.offsets[id]!);
    this.grow();
    const s = this.emptySlot(hash);
    this.slots[s] = hash;
    this.slots[s + 1] = id + 1;
    return id;
  }

  /** The key (lower-cased wire form as a latin1 string) of name `id`. */
  keyOf(id: number): string {
    return this.names.toString('latin1', this.namesAt + this.offsets[this.offsetsAt + id]!, this.namesAt + this.offsets[this.offsetsAt + id + 1]!);
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

  /** Doubles the index when the names fill half its slots, so probes stay short. */
  private grow(): void {
    if (this.count * 2 <= this.mask + 1) return;
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
  }
}

/** Top bits of the slot number that NameCollector groups entries by: 2048 groups, each a few KiB of the index. */
const GROUP_BITS = 11;

/**
 * Owner names as records arrive, collected without a lookup each: every run of records with one
 * owner appends the name (a name met again later is appended again). table() then merges the
 * repeats and builds the index group by group of neighbouring slots. Inserting name by name writes
 * the index, megabytes large, at random places, one cache and TLB miss per name: for a zone of many
 * small names that was the most expensive step of reading it.
 */
export class NameCollector {
  private bytes = Buffer.allocUnsafe(1024);
  private offsets = new Uint32Array(65);
  private hashes = new Int32Array(64);
  /** Entries added so far. */
  count = 0;

  /** Appends `key` (see name.ts); returns its entry number. */
  add(key: string): number {
    const e = this.count;
    if (e === this.hashes.length) {
      const offsets = new Uint32Array(e * 2 + 1);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const hashes = new Int32Array(e * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    const off = this.offsets[e]!;
    const len = key.length;
    if (off + len > this.bytes.length) {
      const bytes = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, off + len));
      this.bytes.copy(bytes, 0, 0, off);
      this.bytes = bytes;
    }
    // Copied and hashed (FNV-1a, as hashKey) in one pass.
    const bytes = this.bytes;
    let h = FNV_OFFSET;
    for (let i = 0; i < len; i++) {
      const c = key.charCodeAt(i);
      bytes[off + i] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    this.hashes[e] = h;
    this.offsets[e + 1] = off + len;
    this.count = e + 1;
    return e;
  }

  /**
   * The distinct names as a table, numbered in order of first appearance, and each entry's id in
   * it. The collector's arrays become the table's: add nothing afterwards.
   */
  table(): { names: NameTable; idOf: Uint32Array } {
    const n = this.count;
    const size = indexSize(n);
    const mask = size - 1;
    const slots = new Int32Array(size * 2);
    const hashes = this.hashes;
    const bytes = this.bytes;
    const offsets = this.offsets;
    // first[e]: the earliest entry with the same name. Entries are placed group by group, each group
    // in entry order, and equal names share a home slot: the earliest of them is always placed first.
    const first = new Uint32Array(n);
    const byGroup = this.groupedBySlot(mask);
    for (let k = 0; k < n; k++) {
      const e = byGroup[k]!;
      const hash = hashes[e]!;
      const from = offsets[e]!;
      const len = offsets[e + 1]! - from;
      for (let s = hash & mask; ; s = (s + 1) & mask) {
        const v = slots[2 * s + 1]!;
        if (v === EMPTY) {
          slots[2 * s] = hash;
          slots[2 * s + 1] = e + 1;
          first[e] = e;
          break;
        }
        if (slots[2 * s] !== hash) continue;
        const other = offsets[v - 1]!;
        if (offsets[v]! - other !== len) continue;
        let i = 0;
        while (i < len && bytes[other + i] === bytes[from + i]) i++;
        if (i === len) {
          first[e] = v - 1;
          break;
        }
      }
    }
    // Number the distinct names and move them down over the repeats, in place (an id is never above its entry).
    const idOf = first;
    let ids = 0;
    for (let e = 0; e < n; e++) {
      if (first[e] !== e) {
        idOf[e] = idOf[first[e]!]!;
        continue;
      }
      const id = ids++;
      idOf[e] = id;
      if (id === e) continue;
      const from = offsets[e]!;
      const end = offsets[e + 1]!;
      const to = offsets[id]!;
      // Downwards, so front to back is safe; names are short: a loop beats copyWithin's call.
      for (let i = from, j = to; i < end; ) bytes[j++] = bytes[i++]!;
      offsets[id + 1] = to + end - from;
    }
    if (ids < n) for (let s = 1; s < slots.length; s += 2) if (slots[s] !== EMPTY) slots[s] = idOf[slots[s]! - 1]! + 1;
    const names = new NameTable(0, { names: bytes, offsets, count: ids, slots });
    this.hashes = new Int32Array(0);
    return { names, idOf };
  }

  /** Entry numbers ordered by the top bits of their home slot, each group in entry order (one counting sort). */
  private groupedBySlot(mask: number): Uint32Array {
    const n = this.count;
    const bits = 31 - Math.clz32(mask + 1);
    // No more groups than slots: a small zone's table is sorted in a few dozen steps, not thousands.
    const groupBits = Math.min(GROUP_BITS, bits);
    const shift = bits - groupBits;
    const start = new Uint32Array((1 << groupBits) + 1);
    for (let e = 0; e < n; e++) start[((this.hashes[e]! & mask) >>> shift) + 1]!++;
    for (let g = 1; g < start.length; g++) start[g] = start[g]! + start[g - 1]!;
    const out = new Uint32Array(n);
    for (let e = 0; e < n; e++) out[start[(this.hashes[e]! & mask) >>> shift]!++] = e;
    return out;
  }
}
