// The loader thread's entry point: takes one LoadJob at a time and posts back its LoadOutcome, handing
// the compiled zone's arrays over (transferred, not copied).
import { parentPort } from 'node:worker_threads';
import { runLoadJob, type LoadJob, type LoadOutcome } from './load-job.js';
import { transferables } from './transfer.js';

parentPort!.on('message', (job: LoadJob) => {
  let outcome: LoadOutcome;
  try {
    outcome = runLoadJob(job);
  } catch (err) {
    // A bug in the reader must fail this load, not the thread (and with it every later reload).
    outcome = { kind: 'failed', errors: [`${job.file}:0: internal error while loading: ${(err as Error).message}`], warnings: [], sha256: '', files: [] };
  }
  parentPort!.postMessage(outcome, outcome.kind === 'loaded' ? transferables(outcome.parts) : []);
});
