// DNS over UDP: one socket per listen address. It only moves bytes: each datagram goes to the
// handler, whose answer (if any) goes back to the sender. Nothing a packet or a failed send does can
// close the socket.
import { createSocket, type RemoteInfo, type Socket, type SocketOptions } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { ListenAddress } from '../ops/config.js';
import { formatListenAddress } from '../ops/listen-address.js';
import type { Logger } from '../log.js';
import type { QueryCounters } from '../ops/query-counters.js';
import type { QueryHandler } from '../wire/handler-types.js';
import type { ResponsePolicy } from '../rrl/policy.js';
import type { DnstapWriter } from '../ops/dnstap-output.js';
import { UdpAnswers } from './udp-answer.js';
import type { NotifyIn } from './notify-in.js';

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
  /** Bind with SO_REUSEPORT so each query thread has its own socket. */
  reusePort: boolean;
  /** Asked about every response before it is sent (response rate limiting); null sends all. */
  policy?: ResponsePolicy | null;
  /** Logs every query and the response sent; null when dnstap is off. */
  dnstap?: DnstapWriter | null;
  /** Answers NOTIFYs for the secondary zones; null when there are none. */
  notify?: NotifyIn | null;
  /**
   * The kernel send buffer asked for, SOCKET_BUFFER_BYTES by default. Only tests set it: a tiny one
   * makes the kernel refuse answers (EAGAIN) under a burst, the fault the native path must count.
   */
  sendBufferBytes?: number;
}

export class UdpListener {
  private readonly socket: Socket;
  private readonly answers: UdpAnswers;

  constructor(
    readonly address: ListenAddress,
    handler: QueryHandler,
    private readonly metrics: QueryCounters,
    private readonly log: Logger,
    private readonly opts: UdpOptions,
  ) {
    const sockOpts: SocketOptions & { reusePort?: boolean } = {
      type: address.family === 6 ? 'udp6' : 'udp4',
      // An IPv6 socket serves IPv6 only; IPv4 gets its own listen address (no v4-mapped surprises).
      ipv6Only: address.family === 6,
      lookup: literalLookup,
    };
    if (opts.reusePort) sockOpts.reusePort = true;
    this.answers = new UdpAnswers(handler, metrics, log, opts.policy ?? null, opts.dnstap ?? null, opts.notify ?? null);
    this.socket = createSocket(sockOpts, this.onMessage);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: this.address.host, port: this.address.port }, () => {
        this.socket.off('error', reject);
        // Sends take no callback (a call back into JS per packet costs more than the rest of a cached
        // answer), so a failed send arrives as an error event: it loses one response, never the socket.
        this.socket.on('error', this.onError);
        try {
          this.socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
          this.socket.setSendBufferSize(this.opts.sendBufferBytes ?? SOCKET_BUFFER_BYTES);
        } catch (err) {
          this.log.debug({ err }, 'udp socket buffer size not changed');
        }
        resolve();
      });
    });
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const startedAt = performance.now();
    const response = this.answers.answer(msg, rinfo.address, rinfo.port, startedAt);
    if (response === null) return;
    this.socket.send(response, rinfo.port, rinfo.address);
    // Sent at once unless the socket's queue is backed up: a queued datagram keeps its buffer.
    if (this.socket.getSendQueueCount() > 0) this.answers.handler.retain(response);
    this.answers.sent(msg, response, rinfo.address, rinfo.port, startedAt);
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
