// Our printing of every type matches BIND's `named-compilezone -s full` output for the same record.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text, wire } from './helpers.js';
import { SAMPLES } from './samples.js';

function bindPrints(records: readonly (readonly [string, string])[]): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'rdata-bind-'));
  try {
    // The SOA sample is the apex SOA (BIND allows SOA nowhere else); the others get owners r0, r1, ...
    const lines = ['$ORIGIN example.com.', '$TTL 3600', '@ NS ns1', 'ns1 A 192.0.2.1'];
    records.forEach(([type, rdata], i) => lines.push(`${type === 'SOA' ? '@' : `r${i}`} ${type} ${rdata}`));
    const file = join(dir, 'z.zone');
    writeFileSync(file, lines.join('\n') + '\n');
    const out = execFileSync('named-compilezone', ['-k', 'ignore', '-i', 'none', '-f', 'text', '-F', 'text', '-s', 'full', '-o', '-', 'example.com', file], {
      encoding: 'latin1',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const byOwner = new Map<string, string>();
    for (const line of out.split('\n')) {
      const m = /^(?:r(\d+)\.)?example\.com\.\s+\d+\s+IN\s+(\S+)\s+(.*)$/.exec(line);
      if (m) byOwner.set(`${m[1] ?? '@'} ${m[2]}`, m[3]!);
    }
    return byOwner;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('every sample prints as named-compilezone prints it', () => {
  const bind = bindPrints(SAMPLES);
  const mismatches: string[] = [];
  SAMPLES.forEach(([type, rdata], i) => {
    const ours = text(type, wire(type, rdata));
    const theirs = bind.get(`${type === 'SOA' ? '@' : i} ${type}`);
    if (ours !== theirs) mismatches.push(`${type} ${rdata}\n  ours: ${ours}\n  BIND: ${theirs}`);
  });
  assert.deepEqual(mismatches, []);
});
