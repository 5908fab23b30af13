// What happens to one UDP query above the socket, the same on both UDP paths (node:dgram and the
// native one): the handler answers, the policy decides after answering (send, slip a minimal reply,
// or drop), and dnstap and the metrics see what was sent.
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../ops/metrics.js';
import { RateLimitVerdict } from '../rrl/limiter.js';
import type { QueryHandler, QueryMeta } from '../wire/handler-types.js';
import type { ResponsePolicy } from '../rrl/policy.js';
import type { DnstapWriter } from '../ops/dnstap-output.js';

export class UdpAnswers {
  /** Reused for every datagram: the handler reads it synchronously and keeps nothing. */
  private readonly meta: QueryMeta = { transport: 'udp', remoteAddress: '', remotePort: 0 };

  constructor(
    readonly handler: QueryHandler,
    private readonly metrics: ServerMetrics,
    private readonly log: Logger,
    private readonly policy: ResponsePolicy | null,
    private readonly dnstap: DnstapWriter | null,
  ) {}

  /** The response to send to `address`:`port`, or null when nothing is sent (counted, and logged by dnstap). */
  answer(msg: Buffer, address: string, port: number, startedAt: number): Buffer | null {
    const meta = this.meta;
    meta.remoteAddress = address;
    meta.remotePort = port;
    let response: Buffer | null;
    try {
      response = this.handler.handle(msg, meta);
    } catch (err) {
      // The handler answers its own bugs with SERVFAIL; reaching here is a bug in that guard.
      this.metrics.droppedPacket('udp', 'internal_error');
      this.log.error({ err, remote: address }, 'query handler threw');
      return null;
    }
    if (response === null) {
      this.metrics.droppedPacket('udp', 'unanswerable');
      return null;
    }
    const policy = this.policy;
    if (policy !== null) {
      const verdict = policy.decide(this.handler.info, response, address);
      if (verdict === RateLimitVerdict.Drop) {
        this.dnstap?.exchange(false, address, port, msg, null, performance.timeOrigin + startedAt, 0, null);
        return null;
      }
      if (verdict === RateLimitVerdict.Slip) response = this.handler.slip(response);
    }
    return response;
  }

  /** `response`, the handler's last, was handed to the socket. */
  sent(msg: Buffer, response: Buffer, address: string, port: number, startedAt: number): void {
    const now = performance.now();
    this.metrics.sent('udp', startedAt, now, response.length);
    if (this.dnstap !== null) this.dnstap.exchange(false, address, port, msg, response, performance.timeOrigin + startedAt, performance.timeOrigin + now, this.handler.info.geoRule);
  }
}
