// Which TCP connections may open, which give way when the table is full, and which have run out of
// time. Per-source caps hold only while the table is under pressure (half of it in use or more).
// Pure bookkeeping with the clock passed in: the transport says what each connection is doing, the
// table names the connection to close. Every operation is O(1): connections wait in three lists kept
// in the order they entered them (so each list's head is its oldest), and per-prefix counts are
// bucketed by size so the prefix holding the most is known without a scan.
//
// One table per answering thread, over counts shared by the POP (connection-counts.ts): the total,
// and the connections per address and per prefix, are the POP's, so the capacity and the caps hold
// however many threads accept. A thread closes only its own connections: the one it evicts for a
// newcomer is among its own, and the prefix holding the most is the most among its own.
import { ConnectionCounts } from './connection-counts.js';

/** What a connection is doing, and so how long it may keep its slot. */
type Activity =
  /** Accepted, nothing received yet. */
  | 'fresh'
  /** Every query answered and sent; waiting for the next (RFC 7766 §6.2.3 idle). */
  | 'idle'
  /** Holding a message half read, or answers the peer is not reading: owes progress now. */
  | 'stalled';

type EvictReason = 'evicted_idle' | 'evicted_slow' | 'evicted_prefix';
export type RefuseReason = 'refused_per_address' | 'refused_per_prefix' | 'refused_full';
export type TimeoutReason = 'idle_timeout' | 'io_timeout';

export interface TableLimits {
  /** Connections open at once. */
  capacity: number;
  /** Connections open at once from one address while the table is under pressure; 0: no limit. */
  perAddress: number;
  /** Connections open at once from one prefix (sourcePrefix) while the table is under pressure; 0: no limit. */
  perPrefix: number;
  /** A fresh or idle connection closes after this long without traffic. */
  idleTimeoutMs: number;
  /** A stalled connection closes after this long without finishing its message or taking its answers. */
  ioTimeoutMs: number;
  /** A fresh or stalled connection younger than this is still in its first exchange, not slow. */
  graceMs: number;
}

export type Admission<C> =
  | { admit: true; evict: null }
  | { admit: true; evict: TableEntry<C>; reason: EvictReason }
  | { admit: false; reason: RefuseReason };

/** A connection's place in the table; the transport keeps it and reports through it. */
export class TableEntry<C> {
  activity: Activity = 'fresh';
  /** When it entered its current activity. */
  since: number;
  prev: TableEntry<C> | null = null;
  next: TableEntry<C> | null = null;
  removed = false;

  constructor(
    readonly conn: C,
    readonly address: string,
    readonly prefix: string,
    now: number,
  ) {
    this.since = now;
  }
}

/** A doubly linked list of entries in the order they were appended. */
class EntryList<C> {
  head: TableEntry<C> | null = null;
  private tail: TableEntry<C> | null = null;

  push(e: TableEntry<C>): void {
    e.prev = this.tail;
    e.next = null;
    if (this.tail === null) this.head = e;
    else this.tail.next = e;
    this.tail = e;
  }

  remove(e: TableEntry<C>): void {
    if (e.prev === null) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === null) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = e.next = null;
  }
}

/** Where a table counts its connections for the POP: memory from connectionCountsMemory, and this thread's index in it. */
export interface SharedCounts {
  memory: SharedArrayBuffer;
  thread: number;
}

export class ConnectionTable<C> {
  private count = 0;
  private readonly lists: Record<Activity, EntryList<C>> = { fresh: new EntryList(), idle: new EntryList(), stalled: new EntryList() };
  /** Each prefix's entries in the order they were admitted. */
  private readonly byPrefix = new Map<string, Set<TableEntry<C>>>();
  /** sizeBuckets[n]: the prefixes holding exactly n connections. */
  private readonly sizeBuckets: Set<string>[] = [new Set()];
  private largest = 0;
  private readonly pop: ConnectionCounts;

  /** A table counting for the POP in `shared`; alone (its own counts) without it. */
  constructor(
    readonly limits: TableLimits,
    shared?: SharedCounts,
  ) {
    this.pop = new ConnectionCounts(limits.capacity, shared?.memory, shared?.thread);
  }

  /** Connections open in this table. */
  get size(): number {
    return this.count;
  }

  /** The POP has as many connections open as the capacity. */
  get full(): boolean {
    return this.pop.total >= this.limits.capacity;
  }

  /**
   * Half the table or more in use: from here on each source is held to its caps. Below it at least
   * as many slots are free as are taken, so a busy source's extra connections take room nobody is
   * waiting for, and a resolver is answered in full however many it keeps open at once (that number
   * grows with its round-trip time, not only with its load). From here, one source can have filled
   * at most half the table by itself; the other half fills only in per-source shares, so filling
   * it takes many sources, and at the cap the eviction order shares it between them. Engaging only
   * when full would let one source fill the table alone, and then every newcomer would cost an
   * eviction, paid first by other clients' idle connections.
   */
  private underPressure(open: number): boolean {
    return open * 2 >= this.limits.capacity;
  }

  /** Connections open from `address` in the POP now. */
  fromAddress(address: string): number {
    return this.pop.fromAddress(address);
  }

  /** Connections open from `prefix` in the POP now. */
  fromPrefix(prefix: string): number {
    return this.pop.fromPrefix(prefix);
  }

  /** The prefix holding the most of this table's connections now, and how many; null when the table is empty. */
  busiestPrefix(): { prefix: string; connections: number } | null {
    if (this.largest === 0) return null;
    return { prefix: this.sizeBuckets[this.largest]!.values().next().value!, connections: this.largest };
  }

