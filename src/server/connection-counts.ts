// The TCP connections open per address, per prefix and in all, counted for the whole POP: every
// answering thread counts its own in one SharedArrayBuffer, and each reads the sum over threads.
//
// Each thread writes only its own slice of the memory, so a thread that dies leaves counts only in
// its slice, and the thread that replaces it (same index) starts by clearing them: its connections
// closed with it. Sources are counted in rows of counters indexed by a hash of their text (no keys
// kept: the memory is fixed by the table's capacity); two rows with independent hashes, and a
// source's count is the smaller of its two counters, which is exact unless another source shares
// both, and then only too high: a cap may hold a little early, never late.

/** Rows of counters per kind of source, each with its own hash. */
const ROWS = 2;
/** In a slice: the total, then ROWS rows for addresses, then ROWS rows for prefixes. */
const TOTAL = 0;

/** Counters per row for a table of `capacity` connections: at most half of them in use at once. */
function rowWidth(capacity: number): number {
  let w = 64;
  while (w < capacity * 2) w *= 2;
  return w;
}

function sliceWords(capacity: number): number {
  return 1 + 2 * ROWS * rowWidth(capacity);
}

/** The memory that counts the connections of a POP with `threads` answering threads and `capacity` connections. */
export function connectionCountsMemory(capacity: number, threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer(threads * sliceWords(capacity) * 4);
}

/** FNV-1a of `text` from `seed`, then mixed so that every bit of the result depends on every octet. */
function hashText(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

const SEEDS = [0x811c9dc5, 0x2f8e6c1b] as const;

export class ConnectionCounts {
  private readonly words: Int32Array;
  private readonly slices: number;
  private readonly slice: number;
  private readonly width: number;
  private readonly mine: number;

  /**
   * Counts over `memory` (connectionCountsMemory of the same capacity) as thread `thread` of the
   * POP; a private memory for one thread when not given. Clears the thread's slice: a thread
   * that had the index before is gone, and its connections with it.
   */
  constructor(capacity: number, memory: SharedArrayBuffer = connectionCountsMemory(capacity, 1), thread = 0) {
    this.width = rowWidth(capacity);
    this.slice = sliceWords(capacity);
    this.words = new Int32Array(memory);
    this.slices = this.words.length / this.slice;
    if (!Number.isInteger(this.slices) || thread < 0 || thread >= this.slices) {
      throw new RangeError(`connection counts memory of ${memory.byteLength} octets has no slice ${thread} for ${capacity} connections`);
    }
    this.mine = thread * this.slice;
    for (let i = 0; i < this.slice; i++) Atomics.store(this.words, this.mine + i, 0);
  }

  /** Connections open in the POP. */
  get total(): number {
    return this.sum(TOTAL);
  }

  /** Connections open from `address` in the POP. */
  fromAddress(address: string): number {
    return this.estimate(address, 0);
  }

  /** Connections open from `prefix` in the POP. */
  fromPrefix(prefix: string): number {
    return this.estimate(prefix, ROWS);
  }

  /** Counts a connection from `address` in `prefix` (`by` 1), or forgets one (`by` -1). */
  add(address: string, prefix: string, by: 1 | -1): void {
    const w = this.words;
    Atomics.add(w, this.mine + TOTAL, by);
    for (let r = 0; r < ROWS; r++) {
      Atomics.add(w, this.mine + this.counter(r, address), by);
      Atomics.add(w, this.mine + this.counter(ROWS + r, prefix), by);
    }
  }

  /** The smallest over the rows from `firstRow` of the POP's counter for `text`. */
  private estimate(text: string, firstRow: number): number {
    let least = Infinity;
    for (let r = 0; r < ROWS; r++) least = Math.min(least, this.sum(this.counter(firstRow + r, text)));
    return least;
  }

  /** The word of `text`'s counter in row `row`, within a slice. */
  private counter(row: number, text: string): number {
    return 1 + row * this.width + (hashText(text, SEEDS[row % ROWS]!) & (this.width - 1));
  }

  /** The word at `offset` of every thread's slice, added up. */
  private sum(offset: number): number {
    let n = 0;
    for (let s = 0, at = offset; s < this.slices; s++, at += this.slice) n += Atomics.load(this.words, at);
    return n;
  }
}
