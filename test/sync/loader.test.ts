// The loader thread's death: a load in flight when the thread dies fails with the reason in its
// error (the `zone not loaded` log line shows it), whether the thread threw, failed to post its
// answer, or exited by itself; and the next load gets a new thread.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { ZoneLoader } from '../../src/sync/loader.js';
import type { LoadJob } from '../../src/sync/load-job.js';
import { withTimeout } from '../helpers/wait.js';
import { zoneText } from '../helpers/zone-text.js';

const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-loader-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const zoneFile = join(dir, 't.test.zone');
writeFileSync(zoneFile, zoneText('t.test', 7, 3));
const job: LoadJob = { kind: 'load', origin: 't.test.', file: zoneFile, known: [] };

/** A loader of one thread that runs `body` on each batch's first job (`parentPort` and `job` are in scope). */
function loaderRunningJobs(name: string, body: string): ZoneLoader {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `import { parentPort } from 'node:worker_threads';\nparentPort.on('message', ([job]) => { ${body} });\n`);
  return new ZoneLoader(1, pathToFileURL(file));
}

async function failure(loader: ZoneLoader): Promise<string> {
  try {
    const o = await loader.load(job);
    assert.equal(o.kind, 'failed');
    assert.equal((o as { errors: string[] }).errors.length, 1);
    return (o as { errors: string[] }).errors[0]!;
  } finally {
    await loader.close();
  }
}

describe('a loader thread that dies', () => {
  it('by throwing: the error is named, with where it was thrown', async () => {
    const e = await failure(loaderRunningJobs('throws', "throw new RangeError('no room for the names');"));
    assert.match(e, new RegExp(`^${zoneFile}:0: the loader thread died: RangeError: no room for the names \\(at .*throws\\.mjs:2:`));
  });

  it('by posting what cannot be transferred (a DataCloneError, whose message arrives empty): the stack says what it was', async () => {
    const e = await failure(loaderRunningJobs('untransferable', "const pooled = Buffer.from('x'); parentPort.postMessage(null, [pooled.buffer]);"));
    assert.match(e, /the loader thread died: DataCloneError: \S.* \(at .*untransferable\.mjs:2:/);
  });

  it('by exiting: the exit code', async () => {
    const e = await failure(loaderRunningJobs('exits', 'process.exit(3);'));
    assert.equal(e, `${zoneFile}:0: the loader thread died: exit code 3`);
  });

  it('the next load starts a new thread', async () => {
    const loader = loaderRunningJobs('dies-on-first', "if (job.file.endsWith('die')) process.exit(5); parentPort.postMessage([{ kind: 'unchanged', sha256: 'same' }]);");
    try {
      const first = await loader.load({ ...job, file: 'die' });
      assert.deepEqual(first.kind === 'failed' && first.errors, ['die:0: the loader thread died: exit code 5']);
      assert.deepEqual(await loader.load(job), { kind: 'unchanged', sha256: 'same' });
    } finally {
      await loader.close();
    }
  });

  it('fails only the batch it was running: one posted behind it loads in a new thread', async () => {
    const loader = loaderRunningJobs('dies-with-one-behind', "if (job.file.endsWith('die')) process.exit(5); parentPort.postMessage([{ kind: 'unchanged', sha256: job.file }]);");
    try {
      // Three batches for one thread: the second is posted to it at once, behind the first.
      const [first, second, third] = await withTimeout(
        Promise.all(['die', 'second', 'third'].map((file) => loader.load({ ...job, file }))),
        30_000,
        'the three loads',
      );
      assert.deepEqual(first!.kind === 'failed' && first!.errors, ['die:0: the loader thread died: exit code 5']);
      assert.deepEqual([second, third], [
        { kind: 'unchanged', sha256: 'second' },
        { kind: 'unchanged', sha256: 'third' },
      ]);
    } finally {
      await loader.close();
    }
  });
});

describe('a loader with more batches than threads', () => {
  it('posts a thread its next batch before it has answered the one it runs', async () => {
    // This thread answers only once it holds two batches: a loader posting one at a time never gets an answer.
    const loader = loaderRunningJobs('answers-in-pairs', "(globalThis.held ??= []).push(job); if (held.length === 2) for (const j of held.splice(0)) parentPort.postMessage([{ kind: 'unchanged', sha256: j.file }]);");
    try {
      const loads = ['a', 'b', 'c'].map((file) => loader.load({ ...job, file }));
      assert.deepEqual(await withTimeout(Promise.all(loads.slice(0, 2)), 30_000, 'the first two loads'), [
        { kind: 'unchanged', sha256: 'a' },
        { kind: 'unchanged', sha256: 'b' },
      ]);
    } finally {
      await loader.close();
    }
  });
});

describe('the loader thread', () => {
  for (const hosts of [3, 20_000]) {
    it(`hands over a compiled zone of ${hosts} hosts (small arrays come from Node's Buffer pool, which can't be transferred)`, async () => {
      const loader = new ZoneLoader();
      try {
        const o = await loader.load({ ...job, file: hostsZone(hosts) });
        assert.equal(o.kind, 'loaded', JSON.stringify(o));
        assert.equal(o.kind === 'loaded' && o.records, hosts + 4);
      } finally {
        await loader.close();
      }
    });
  }
});

function hostsZone(hosts: number): string {
  const file = join(dir, `h${hosts}.zone`);
  writeFileSync(file, zoneText('t.test', 9, hosts));
  return file;
}

describe('a loader left idle', () => {
  it('ends its threads and says so once the last has ended (the server then hands their memory back)', async () => {
    let ended = 0;
    let onEnded!: () => void;
    const done = new Promise<void>((resolve) => (onEnded = resolve));
    const loader = new ZoneLoader(1, undefined, () => {
      ended++;
      onEnded();
    });
    try {
      assert.equal((await loader.load(job)).kind, 'loaded');
      assert.equal(ended, 0, 'not while a thread is there');
      await withTimeout(done, 30_000, 'the idle thread to end');
      assert.equal(ended, 1);
    } finally {
      await loader.close();
    }
  });
});
