// DNS over TCP (RFC 7766, RFC 1035 §4.2.2): each message is preceded by its 2-byte length; a client
// may send many queries on one connection and each is answered as soon as it is read (pipelining).
// The transport only frames bytes; answering is the handler's job.
import { createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatListenAddress, type ListenAddress } from '../ops/config.js';
import type { Logger } from '../ops/log.js';
import type { DropReason, ServerMetrics } from '../ops/metrics.js';
import type { QueryHandler, QueryMeta } from '../wire/handler-types.js';
import { ConnectionTable, type TrackedConnection } from './connection-table.js';

/** A DNS message is at least its 12-byte header (RFC 1035 §4.1.1): a shorter frame is garbage. */
const MIN_MESSAGE = 12;
const MAX_MESSAGE = 65535;
/** Connections still open this long after shutdown began are cut. */
const SHUTDOWN_GRACE_MS = 1000;

export interface TcpOptions {
  /** Close a connection after this long without traffic (RFC 7766 §6.2.3). */
  idleTimeoutMs: number;
}

/** The open connections of every TCP listener of a process: the cap is per process, not per address. */
export type TcpConnections = ConnectionTable<TcpConnection>;

export function newTcpConnections(maxConnections: number): TcpConnections {
  return new ConnectionTable<TcpConnection>(maxConnections);
}

export interface BindOptions {
  /** Own the listening socket instead of sharing the cluster primary's. */
  exclusive: boolean;
  /** SO_REUSEPORT: each worker its own listener (Node ≥ 22.12). */
  reusePort: boolean;
}

export class TcpListener {
  private readonly server: Server;
  /** This listener's own connections (the table holds every listener's). */
  private readonly mine = new Set<TcpConnection>();

  constructor(
    readonly address: ListenAddress,
    readonly handler: QueryHandler,
    readonly metrics: ServerMetrics,
    readonly log: Logger,
    private readonly table: TcpConnections,
    private readonly opts: TcpOptions,
  ) {
    // allowHalfOpen: a client may send its queries then shut its side (RFC 7766 §6.2.4 allows it);
    // we still owe it the answers, and close our side after them.
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, this.onConnection);
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
        exclusive: bind.exclusive,
        backlog: 511,
        ...(bind.reusePort ? { reusePort: true } : {}),
      };
      this.server.listen(opts, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private readonly onConnection = (socket: Socket): void => {
    if (this.table.full) {
      const victim = this.table.evictionCandidate();
      if (victim === null) {
        this.metrics.tcpEvent('rejected');
        socket.destroy();
        return;
      }
      this.metrics.tcpEvent('evicted');
      victim.close();
    }
    const conn = new TcpConnection(socket, this);
    this.table.add(conn);
    this.mine.add(conn);
    this.metrics.tcpEvent('opened');
    socket.setTimeout(this.opts.idleTimeoutMs);
    socket.on('close', () => {
      this.table.delete(conn);
      this.mine.delete(conn);
      this.metrics.tcpEvent('closed');
    });
  };

  /** Answers one framed message; null drops it (and the connection). */
  answer(msg: Buffer, meta: QueryMeta): Buffer | null {
    try {
      return this.handler.handle(msg, meta);
    } catch (err) {
      // The handler answers its own bugs with SERVFAIL; reaching here is a bug in that guard.
      this.metrics.droppedPacket('tcp', 'internal_error');
      this.log.error({ err, remote: meta.remoteAddress }, 'query handler threw');
      return null;
    }
  }

  forget(conn: TcpConnection): void {
    this.table.delete(conn);
  }

  /** Stops accepting, lets open connections flush their answers, then cuts what is left. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.mine) c.socket.end();
      setTimeout(() => {
        for (const c of this.mine) c.socket.destroy();
      }, SHUTDOWN_GRACE_MS).unref();
    });
  }
}

class TcpConnection implements TrackedConnection {
  lastActive = performance.now();
  /** Bytes read but not yet answered: a partial frame, or whole frames held back by backpressure. */
  private pending: Buffer | null = null;
  private waitingForDrain = false;
  private peerEnded = false;
  /** One meta object per connection: every query on it comes from the same peer. */
  private readonly meta: QueryMeta;

  constructor(
    readonly socket: Socket,
    private readonly owner: TcpListener,
  ) {
    this.meta = { transport: 'tcp', remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0 };
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('timeout', this.onTimeout);
    // Resets and aborts end the connection; 'close' follows and does the bookkeeping.
    socket.on('error', () => {});
  }

  isIdle(): boolean {
    return this.pending === null && !this.waitingForDrain && this.socket.writableLength === 0;
  }

  /** Closes this connection now (evicted to make room). */
  close(): void {
    this.owner.forget(this);
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastActive = performance.now();
    const data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    this.consume(data);
  };

  /** Answers every complete frame in `data`, keeping the rest; stops early when the peer reads slower than we answer. */
  private consume(data: Buffer): void {
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
      if (!socket.write(frame)) {
        // Backpressure: stop reading and answering until the peer has taken what we wrote.
        this.pending = off < n ? data.subarray(off) : null;
        this.waitingForDrain = true;
        socket.pause();
        socket.once('drain', this.onDrain);
        socket.uncork();
        return;
      }
    }
    if (corked) socket.uncork();
    // Copy the partial frame so the (possibly large) chunk it came in can be freed.
    this.pending = off < n ? Buffer.from(data.subarray(off)) : null;
    if (this.peerEnded) this.finish();
  }

  private readonly onDrain = (): void => {
    this.waitingForDrain = false;
    const held = this.pending;
    this.pending = null;
    if (held !== null) this.consume(held);
    else if (this.peerEnded) this.finish();
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

  private readonly onTimeout = (): void => {
    this.owner.metrics.tcpEvent('idle_timeout');
    this.socket.destroy();
  };

  private abort(reason: DropReason): void {
    this.owner.metrics.droppedPacket('tcp', reason);
    this.pending = null;
    this.socket.destroy();
  }
}