  /**
   * Whether a connection from `address` in `prefix` may open now, and which open one must close to
   * make room. Under pressure a source's own caps come first (RFC 7766 §6.2.2: servers MAY limit
   * connections per client address or subnet, loosely, since one address may be many clients
   * behind NAT). At the table's capacity the one closed is, in order: the oldest idle connection
   * (RFC 7766 §6.2.3: idle ones go first); one that has said nothing since it connected, or has
   * stalled mid-message or mid-answer, past the grace period, oldest first; else the oldest of the
   * prefix holding the most connections, unless the newcomer's own prefix would then hold as many
   * (evicting would not make the table fairer), and then it is the newcomer that is refused.
   * A newcomer admitted is counted in the POP's counts from here on: `add` must follow at once.
   */
  admission(address: string, prefix: string, now: number): Admission<C> {
    // Counted first and judged after, so that threads admitting at once each see the others: of
    // two racing for the last place under a cap, at worst both are refused, never both admitted.
    const pop = this.pop;
    pop.add(address, prefix, 1);
    const decision = this.judge(address, prefix, now);
    if (!decision.admit) pop.add(address, prefix, -1);
    return decision;
  }

  /** admission's verdict, the newcomer counted in the POP's counts. */
  private judge(address: string, prefix: string, now: number): Admission<C> {
    const { perAddress, perPrefix, capacity, graceMs } = this.limits;
    const pop = this.pop;
    const others = pop.total - 1;
    if (this.underPressure(others)) {
      if (perAddress > 0 && pop.fromAddress(address) > perAddress) return { admit: false, reason: 'refused_per_address' };
      if (perPrefix > 0 && pop.fromPrefix(prefix) > perPrefix) return { admit: false, reason: 'refused_per_prefix' };
    }
    if (others < capacity) return { admit: true, evict: null };
    const idle = this.lists.idle.head;
    if (idle !== null) return { admit: true, evict: idle, reason: 'evicted_idle' };
    const silent = this.lists.fresh.head;
    if (silent !== null && now - silent.since >= graceMs) return { admit: true, evict: silent, reason: 'evicted_idle' };
    const stalled = this.lists.stalled.head;
    if (stalled !== null && now - stalled.since >= graceMs) return { admit: true, evict: stalled, reason: 'evicted_slow' };
    const busiest = this.busiestPrefix();
    const mine = this.byPrefix.get(prefix)?.size ?? 0;
    if (busiest !== null && busiest.connections >= mine + 2) {
      return { admit: true, evict: this.byPrefix.get(busiest.prefix)!.values().next().value!, reason: 'evicted_prefix' };
    }
    return { admit: false, reason: 'refused_full' };
  }

  /** Takes a connection in, right after `admission` said yes (and so counted it) and its victim was removed. */
  add(conn: C, address: string, prefix: string, now: number): TableEntry<C> {
    const e = new TableEntry(conn, address, prefix, now);
    this.lists.fresh.push(e);
    this.count++;
    let members = this.byPrefix.get(prefix);
    if (members === undefined) this.byPrefix.set(prefix, (members = new Set()));
    this.moveBucket(prefix, members.size, members.size + 1);
    members.add(e);
    return e;
  }

  /** Nothing in flight any more: every query answered and sent. */
  idle(e: TableEntry<C>, now: number): void {
    this.enter(e, 'idle', now);
  }

  /** A message has begun arriving, or the peer has stopped taking answers: the I/O deadline starts now. */
  stalled(e: TableEntry<C>, now: number): void {
    this.enter(e, 'stalled', now);
  }

  delete(e: TableEntry<C>): void {
    if (e.removed) return;
    e.removed = true;
    this.lists[e.activity].remove(e);
    this.count--;
    this.pop.add(e.address, e.prefix, -1);
    const members = this.byPrefix.get(e.prefix)!;
    members.delete(e);
    this.moveBucket(e.prefix, members.size + 1, members.size);
    if (members.size === 0) this.byPrefix.delete(e.prefix);
  }

  /** The oldest connection whose time is up at `now`, and why; null when none is. */
  expired(now: number): { entry: TableEntry<C>; reason: TimeoutReason } | null {
    const { idleTimeoutMs, ioTimeoutMs } = this.limits;
    for (const activity of ['idle', 'fresh'] as const) {
      const e = this.lists[activity].head;
      if (e !== null && now - e.since >= idleTimeoutMs) return { entry: e, reason: 'idle_timeout' };
    }
    const e = this.lists.stalled.head;
    if (e !== null && now - e.since >= ioTimeoutMs) return { entry: e, reason: 'io_timeout' };
    return null;
  }

  private enter(e: TableEntry<C>, activity: Activity, now: number): void {
    if (e.removed) return;
    // Appending with a clock that never goes back keeps each list in order of `since`.
    this.lists[e.activity].remove(e);
    e.activity = activity;
    e.since = now;
    this.lists[activity].push(e);
  }

  private moveBucket(prefix: string, from: number, to: number): void {
    if (from > 0) this.sizeBuckets[from]!.delete(prefix);
    if (to > 0) (this.sizeBuckets[to] ??= new Set()).add(prefix);
    // Counts move by one, so the largest moves by at most one: up when a prefix passes it, down
    // when its last holder shrinks.
    if (to > this.largest) this.largest = to;
    else if (from === this.largest && this.sizeBuckets[from]!.size === 0) this.largest = to;
  }
}
