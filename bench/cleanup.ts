// Stopping what a benchmark started when it is interrupted (Ctrl-C, SIGTERM) or fails, so no
// server or measured tool outlives the run. Everything is stopped by the PID it was started with.

type Cleanup = () => void | Promise<void>;

const pending = new Set<Cleanup>();
let installed = false;

async function runAll(): Promise<void> {
  const all = [...pending];
  pending.clear();
  await Promise.allSettled(all.map(async (fn) => fn()));
}

/** Registers `fn` to run on SIGINT/SIGTERM; returns the function that unregisters it. */
export function onInterrupt(fn: Cleanup): () => void {
  if (!installed) {
    installed = true;
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        process.stderr.write(`\n${sig}: stopping everything this benchmark started ...\n`);
        void runAll().finally(() => process.exit(130));
      });
    }
  }
  pending.add(fn);
  return () => {
    pending.delete(fn);
  };
}
