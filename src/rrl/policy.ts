// The policy step the UDP transport asks after the handler answered and before sending (docs/design.md,
// Policy after answering): response rate limiting with its clock, its exemptions, metrics and logs. The decision
// itself is the pure RateLimiter's. Logs are per limiting episode (a prefix, a kind, a name), never
// per packet: "rate limiting started" when a bucket first goes over, "rate limiting stopped" with
// the counts once it has been quiet for a sweep interval.
import type { Logger } from '../log.js';
import { AddressBytes, prefixContains, type Prefix } from '../wire/address.js';
import { CookieStatus } from '../wire/cookies.js';
import { RESPONSE_KINDS, type ResponseInfo } from '../wire/handler-types.js';
import { RateLimiter, RateLimitVerdict, type LimiterConfig } from './limiter.js';

/** Section `rrl`: declared here, read by ops/config. */
export interface RrlConfig extends LimiterConfig {
  /** 0: rate limiting off. */
  responsesPerSecond: number;
  /** Client prefixes never limited. */
  exempt: Prefix[];
  /** Count and log what would be limited, but send everything. */
  logOnly: boolean;
}

/** What rate limiting did to a response over the limit (metric label and log field); `would_*` under log_only (sent anyway). */
export const RRL_ACTIONS = ['dropped', 'slipped', 'would_drop', 'would_slip'] as const;

/** Where the policy counts limited responses (the server's metrics, in ops/). */
export interface RateLimitedCounter {
  /** A response over the rate limit: `action` indexes RRL_ACTIONS, `kind` is its ResponseKind. */
  rateLimited(action: number, kind: number, badCookie: boolean): void;
}

/** An episode ends after this long without a limited response; also how often episodes are swept. */
const EPISODE_IDLE_MS = 5000;
/**
 * The limiter's clock is a field this often refreshed by a timer: reading it costs nothing, while
 * Date.now() per packet costs a noticeable share of a cached answer. The limiter counts whole seconds.
 * The timer runs only while responses are decided, so an idle server is not woken for it.
 */
const CLOCK_TICK_MS = 100;
/** Episodes tracked one by one; beyond, limited responses are only counted (the log stays bounded). */
const MAX_EPISODES = 1000;

interface Episode {
  prefixKey: number;
  kind: number;
  nameHash: number;
  prefix: string;
  zone: string | null;
  name: string;
  started: number;
  last: number;
  dropped: number;
  slipped: number;
}

