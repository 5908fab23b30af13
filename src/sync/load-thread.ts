// A loader thread's entry point: takes a batch of jobs at a time and posts back their outcomes in
// one message; each compiled zone's arrays sit in one SharedArrayBuffer, shared, not copied.
import { parentPort } from 'node:worker_threads';
import { runJob, type LoadJob, type LoadOutcome } from './load-job.js';
import { errorText, failedOutcome } from './load-failure.js';

parentPort!.on('message', (jobs: LoadJob[]) => {
  const outcomes: LoadOutcome[] = [];
  for (const job of jobs) {
    try {
      outcomes.push(runJob(job));
    } catch (err) {
      // A bug in the reader must fail this job, not the thread (and with it every later reload).
      outcomes.push(failedOutcome(job, `internal error while loading: ${errorText(err)}`));
    }
  }
  try {
    parentPort!.postMessage(outcomes);
  } catch (err) {
    // A batch that can't be handed over (a DataCloneError) fails its own loads, and the thread lives on.
    parentPort!.postMessage(jobs.map((job) => failedOutcome(job, `internal error while handing the zone over: ${errorText(err)}`)));
  }
});
