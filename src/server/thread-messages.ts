// The messages between the main thread and its query threads (workers: N), and what a thread is
// started with. Zones travel as ZoneParts whose arrays are views of SharedArrayBuffers
// (src/sync/transfer.ts): posting them shares the memory, every thread serves the same copy.
import type { ServerConfig } from '../ops/config.js';
import type { NotifyInResult } from '../secondary/service.js';
import type { SecondaryZone } from '../secondary/config.js';
import type { GeoFiles } from '../sync/geo-data.js';
import type { ZoneParts } from '../zone/zone.js';
import type { ThreadShare } from './pop-state.js';
import type { LogLine } from './thread-log.js';

/** A zone's version: its parts, or null when the origin (presentation form) is no longer served. */
export interface ZoneVersion {
  origin: string;
  parts: ZoneParts | null;
  /** A secondary zone past its expire time (ZoneSet.expired). */
  expired?: boolean;
}

/** Swapped in together, so an answer sees the batch whole or not at all; `loading` as ZoneSet.loading. */
export interface ZonesMessage {
  type: 'zones';
  zones: ZoneVersion[];
  loading: boolean;
}

/**
 * The first message a thread gets is a ZonesMessage of every zone served, after the geo files in force
 * when geo is on (messages, not workerData, which a thread keeps for its life: it would hold those
 * versions' memory); it listens once they are in.
 */
export type ToThread = ZonesMessage | { type: 'stop' } | { type: 'geo'; files: GeoFiles } | { type: 'secondaries'; zones: SecondaryZone[] };
/**
 * `ready`: listening. `geo-answers`: the geo answers counted since the last such message, by rule tag
 * (the main thread keeps the totals: names from the rules file have no fixed slots in shared memory).
 */
export type FromThread = { type: 'ready' } | { type: 'geo-answers'; answers: [string, number][] } | NotifyMessage | LogLine;

/** A NOTIFY a thread answered (`zone` canonical): the main thread counts it, and refreshes the zone when it was accepted. */
interface NotifyMessage {
  type: 'notify';
  zone: string;
  result: NotifyInResult;
  remote: string;
}

export interface ThreadData {
  cfg: ServerConfig;
  /** What the POP's threads share, and this thread's index (a replacement takes the index of the thread it replaces). */
  share: ThreadShare;
}
