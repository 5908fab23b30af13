// DNS over UDP on the native path (native/udp.c): the socket reads a batch of datagrams with one
// recvmmsg into memory shared with this listener, which answers each into the send memory, and the
// batch's answers leave with one sendmmsg, each from the address its query came to. Above the bytes
// it does exactly what UdpListener does (UdpAnswers): the handler, the policy after answering,
// dnstap, metrics.
import { performance } from 'node:perf_hooks';
import type { ListenAddress } from '../ops/config.js';
import { formatListenAddress } from '../ops/listen-address.js';
import type { Logger } from '../log.js';
import type { QueryCounters } from '../ops/query-counters.js';
import type { QueryHandler } from '../wire/handler-types.js';
import { ipv4ToText, ipv6ToText } from '../zone/rdata/presentation.js';
import type { NativeSocket, NativeUdpAddon } from './native-udp.js';
import { SOCKET_BUFFER_BYTES, type UdpOptions } from './udp.js';
import { UdpAnswers } from './udp-answer.js';

// Word offsets in NativeSocket.meta, in units of the batch size (native/udp.c's layout).
const RX_LEN = 0;
const TX_LEN = 1;
const PORT = 2;
const PEER_BYTES = 4 * 4;
const TX_AT = 12;
/** Peer addresses seen lately, as text: most datagrams come from a client that sent the one before. */
const NAMES_KEPT = 4096;

export class NativeUdpListener {
  private socket: NativeSocket | null = null;
  private rx!: Buffer;
  private tx!: Buffer;
  private words!: Uint32Array;
  private peers!: Uint8Array;
  private stats!: Float64Array;
  private readonly counted = [0, 0, 0];
  private readonly names = new Map<number, string>();
  private readonly answers: UdpAnswers;
  private closed: Promise<void> | null = null;

  constructor(
    readonly address: ListenAddress,
    private readonly addon: NativeUdpAddon,
    handler: QueryHandler,
    private readonly metrics: QueryCounters,
    private readonly log: Logger,
    private readonly opts: UdpOptions,
  ) {
    this.answers = new UdpAnswers(handler, metrics, log, opts.policy ?? null, opts.dnstap ?? null, opts.notify ?? null);
  }

  /** Opens and binds the socket; it reads from then on. */
  listen(): Promise<void> {
    try {
      const s = this.addon.open(this.address.host, this.address.port, this.opts.reusePort, SOCKET_BUFFER_BYTES, this.opts.sendBufferBytes ?? SOCKET_BUFFER_BYTES, this.onBatch);
      this.socket = s;
      this.rx = Buffer.from(s.rx);
      this.tx = Buffer.from(s.tx);
      this.words = new Uint32Array(s.meta);
      this.peers = new Uint8Array(s.meta, PEER_BYTES * s.batch);
      this.stats = new Float64Array(s.stats);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** The port bound (the one asked for, or the kernel's choice for port 0). */
  get port(): number {
    return this.socket?.port ?? this.address.port;
  }

  private readonly onBatch = (count: number): void => {
    const s = this.socket!;
    const { batch, slot } = s;
    const words = this.words;
    const answers = this.answers;
    // Every datagram of the batch was read at this moment.
    const startedAt = performance.now();
    // Each answer is written right after the one before: `at` never passes i * slot, so a whole slot is always free.
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = words[RX_LEN * batch + i]!;
      if (length === 0) continue; // larger than a slot: counted by the socket
      const msg = this.received(i, length);
      const address = this.peerName(i);
      const port = words[PORT * batch + i]!;
      const answered = answers.answerInto(msg, address, port, startedAt, this.tx, at, slot);
      if (answered < 0) continue;
      words[TX_LEN * batch + i] = answered;
      words[TX_AT * batch + i] = at;
      answers.sentFrom(msg, this.tx, at, answered, address, port, startedAt);
      at += answered;
    }
    this.countSocketDrops();
  };

  /** Datagram i of the batch: its first `head` octets side by side with the others', the rest apart (native/udp.c). */
  private received(i: number, length: number): Buffer {
    const { head, slot, batch } = this.socket!;
    const first = this.rx.subarray(i * head, i * head + Math.min(length, head));
    if (length <= head) return first;
    const rest = batch * head + i * (slot - head);
    return Buffer.concat([first, this.rx.subarray(rest, rest + length - head)]);
  }

  /** The sender of datagram i as text, as node:dgram gives it (rate limiting, cookies and dnstap read it). */
  private peerName(i: number): string {
    const p = this.peers;
    if (this.address.family === 6) return ipv6ToText(p, 16 * i);
    const at = 16 * i;
    const key = ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;
    let name = this.names.get(key);
    if (name === undefined) {
      if (this.names.size >= NAMES_KEPT) this.names.clear();
      name = ipv4ToText(p, at);
      this.names.set(key, name);
    }
    return name;
  }

  private lastErrorLog = 0;

  /** The socket's own counts since the last batch: datagrams too big for a slot, answers it could not send. */
  private countSocketDrops(): void {
    const stats = this.stats;
    const counted = this.counted;
    const oversized = stats[0]! - counted[0]!;
    const dropped = stats[1]! - counted[1]!;
    const failed = stats[2]! - counted[2]!;
    if (oversized === 0 && dropped === 0 && failed === 0) return;
    if (oversized > 0) this.metrics.droppedPacket('udp', 'oversized', oversized);
    if (dropped + failed > 0) this.metrics.droppedPacket('udp', 'send_error', dropped + failed);
    counted[0] = stats[0]!;
    counted[1] = stats[1]!;
    counted[2] = stats[2]!;
    // A flood of failing sends must not become a flood of log lines: at most one a second.
    const now = Date.now();
    if (dropped + failed === 0 || now - this.lastErrorLog < 1000) return;
    this.lastErrorLog = now;
    this.log.warn({ dropped, failed, listen: formatListenAddress(this.address) }, 'udp answers not sent (socket buffer full or send failed)');
  }

  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    const s = this.socket;
    if (s === null) return (this.closed = Promise.resolve());
    this.closed = new Promise((resolve) =>
      this.addon.close(s.handle, () => {
        this.countSocketDrops();
        resolve();
      }),
    );
    return this.closed;
  }
}
