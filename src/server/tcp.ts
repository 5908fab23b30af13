// DNS over TCP (RFC 7766, RFC 1035 §4.2.2): each message is preceded by its 2-byte length; a client
// may send many queries on one connection and each is answered as soon as it is read (pipelining).
// The transport only frames bytes; answering is the handler's job. A flood of slow or silent
// connections can't hold the table: once half of it is in use, open ones are limited per address and
// per prefix (new ones per prefix and second too, when configured); a begun message has the I/O
// timeout to arrive whole; at the cap the connections that cost the most give way
// (connection-table.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import type { ListenAddress, ServerConfig } from '../ops/config.js';
import { formatListenAddress } from '../ops/listen-address.js';
import type { Logger } from '../log.js';
import type { DnstapWriter } from '../ops/dnstap-output.js';
import type { DropReason, QueryCounters, TcpEvent } from '../ops/query-counters.js';
import type { QueryHandler, QueryMeta } from '../wire/handler-types.js';
import { ConnectionTable, type RefuseReason, type SharedCounts, type TableEntry, type TimeoutReason } from './connection-table.js';
import { plainAddress, sourcePrefix } from './source-prefix.js';
import type { OutgoingTransfer, TransferOut } from './transfer-out.js';
import { NotifyIn } from './notify-in.js';

/** A DNS message is at least its 12-byte header (RFC 1035 §4.1.1): a shorter frame is garbage. */
const MIN_MESSAGE = 12;
const MAX_MESSAGE = 65535;
/**
 * Handshakes the kernel completes and queues for accept (Linux caps it at net.core.somaxconn, 4096
 * since 5.4). A full queue drops SYNs, and a client retries only after its 1 s initial RTO (RFC 6298
 * §2), so under a connection flood a legitimate client would wait seconds; queued, it waits for the
 * connections ahead of it, which accept turns over at thousands a second.
 */
const LISTEN_BACKLOG = 4096;
/** Connections still open this long after shutdown began are cut. */
const SHUTDOWN_GRACE_MS = 1000;
/**
 * A connection this young that has sent nothing, or is mid-message, is still in its first exchange
 * and is not evicted as idle or slow. A client sends its query with (or right after) the ACK that
 * completes the handshake, so this covers the wait between accept and first read under an accept
 * burst; it is well below any sensible I/O timeout.
 */
const EVICTION_GRACE_MS = 250;
/** Refusals, evictions and I/O timeouts are logged as one summary per this interval, never one line per connection. */
const PRESSURE_LOG_INTERVAL_MS = 10_000;

/** The `tcp` section of the config (its keys documented there and in config/anycast-dns.yaml). */
export type TcpOptions = ServerConfig['tcp'];

/**
 * The open connections of every TCP listener of a thread, counted for the POP (the caps are per POP,
 * not per address or thread), the rate of new ones per prefix, and the one timer that closes those
 * out of time.
 */
export class TcpConnections {
  readonly table: ConnectionTable<TcpConnection>;
  /**
   * New connections per prefix in the current second. TCP sources can't be spoofed (the handshake
   * proves the address), so its keys are real peers seen in the last second: bounded memory.
   */
  private readonly rate: RateLimiterMemory | null;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly sweepEveryMs: number;
  /** Connections refused, evicted or timed out mid-message since the last summary; null: none. */
  private pressure: Partial<Record<TcpEvent, number>> | null = null;

  constructor(
    private readonly opts: TcpOptions,
    private readonly log: Logger,
    rate: RateLimiterMemory | null,
    shared?: SharedCounts,
  ) {
    this.table = new ConnectionTable<TcpConnection>(
      {
      capacity: opts.maxConnections,
      perAddress: opts.maxConnectionsPerAddress,
      perPrefix: opts.maxConnectionsPerPrefix,
      idleTimeoutMs: opts.idleTimeoutMs,
      ioTimeoutMs: opts.ioTimeoutMs,
      graceMs: Math.min(EVICTION_GRACE_MS, opts.ioTimeoutMs),
      },
      shared,
    );
    this.rate = rate;
    // Deadlines are checked a tenth of the shorter timeout apart: late by at most 10%, and by 100 ms.
    this.sweepEveryMs = Math.max(10, Math.min(100, Math.floor(Math.min(opts.idleTimeoutMs, opts.ioTimeoutMs) / 10)));
  }

  /** The key per-prefix limits count `address` under (the config's prefix lengths). */
  prefixOf(address: string): string {
    return sourcePrefix(address, this.opts.ipv4PrefixLength, this.opts.ipv6PrefixLength);
  }

