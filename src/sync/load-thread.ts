// A loader thread's entry point: takes a batch of jobs at a time and posts back their outcomes in
// one message; the compiled zones' arrays sit in shared memory, shared, not copied.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { RETIRE, runJobs, type LoadJob, type LoadOutcome } from './load-job.js';
import { errorText, failedOutcome } from './load-failure.js';

/**
 * Frees the heap's pooled pages before the thread ends. V8 keeps the pages a collection empties in a
 * pool for reuse; an ending thread hands its pool to the process, which releases it only seconds
 * later, so the memory of a load stayed resident well after its threads had gone. A collection made
 * to reduce memory (V8's "last resort" kind) empties the pool at once. Only a context made while
 * `--expose-gc` is set has the function that asks for one; the flag is unset right after.
 */
function freeHeap(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  setFlagsFromString('--no-expose-gc');
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

parentPort!.on('message', (jobs: LoadJob[] | typeof RETIRE) => {
  if (jobs === RETIRE) {
    freeHeap();
    process.exit(0);
  }
  let outcomes: LoadOutcome[];
  try {
    outcomes = runJobs(jobs);
  } catch (err) {
    // Packing the batch failed (no memory for its buffer): its loads fail, and the thread lives on.
    outcomes = jobs.map((job) => failedOutcome(job, `internal error while loading: ${errorText(err)}`));
  }
  try {
    parentPort!.postMessage(outcomes);
  } catch (err) {
    // A batch that can't be handed over (a DataCloneError) fails its own loads, and the thread lives on.
    parentPort!.postMessage(jobs.map((job) => failedOutcome(job, `internal error while handing the zone over: ${errorText(err)}`)));
  }
});
