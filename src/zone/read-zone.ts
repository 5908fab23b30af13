// Loading zones from files: parse, check, compile. The only part of zone/ that touches the disk.

import { createHash } from 'node:crypto';
import { closeSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ZoneBuilder } from './build.js';
import { absolutePath, originFromFileName } from './files.js';
import { lex } from './lexer.js';
import { keyToText, nameFromText, nameKey, NameError } from './name.js';
import { ZoneParser, type Diagnostic, type OpenedFile, type ParseOptions, type RecordSink } from './parser.js';
import { feedPatched, patchParts, type ZoneDiff } from './patch.js';
import { T } from './types.js';
import { checkDnssec, type DnssecProblem } from './dnssec-check.js';
import { verifyZonemd, type ZonemdResult } from './zonemd.js';
import { CompactZone, type Zone, type ZoneParts } from './zone.js';

export interface LoadResult {
  file: string;
  /** Every file read (absolute, symlinks not resolved): the zone file, then its $INCLUDEs in the order reached. */
  files: string[];
  /** SHA-256 (hex) of every octet parsed, over `files` in order: the version of the zone's source. */
  sha256: string;
  /** Presentation form of the origin, absolute. */
  origin: string;
  /** The compiled zone, or null when there were errors. */
  zone: Zone | null;
  /** The outcome of checking the zone's ZONEMD digest (RFC 8976), or null when it has none. */
  zonemd?: ZonemdResult | null;
  errors: Diagnostic[];
  warnings: Diagnostic[];
}

export interface LoadOptions {
  /** The time signatures are judged against, in seconds since 1970 (now by default). */
  now?: number;
  /** Warn of signatures that expire within this many days (7 by default). */
  expiryWarningDays?: number;
  /** The zone file, already opened by the caller (loadZoneFile reads it from there, and closes it). */
  opened?: OpenedFile;
}

/** At most this many DNSSEC problems are reported one by one (a broken signer breaks every name). */
const MAX_DNSSEC_REPORTS = 50;

/** Where a zone's records come from: a parser given these options, or records fed directly. */
type RecordSource = (sink: RecordSink, parse: ParseOptions) => void;

function load(origin: string, file: string, run: RecordSource, zoneDir: string, text: string | undefined, opts: LoadOptions): LoadResult {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const files: string[] = [];
  const digest = createHash('sha256');
  if (text !== undefined) digest.update(text, 'latin1');
  const failed = (): LoadResult => ({ file, files, sha256: digest.digest('hex'), origin, zone: null, errors, warnings });
  let originWire: Buffer;
  try {
    originWire = nameFromText(origin.endsWith('.') ? origin : origin + '.', null);
  } catch (e) {
    errors.push({ file, line: 0, message: `bad origin "${origin}": ${(e as NameError).message}` });
    return failed();
  }
  const builder = new ZoneBuilder(originWire, file, errors, warnings);
  const reads = { file: (real: string) => files.push(real), bytes: (block: Buffer) => digest.update(block) };
  // The compiled zone keeps no line numbers: note where the apex ZONEMD is, to report its outcome there.
  const originKey = nameKey(originWire);
  let zonemdAt: { file: string; line: number } | null = null;
  const sink: RecordSink = {
    add(owner, type, ttl, rdata, f, line) {
      if (type === T.ZONEMD && zonemdAt === null && owner === originKey) zonemdAt = { file: f, line };
      builder.add(owner, type, ttl, rdata, f, line);
    },
  };
  run(sink, { origin: originWire, zoneDir, errors, warnings, reads });
  // The checks run even after syntax errors, so one pass over a broken file reports everything.
  let zone = builder.finish();
  let zonemd: ZonemdResult | null = null;
  if (zone !== null && errors.length === 0 && zonemdAt !== null) {
    // RFC 8976 §4: a zone that does not match its own digest is not used (zone sync keeps the last good version).
    zonemd = verifyZonemd(zone);
    const at: { file: string; line: number } = zonemdAt;
    if (zonemd.status === 'mismatch') {
      errors.push({ ...at, message: `ZONEMD digest mismatch: ${zonemd.message}` });
      zone = null;
    } else if (zonemd.status === 'unverifiable') {
      warnings.push({ ...at, message: `ZONEMD not verified: ${zonemd.message}` });
    }
  }
  if (zone !== null && errors.length === 0) {
    const problems = checkDnssec(zone, { now: opts.now ?? Math.floor(Date.now() / 1000), expiryWarningDays: opts.expiryWarningDays ?? 7 });
    if (problems.length > 0) reportDnssec(problems, file, run, originWire, zoneDir, errors, warnings);
  }
  return { file, files, sha256: digest.digest('hex'), origin: keyToText(originKey), zone: errors.length === 0 ? zone : null, zonemd, errors, warnings };
}

/**
 * Reports DNSSEC problems at the lines of the records at fault. The compiled zone keeps no line
 * numbers, so the file is read again to find them: only when there is something to report.
 */
