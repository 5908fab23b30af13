// The Node.js flags `serve` wants on its command line, and a check that they are there.
//
// --max-semi-space-size=1 (MiB): every datagram Node.js receives arrives in an ArrayBuffer of its
// own, and the young-generation collector (the scavenger) spends most of each pause sweeping those.
// Under steady load V8 keeps growing the young generation, so each scavenge sweeps more and stops the
// query thread longer, and that pause is the server's p99 latency. Capped at 1 MiB, the same sweeping
// comes in shorter pauses, with no loss of queries/s (bench/README.md has the figures).
//
// --no-memory-reducer: when a process goes quiet, V8's memory reducer runs full collections to give
// memory back. No query is in flight then, so the hidden classes of per-query objects (Node's rinfo,
// send requests, the handler's plans) have no live instance and die, and with them every optimized
// function that embeds one: after a quiet spell the hot path ran unoptimized again, and the first
// traffic waited while it was recompiled on the one core. The JS heap here is small (zones live in
// typed arrays), so there is little for the reducer to give back.
//
// V8 reads these when the process starts, so they must be on node's command line
// (v8.setFlagsFromString is too late): the bin's shebang, the installed wrapper and `npm start` carry
// them; V8 flags are the process's, so the query threads (workers: N) run with them too.
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--no-memory-reducer'];

/** The flags of SERVE_NODE_FLAGS that neither the command line nor NODE_OPTIONS set (any value an operator chose counts). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map(flagName);
  return SERVE_NODE_FLAGS.filter((f) => !given.includes(flagName(f)));
}

/** `--max-semi-space-size=1` → `--max-semi-space-size`, `--no-memory-reducer` → `--memory-reducer`; V8 takes `_` and `-` alike. */
function flagName(arg: string): string {
  const eq = arg.indexOf('=');
  return (eq < 0 ? arg : arg.slice(0, eq)).replace(/_/g, '-').replace(/^--no-/, '--');
}
