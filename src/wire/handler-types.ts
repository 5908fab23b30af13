// The contract between the transports (server/) and the query handler (wire/): bytes in, bytes out.
import type { ZoneSet } from '../zone/zone.js';

export type Transport = 'udp' | 'tcp';

/** Who asked and how. Valid only during the call it is passed to: transports reuse it for the next packet. */
export interface QueryMeta {
  transport: Transport;
  remoteAddress: string;
  remotePort: number;
}

/** What the handler tells the layer after it (metrics now; response rate limiting builds on it). */
export interface ResponseInfo {
  transport: Transport;
  rcode: number;
  /** The answer outcome: 'answer' | 'nodata' | 'nxdomain' | 'referral' | 'refused' | 'servfail' | 'formerr' | 'notimp' | ... */
  outcome: string;
  qtype: number;
  /** Origin (presentation form) of the zone that answered, or null. */
  zone: string | null;
  truncated: boolean;
}

export interface HandlerOptions {
  /** The POP's name: NSID payload, CH TXT id.server and hostname.bind. */
  identity: string;
  /** CH TXT version.bind; null hides it (REFUSED). */
  version: string | null;
  /** Largest UDP response we send with EDNS (RFC 6891 §6.2.5); 1232 by default. */
  ednsUdpSize: number;
  /** Called once per response built, after it is built. */
  onResponse?: (info: ResponseInfo, meta: QueryMeta) => void;
  /** Called when answering a query threw (a bug): the query was answered SERVFAIL; the caller logs it. */
  onError?: (err: unknown, meta: QueryMeta) => void;
  /** Bound on the response cache, in octets of cached responses; 0 disables it. 64 MiB by default. */
  responseCacheBytes?: number;
}

export interface QueryHandler {
  /** Answers one DNS message; null means send nothing (unreadable header, or a response). */
  handle(msg: Buffer, meta: QueryMeta): Buffer | null;
  /** Swaps the zones served (one reference assignment: in-flight queries finish on the old set). */
  setZones(zones: ZoneSet): void;
}