function reportDnssec(
  problems: DnssecProblem[],
  file: string,
  run: RecordSource,
  originWire: Buffer,
  zoneDir: string,
  errors: Diagnostic[],
  warnings: Diagnostic[],
): void {
  const shown = problems.slice(0, MAX_DNSSEC_REPORTS);
  const at = new Map<DnssecProblem, { file: string; line: number }>();
  const sink: RecordSink = {
    add(owner, type, _ttl, _rdata, f, line) {
      for (const p of shown) {
        if (at.has(p)) continue;
        // An empty non-terminal (type -1) is found at the first name below it.
        if (p.type < 0 ? owner.endsWith(p.owner) : owner === p.owner && type === p.type) at.set(p, { file: f, line });
      }
    },
  };
  run(sink, { origin: originWire, zoneDir, errors: [], warnings: [] });
  for (const p of shown) (p.error ? errors : warnings).push({ ...(at.get(p) ?? { file, line: 0 }), message: p.message });
  const more = problems.length - shown.length;
  if (more > 0) (problems.slice(shown.length).some((p) => p.error) ? errors : warnings).push({ file, line: 0, message: `and ${more} more DNSSEC problems` });
}

/** Loads a zone from master-file text (tests, tools). $INCLUDE resolves against `zoneDir`. */
export function loadZoneText(text: string, origin: string, file = '<text>', zoneDir = process.cwd(), opts: LoadOptions = {}): LoadResult {
  return load(origin, file, (sink, o) => new ZoneParser(o, sink).parseText(text, file), zoneDir, text, opts);
}

/**
 * Loads a zone file. The origin is, in order: the one given, the owner of the file's first SOA
 * when it is written absolute, or the one the file name declares (`<origin>.zone`).
 */
export function loadZoneFile(path: string, origin?: string, opts: LoadOptions = {}): LoadResult {
  const o = origin ?? inferOrigin(path);
  if (o === null) {
    return { file: path, files: [], sha256: '', origin: '', zone: null, errors: [{ file: path, line: 1, message: 'cannot tell the zone origin: give --origin' }], warnings: [] };
  }
  // The descriptor serves the first pass only (a second pass, for DNSSEC problems' lines, opens the file again).
  let opened = opts.opened;
  const parse: RecordSource = (sink, po) => {
    const once = opened;
    opened = undefined;
    new ZoneParser(po, sink).parseFile(path, once);
  };
  try {
    return load(o, path, parse, dirname(absolutePath(path)), undefined, opts);
  } finally {
    // Not parsed (a bad origin): the descriptor is still the caller's to be closed.
    if (opened !== undefined) closeSync(opened.fd);
  }
}

/**
 * The version `diff` makes of `base` (a secondary's IXFR): the compiled arrays patched where that
 * gives what a build would (zone/patch.ts), else built whole (buildPatchedZone). `file` is where the
 * version is kept, named in diagnostics; its `sha256` is empty (nothing was read).
 */
export function loadPatchedZone(base: ZoneParts, diff: ZoneDiff, file: string, opts: LoadOptions = {}): LoadResult {
  const patched = patchParts(base, diff);
  if (patched === null) return buildPatchedZone(CompactZone.fromParts(base), diff, file, opts);
  const zone = CompactZone.fromParts(patched);
  return { file, files: [file], sha256: '', origin: zone.originText, zone, zonemd: null, errors: [], warnings: [] };
}

/** The version `diff` makes of `base`, built and checked as a zone file of it would be (ZONEMD, DNSSEC, every check of the builder) without printing and parsing it. */
export function buildPatchedZone(base: Zone, diff: ZoneDiff, file: string, opts: LoadOptions = {}): LoadResult {
  const r = load(base.originText, file, (sink) => feedPatched(base, diff, sink, file), dirname(absolutePath(file)), undefined, opts);
  return { ...r, files: [file], sha256: '' };
}

/** The origin a file implies: its first SOA's absolute owner (after any $ORIGIN), else its file name. */
function inferOrigin(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return originFromFileName(path);
  }
  // Only the head of the file matters: the SOA comes first in any zone an operator writes.
  const head = text.length > 65536 ? text.slice(0, text.indexOf('\n', 65536) + 1 || 65536) : text;
  let origin: string | null = null;
  let found: string | null = null;
  lex(
    head,
    (e) => {
      if (found !== null) return;
      const f = e.fields;
      if (f[0]!.text.toUpperCase() === '$ORIGIN' && f[1] && f[1].text.endsWith('.')) origin = f[1].text;
      if (e.blankOwner) return;
      if (f.some((x, i) => i > 0 && i <= 3 && x.text.toUpperCase() === 'SOA')) {
        const owner = f[0]!.text;
        if (owner.endsWith('.')) found = owner;
        else if (owner === '@' && origin !== null) found = origin;
      }
    },
    () => {},
  );
  return found ?? originFromFileName(path);
}
