// The loader thread's entry point: takes one LoadJob at a time and posts back its LoadOutcome, handing
// the compiled zone's arrays over (transferred, not copied).
import { parentPort } from 'node:worker_threads';
import { runJob, type LoadJob, type LoadOutcome, type ReadJob, type ReadOutcome } from './load-job.js';
import { errorText, failedOutcome } from './load-failure.js';
import { transferableBuffer, transferables } from './transfer.js';

parentPort!.on('message', (job: LoadJob | ReadJob) => {
  let outcome: LoadOutcome | ReadOutcome;
  try {
    outcome = runJob(job);
  } catch (err) {
    // A bug in the reader (or a snapshot gone) must fail this job, not the thread (and with it every later reload).
    outcome = failedOutcome(job, `internal error while loading: ${errorText(err)}`);
  }
  try {
    parentPort!.postMessage(outcome, outcome.kind === 'loaded' ? transferables(outcome.parts) : outcome.kind === 'read' ? transferableBuffer(outcome.buffer) : []);
  } catch (err) {
    // A zone that can't be handed over (a DataCloneError) fails its own load, and the thread lives on.
    parentPort!.postMessage(failedOutcome(job, `internal error while handing the zone over: ${errorText(err)}`));
  }
});
