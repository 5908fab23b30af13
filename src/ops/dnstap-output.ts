// Where dnstap frames go: a file, or a collector on a unix socket speaking bidirectional Frame Streams
// (READY → ACCEPT → START ... STOP → FINISH). Answering never waits for it: frames are batched and
// written once per event-loop turn, and while more than MAX_QUEUED_BYTES are waiting (a slow collector,
// one not there or not yet accepted) new messages are dropped and counted.
import { createWriteStream, type WriteStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { DnstapOutput as DnstapTarget } from './config.js';
import type { Logger } from '../log.js';
import { AddressBytes } from '../wire/address.js';
import { Control, MessageType, controlFrame, dnstapFrame, dnstapHeader, readControlFrame, type TapEvent } from '../wire/dnstap.js';

/** Octets of frames waiting (ours and the stream's) beyond which new messages are dropped. */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const RECONNECT_MS = 1000;
/** How long close() waits for the collector's FINISH. */
const FINISH_WAIT_MS = 1000;

export class DnstapWriter {
  private readonly header: Buffer;
  private readonly addr = new AddressBytes();
  private readonly event: TapEvent = {
    type: MessageType.AuthQuery,
    tcp: false,
    address: this.addr.bytes,
    addressLength: 0,
    port: 0,
    queryTimeMs: 0,
    responseTimeMs: 0,
    message: Buffer.alloc(0),
    extra: null,
  };
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  /** The stream frames are written to once it has started (file open; collector accepted). */
  private stream: WriteStream | Socket | null = null;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly target: DnstapTarget,
    identity: string,
    version: string | null,
    private readonly log: Logger,
    /** Messages handed to the stream, and dropped because too much was waiting (the metrics' slots). */
    private readonly counts: Float64Array<ArrayBufferLike> = new Float64Array(2),
    private readonly maxQueuedBytes = MAX_QUEUED_BYTES,
  ) {
    this.header = dnstapHeader(identity, version);
    if (target.kind === 'file') this.openFile();
    else this.connect();
  }

  get written(): number {
    return this.counts[0]!;
  }

  get dropped(): number {
    return this.counts[1]!;
  }

  /**
   * Logs one exchange: AUTH_QUERY, then AUTH_RESPONSE when a response was sent (null: dropped). `geoRule`
   * (the geo rule that answered, or null) goes in the response's `extra` field as `geo NAME RULE`.
   */
  exchange(tcp: boolean, address: string, port: number, query: Buffer, response: Buffer | null, queryTimeMs: number, responseTimeMs: number, geoRule: string | null): void {
    const e = this.event;
    e.addressLength = this.addr.parse(address);
    if (e.addressLength === 0) return;
    e.tcp = tcp;
    e.port = port;
    e.queryTimeMs = queryTimeMs;
    e.responseTimeMs = responseTimeMs;
    e.type = MessageType.AuthQuery;
    e.message = query;
    e.extra = null;
    this.push(dnstapFrame(this.header, e));
    if (response === null) return;
    e.type = MessageType.AuthResponse;
    e.message = response;
    e.extra = geoRule === null ? null : Buffer.from(`geo ${geoRule}`, 'utf8');
    this.push(dnstapFrame(this.header, e));
  }

  private push(frame: Buffer): void {
    const waiting = this.batchBytes + (this.stream?.writableLength ?? 0);
    if (this.closing || waiting + frame.length > this.maxQueuedBytes) {
      this.counts[1]!++;
      return;
    }
    this.batch.push(frame);
    this.batchBytes += frame.length;
    this.counts[0]!++;
    if (!this.flushScheduled && this.stream !== null) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.stream === null || this.batch.length === 0) return;
    this.stream.write(this.batch.length === 1 ? this.batch[0]! : Buffer.concat(this.batch, this.batchBytes));
    this.batch = [];
    this.batchBytes = 0;
  };

  private started(stream: WriteStream | Socket): void {
    stream.write(controlFrame(Control.Start));
    this.stream = stream;
    this.flush();
  }

  private openFile(): void {
    const file = createWriteStream(this.target.path, { flags: 'w' });
    file.on('error', (err) => {
      this.log.error({ err, path: this.target.path }, 'dnstap file cannot be written; dnstap messages are dropped');
      this.stream = null;
      this.closing = true;
    });
    file.once('open', () => this.started(file));
  }

  private connect(): void {
    this.reconnectTimer = null;
    if (this.closing) return;
    const sock = connect(this.target.path);
    let received = Buffer.alloc(0);
    let accepted = false;
    sock.on('connect', () => sock.write(controlFrame(Control.Ready)));
    sock.on('data', (d: Buffer) => {
      if (accepted) return;
      received = Buffer.concat([received, d]);
      const frame = readControlFrame(received);
      if (frame === null) return;
      if (frame.type !== Control.Accept) {
        this.log.warn({ path: this.target.path, control: frame.type }, 'dnstap collector did not accept; retrying');
        sock.destroy();
        return;
      }
      accepted = true;
      this.log.info({ path: this.target.path }, 'dnstap collector connected');
      this.started(sock);
    });
    sock.on('error', (err) => {
      if (accepted) this.log.warn({ err, path: this.target.path }, 'dnstap collector connection failed');
    });
    sock.on('close', () => {
      if (this.stream === sock) this.stream = null;
      // Nobody listening (yet, or any more): frames queue up to the bound, then are dropped.
      if (!this.closing && this.reconnectTimer === null) {
        this.reconnectTimer = setTimeout(() => this.connect(), RECONNECT_MS);
        this.reconnectTimer.unref();
      }
    });
  }

  /** Writes what is queued and STOP; a collector gets up to FINISH_WAIT_MS to answer FINISH. */
  close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    const stream = this.stream;
    if (stream === null) return Promise.resolve();
    this.flush();
    this.stream = null;
    stream.write(controlFrame(Control.Stop));
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        if ('destroy' in stream) stream.destroy();
        resolve();
      }, FINISH_WAIT_MS);
      if (this.target.kind === 'file') {
        stream.end(done);
      } else {
        // FINISH (or the collector closing) ends it.
        (stream as Socket).on('data', () => (stream as Socket).end());
        stream.once('close', done);
      }
    });
  }
}
