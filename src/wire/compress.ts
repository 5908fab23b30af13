// Name compression (RFC 1035 §4.1.4) for one message being written. A name is first written out in
// full, then compressed where it lies: its longest suffix already in the message becomes a pointer.
// Suffixes are remembered by a hash of their lower-cased labels in a small open-addressing table, and
// a candidate counts only once the message's own octets confirm it (so a hash collision costs a
// comparison, never a wrong pointer). Nothing is allocated per name.

import { lowerByte } from '../zone/name.js';

const MAX_POINTER = 0x3fff;
const POINTER = 0xc0;
/** Slots in the table; at most half are used, so probe runs stay short. A message with more
 * suffixes than that (a large TCP answer) keeps what it has: later names compress less, never wrongly. */
const SLOTS = 4096;
const MAX_ENTRIES = SLOTS / 2;
/** Labels in a name: at most 127 (255 octets). */
const MAX_LABELS = 128;

export class CompressionTable {
  /** Slot s: [offset + 1 (0 = empty), hash]. */
  private readonly slots = new Int32Array(SLOTS * 2);
  /** Slots in the order they were filled, with their offsets, for rollback (last in, first out). */
  private readonly filled = new Int32Array(MAX_ENTRIES);
  private count = 0;
  /** Per name being compressed: where each label starts, and the hash of the suffix from there. */
  private readonly labelAt = new Int32Array(MAX_LABELS);
  private readonly suffixHash = new Int32Array(MAX_LABELS);

  reset(): void {
    while (this.count > 0) this.clear(this.filled[--this.count]!);
  }

  /** Remembers every suffix of the uncompressed name at `pos` (the question's) without compressing it. */
  register(buf: Buffer, pos: number): void {
    const n = this.hashSuffixes(buf, pos);
    for (let j = 0; j < n; j++) this.add(this.labelAt[j]!, this.suffixHash[j]!);
  }

  /**
   * Compresses the uncompressed name written at `pos`: its longest suffix found earlier in the message
   * is replaced by a pointer, and its new suffixes are remembered. Returns the end of the name.
   */
  compress(buf: Buffer, pos: number): number {
    const n = this.hashSuffixes(buf, pos);
    if (n === 0) return pos + 1; // the root: one octet, nothing to point to
    for (let j = 0; j < n; j++) {
      const at = this.find(buf, this.labelAt[j]!, this.suffixHash[j]!);
      if (at < 0) continue;
      const p = this.labelAt[j]!;
      buf[p] = POINTER | (at >> 8);
      buf[p + 1] = at & 0xff;
      for (let i = 0; i < j; i++) this.add(this.labelAt[i]!, this.suffixHash[i]!);
      return p + 2;
    }
    for (let i = 0; i < n; i++) this.add(this.labelAt[i]!, this.suffixHash[i]!);
    const last = this.labelAt[n - 1]!;
    return last + 1 + buf[last]! + 1; // past the last label and the root octet
  }

  /** Forgets every suffix at or after `offset` (suffixes are remembered in increasing offset order). */
  rollback(offset: number): void {
    while (this.count > 0) {
      const s = this.filled[this.count - 1]!;
      if (this.slots[s * 2]! - 1 < offset) return;
      this.clear(s);
      this.count--;
    }
  }

  /**
   * Fills labelAt/suffixHash for the uncompressed name at `pos`: label starts left to right, each with
   * the hash of the suffix it starts, computed right to left. Returns the number of labels (the root
   * name has none).
   */
  private hashSuffixes(buf: Buffer, pos: number): number {
    let n = 0;
    for (let p = pos; buf[p] !== 0; p += buf[p]! + 1) this.labelAt[n++] = p;
    let h = 0x811c9dc5;
    for (let j = n - 1; j >= 0; j--) {
      const p = this.labelAt[j]!;
      const len = buf[p]!;
      h = Math.imul(h ^ len, 0x01000193);
      for (let i = p + 1; i <= p + len; i++) h = Math.imul(h ^ lowerByte(buf[i]!), 0x01000193);
      this.suffixHash[j] = h;
    }
    return n;
  }

  /** The offset of an earlier name equal to the uncompressed suffix at `at`, or -1. */
  private find(buf: Buffer, at: number, hash: number): number {
    const slots = this.slots;
    for (let s = hash & (SLOTS - 1); slots[s * 2] !== 0; s = (s + 1) & (SLOTS - 1)) {
      if (slots[s * 2 + 1] === hash && sameName(buf, at, slots[s * 2]! - 1)) return slots[s * 2]! - 1;
    }
    return -1;
  }

  private add(offset: number, hash: number): void {
    if (offset > MAX_POINTER || this.count === MAX_ENTRIES) return;
    const slots = this.slots;
    let s = hash & (SLOTS - 1);
    while (slots[s * 2] !== 0) s = (s + 1) & (SLOTS - 1);
    slots[s * 2] = offset + 1;
    slots[s * 2 + 1] = hash;
    this.filled[this.count++] = s;
  }

  /** Empties slot `s`. Safe only for the slot filled last: nothing filled after it probed past it. */
  private clear(s: number): void {
    this.slots[s * 2] = 0;
    this.slots[s * 2 + 1] = 0;
  }
}

/** Whether the uncompressed name at `a` equals the name at `b` (which may end in pointers), ignoring case. */
function sameName(buf: Buffer, a: number, b: number): boolean {
  for (;;) {
    let lb = buf[b]!;
    while ((lb & POINTER) === POINTER) {
      b = ((lb & 0x3f) << 8) | buf[b + 1]!;
      lb = buf[b]!;
    }
    const la = buf[a]!;
    if (la !== lb) return false;
    if (la === 0) return true;
    for (let i = 1; i <= la; i++) if (lowerByte(buf[a + i]!) !== lowerByte(buf[b + i]!)) return false;
    a += la + 1;
    b += lb + 1;
  }
}
