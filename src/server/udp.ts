// DNS over UDP: one socket per listen address. It only moves bytes: each datagram goes to the
// handler, whose answer (if any) goes back to the sender. Nothing a packet or a failed send does can
// close the socket.
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { formatListenAddress, type ListenAddress } from '../ops/config.js';
import type { Logger } from '../ops/log.js';
import type { ServerMetrics } from '../ops/metrics.js';
import { Verdict } from '../rrl/limiter.js';
import type { QueryHandler, QueryMeta } from '../wire/handler-types.js';
import type { ResponsePolicy } from './rrl-policy.js';
import type { DnstapWriter } from '../ops/dnstap-output.js';

/** Kernel buffer we ask for: absorbs bursts while the event loop is busy (the kernel may cap it). */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * The socket's resolver. Every address it is given is already an IP literal (a validated listen
 * address, or the sender of a datagram being answered), so it answers with the address itself, at
 * once. The default, dns.lookup, reaches the same answer only after a regex and a process.nextTick
 * for every response sent, a cost the size of the rest of a cached answer.
 */
export function literalLookup(
  address: string,
  family: unknown,
  callback: (err: null, address: string, family: number) => void,
): void {
  callback(null, address, family === 6 ? 6 : 4);
}

export interface UdpOptions {
  /** Bind with SO_REUSEPORT so each worker process has its own socket (Node ≥ 22.12). */
  reusePort: boolean;
  /** Asked about every response before it is sent (response rate limiting); null sends all. */
  policy?: ResponsePolicy | null;
  /** Logs every query and the response sent; null when dnstap is off. */
  dnstap?: DnstapWriter | null;
}

export class UdpListener {
  private readonly socket: Socket;
  private readonly policy: ResponsePolicy | null;
  private readonly dnstap: DnstapWriter | null;

  constructor(
    readonly address: ListenAddress,
    private readonly handler: QueryHandler,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
    opts: UdpOptions,
  ) {
    const sockOpts: SocketOptions & { reusePort?: boolean } = {
      type: address.family === 6 ? 'udp6' : 'udp4',
      // An IPv6 socket serves IPv6 only; IPv4 gets its own listen address (no v4-mapped surprises).
      ipv6Only: address.family === 6,
      lookup: literalLookup,
    };
    if (opts.reusePort) sockOpts.reusePort = true;
    this.policy = opts.policy ?? null;
    this.dnstap = opts.dnstap ?? null;
    this.socket = createSocket(sockOpts, this.onMessage);
  }

  /** Binds the socket; `exclusive` keeps a cluster worker's socket its own (reusePort mode). */
  listen(exclusive: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: this.address.host, port: this.address.port, exclusive }, () => {
        this.socket.off('error', reject);
        // Sends take no callback (a call back into JS per packet costs more than the rest of a cached
        // answer), so a failed send arrives as an error event: it loses one response, never the socket.
        this.socket.on('error', this.onError);
        try {
          this.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
          this.socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
        } catch (err) {
          this.log.debug({ err }, 'udp socket buffer size not changed');
        }
        resolve();
      });
    });
  }

  /** Reused for every datagram: the handler reads it synchronously and keeps nothing. */
  private readonly meta: QueryMeta = { transport: 'udp', remoteAddress: '', remotePort: 0 };

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const startedAt = performance.now();
    const meta = this.meta;
    meta.remoteAddress = rinfo.address;
    meta.remotePort = rinfo.port;
    let response: Buffer | null;
    try {
      response = this.handler.handle(msg, meta);
    } catch (err) {
      // The handler answers its own bugs with SERVFAIL; reaching here is a bug in that guard.
      this.metrics.droppedPacket('udp', 'internal_error');
      this.log.error({ err, remote: rinfo.address }, 'query handler threw');
      return;
    }
    if (response === null) {
      this.metrics.droppedPacket('udp', 'unanswerable');
      return;
    }
    // Policy after answering (DESIGN.md habit 7): send, slip a minimal reply, or drop.
    const policy = this.policy;
    if (policy !== null) {
      const verdict = policy.decide(this.handler.info, response, rinfo.address);
      if (verdict === Verdict.Drop) {
        this.dnstap?.exchange(false, rinfo.address, rinfo.port, msg, null, performance.timeOrigin + startedAt, 0);
        return;
      }
      if (verdict === Verdict.Slip) response = this.handler.slip(response);
    }
    this.socket.send(response, rinfo.port, rinfo.address);
    // Sent at once unless the socket's queue is backed up: a queued datagram keeps its buffer.
    if (this.socket.getSendQueueCount() > 0) this.handler.retain(response);
    const now = performance.now();
    this.metrics.sent('udp', startedAt, now, response.length);
    if (this.dnstap !== null) this.dnstap.exchange(false, rinfo.address, rinfo.port, msg, response, performance.timeOrigin + startedAt, performance.timeOrigin + now);
  };

  private lastErrorLog = 0;

  private readonly onError = (err: Error): void => {
    this.metrics.droppedPacket('udp', 'send_error');
    // A flood of failing sends must not become a flood of log lines: at most one a second.
    const now = Date.now();
    if (now - this.lastErrorLog < 1000) return;
    this.lastErrorLog = now;
    this.log.warn({ err, listen: formatListenAddress(this.address) }, 'udp send failed');
  };

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}
