// The import graph of src/ keeps the layering of docs/design.md (Layers): a module imports only
// from its own layer or lower ones, and no chain of imports comes back to where it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';

/** Lowest first; a path matches the first entry it starts with. */
const LAYERS: readonly (readonly string[])[] = [
  ['errors.ts', 'version.ts', 'log.ts'],
  ['zone/'],
  ['answer/'],
  ['wire/'],
  ['rrl/'],
  ['sync/'],
  ['secondary/'],
  ['ops/'],
  ['server/'],
  ['health/'],
  ['commands/'],
  ['cli.ts', 'runtime.ts'],
];

const SRC = join(REPO_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [relative(SRC, path)] : [];
  });
}

function layerOf(file: string): number {
  const i = LAYERS.findIndex((prefixes) => prefixes.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
  assert.notEqual(i, -1, `src/${file} is in no layer; give its folder a place in the layering`);
  return i;
}

/** Every module a source file names: static and dynamic imports, re-exports, and worker URLs. */
function importSpecifiers(text: string): string[] {
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\s+['"]([^'"]+)['"]/g,
    /\bnew\s+URL\(\s*['"](\.[^'"]+\.js)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  return patterns.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]!));
}

/** src-relative file → the src-relative .ts files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const targets = importSpecifiers(text)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(SRC, resolve(SRC, dirname(file), s)).replace(/\.js$/, '.ts'))
      .filter((t) => !t.startsWith('..'));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

test('the parser of import lines finds every form the sources use', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    'import {\n  c,\n  d,\n} from "./cd.js";',
    "export { e } from './e.js';",
    "export * from './f.js';",
    "const g = await import('./g.js');",
    "import './h.js';",
    "const url = new URL('./i.js', import.meta.url);",
  ].join('\n');
  assert.deepEqual(importSpecifiers(text).sort(), ['../b/b.js', './a.js', './cd.js', './e.js', './f.js', './g.js', './h.js', './i.js']);
});

test('every import in src/ runs down the layers or stays in its own', () => {
  const upward: string[] = [];
  for (const [file, targets] of importGraph()) {
    for (const target of targets) {
      if (layerOf(target) > layerOf(file)) upward.push(`src/${file} imports src/${target}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no chain of imports in src/ comes back to where it started', () => {
  const graph = importGraph();
  assert.ok(graph.size > 50, `found only ${graph.size} source files under ${SRC}`);
  assert.deepEqual(cycles(graph), []);
});
