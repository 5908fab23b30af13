// Running a child process and measuring its wall time and peak resident set size (RSS).
//
// Peak RSS method: when GNU time is installed (/usr/bin/time), the child runs under
// `/usr/bin/time -f %M`, which reports ru_maxrss from wait4(2): the kernel's exact high-water mark.
// Without it, the child's /proc/<pid>/status is polled every 20 ms and the last VmHWM read is kept;
// VmHWM is itself a kernel-kept high-water mark, so only growth in the child's final <20 ms can be missed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGroup } from './cleanup.js';

const GNU_TIME = '/usr/bin/time';
const POLL_MS = 20;

export interface Measured {
  code: number | null;
  /** Set when the child was killed for running past its time limit. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Peak RSS in KiB, 0 if it could not be read. */
  peakRssKiB: number;
}

export const peakRssMethod = existsSync(GNU_TIME)
  ? 'ru_maxrss from wait4(2), via /usr/bin/time -f %M'
  : `VmHWM polled from /proc/<pid>/status every ${POLL_MS} ms (last value before exit)`;

/** Reads one `Key:   123 kB` field of /proc/<pid>/status, in KiB; 0 if the process is gone. */
export function procStatusKiB(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs `cmd args` to completion (killed after `timeoutMs`), measuring wall time and peak RSS. */
export function runMeasured(cmd: string, args: string[], timeoutMs: number): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const timeFile = join(tmpdir(), `anycast-dns-bench-time-${process.pid}-${Date.now()}`);
  const [file, argv] = useTime ? [GNU_TIME, ['-f', '%M', '-o', timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // The measured tool runs under /usr/bin/time: a time-out or Ctrl-C kills both.
    const { child, kill, release } = spawnGroup(file, argv);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let polledHwm = 0;
    const poll = useTime
      ? undefined
      : setInterval(() => {
          const v = child.pid !== undefined ? procStatusKiB(child.pid, 'VmHWM') : 0;
          if (v > 0) polledHwm = v;
        }, POLL_MS);
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.on('error', (e) => {
      release();
      clearTimeout(killer);
      if (poll) clearInterval(poll);
      reject(e);
    });
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      release();
      clearTimeout(killer);
      if (poll) clearInterval(poll);
      let peakRssKiB = polledHwm;
      if (useTime) {
        try {
          const m = /(\d+)\s*$/.exec(readFileSync(timeFile, 'latin1'));
          peakRssKiB = m ? Number(m[1]) : 0;
        } catch {
          peakRssKiB = 0;
        }
        rmSync(timeFile, { force: true });
      }
      resolve({ code, timedOut, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), wallMs, peakRssKiB });
    });
  });
}

/** `pid` and all its descendants (NSD forks server and xfrd children), from /proc/<pid>/stat. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command: state, ppid, ... (the command may contain spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Kernel clock ticks per second, the unit of /proc/<pid>/stat's CPU times (sysconf(_SC_CLK_TCK)). */
const CLOCK_TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** CPU time (user + system, every thread) used so far by `pid` and its descendants, in seconds. */
export function serverCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      // After the parenthesised command: state is field 3, utime 14 and stime 15 (proc(5)).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited while we looked
    }
  }
  return ticks / CLOCK_TICKS;
}

export interface ServerMemory {
  /**
   * Resident memory of the whole process tree with shared pages counted once: the private pages of
   * every process plus the largest shared set of any one of them. For one process this is its RSS;
   * for NSD, whose forked server and xfrd processes share the main process's zone pages
   * copy-on-write, it counts those pages once instead of once per process.
   */
  treeRssKiB: number;
  /** Proportional set size summed over the tree (shared library pages split with unrelated processes). */
  pssKiB: number;
  /** VmRSS of the process that was started. */
  rssKiB: number;
  processes: number;
}

/** Reads the resident-memory fields of /proc/<pid>/smaps_rollup (Linux 4.14+), in KiB. */
function smapsRollup(pid: number): { pss: number; shared: number; private: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    const field = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { pss: field('Pss'), shared: field('Shared_Clean') + field('Shared_Dirty'), private: field('Private_Clean') + field('Private_Dirty') };
  } catch {
    return null;
  }
}

/** The resident memory of a running server and its children. */
export function serverMemory(pid: number): ServerMemory {
  const pids = processTree(pid);
  let pss = 0;
  let priv = 0;
  let maxShared = 0;
  for (const p of pids) {
    const r = smapsRollup(p);
    if (r) {
      pss += r.pss;
      priv += r.private;
      maxShared = Math.max(maxShared, r.shared);
    } else {
      const rss = procStatusKiB(p, 'VmRSS');
      pss += rss;
      priv += rss;
    }
  }
  return { treeRssKiB: priv + maxShared, pssKiB: pss, rssKiB: procStatusKiB(pid, 'VmRSS'), processes: pids.length };
}

/**
 * The peak resident memory of a running server from now on, read when asked, without sampling it:
 * writing 5 to /proc/<pid>/clear_refs resets the kernel's high-water mark (VmHWM, proc(5)), which the
 * kernel then keeps as RSS grows. A server of one process only (anycast-dns's threads): the marks of
 * a tree's processes would count their shared pages once each.
 */
export function peakRssFromNow(pid: number): () => number {
  const tree = processTree(pid);
  if (tree.length !== 1) throw new Error(`process ${pid} has ${tree.length - 1} children: its peak RSS would count shared pages twice`);
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  return () => procStatusKiB(pid, 'VmHWM');
}
