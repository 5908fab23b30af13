// Loads zones in worker threads, so reading a million-record file never stalls the queries answered
// on this thread. Jobs go in batches (one message carries hundreds of small zones, and their compiled
// arrays come back in shared memory, not copied) to a small pool of threads: at start-up every core reads
// zones while nothing is answered yet. A thread left idle ends, and its memory with it.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { errorText, failedOutcome } from './load-failure.js';
import type { LoadJob, LoadOutcome } from './load-job.js';
import { RETIRE } from './retire.js';

const THREAD_URL = new URL('./load-thread.js', import.meta.url);
/** An idle thread ends after this long: a POP holds no loader's heap between reloads. */
const IDLE_MS = 10_000;
/**
 * Batches posted to one thread at a time: the next one waits in the thread's own queue, so a thread
 * goes from one batch to the next without waiting for this thread to take the outcomes of the last
 * (and swap them in) before it hands out another.
 */
const IN_FLIGHT = 2;

interface Pending {
  jobs: LoadJob[];
  resolve: (o: LoadOutcome[]) => void;
}

interface Thread {
  worker: Worker;
  /** Batches posted and not answered yet, oldest first: the thread answers them in order. */
  posted: Pending[];
  idle: NodeJS.Timeout | null;
}

/** The loader ZoneLoader.startEarly started, until zone sync takes it. */
let early: ZoneLoader | null = null;

export class ZoneLoader {
  private readonly threads: Thread[] = [];
  private readonly queue: Pending[] = [];
  private readonly size: number;
  /** Threads told to end that have not exited yet. */
  private retiring = 0;
  private closed = false;

  /**
   * `threads`: how many zones are compiled at once (default: one per core, at most 4). `threadUrl`:
   * the thread's module, another only in tests (one that dies on purpose). `ended`: called each time
   * the last thread left idle has ended, its memory freed.
   */
  constructor(
    threads = Math.min(4, availableParallelism()),
    private readonly threadUrl: URL = THREAD_URL,
    private ended: () => void = () => {},
  ) {
    this.size = Math.max(1, threads);
  }

  /**
   * Starts the loader threads before the server has read its own modules and its config: each
   * thread's start (a V8 isolate, the parser's modules) then runs on another core meanwhile instead
   * of after it. The server's zone sync takes them (ZoneLoader.take).
   */
  static startEarly(): void {
    early ??= new ZoneLoader();
    early.warm();
  }

  /** The loader startEarly started, if any (once), else a new one; `ended` as the constructor's. */
  static take(ended: () => void): ZoneLoader {
    const loader = early ?? new ZoneLoader();
    early = null;
    loader.ended = ended;
    return loader;
  }

  /** Loads one zone; resolves with its outcome (a thread that dies fails this load, and the next load starts a new thread). */
  async load(job: LoadJob): Promise<LoadOutcome> {
    return (await this.run([job]))[0]!;
  }

  /** Loads a batch of zones in one thread; resolves with their outcomes, in order. */
  loadBatch(jobs: LoadJob[]): Promise<LoadOutcome[]> {
    return this.run(jobs);
  }

  /**
   * Starts every thread now, idle: their start (a new V8 isolate, the parser's modules) then
   * overlaps the scan of the zones directory instead of delaying the first batch.
   */
  warm(): void {
    while (!this.closed && this.threads.length < this.size) this.idle(this.startThread());
  }

  private run(jobs: LoadJob[]): Promise<LoadOutcome[]> {
    if (this.closed) return Promise.resolve(jobs.map((j) => failedOutcome(j, 'the loader is closed')));
    return new Promise((resolve) => {
      this.queue.push({ jobs, resolve });
      this.next();
    });
  }

  /** Ends the threads (they would keep the process alive); what was queued fails. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve(p.jobs.map((j) => failedOutcome(j, 'the loader is closed')));
    const threads = this.threads.splice(0);
    for (const t of threads) if (t.idle !== null) clearTimeout(t.idle);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const t of threads) for (const p of t.posted.splice(0)) p.resolve(p.jobs.map((j) => failedOutcome(j, 'the loader is closed')));
  }

  private next(): void {
    while (this.queue.length > 0) {
      let t = this.threads.find((x) => x.posted.length === 0);
      if (t === undefined && this.threads.length < this.size) t = this.startThread();
      // A second batch goes ahead to a busy thread only while more are queued than there are threads:
      // the last ones go to whichever thread is free first, so no thread finishes long after another.
      if (t === undefined && this.queue.length > this.size) t = this.threads.find((x) => x.posted.length < IN_FLIGHT);
      if (t === undefined) return;
      const p = this.queue.shift()!;
      if (t.idle !== null) clearTimeout(t.idle);
      t.idle = null;
      t.posted.push(p);
      t.worker.ref();
      t.worker.postMessage(p.jobs);
    }
  }

  private finish(t: Thread, outcomes: LoadOutcome[]): void {
    const p = t.posted.shift();
    if (t.posted.length === 0) this.idle(t);
    p?.resolve(outcomes);
    this.next();
  }

  private idle(t: Thread): void {
    // Idle between reloads: the thread must not keep a stopping server alive.
    t.worker.unref();
    if (this.threads.includes(t)) {
      t.idle = setTimeout(() => this.retire(t), IDLE_MS);
      t.idle.unref();
    }
  }

  private retire(t: Thread): void {
    if (t.posted.length > 0) return;
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    // The thread frees its heap and exits by itself (load-thread.ts): terminate() would leave V8's pooled pages resident for seconds more.
    this.retiring++;
    t.worker.once('exit', () => {
      // Once for threads retired together: the last one out.
      if (--this.retiring === 0 && this.threads.length === 0 && !this.closed) this.ended();
    });
    t.worker.postMessage(RETIRE);
  }

  private startThread(): Thread {
    // Its young generation is the process's (the semi-space flag of src/server/node-flags.ts overrides
    // a thread's resourceLimits), and that suits a loader: a small zone's garbage dies young, so
    // frequent scavenges of a small space cost less than a large space's fresh pages, and a larger one
    // would outlive the thread for seconds in V8's pool of pages.
    const worker = new Worker(this.threadUrl);
    const t: Thread = { worker, posted: [], idle: null };
    worker.on('message', (o: LoadOutcome[]) => this.finish(t, o));
    const died = (why: string): void => {
      const i = this.threads.indexOf(t);
      if (i < 0) return;
      this.threads.splice(i, 1);
      // The batch it was running fails; those posted behind it never started, and go to another thread.
      const [running, ...waiting] = t.posted.splice(0);
      this.queue.unshift(...waiting);
      running?.resolve(running.jobs.map((j) => failedOutcome(j, `the loader thread died: ${why}`)));
      this.next();
    };
    // An uncaught error comes first (then 'exit' with code 1, ignored); a thread that exits by itself has only its code.
    worker.on('error', (err) => died(errorText(err)));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.threads.push(t);
    return t;
  }
}
