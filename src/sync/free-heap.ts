// A collection that hands this thread's free heap back to the system. V8 keeps the pages a collection
// empties in a pool for reuse, and an ended thread's pool is released only seconds after it, by a task
// of another thread; with the memory reducer off (src/server/node-flags.ts) nothing compacts a quiet
// heap either. A collection made to reduce memory (V8's "last resort" kind) compacts the heap and
// empties the pool at once. It stops the thread while it runs: only for a thread that answers no
// queries, or one the route brings none to yet. Only a context made while `--expose-gc` is set has
// the function that asks for one; the flag is unset right after.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function freeHeap(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  setFlagsFromString('--no-expose-gc');
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
