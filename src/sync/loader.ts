// Loads zones in a worker thread, one at a time, so reading a million-record file never stalls the
// queries answered on this thread. The compiled zone comes back as transferred arrays (no copy).
import { Worker } from 'node:worker_threads';
import { errorText, failedOutcome } from './load-failure.js';
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

  /** `threadUrl`: the thread's module, another only in tests (one that dies on purpose). */
  constructor(private readonly threadUrl: URL = THREAD_URL) {}

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
    const t = this.ensureThread();
    // A load in flight holds the process up (the first loads run before anything else would); an
    // idle thread must not keep a stopping server alive.
    t.ref();
    t.postMessage(p.job);
  }

  private finish(outcome: Outcome): void {
    const p = this.current;
    this.current = null;
    p?.resolve(outcome);
    this.next();
    if (this.current === null) this.thread?.unref();
  }

  private ensureThread(): Worker {
    if (this.thread !== null) return this.thread;
    const t = new Worker(this.threadUrl);
    t.on('message', (o: Outcome) => this.finish(o));
    const died = (why: string): void => {
      if (this.thread !== t) return;
      this.thread = null;
      this.finish(failedOutcome(this.current?.job, `the loader thread died: ${why}`));
    };
    // An uncaught error comes first (then 'exit' with code 1, ignored); a thread that exits by itself has only its code.
    t.on('error', (err) => died(errorText(err)));
    t.on('exit', (code) => died(`exit code ${code}`));
    this.thread = t;
    return t;
  }
}
