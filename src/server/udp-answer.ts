// What happens to one UDP query above the socket, the same on both UDP paths (node:dgram and the
// native one): the handler answers, the policy decides after answering (send, slip a minimal reply,
// or drop), and dnstap and the metrics see what was sent.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { QueryCounters } from '../ops/query-counters.js';
import { RateLimitVerdict } from '../rrl/limiter.js';
import type { QueryHandler, QueryMeta } from '../wire/handler-types.js';
import type { ResponsePolicy } from '../rrl/policy.js';
import type { DnstapWriter } from '../ops/dnstap-output.js';
import { NotifyIn } from './notify-in.js';

export class UdpAnswers {
  /** Reused for every datagram: the handler reads it synchronously and keeps nothing. */
  private readonly meta: QueryMeta = { transport: 'udp', remoteAddress: '', remotePort: 0 };

  constructor(
    readonly handler: QueryHandler,
    private readonly metrics: QueryCounters,
    private readonly log: Logger,
    private readonly policy: ResponsePolicy | null,
    private readonly dnstap: DnstapWriter | null,
    /** Answers NOTIFYs for the secondary zones; null: they go to the handler (NOTIMP). */
    private readonly notify: NotifyIn | null = null,
  ) {}

  /** The response to send to `address`:`port`, or null when nothing is sent (counted, and logged by dnstap). */
  answer(msg: Buffer, address: string, port: number, startedAt: number): Buffer | null {
    if (this.notify !== null && NotifyIn.isNotify(msg)) return this.notify.answer(msg, address);
    let response: Buffer | null;
    try {
      response = this.handler.handle(msg, this.metaOf(address, port));
    } catch (err) {
      this.threw(err, address);
      return null;
    }
    if (response === null) {
      this.metrics.droppedPacket('udp', 'unanswerable');
      return null;
    }
    const verdict = this.decide(msg, response, 0, response.length, address, port, startedAt);
    if (verdict === RateLimitVerdict.Drop) return null;
    return verdict === RateLimitVerdict.Slip ? this.handler.slip(response) : response;
  }

  /**
   * answer, written into `out[at, at + room)`, the send memory: its length, or -1 when nothing is
   * sent (counted, and logged by dnstap).
   */
  answerInto(msg: Buffer, address: string, port: number, startedAt: number, out: Buffer, at: number, room: number): number {
    if (this.notify !== null && NotifyIn.isNotify(msg)) {
      const reply = this.notify.answer(msg, address);
      return reply.length > room ? -1 : reply.copy(out, at);
    }
    let length: number;
    try {
      length = this.handler.handleInto(msg, this.metaOf(address, port), out, at, room);
    } catch (err) {
      this.threw(err, address);
      return -1;
    }
    if (length < 0) {
      this.metrics.droppedPacket('udp', 'unanswerable');
      return -1;
    }
    if (length > room) {
      this.metrics.droppedPacket('udp', 'send_error');
      return -1;
    }
    const verdict = this.decide(msg, out, at, at + length, address, port, startedAt);
    if (verdict === RateLimitVerdict.Drop) return -1;
    // The minimal reply is cut in place, so it is still at `at`.
    return verdict === RateLimitVerdict.Slip ? this.handler.slip(out.subarray(at, at + length)).length : length;
  }

  /** `response`, the handler's last, was handed to the socket. */
  sent(msg: Buffer, response: Buffer, address: string, port: number, startedAt: number): void {
    const now = performance.now();
    this.metrics.sent('udp', startedAt, now, response.length);
    if (this.dnstap !== null) this.dnstap.exchange(false, address, port, msg, response, performance.timeOrigin + startedAt, performance.timeOrigin + now, this.handler.info.geoRule);
  }

  /** `out[at, at + length)` (from answerInto) was handed to the socket. */
  sentFrom(msg: Buffer, out: Buffer, at: number, length: number, address: string, port: number, startedAt: number): void {
    const now = performance.now();
    this.metrics.sent('udp', startedAt, now, length);
    if (this.dnstap !== null) this.dnstap.exchange(false, address, port, msg, out.subarray(at, at + length), performance.timeOrigin + startedAt, performance.timeOrigin + now, this.handler.info.geoRule);
  }

  private metaOf(address: string, port: number): QueryMeta {
    const meta = this.meta;
    meta.remoteAddress = address;
    meta.remotePort = port;
    return meta;
  }

  private threw(err: unknown, address: string): void {
    // The handler answers its own bugs with SERVFAIL; reaching here is a bug in that guard.
    this.metrics.droppedPacket('udp', 'internal_error');
    this.log.error({ err, remote: address }, 'query handler threw');
  }

  /** The policy's verdict on the response `response[start, end)`; a dropped one is logged by dnstap. */
  private decide(msg: Buffer, response: Buffer, start: number, end: number, address: string, port: number, startedAt: number): RateLimitVerdict {
    const policy = this.policy;
    if (policy === null) return RateLimitVerdict.Send;
    const verdict = policy.decide(this.handler.info, response, start, end, address);
    if (verdict === RateLimitVerdict.Drop) this.dnstap?.exchange(false, address, port, msg, null, performance.timeOrigin + startedAt, 0, null);
    return verdict;
  }
}
