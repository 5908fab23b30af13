// Log lines under systemd: when the process's stdout is the journal's stream (JOURNAL_STREAM names its
// device:inode), each JSON line is prefixed with its sd-daemon priority for journald; otherwise the
// lines are plain JSON. Run in child processes whose stdout is a file, so the test knows its inode.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const script = join(dir, 'log-lines.mjs');
writeFileSync(
  script,
  `import { createLogger } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/src/log.js')).href)};
const log = createLogger({ pop: 'pop-log', component: 'server', level: 'trace' });
log.fatal('f'); log.error('e'); log.warn('w'); log.info('i'); log.debug('d'); log.trace('t');
`,
);

/** The lines the script writes to a file as its stdout, with JOURNAL_STREAM from `journal(stdout)`. */
function lines(name: string, journal: (st: { dev: number; ino: number }) => string | undefined): string[] {
  const out = join(dir, name);
  writeFileSync(out, '');
  const fd = openSync(out, 'w');
  try {
    const env = { ...process.env };
    delete env.JOURNAL_STREAM;
    const js = journal(statSync(out));
    if (js !== undefined) env.JOURNAL_STREAM = js;
    const r = spawnSync(process.execPath, [script], { stdio: ['ignore', fd, 'inherit'], env, timeout: 10_000 });
    assert.equal(r.status, 0);
  } finally {
    closeSync(fd);
  }
  return readFileSync(out, 'utf8').trim().split('\n');
}

describe('logs and the journal', () => {
  it('prefixes each line with its priority when stdout is the journal stream', () => {
    const got = lines('journal.log', (st) => `${st.dev}:${st.ino}`);
    assert.deepEqual(
      got.map((l) => l.slice(0, 3)),
      ['<2>', '<3>', '<4>', '<6>', '<7>', '<7>'],
    );
    // The rest of each line is the JSON line as ever.
    assert.deepEqual(
      got.map((l) => (JSON.parse(l.slice(3)) as { level: string; pop: string }).level),
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace'],
    );
  });

  it('writes plain JSON lines without JOURNAL_STREAM, or when it names another stream', () => {
    for (const [name, journal] of [
      ['plain.log', () => undefined],
      ['other.log', (st: { dev: number; ino: number }) => `${st.dev}:${st.ino + 1}`],
    ] as const) {
      const got = lines(name, journal);
      assert.equal(got.length, 6);
      for (const l of got) assert.equal((JSON.parse(l) as { pop: string }).pop, 'pop-log');
    }
  });
});
