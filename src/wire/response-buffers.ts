// Buffers responses are written into, one per length, reused from one response to the next.
//
// Every datagram Node.js receives already costs the young-generation collector an ArrayBuffer to
// sweep; a response allocated per query doubled the garbage, and so how often the query thread stops
// for a scavenge (see src/server/node-flags.ts). A response of a given length is written into the
// same buffer each time instead: `socket.send` hands a datagram to the kernel before it returns unless
// the socket's send queue is backed up, and the transport gives a buffer up (`retain`) in that case.
// Lengths are exact because a datagram is the whole buffer: a view of a longer one would cost an
// object per send again.

/** Responses longer than this are allocated per query (TCP-sized answers: rare, and copied into a frame anyway). */
const MAX_POOLED_LENGTH = 4096;

/** Where the handler gets the buffer a response is written into, and is told which it may not reuse. */
export interface ResponseMemory {
  take(length: number): Buffer;
  retain(buf: Buffer): void;
}

/** A new buffer per response, never reused: what callers get that keep responses (tests, tools). */
export const FRESH_BUFFERS: ResponseMemory = { take: (length) => Buffer.allocUnsafe(length), retain: () => {} };

export class ResponseBuffers implements ResponseMemory {
  private readonly byLength: (Buffer | undefined)[] = [];

  /**
   * A buffer of exactly `length` octets, contents undefined. It is the caller's until it asks for
   * another of the same length; one it must keep longer it passes to `retain`.
   */
  take(length: number): Buffer {
    if (length > MAX_POOLED_LENGTH) return Buffer.allocUnsafe(length);
    let buf = this.byLength[length];
    if (buf === undefined) {
      // Outside Node's shared pool: the ArrayBuffer is this buffer's alone, so retain can tell it by that.
      buf = Buffer.allocUnsafeSlow(length);
      this.byLength[length] = buf;
    }
    return buf;
  }

  /** `buf` (from take, or a view of one) is still in use elsewhere, e.g. a queued send: it is never handed out again. */
  retain(buf: Buffer): void {
    const length = buf.buffer.byteLength;
    if (this.byLength[length]?.buffer === buf.buffer) this.byLength[length] = undefined;
  }
}
