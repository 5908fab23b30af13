// What zone sync does with a new version of a zone, or with zones whose files are gone: pure
// decisions, so every rule is a table test. A secondary refuses a serial that goes backwards
// (RFC 1982 arithmetic, RFC 1034 §4.3.5); the two guards hold back changes that look like a sync
// accident rather than an edit, until an operator releases them.

export type SerialPolicy = 'increase' | 'any';

/** Section `zone_sync` of the server's config. */
export interface ZoneSyncConfig {
  /** Watch the zones directory (inotify); off, zones change only on SIGHUP, `ctl reload` or the rescan. */
  watch: boolean;
  /** `increase`: a serial that goes backwards is refused, as a secondary would; `any`: accepted. */
  serialPolicy: SerialPolicy;
  /** A new version that loses more than this share of its records is held (0..1). */
  maxRecordLoss: number;
  /** Removals that would take away more than this share of the zones served are held (0..1). */
  maxZoneLoss: number;
  /** A file changed less than this many ms ago is still being written and is read later. */
  settleMs: number;
  /** Every this many ms the zone files are hashed and compared to what is served; 0 turns it off. */
  rescanMs: number;
  /** Warn when a signed zone loaded has signatures expiring within this many days (expired ones reject it). */
  signatureWarningDays: number;
}

export interface SyncPolicy {
  serialPolicy: SerialPolicy;
  /** Hold a new version that has lost more than this share of its records (0..1). */
  maxRecordLoss: number;
  /** Hold removals that would take away more than this share of the zones served (0..1). */
  maxZoneLoss: number;
}

export interface VersionFacts {
  serial: number;
  records: number;
}

export type ChangeVerdict =
  | { action: 'accept'; note: string | null }
  | { action: 'refuse'; reason: string }
  | { action: 'hold'; reason: string };

/** RFC 1982 §3.2 for 32-bit serials: -1, 0 or 1; 0 also for the undefined case (exactly 2^31 apart). */
export function compareSerials(a: number, b: number): number {
  if (a === b) return 0;
  const d = (b - a) >>> 0;
  if (d === 0x80000000) return 0;
  return d < 0x80000000 ? -1 : 1;
}

/** A new version of a zone being served (`served`), or of a new zone (`served` null). `force` is an operator's release. */
export function judgeVersion(served: VersionFacts | null, next: VersionFacts, p: SyncPolicy, force: boolean): ChangeVerdict {
  if (served === null) return { action: 'accept', note: null };
  const order = compareSerials(next.serial, served.serial);
  if (order < 0 || (order === 0 && next.serial !== served.serial)) {
    const reason = `serial ${next.serial} is not newer than the served ${served.serial}`;
    if (p.serialPolicy === 'increase' && !force) return { action: 'refuse', reason };
  }
  const lost = served.records - next.records;
  if (!force && served.records > 0 && lost / served.records > p.maxRecordLoss) {
    return { action: 'hold', reason: `the new version has ${next.records} records, ${Math.round((100 * lost) / served.records)}% fewer than the ${served.records} served (limit ${Math.round(p.maxRecordLoss * 100)}%)` };
  }
  if (order === 0 && next.serial === served.serial) return { action: 'accept', note: `content changed but the serial ${next.serial} did not` };
  return { action: 'accept', note: null };
}

/** Zones whose files are gone: remove them all, or hold them all when that would empty too much of the server. */
export function judgeRemovals(servedCount: number, removedCount: number, p: SyncPolicy, force: boolean): ChangeVerdict {
  if (removedCount === 0 || force) return { action: 'accept', note: null };
  if (removedCount / servedCount > p.maxZoneLoss) {
    return { action: 'hold', reason: `${removedCount} of ${servedCount} zones would stop being served at once (limit ${Math.round(p.maxZoneLoss * 100)}%)` };
  }
  return { action: 'accept', note: null };
}
