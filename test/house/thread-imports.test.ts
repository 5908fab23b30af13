// A query thread (workers: N) compiles and holds in its own heap every module it loads, so it loads
// only what answering needs: what the main thread alone does (read the config, load zone files,
// serve /metrics, write the log, read and print RDATA as text) and what is off by default (geo, the TCP connection-rate limit)
// stays out of its static imports. docs/design.md, Workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

const SRC = join(REPO_ROOT, 'src');

/** Modules the thread loads as it starts: static imports and re-exports of values (no `import type`, no `import()`). */
function staticValueImports(text: string): string[] {
  const patterns = [/^(?:import|export)\s+(?!type\b)[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm, /^import\s+['"]([^'"]+)['"]/gm];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

/** Every src-relative file and package `entry` (src-relative) loads when it starts. */
function loadedFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const s of staticValueImports(readFileSync(join(SRC, file), 'utf8'))) {
      if (s.startsWith('.')) visit(relative(SRC, resolve(SRC, dirname(file), s)).replace(/\.js$/, '.ts'));
      else if (!s.startsWith('node:')) seen.add(s);
    }
  };
  visit(entry);
  return seen;
}

test('the parser of import lines skips type-only and dynamic imports', () => {
  const text = ["import { a, type A } from './a.js';", "import type { B } from './b.js';", "export { c } from './c.js';", "export type { D } from './d.js';", "const e = await import('./e.js');", "import './f.js';"].join('\n');
  assert.deepEqual(staticValueImports(text).sort(), ['./a.js', './c.js', './f.js']);
});

test('a query thread loads no config reader, zone-file parser, RR-type table, Prometheus client, logging library, geo, dnstap output or TCP rate-limit library', () => {
  const loaded = loadedFrom('server/query-thread.ts');
  assert.ok(loaded.has('server/responder.ts') && loaded.has('server/thread-log.ts'), 'the walk reaches the responder and the logger');
  const unwanted = ['ops/config.ts', 'zone/parser.ts', 'zone/rdata/table.ts', 'ops/metrics.ts', 'log.ts', 'sync/geo-source.ts', 'sync/geo-data.ts', 'ops/dnstap-output.ts', 'wire/dnstap.ts', 'yaml', 'prom-client', 'pino', 'maxmind', 'chokidar', 'rate-limiter-flexible'];
  assert.deepEqual(
    unwanted.filter((m) => loaded.has(m)),
    [],
  );
});
