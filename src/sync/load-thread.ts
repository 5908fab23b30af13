// A loader thread's entry point: takes a batch of jobs at a time and posts back their outcomes in
// one message; the compiled zones' arrays sit in shared memory, shared, not copied.
import { parentPort } from 'node:worker_threads';
import { freeHeap } from './free-heap.js';
import { runJobs, type LoadJob, type LoadOutcome } from './load-job.js';
import { RETIRE } from './retire.js';
import { errorText, failedOutcome } from './load-failure.js';

parentPort!.on('message', (jobs: LoadJob[] | typeof RETIRE) => {
  if (jobs === RETIRE) {
    // Its pooled pages would otherwise stay resident for seconds after the thread has gone.
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
