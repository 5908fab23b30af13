// One zone load, as run in the loader thread: read, parse, check and compile a zone file, or find
// that its content has not changed. Runs off the query threads, so it may take seconds and block.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { loadPatchedZone, loadZoneFile, type LoadOptions, type LoadResult } from '../zone/read-zone.js';
import { formatDiagnostic } from '../zone/parser.js';
import type { ZoneDiff } from '../zone/patch.js';
import { fileIdentity, MISSING_FILE } from './file-identity.js';
import { CompactZone, type ZoneParts } from '../zone/zone.js';
import { errorText, failedOutcome } from './load-failure.js';
import { BatchPacker } from './transfer.js';

/** A zone file to read, parse, check and compile. */
interface FileJob {
  kind: 'load';
  origin: string;
  file: string;
  /** Versions already seen (served, or tried and not served): when the files still hash to one of them, nothing is parsed. */
  known: { sha256: string; files: string[] }[];
  /** Warn of signatures expiring within this many days (the loader's default when absent). */
  signatureWarningDays?: number | undefined;
  /**
   * The file was not stat'ed by the scan (a zone new at start-up): its identity is taken here, from
   * the descriptor it is read through, and comes back as the outcome's `seen`; a file larger than
   * `maxBytes` is not read, and comes back as `large` for the scan to load in order of size.
   */
  probe?: { maxBytes: number } | undefined;
}

/**
 * A new version of a zone made from the version served and a difference (a secondary's IXFR), built
 * and checked in the loader thread like a file's: the served version's arrays are shared memory, so
 * the thread reads them where they are.
 */
interface PatchJob {
  kind: 'patch';
  origin: string;
  /** Where the version will be kept, named in diagnostics. */
  file: string;
  base: ZoneParts;
  diff: ZoneDiff;
  signatureWarningDays?: number | undefined;
}

export type LoadJob = FileJob | PatchJob;

/** A probed job's file identity (FileJob.probe). */
interface Probed {
  seen?: string;
}

export type LoadOutcome =
  | { kind: 'large'; size: number; seen: string }
  | (Probed & { kind: 'unchanged'; sha256: string })
  | (Probed & {
      kind: 'loaded';
      /** Every array in shared memory (transfer.ts). */
      parts: ZoneParts;
      serial: number;
      records: number;
      sha256: string;
      files: string[];
      warnings: string[];
    })
  | (Probed & { kind: 'failed'; errors: string[]; warnings: string[]; sha256: string; files: string[] });

/** Runs a batch of loads, in order; the zones compiled come back with their arrays in shared memory, packed together (transfer.ts). */
export function runJobs(jobs: readonly LoadJob[]): LoadOutcome[] {
  const packer = new BatchPacker();
  const outcomes = jobs.map((job): LoadOutcome => {
    let o: LoadOutcome;
    try {
      o = runJob(job);
    } catch (err) {
      // A bug in the reader must fail this job, not the thread (and with it every later reload).
      return failedOutcome(job, `internal error while loading: ${errorText(err)}`);
    }
    if (o.kind === 'loaded') packer.add(o);
    return o;
  });
  packer.finish();
  return outcomes;
}

function runJob(job: LoadJob): LoadOutcome {
  if (job.kind === 'patch') return outcomeOf(job, loadPatchedZone(job.base, job.diff, job.file, warningDays(job, {})));
  if (job.probe === undefined) return compile(job, {});
  let fd: number;
  try {
    fd = openSync(job.file, 'r');
  } catch {
    // Unreadable: the load reports why, as the file's error.
    return { ...compile(job, {}), seen: MISSING_FILE };
  }
  let s: Stats;
  try {
    s = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const seen = fileIdentity(s);
  if (s.size > job.probe.maxBytes) {
    closeSync(fd);
    return { kind: 'large', size: s.size, seen };
  }
  // Not a regular file (a FIFO, a device): read as any other, to its end.
  if (!s.isFile()) {
    closeSync(fd);
    return { ...compile(job, {}), seen };
  }
  return { ...compile(job, { opened: { fd, size: s.size } }), seen };
}

/** Reads, parses and compiles the zone (from `opts.opened` when given, which is then closed), unless its files still hash to a version known. */
function compile(job: FileJob, opts: LoadOptions): LoadOutcome {
  for (const k of job.known) {
    if (hashFiles(k.files) !== k.sha256) continue;
    if (opts.opened !== undefined) closeSync(opts.opened.fd);
    return { kind: 'unchanged', sha256: k.sha256 };
  }
  return outcomeOf(job, loadZoneFile(job.file, job.origin, warningDays(job, opts)));
}

function warningDays(job: LoadJob, opts: LoadOptions): LoadOptions {
  return job.signatureWarningDays === undefined ? opts : { ...opts, expiryWarningDays: job.signatureWarningDays };
}

function outcomeOf(job: LoadJob, r: LoadResult): LoadOutcome {
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
