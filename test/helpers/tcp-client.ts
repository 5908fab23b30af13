// A raw DNS-over-TCP client for transport tests: sends whatever bytes a test wants (whole frames,
// split frames, garbage) and collects the length-prefixed replies and the connection's end.
import { connect, type Socket } from 'node:net';
import { withTimeout } from './wait.js';

export class RawTcpClient {
  readonly replies: Buffer[] = [];
  /** Resolves when the server has closed its side (FIN) or reset the connection. */
  readonly closed: Promise<void>;
  private buf = Buffer.alloc(0);
  private serverEnded = false;
  private waiters: { count: number; resolve: () => void }[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      while (this.buf.length >= 2 && this.buf.length >= 2 + this.buf.readUInt16BE(0)) {
        const len = this.buf.readUInt16BE(0);
        this.replies.push(this.buf.subarray(2, 2 + len));
        this.buf = this.buf.subarray(2 + len);
      }
      this.waiters = this.waiters.filter((w) => {
        if (this.replies.length >= w.count) w.resolve();
        return this.replies.length < w.count;
      });
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('end', () => {
        this.serverEnded = true;
        resolve();
      });
      socket.once('close', () => resolve());
    });
  }

  /**
   * `localAddress`: the source address to connect from (any of 127.0.0.0/8 on Linux); `first`: bytes
   * sent the moment the handshake completes, as a client sends its query.
   */
  static connect(port: number, host = '127.0.0.1', localAddress?: string, first?: Buffer): Promise<RawTcpClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host, noDelay: true, allowHalfOpen: true, ...(localAddress !== undefined ? { localAddress } : {}) });
      if (first !== undefined) s.write(first);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new RawTcpClient(s));
      });
    });
  }

  /** True once the server has closed its side in order (FIN); a reset never sets it. */
  get endedByServer(): boolean {
    return this.serverEnded;
  }

  /** True once the server has closed its side or the connection is gone. */
  get isClosed(): boolean {
    return this.serverEnded || this.socket.destroyed;
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits until `count` replies have arrived in all (rejects after `timeoutMs`). */
  async waitReplies(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    if (this.replies.length < count) {
      await withTimeout(new Promise<void>((resolve) => this.waiters.push({ count, resolve })), timeoutMs, `${count} replies (got ${this.replies.length})`);
    }
    return this.replies;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** One message with its 2-byte length prefix (RFC 1035 §4.2.2). */
export function frame(msg: Buffer): Buffer {
  const out = Buffer.alloc(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}
