// The messages between the main thread and its query threads (workers: N), and what a thread is
// started with. Zones travel as ZoneParts whose arrays are views of SharedArrayBuffers
// (src/sync/transfer.ts): posting them shares the memory, every thread serves the same copy.
import type { ServerConfig } from '../ops/config.js';
import type { ZoneParts } from '../zone/zone.js';
import type { SharedState } from './shared-state.js';

/** A zone's version: its parts, or null when the origin (presentation form) is no longer served. */
export interface ZoneVersion {
  origin: string;
  parts: ZoneParts | null;
}

/** Swapped in together, so an answer sees the batch whole or not at all; `loading` as ZoneSet.loading. */
export interface ZonesMessage {
  type: 'zones';
  zones: ZoneVersion[];
  loading: boolean;
}

/**
 * The first message a thread gets is a ZonesMessage of every zone served (a message, not workerData,
 * which a thread keeps for its life: it would hold those versions' memory); it listens once they are in.
 */
export type ToThread = ZonesMessage | { type: 'stop' } | { type: 'reload-geo' };
/**
 * `ready`: listening. `geo-answers`: the geo answers counted since the last such message, by rule tag
 * (the main thread keeps the totals: names from the rules file have no fixed slots in shared memory).
 */
export type FromThread = { type: 'ready' } | { type: 'geo-answers'; answers: [string, number][] };

export interface ThreadData {
  cfg: ServerConfig;
  /** 0..workers-1; a replacement takes the index of the thread it replaces. */
  index: number;
  shared: SharedState;
}