export class ResponsePolicy {
  private readonly limiter: RateLimiter;
  private readonly addr = new AddressBytes();
  private readonly episodes = new Map<number, Episode>();
  private untracked = 0;
  private now = Date.now();
  /** The last sender's address and what readAddress made of it. */
  private lastAddress = '';
  private lastFamily = 0;
  private lastPrefixKey = 0;
  /** Refreshes `now` while responses are decided; null since a tick found none decided. */
  private ticker: NodeJS.Timeout | null = null;
  /** A response was decided since the last tick. */
  private decided = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly cfg: RrlConfig,
    private readonly metrics: RateLimitedCounter,
    private readonly log: Logger,
    memory?: SharedArrayBuffer,
  ) {
    this.limiter = new RateLimiter(cfg, memory);
    this.sweeper = setInterval(() => this.sweep(Date.now()), EPISODE_IDLE_MS);
    this.sweeper.unref();
  }

  /**
   * The rate-limiting policy of `cfg`, or null when it is off (responses_per_second: 0). `memory`
   * (limiterMemory) is the POP's table, shared by every answering thread; without it, its own.
   * `popLog` says once whether rate limiting is on: the POP's setting, not each thread's (null in
   * every answering thread but one).
   */
  static create(cfg: RrlConfig, metrics: RateLimitedCounter, log: Logger, memory: SharedArrayBuffer | undefined, popLog: Logger | null): ResponsePolicy | null {
    if (cfg.responsesPerSecond === 0) {
      popLog?.info('response rate limiting off (rrl.responses_per_second: 0)');
      return null;
    }
    const policy = new ResponsePolicy(cfg, metrics, log, memory);
    popLog?.info(
      { responses_per_second: cfg.responsesPerSecond, window: cfg.window, slip: cfg.slip, log_only: cfg.logOnly, table_bytes: policy.limiter.bytes },
      'response rate limiting on (udp)',
    );
    return policy;
  }

  /** What to do with the response `response[start, end)`, described by `info`, to a UDP client at `address`. */
  decide(info: ResponseInfo, response: Buffer, start: number, end: number, address: string): RateLimitVerdict {
    // A valid server cookie proves the source address is not spoofed (RFC 7873 §5.3), as BIND and Knot treat it.
    if (info.cookie === CookieStatus.Valid) return RateLimitVerdict.Send;
    // Consecutive datagrams often come from one client: its prefix is worked out once.
    if (address !== this.lastAddress) this.readAddress(address);
    if (this.lastFamily === 0) return RateLimitVerdict.Send;
    const prefixKey = this.lastPrefixKey;
    this.decided = true;
    if (this.ticker === null) this.startClock();
    const now = this.now;
    const verdict = this.limiter.decide(prefixKey, this.lastFamily, info.kind, info.nameHash, now);
    if (verdict === RateLimitVerdict.Send) return verdict;
    const logOnly = this.cfg.logOnly;
    const action = (verdict === RateLimitVerdict.Drop ? 0 : 1) + (logOnly ? 2 : 0);
    const badCookie = !logOnly && verdict === RateLimitVerdict.Slip && (info.cookie === CookieStatus.ClientOnly || info.cookie === CookieStatus.Invalid);
    this.metrics.rateLimited(action, info.kind, badCookie);
    this.note(prefixKey, info, response, start, end, verdict, now);
    return logOnly ? RateLimitVerdict.Send : verdict;
  }

  private startClock(): void {
    this.now = Date.now();
    this.ticker = setInterval(this.tick, CLOCK_TICK_MS);
    this.ticker.unref();
  }

  private readonly tick = (): void => {
    this.now = Date.now();
    if (!this.decided && this.ticker !== null) {
      clearInterval(this.ticker);
      this.ticker = null;
    }
    this.decided = false;
  };

  /** Parses `address` into addr and lastFamily (4, 6, or 0: not limited, unreadable or exempt) and lastPrefixKey. */
  private readAddress(address: string): void {
    const addr = this.addr;
    this.lastAddress = address;
    const length = addr.parse(address);
    this.lastFamily = length === 4 ? 4 : length === 16 ? 6 : 0;
    const exempt = this.cfg.exempt;
    for (let i = 0; i < exempt.length; i++) if (prefixContains(exempt[i]!, addr)) this.lastFamily = 0;
    this.lastPrefixKey = this.limiter.prefixKey(addr);
  }

  private note(prefixKey: number, info: ResponseInfo, response: Buffer, start: number, end: number, verdict: RateLimitVerdict, now: number): void {
    const slot = this.limiter.lastSlot;
    let ep = this.episodes.get(slot);
    if (ep !== undefined && (ep.prefixKey !== prefixKey || ep.kind !== info.kind || ep.nameHash !== info.nameHash)) {
      // The slot now counts another bucket: the old episode is over.
      this.stopped(ep);
      this.episodes.delete(slot);
      ep = undefined;
    }
    if (ep === undefined) {
      if (this.episodes.size >= MAX_EPISODES) {
        this.untracked++;
        return;
      }
      ep = {
        prefixKey,
        kind: info.kind,
        nameHash: info.nameHash,
        prefix: this.prefixText(),
        zone: info.zone,
        name: questionName(response, start, end),
        started: now,
        last: now,
        dropped: 0,
        slipped: 0,
      };
      this.episodes.set(slot, ep);
      this.log.warn(
        { prefix: ep.prefix, kind: RESPONSE_KINDS[ep.kind], zone: ep.zone, name: ep.name, log_only: this.cfg.logOnly },
        'rate limiting started',
      );
    }
    ep.last = now;
    if (verdict === RateLimitVerdict.Drop) ep.dropped++;
    else ep.slipped++;
  }

  /** Ends the episodes idle for EPISODE_IDLE_MS. */
  sweep(now: number): void {
    for (const [slot, ep] of this.episodes) {
      if (now - ep.last < EPISODE_IDLE_MS) continue;
      this.stopped(ep);
      this.episodes.delete(slot);
    }
    if (this.untracked > 0) {
      this.log.warn({ responses: this.untracked, tracked: this.episodes.size }, 'rate limiting more buckets than are logged one by one');
      this.untracked = 0;
    }
  }

  private stopped(ep: Episode): void {
    this.log.info(
      {
        prefix: ep.prefix,
        kind: RESPONSE_KINDS[ep.kind],
        zone: ep.zone,
        name: ep.name,
        [RRL_ACTIONS[this.cfg.logOnly ? 2 : 0]]: ep.dropped,
        [RRL_ACTIONS[this.cfg.logOnly ? 3 : 1]]: ep.slipped,
        duration_s: Math.round((ep.last - ep.started) / 100) / 10,
      },
      'rate limiting stopped',
    );
  }

  /** The client prefix of the address last parsed, as text (e.g. 192.0.2.0/24). */
  private prefixText(): string {
    const a = this.addr;
    if (a.length === 4) {
      const bits = this.cfg.ipv4PrefixLength;
      const v = bits === 0 ? 0 : ((((a.bytes[0]! << 24) | (a.bytes[1]! << 16) | (a.bytes[2]! << 8) | a.bytes[3]!) >>> (32 - bits)) << (32 - bits)) >>> 0;
      return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}/${bits}`;
    }
    const bits = this.cfg.ipv6PrefixLength;
    const groups: string[] = [];
    for (let g = 0; g < 8; g++) {
      const keep = Math.max(0, Math.min(16, bits - g * 16));
      const v = ((a.bytes[2 * g]! << 8) | a.bytes[2 * g + 1]!) & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff);
      groups.push(v.toString(16));
    }
    return `${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}/${bits}`;
  }

  close(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    clearInterval(this.sweeper);
    this.sweep(Infinity);
  }
}

/** The question name of the response `response[start, end)` (uncompressed after the header), for a log line. */
function questionName(response: Buffer, start: number, end: number): string {
  const labels: string[] = [];
  for (let i = start + 12; i < end; ) {
    const l = response[i]!;
    if (l === 0 || l > 63) break;
    labels.push(response.toString('latin1', i + 1, i + 1 + l));
    i += l + 1;
  }
  return labels.join('.') + '.';
}

