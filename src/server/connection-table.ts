// Which TCP connection gives way when the connection cap is reached. Pure bookkeeping: the
// transport tells it when connections come, go and are active; it names the one to close.

export interface TrackedConnection {
  /** Time of the last bytes received (any monotonic clock). */
  lastActive: number;
  /** True when nothing is in flight: no partial query read, no response unsent. */
  isIdle(): boolean;
}

export class ConnectionTable<C extends TrackedConnection> {
  private readonly open = new Set<C>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.open.size;
  }

  get full(): boolean {
    return this.open.size >= this.capacity;
  }

  add(c: C): void {
    this.open.add(c);
  }

  delete(c: C): void {
    this.open.delete(c);
  }

  /**
   * The connection to close so a new one can be served: the idle one with the oldest activity
   * (RFC 7766 §6.2.3: under a connection limit, close idle connections first, oldest first); null
   * when every connection has a query in flight, and the newcomer must be turned away instead.
   */
  evictionCandidate(): C | null {
    let best: C | null = null;
    for (const c of this.open) {
      if (c.isIdle() && (best === null || c.lastActive < best.lastActive)) best = c;
    }
    return best;
  }

  [Symbol.iterator](): IterableIterator<C> {
    return this.open.values();
  }
}
