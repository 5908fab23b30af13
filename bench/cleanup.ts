// Stopping what a benchmark started when it is interrupted (Ctrl-C, SIGTERM) or fails, so no
// server or measured tool outlives the run. Everything is stopped by the PID it was started with.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

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

export interface GroupChild<Out extends Readable | null = Readable> {
  /** Its stdout is null when it goes to a file (spawnGroup's `stdoutFd`). */
  child: ChildProcessByStdio<null, Out, Readable>;
  /** SIGKILL to the child's whole process group (a no-op once it exited). */
  kill(): void;
  /** Call once the child exited: it no longer needs killing on interrupt. */
  release(): void;
}

/**
 * Spawns `file` as the leader of its own process group, so a wrapper (taskset, /usr/bin/time) and
 * the tool it runs are killed together, on a time-out or on Ctrl-C. Its stdout is a pipe, or the
 * open file `stdoutFd`.
 */
export function spawnGroup(file: string, args: string[]): GroupChild;
export function spawnGroup(file: string, args: string[], stdoutFd: number): GroupChild<null>;
export function spawnGroup(file: string, args: string[], stdoutFd?: number): GroupChild<Readable | null> {
  // spawn's types can't follow a stdout that is a pipe or a file by argument: the overloads above say which.
  const child = spawn(file, args, { stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'], detached: true }) as ChildProcessByStdio<null, Readable | null, Readable>;
  const kill = (): void => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  return { child, kill, release: onInterrupt(kill) };
}

/** Runs a benchmark's main function: its result is the exit status; a thrown error prints and exits 2. */
export function runMain(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
