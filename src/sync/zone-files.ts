// Which files in the zones directory are zones. Sync tools and editors leave files behind while they
// work (rsync's `.name.XXXXXX`, `*.tmp`, `*~`, vim's `.swp`, partial downloads): those are never zones,
// so a half-copied file is never mistaken for a new zone.
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { originFromFileName } from '../zone/files.js';
import { keyFromText, keyToText } from '../zone/name.js';
import { loadZoneFile, type LoadOptions, type LoadResult } from '../zone/read-zone.js';
import { ZoneSet, type Zone } from '../zone/zone.js';

/** Names a sync tool or editor uses for files it has not finished: never zones. */
export function isWorkInProgressName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('~') || /\.(tmp|swp|swx|part)$/i.test(name);
}

/** Zone origin (presentation form, absolute, lower-case) → absolute file path. */
export type ZoneFileMap = Map<string, string>;

/**
 * The zones to serve: the configured list (origin → file, relative to the zones directory) when
 * there is one, else every `<origin>.zone` in the directory. A directory that can't be read yields
 * an error, not an empty map: an unreadable directory must not look like "every zone deleted".
 */
export function discoverZoneFiles(dir: string, explicit: ReadonlyMap<string, string> | null): ZoneFileMap | Error {
  const out: ZoneFileMap = new Map();
  if (explicit !== null) {
    for (const [origin, file] of explicit) out.set(canonicalOrigin(origin), resolve(dir, file));
    return out;
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    return err as Error;
  }
  // A name read from a directory has no `/` and is not `.` or `..`: joined to the directory's path, normalized once.
  const prefix = join(dir, '/');
  for (const name of names.sort()) {
    if (isWorkInProgressName(name)) continue;
    const canonical = zoneOfFileName(name);
    if (canonical === null) continue; // not `<domain name>.zone`: not a zone file
    // Two files naming one zone (`Example.com.zone`, `example.com.zone`): the first in sorted order is the zone.
    if (!out.has(canonical)) out.set(canonical, flatString(prefix + name));
  }
  return out;
}

/**
 * `s` as one string: a string joined from pieces is a tree of them, kept as long as the zone it
 * names is served (a POP may serve 100,000), and a slice keeps the whole string it was cut from.
 */
function flatString(s: string): string {
  return Buffer.from(s).toString();
}

/**
 * The file of one zone of the directory, found without listing it: of the files named (the one the
 * zone was served from, the one an event named) that exist and name this zone, the first in sorted
 * order, as discoverZoneFiles would choose. Null when none does: only a listing can tell then.
 */
export function findZoneFile(origin: string, files: readonly (string | undefined)[]): string | null {
  let best: string | null = null;
  for (const f of files) {
    if (f === undefined || (best !== null && basename(f) >= basename(best))) continue;
    const name = basename(f);
    if (isWorkInProgressName(name) || zoneOfFileName(name) !== origin) continue;
    try {
      statSync(f);
      best = f;
    } catch {
      // gone
    }
  }
  return best;
}

/**
 * A file name as sync tools mostly write it: `<name>.zone`, the name already canonical (labels of 1
 * to 63 lower-case letters, digits, `-` and `_`), so its zone is read off it without parsing it.
 * `root.zone`, the root, is not one of these.
 */
const CANONICAL_ZONE_FILE = /^(?:[a-z0-9_-]{1,63}\.)+zone$/;
/** RFC 1035 §3.1: at most 255 octets in wire form, so 253 characters before the final dot. */
const MAX_NAME_CHARS = 253;

/** The zone (canonical origin) a file of the zones directory is, or null. */
export function zoneOfFileName(name: string): string | null {
  if (name.length - '.zone'.length <= MAX_NAME_CHARS && name !== 'root.zone' && CANONICAL_ZONE_FILE.test(name)) return flatString(name.slice(0, -'zone'.length));
  const origin = originFromFileName(name);
  if (origin === null) return null;
  try {
    return canonicalOrigin(origin);
  } catch {
    return null;
  }
}

/** `Example.COM` → `example.com.`; throws on a name that is not a domain name. */
export function canonicalOrigin(origin: string): string {
  return keyToText(keyFromText(origin.endsWith('.') ? origin : origin + '.', null));
}

/**
 * Reads every zone of a zones directory as the server does: the files discoverZoneFiles finds, each
 * loaded with the origin it is found for. Zones with errors are left out of the set. Throws when
 * the directory can't be read.
 */
export function readZoneDir(dir: string, explicit: ReadonlyMap<string, string> | null = null, opts: LoadOptions = {}): { zones: ZoneSet; results: LoadResult[] } {
  const found = discoverZoneFiles(dir, explicit);
  if (found instanceof Error) throw found;
  const results: LoadResult[] = [];
  const zones = new Map<string, Zone>();
  for (const [origin, file] of found) {
    const r = loadZoneFile(file, origin, opts);
    results.push(r);
    if (r.zone) zones.set(r.zone.origin, r.zone);
  }
  return { zones: new ZoneSet(zones), results };
}
