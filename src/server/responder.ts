// One answering thread: its handler (zones handed in by zone sync), a UDP socket and a TCP listener
// per listen address.
import { ConfigError } from '../errors.js';
import type { ServerConfig } from '../ops/config.js';
import { formatListenAddress } from '../ops/listen-address.js';
import type { Logger } from '../log.js';
import type { DnstapWriter } from '../ops/dnstap-output.js';
import type { QueryCounters } from '../ops/query-counters.js';
import { createHandler } from '../wire/handler.js';
import { processCookieSecret, serverCookies } from '../wire/cookies.js';
import { ResponseBuffers } from '../wire/response-buffers.js';
import type { GeoData, QueryHandler, QueryMeta } from '../wire/handler-types.js';
import type { ZoneSet } from '../zone/zone.js';
import { newTcpConnections, TcpListener, type BindOptions } from './tcp.js';
import { TransferOut } from './transfer-out.js';
import { NotifyIn, type OnNotify } from './notify-in.js';
import { bucketOf } from '../rrl/classify.js';
import { ResponsePolicy } from '../rrl/policy.js';
import { chooseUdpPath } from './native-udp.js';
import { UdpListener } from './udp.js';
import { NativeUdpListener } from './udp-native.js';
import type { ThreadShare } from './pop-state.js';

export interface ResponderOptions extends BindOptions {
  /** The POP's state, when this is one of several answering threads; without it, its own (and no locks on the rate-limit table). */
  share?: ThreadShare;
  /** Hears of each NOTIFY answered for a secondary zone. */
  onNotify?: OnNotify;
  /** The geo rules and database of the first answers; later ones go to `handler.setGeo`. Read by the main thread (sync/geo-source.ts). */
  geo?: GeoData | null;
}

export class Responder {
  private constructor(
    readonly handler: QueryHandler,
    private readonly udp: (UdpListener | NativeUdpListener)[],
    private readonly tcp: TcpListener[],
    private readonly policy: ResponsePolicy | null,
    private readonly dnstap: DnstapWriter | null,
    /** Answers NOTIFYs for the secondary zones; null when there are none. */
    readonly notify: NotifyIn | null,
  ) {}

  /** Opens every listener, answering from `zones`; rejects (closing what it opened) if one can't bind. */
  static async start(cfg: ServerConfig, zones: ZoneSet, log: Logger, metrics: QueryCounters, opts: ResponderOptions): Promise<Responder> {
    const { share, onNotify } = opts;
    // What holds for the whole POP (the UDP path, rate limiting, the cookie secret) is the same in
    // every thread: thread 0 says it, once (and its replacement again), not every thread.
    const popLog = share === undefined || share.thread === 0 ? log : null;
    const handler = createHandler(zones, {
      // Reused buffers; a UDP send that has to queue keeps its own (UdpListener).
      responseMemory: new ResponseBuffers(),
      identity: cfg.identity,
      version: cfg.version,
      nsid: cfg.nsid,
      ednsUdpSize: cfg.ednsUdpSize,
      responseCacheBytes: cfg.responseCacheBytes,
      onResponse: metrics.onResponse,
      onError: queryErrorReporter(log, metrics),
      cookies: serverCookies(cfg.cookies, share?.pop.cookieSecret ?? processCookieSecret(), popLog),
      tsigKeys: cfg.tsigKeys,
      bucketOf,
      ecs: cfg.ecs,
    });
    // Before the listeners open, so the first answers already follow the rules.
    if (opts.geo !== undefined) handler.setGeo(opts.geo);
    // UDP only: TCP sources can't be spoofed, so TCP is never rate limited.
    const policy = ResponsePolicy.create(cfg.rrl, metrics, log, share?.pop.rrl ?? undefined, popLog);
    // Loaded only when dnstap is on: each query thread holds its own copy of every module it imports.
    const dnstap = cfg.dnstap === null ? null : new (await import('../ops/dnstap-output.js')).DnstapWriter(cfg.dnstap.output, cfg.identity, cfg.version, log, metrics.dnstapCounts());
    const notify = cfg.secondary === null || onNotify === undefined ? null : new NotifyIn(cfg.secondary.zones, cfg.tsigKeys, onNotify);
    const native = chooseUdpPath(cfg.udpIo, popLog);
    metrics.udpPath(native === null ? 'dgram' : 'native');
    const udp = cfg.listen.map((a) =>
      native === null
        ? new UdpListener(a, handler, metrics, log, { reusePort: opts.reusePort, policy, dnstap, notify })
        : new NativeUdpListener(a, native, handler, metrics, log, { reusePort: opts.reusePort, policy, dnstap, notify }),
    );
    const connections = await newTcpConnections(cfg.tcp, log, share && { memory: share.pop.tcp, thread: share.thread });
    const transfers = new TransferOut(cfg.transfer, cfg.tsigKeys, () => handler.zones, metrics, log);
    const tcp = cfg.listen.map((a) => new TcpListener(a, handler, metrics, log, connections, dnstap, transfers, notify));
    const responder = new Responder(handler, udp, tcp, policy, dnstap, notify);
    try {
      for (let i = 0; i < cfg.listen.length; i++) {
        const at = formatListenAddress(cfg.listen[i]!);
        await udp[i]!.listen().catch((err: Error) => {
          throw new ConfigError('listen', `cannot listen on ${at}/udp: ${err.message}`);
        });
        await tcp[i]!.listen(opts).catch((err: Error) => {
          throw new ConfigError('listen', `cannot listen on ${at}/tcp: ${err.message}`);
        });
        log.info({ listen: at, transports: ['udp', 'tcp'] }, 'listening');
      }
    } catch (err) {
      await responder.stop();
      throw err;
    }
    return responder;
  }

  /** Stops accepting queries and closes every listener. */
  async stop(): Promise<void> {
    await Promise.all([...this.udp.map((u) => u.close()), ...this.tcp.map((t) => t.close())]);
    this.policy?.close();
    await this.dnstap?.close();
  }
}

/** Errors logged per second at most: a bug that one query triggers, every query can trigger. */
const ERROR_LOGS_PER_SECOND = 10;

/** HandlerOptions.onError: the query was already answered SERVFAIL; count it, and log a bounded sample. */
function queryErrorReporter(log: Logger, metrics: QueryCounters): (err: unknown, meta: QueryMeta) => void {
  let windowStart = 0;
  let logged = 0;
  return (err, meta) => {
    metrics.queryError();
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      logged = 0;
    }
    if (logged++ < ERROR_LOGS_PER_SECOND) {
      log.error({ err, transport: meta.transport, remote: meta.remoteAddress }, 'query answered SERVFAIL after an internal error');
    }
  };
}