  /** True when `prefix` may open another connection this second; a promise of it when that takes the limiter. */
  rateAllows(prefix: string): true | Promise<boolean> {
    if (this.rate === null) return true;
    // Over the limit rejects with a RateLimiterRes; an Error would be the limiter's own fault, and
    // the table's caps still hold, so it lets the connection through.
    return this.rate.consume(prefix).then(
      () => true,
      (res: unknown) => res instanceof Error,
    );
  }

  add(conn: TcpConnection, address: string, prefix: string, now: number): TableEntry<TcpConnection> {
    const entry = this.table.add(conn, address, prefix, now);
    if (this.sweeper === null) {
      this.sweeper = setInterval(this.sweep, this.sweepEveryMs);
      this.sweeper.unref();
    }
    return entry;
  }

  delete(entry: TableEntry<TcpConnection>): void {
    this.table.delete(entry);
    if (this.table.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  /** Counts a connection turned away, closed for room or out of I/O time, for the next summary line. */
  underPressure(event: TcpEvent): void {
    if (this.pressure === null) {
      this.pressure = {};
      setTimeout(this.logPressure, PRESSURE_LOG_INTERVAL_MS).unref();
    }
    this.pressure[event] = (this.pressure[event] ?? 0) + 1;
  }

  private readonly logPressure = (): void => {
    const counts = this.pressure;
    this.pressure = null;
    const busiest = this.table.busiestPrefix();
    this.log.warn(
      { ...counts, open: this.table.size, busiest_prefix: busiest?.prefix, busiest_prefix_connections: busiest?.connections, seconds: PRESSURE_LOG_INTERVAL_MS / 1000 },
      'tcp connections refused, closed for room or out of I/O time',
    );
  };

  private readonly sweep = (): void => {
    const now = performance.now();
    for (let due = this.table.expired(now); due !== null; due = this.table.expired(now)) due.entry.conn.timedOut(due.reason);
  };
}

/**
 * `shared`: the POP's connection counts and this thread's index in them; without it, counts of its own.
 * The rate limiter's library is loaded only when the rate is limited: each query thread holds its own
 * copy of every module it imports.
 */
export async function newTcpConnections(opts: TcpOptions, log: Logger, shared?: SharedCounts): Promise<TcpConnections> {
  const perSecond = opts.newConnectionsPerSecondPerPrefix;
  const rate = perSecond > 0 ? new (await import('rate-limiter-flexible')).RateLimiterMemory({ points: perSecond, duration: 1 }) : null;
  return new TcpConnections(opts, log, rate, shared);
}

export interface BindOptions {
  /** SO_REUSEPORT: each query thread its own listener, the kernel spreading connections over them. */
  reusePort: boolean;
}

const ignore = (): void => {};

export class TcpListener {
  private readonly server: Server;
  /** This listener's own connections (the table holds every listener's). */
  private readonly mine = new Set<TcpConnection>();
  private closing = false;

  constructor(
    readonly address: ListenAddress,
    readonly handler: QueryHandler,
    readonly metrics: QueryCounters,
    readonly log: Logger,
    readonly pool: TcpConnections,
    /** Logs every query and its response; null when dnstap is off. */
    readonly dnstap: DnstapWriter | null = null,
    /** Answers zone transfer queries; null: they go to the handler, which refuses them. */
    readonly transfers: TransferOut | null = null,
    /** Answers NOTIFYs for the secondary zones; null: they go to the handler (NOTIMP). */
    readonly notify: NotifyIn | null = null,
  ) {
    // allowHalfOpen: a client may send its queries then shut its side (RFC 7766 §6.2.4 allows it);
    // we still owe it the answers, and close our side after them. pauseOnConnect: nothing is read
    // from a connection before it is admitted.
    this.server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, this.onConnection);
    this.server.on('error', (err) => this.log.error({ err, listen: formatListenAddress(this.address) }, 'tcp listener error'));
  }

  /** Connections open on this listener. */
  get connections(): number {
    return this.mine.size;
  }

  listen(bind: BindOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const opts = {
        host: this.address.host,
        port: this.address.port,
        ipv6Only: this.address.family === 6,
        backlog: LISTEN_BACKLOG,
        ...(bind.reusePort ? { reusePort: true } : {}),
      };
      this.server.listen(opts, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private readonly onConnection = (socket: Socket): void => {
    // A reset while the connection waits for admission must not throw.
    socket.on('error', ignore);
    const address = plainAddress(socket.remoteAddress ?? '');
    if (address === '') {
      socket.destroy(); // gone before we saw it
      return;
    }
    const prefix = this.pool.prefixOf(address);
    const allowed = this.pool.rateAllows(prefix);
    if (allowed === true) this.admit(socket, address, prefix);
    else void allowed.then((ok) => (ok ? this.admit(socket, address, prefix) : this.refuse(socket, 'refused_rate')));
  };

  /** Past the rate limit: the caps and the table decide, in one synchronous step, so counts stay exact. */
  private admit(socket: Socket, address: string, prefix: string): void {
    if (socket.destroyed || this.closing) {
      socket.destroy();
      return;
    }
    const now = performance.now();
    const decision = this.pool.table.admission(address, prefix, now);
    if (!decision.admit) {
      this.refuse(socket, decision.reason);
      return;
    }
    if (decision.evict !== null) {
      this.underPressure(decision.reason);
      decision.evict.conn.close();
    }
    const conn = new TcpConnection(socket, this, address, prefix, now);
    this.mine.add(conn);
    this.metrics.tcpEvent('opened');
    socket.on('close', () => {
      this.pool.delete(conn.entry);
      this.mine.delete(conn);
      this.metrics.tcpEvent('closed');
    });
    socket.resume();
  }

  /**
   * Closes a connection it has no room for as NSD's tcp-reject-overflow does: our side shut first
   * (FIN), then closed. The client reads an orderly end of stream with no answer, which RFC 7766
   * §6.2.4 tells it to retry, even when its query already arrived: closing at once with the query
   * unread would make the kernel reset the connection instead.
   */
  private refuse(socket: Socket, reason: RefuseReason | 'refused_rate'): void {
    this.underPressure(reason);
    socket.end(() => socket.destroy());
  }

  /** Counted in the metrics and in the next summary line. */
  underPressure(event: TcpEvent): void {
    this.metrics.tcpEvent(event);
    this.pool.underPressure(event);
  }

  /** Answers one framed message; null drops it (and the connection). */
  answer(msg: Buffer, meta: QueryMeta): Buffer | null {
    if (this.notify !== null && NotifyIn.isNotify(msg)) return this.notify.answer(msg, meta.remoteAddress);
    try {
      return this.handler.handle(msg, meta);
    } catch (err) {
      // The handler answers its own bugs with SERVFAIL; reaching here is a bug in that guard.
      this.metrics.droppedPacket('tcp', 'internal_error');
      this.log.error({ err, remote: meta.remoteAddress }, 'query handler threw');
      return null;
    }
  }

  /** Stops accepting, lets open connections flush their answers, then cuts what is left. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.mine) c.socket.end();
      setTimeout(() => {
        for (const c of this.mine) c.socket.destroy();
      }, SHUTDOWN_GRACE_MS).unref();
    });
  }
}

class TcpConnection {
  readonly entry: TableEntry<TcpConnection>;
  /** Bytes read but not yet answered: a partial frame, or whole frames held back by backpressure. */
  private pending: Buffer | null = null;
  private waitingForDrain = false;
  private peerEnded = false;
  /** One meta object per connection: every query on it comes from the same peer. */
  private readonly meta: QueryMeta;

  constructor(
    readonly socket: Socket,
    private readonly owner: TcpListener,
    address: string,
    prefix: string,
    now: number,
  ) {
    this.meta = { transport: 'tcp', remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
    this.entry = owner.pool.add(this, address, prefix, now);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    // Resets and aborts end the connection; 'close' follows and does the bookkeeping.
  }

  /** Closes this connection now (evicted to make room). */
  close(): void {
    this.owner.pool.delete(this.entry);
    this.socket.destroy();
  }

  /** Its idle or I/O time ran out. */
  timedOut(reason: TimeoutReason): void {
    if (reason === 'io_timeout') this.owner.underPressure(reason);
    else this.owner.metrics.tcpEvent(reason);
    this.close();
  }

  private readonly onData = (chunk: Buffer): void => {
    const continuing = this.pending !== null;
    const data = continuing ? Buffer.concat([this.pending!, chunk]) : chunk;
    this.pending = null;
    this.consume(data, continuing);
  };

  /**
   * Answers every complete frame in `data`, keeping the rest; stops early when the peer reads slower
   * than we answer. `continuing`: `data` begins with a frame that had already begun arriving.
   */
  private consume(data: Buffer, continuing: boolean): void {
    const socket = this.socket;
    const n = data.length;
    let off = 0;
    let corked = false;
    while (n - off >= 2) {
      const len = (data[off]! << 8) | data[off + 1]!;
      if (len < MIN_MESSAGE) {
        // Not a DNS stream: give up on this connection only.
        this.abort('bad_frame');
        if (corked) socket.uncork();
        return;
      }
      if (n - off - 2 < len) break;
      const msg = data.subarray(off + 2, off + 2 + len);
      off += 2 + len;
      const transfer = this.owner.transfers?.answer(msg, this.meta.remoteAddress) ?? null;
      if (transfer !== null) {
        if (corked) socket.uncork();
        this.pending = off < n ? data.subarray(off) : null;
        this.sendTransfer(transfer);
        return;
      }
      const startedAt = performance.now();
      const response = this.owner.answer(msg, this.meta);
      if (response === null || response.length > MAX_MESSAGE) {
        // Unreadable header or a response sent to us: the stream can't be trusted any further.
        this.abort('unanswerable');
        if (corked) socket.uncork();
        return;
      }
      // Cork so the answers to one read leave in one write (writev), not one segment each.
      if (!corked) {
        socket.cork();
        corked = true;
      }
      const frame = Buffer.allocUnsafe(response.length + 2);
      frame.writeUInt16BE(response.length, 0);
      response.copy(frame, 2);
      const written = socket.write(frame);
      const now = performance.now();
      this.owner.metrics.sent('tcp', startedAt, now, response.length);
      const tap = this.owner.dnstap;
      if (tap !== null) tap.exchange(true, this.meta.remoteAddress, this.meta.remotePort, msg, response, performance.timeOrigin + startedAt, performance.timeOrigin + now, this.owner.handler.info.geoRule);
      if (!written) {
        // Backpressure: stop reading and answering until the peer has taken what we wrote, which
        // it must do within the I/O timeout.
        this.pending = off < n ? data.subarray(off) : null;
        this.waitingForDrain = true;
        socket.pause();
        socket.once('drain', this.onDrain);
        socket.uncork();
        this.owner.pool.table.stalled(this.entry, performance.now());
        return;
      }
    }
    if (corked) socket.uncork();
    // Copy the partial frame so the (possibly large) chunk it came in can be freed.
    this.pending = off < n ? Buffer.from(data.subarray(off)) : null;
    if (this.pending === null) this.owner.pool.table.idle(this.entry, performance.now());
    // A new message has begun: it has the I/O timeout to arrive whole, however it trickles in.
    else if (off > 0 || !continuing) this.owner.pool.table.stalled(this.entry, performance.now());
    if (this.peerEnded) this.finish();
  }

  /**
   * Sends a transfer's messages, each as soon as the peer has taken the last ones (reading and
   * answering wait meanwhile, as under backpressure), then goes on with what else was read.
   */
  private sendTransfer(transfer: OutgoingTransfer): void {
    const socket = this.socket;
    this.waitingForDrain = true;
    socket.pause();
    let bytes = 0;
    const fail = (): void => transfer.done(false, bytes);
    socket.once('close', fail);
    const pump = (): void => {
      if (socket.destroyed) return;
      this.owner.pool.table.stalled(this.entry, performance.now());
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = transfer.messages.next();
        } catch (err) {
          // A zone that can't be sent (a record too big for a message, or a bug): this transfer only.
          this.owner.log.error({ err, remote: this.meta.remoteAddress }, 'zone transfer failed');
          this.abort('internal_error');
          return;
        }
        if (next.done === true) break;
        const m = next.value;
        if (m.length === 0) {
          // The next message takes a while to make: answer what else is waiting first.
          setImmediate(pump);
          return;
        }
        const frame = Buffer.allocUnsafe(m.length + 2);
        frame.writeUInt16BE(m.length, 0);
        m.copy(frame, 2);
        bytes += m.length;
        if (!socket.write(frame)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.off('close', fail);
      transfer.done(true, bytes);
      this.onDrain();
    };
    pump();
  }

  private readonly onDrain = (): void => {
    this.waitingForDrain = false;
    const held = this.pending;
    this.pending = null;
    if (held !== null) this.consume(held, true);
    else {
      this.owner.pool.table.idle(this.entry, performance.now());
      if (this.peerEnded) this.finish();
    }
    if (!this.waitingForDrain && !this.socket.destroyed) this.socket.resume();
  };

  private readonly onEnd = (): void => {
    this.peerEnded = true;
    if (!this.waitingForDrain) this.finish();
  };

  /** The peer has sent all it will: a partial frame can never complete, so send what we owe and close. */
  private finish(): void {
    this.pending = null;
    this.socket.end();
  }

  private abort(reason: DropReason): void {
    this.owner.metrics.droppedPacket('tcp', reason);
    this.pending = null;
    this.socket.destroy();
  }
}
