// What the secondary zones read of the server's config (section `secondary`), declared here so the
// config reader (ops/) fills it in without this layer knowing the file.
import type { TsigKey } from '../wire/tsig.js';

/** A primary server of a secondary zone. */
export interface Primary {
  host: string;
  port: number;
  family: 4 | 6;
  /** Signs every query to it and checks every answer (RFC 8945); null: unsigned. */
  key: TsigKey | null;
}

export interface SecondaryZone {
  /** Presentation form, absolute, lower case. */
  origin: string;
  /** Asked in order; the first that answers is used. */
  primaries: Primary[];
  /** A catalog zone (RFC 9432, version 2): its members become secondary zones of the same primaries. */
  catalog: boolean;
}

/** Bounds on the SOA's timers, in seconds (RFC 1034 §4.3.5 leaves them to the zone; an operator caps them). */
export interface TimerBounds {
  refreshMin: number;
  refreshMax: number;
  retryMin: number;
  retryMax: number;
  expireMin: number;
  expireMax: number;
}

export interface SecondaryConfig {
  /** Where each zone's last transferred version is kept as a master file (never the synced zones directory). */
  stateDir: string;
  zones: SecondaryZone[];
  timers: TimerBounds;
  /** A transfer that brings more octets than this is abandoned. */
  maxTransferBytes: number;
  /** A transfer not finished within this many ms is abandoned. */
  transferTimeoutMs: number;
}
