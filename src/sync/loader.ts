// Loads zones in a worker thread, one at a time, so reading a million-record file never stalls the
// queries answered on this thread. The compiled zone comes back as transferred arrays (no copy).
import { Worker } from 'node:worker_threads';
import type { LoadJob, LoadOutcome, ReadJob, ReadOutcome } from './load-job.js';

const THREAD_URL = new URL('./load-thread.js', import.meta.url);

type Outcome = LoadOutcome | ReadOutcome;

interface Pending {
  job: LoadJob | ReadJob;
  resolve: (o: Outcome) => void;
}

export class ZoneLoader {
  private thread: Worker | null = null;
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;

  /** Loads one zone; resolves with its outcome (a thread that dies fails this load, and the next load starts a new thread). */
  load(job: LoadJob): Promise<LoadOutcome> {
    return this.run(job) as Promise<LoadOutcome>;
  }

  /** Reads a zone snapshot (snapshot.ts) in the thread; the arrays arrive transferred. */
  read(path: string): Promise<ReadOutcome> {
    return this.run({ kind: 'read', path }) as Promise<ReadOutcome>;
  }

  private run(job: LoadJob | ReadJob): Promise<Outcome> {
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.next();
    });
  }

  /** Ends the thread (it would keep the process alive). */
  async close(): Promise<void> {
    const t = this.thread;
    this.thread = null;
    await t?.terminate();
  }

  private next(): void {
    if (this.current !== null) return;
    const p = this.queue.shift();
    if (p === undefined) return;
    this.current = p;
    this.ensureThread().postMessage(p.job);
  }

  private finish(outcome: Outcome): void {
    const p = this.current;
    this.current = null;
    p?.resolve(outcome);
    this.next();
  }

  private ensureThread(): Worker {
    if (this.thread !== null) return this.thread;
    const t = new Worker(THREAD_URL);
    // Idle between reloads: the thread must not keep a stopping server alive.
    t.unref();
    t.on('message', (o: Outcome) => this.finish(o));
    const died = (why: string): void => {
      if (this.thread !== t) return;
      this.thread = null;
      const job = this.current?.job;
      const file = job === undefined ? '?' : job.kind === 'load' ? job.file : job.path;
      this.finish({ kind: 'failed', errors: [`${file}:0: the loader thread died: ${why}`], warnings: [], sha256: '', files: [] });
    };
    t.on('error', (err) => died(err.message));
    t.on('exit', (code) => died(`exit code ${code}`));
    this.thread = t;
    return t;
  }
}
