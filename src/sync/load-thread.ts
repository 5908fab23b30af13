// A loader thread's entry point: takes a batch of jobs at a time and posts back their outcomes in
// one message, handing the compiled zones' arrays over (transferred, not copied).
import { parentPort } from 'node:worker_threads';
import { runJob, type LoadJob, type LoadOutcome, type ReadJob, type ReadOutcome } from './load-job.js';
import { errorText, failedOutcome } from './load-failure.js';
import { transferableBuffer, transferables } from './transfer.js';

parentPort!.on('message', (jobs: (LoadJob | ReadJob)[]) => {
  const outcomes: (LoadOutcome | ReadOutcome)[] = [];
  const transfer = new Set<ArrayBuffer>();
  for (const job of jobs) {
    let outcome: LoadOutcome | ReadOutcome;
    try {
      outcome = runJob(job);
    } catch (err) {
      // A bug in the reader (or a snapshot gone) must fail this job, not the thread (and with it every later reload).
      outcome = failedOutcome(job, `internal error while loading: ${errorText(err)}`);
    }
    for (const b of outcome.kind === 'loaded' ? transferables(outcome.parts) : outcome.kind === 'read' ? transferableBuffer(outcome.buffer) : []) transfer.add(b);
    outcomes.push(outcome);
  }
  try {
    parentPort!.postMessage(outcomes, [...transfer]);
  } catch (err) {
    // A batch that can't be handed over (a DataCloneError) fails its own loads, and the thread lives on.
    parentPort!.postMessage(jobs.map((job) => failedOutcome(job, `internal error while handing the zone over: ${errorText(err)}`)));
  }
});
