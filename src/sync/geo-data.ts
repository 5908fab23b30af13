// The geo rules and country database as the answering threads take them. The main thread's
// GeoSource reads and judges both files; what it keeps is the rules file's text and the database's
// bytes in a SharedArrayBuffer, so every query thread answers from the one copy of the database and
// from the same rules, never from a file it read at another moment.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Reader } from 'maxmind';
import type { CountryDb, CountryHit } from '../answer/geo.js';
import type { GeoData } from '../wire/handler-types.js';
import { parseGeoRules } from './geo-rules.js';

/** The files in force, as the main thread hands them to a query thread. */
export interface GeoFiles {
  rulesFile: string;
  /** The text of the last rules file that read well ('' before one has). */
  rulesText: string;
  /** The last database that read well, its bytes shared. */
  db: { path: string; bytes: SharedArrayBuffer } | null;
}

/** A maxmind-format database opened for country lookups. */
export class MmdbCountries implements CountryDb {
  readonly buildDate: Date;
  readonly type: string;
  private readonly reader: Reader<Record<string, unknown>>;

  constructor(
    readonly path: string,
    readonly bytes: SharedArrayBuffer,
  ) {
    this.reader = new Reader<Record<string, unknown>>(Buffer.from(bytes));
    this.buildDate = this.reader.metadata.buildEpoch;
    this.type = this.reader.metadata.databaseType;
  }

  lookup(bytes: Uint8Array, length: number, out: CountryHit): void {
    const [record, prefix] = this.reader.getWithPrefixLength(addressText(bytes, length));
    out.country = record === null ? null : countryOf(record);
    out.prefix = prefix;
  }
}

/** Loads a database file into shared memory; throws when it is not a readable MaxMind DB. */
export function openCountryDb(path: string): MmdbCountries {
  return new MmdbCountries(path, readShared(path));
}

/** What a query thread answers with, from what the main thread read. */
export function geoDataOf(files: GeoFiles): GeoData {
  const parsed = parseGeoRules(files.rulesFile, files.rulesText);
  // The main thread parsed the same text before handing it over.
  if (!parsed.ok) throw new Error(`geo rules handed to a query thread do not parse: ${parsed.errors[0]}`);
  return { rules: parsed.rules, db: files.db === null ? null : new MmdbCountries(files.db.path, files.db.bytes) };
}

function readShared(path: string): SharedArrayBuffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = new SharedArrayBuffer(size);
    const view = new Uint8Array(bytes);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, view, at, size - at, at);
      if (n === 0) throw new Error(`${path}: shorter than its size (${at} of ${size} octets read)`);
      at += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** `country_code` (ip-location-db's layout) or `country.iso_code` (GeoLite2's and GeoIP2's). */
function countryOf(record: Record<string, unknown>): string | null {
  const code = record['country_code'];
  if (typeof code === 'string') return code.toUpperCase();
  const country = record['country'];
  if (typeof country === 'object' && country !== null) {
    const iso = (country as Record<string, unknown>)['iso_code'];
    if (typeof iso === 'string') return iso.toUpperCase();
  }
  return null;
}

function addressText(b: Uint8Array, length: number): string {
  if (length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}
