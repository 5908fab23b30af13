// Zone fixtures for the reader's tests.
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadZoneText, type LoadResult } from '../../src/zone/read-zone.js';

export const SOA_NS = `$TTL 300
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
`;

/** Loads zone text for example.com. */
export function load(text: string, origin = 'example.com.'): LoadResult {
  return loadZoneText(text, origin, 'test.zone');
}

export function messages(r: LoadResult, kind: 'errors' | 'warnings' = 'errors'): string[] {
  return r[kind].map((d) => `${d.file}:${d.line}: ${d.message}`);
}

/** A temporary directory of files; removed by the returned cleanup. */
export function tempFiles(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'adns-zone-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

import { printZone } from '../../src/zone/print.js';

/** The zone's records in canonical presentation form, one string a record (tabs as single spaces). */
export function records(r: LoadResult): string[] {
  assert(r.zone, `zone did not load: ${r.errors.map((d) => d.message).join('; ')}`);
  let out = '';
  printZone(r.zone, (s) => (out += s));
  return out.trim().split('\n').map((l) => l.replace(/\t/g, ' '));
}

function assert(v: unknown, msg: string): asserts v {
  if (!v) throw new Error(msg);
}
