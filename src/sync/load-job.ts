// One zone load, as run in the loader thread: read, parse, check and compile a zone file, or find
// that its content has not changed. Runs off the query threads, so it may take seconds and block.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { loadZoneFile } from '../zone/read-zone.js';
import { formatDiagnostic } from '../zone/parser.js';
import { CompactZone, type ZoneParts } from '../zone/zone.js';
import { errorText, failedOutcome } from './load-failure.js';
import { shareBatch } from './transfer.js';

export interface LoadJob {
  kind: 'load';
  origin: string;
  file: string;
  /** Versions already seen (served, or tried and not served): when the files still hash to one of them, nothing is parsed. */
  known: { sha256: string; files: string[] }[];
  /** Warn of signatures expiring within this many days (the loader's default when absent). */
  signatureWarningDays?: number | undefined;
}

/** The message that ends an idle loader thread: it frees its heap and exits (load-thread.ts). */
export const RETIRE = 'retire';

export type LoadOutcome =
  | { kind: 'unchanged'; sha256: string }
  | {
      kind: 'loaded';
      /** Every array in shared memory (transfer.ts). */
      parts: ZoneParts;
      serial: number;
      records: number;
      sha256: string;
      files: string[];
      warnings: string[];
    }
  | { kind: 'failed'; errors: string[]; warnings: string[]; sha256: string; files: string[] };

/** Runs a batch of loads, in order; the zones compiled come back with their arrays in shared memory, packed together (transfer.ts). */
export function runJobs(jobs: readonly LoadJob[]): LoadOutcome[] {
  const outcomes = jobs.map((job): LoadOutcome => {
    try {
      return runJob(job);
    } catch (err) {
      // A bug in the reader must fail this job, not the thread (and with it every later reload).
      return failedOutcome(job, `internal error while loading: ${errorText(err)}`);
    }
  });
  const loaded = outcomes.filter((o): o is Extract<LoadOutcome, { kind: 'loaded' }> => o.kind === 'loaded');
  const shared = shareBatch(loaded.map((o) => o.parts));
  loaded.forEach((o, i) => (o.parts = shared[i]!));
  return outcomes;
}

function runJob(job: LoadJob): LoadOutcome {
  for (const k of job.known) if (hashFiles(k.files) === k.sha256) return { kind: 'unchanged', sha256: k.sha256 };
  const r = loadZoneFile(job.file, job.origin, job.signatureWarningDays === undefined ? {} : { expiryWarningDays: job.signatureWarningDays });
  const warnings = r.warnings.map(formatDiagnostic);
  if (r.zone === null || !(r.zone instanceof CompactZone)) {
    const errors = r.errors.length > 0 ? r.errors.map(formatDiagnostic) : [`${job.file}:1: zone did not compile`];
    return { kind: 'failed', errors, warnings, sha256: r.sha256, files: r.files };
  }
  return { kind: 'loaded', parts: r.zone.parts(), serial: r.zone.serial, records: r.zone.recordCount, sha256: r.sha256, files: r.files, warnings };
}

/** SHA-256 over the files' bytes in order, as the loader hashes what it parses; null if one can't be read. */
function hashFiles(files: readonly string[]): string | null {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 18);
  for (const f of files) {
    let fd: number;
    try {
      fd = openSync(f, 'r');
    } catch {
      return null;
    }
    try {
      for (let got; (got = readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, got));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}
