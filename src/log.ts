// Structured JSON logs. Every line carries the POP's identity so logs from many POPs can be merged.
// Under systemd, when the stream is the journal's (JOURNAL_STREAM names it), each line starts with its
// sd-daemon priority, `<N>`: journald takes it as the entry's PRIORITY and strips it (systemd.exec
// SyslogLevelPrefix=, on by default), so `journalctl -p warning` shows warnings and worse.
import { fstatSync } from 'node:fs';
import { pino, type DestinationStream, type Level } from 'pino';

/** What the server's code logs through: pino's logger, or in a query thread the relay to the main thread's (server/thread-log.ts). */
export interface Logger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export interface LogFn {
  (fields: object, msg: string): void;
  (msg: string): void;
}

/** The levels the server logs at (Logger's methods). */
export type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug';

export interface LogOptions {
  /** The POP's name (config `identity`). */
  pop: string;
  /** Which program wrote the line: "server", "health", ... */
  component: string;
  level?: Level | 'silent';
  /** File descriptor to write to: 1 (stdout, the server) or 2 (stderr, the health sidecar, whose stdout is the ExaBGP pipe). */
  fd?: 1 | 2;
}

/** sd-daemon(3) priorities (syslog's): crit for fatal, err, warning, info, debug for debug and trace. */
const JOURNAL_PRIORITY: Readonly<Record<string, string>> = {
  fatal: '<2>',
  error: '<3>',
  warn: '<4>',
  info: '<6>',
  debug: '<7>',
  trace: '<7>',
};
/** Every line starts with the level (the formatter below puts it first). */
const LEVEL_AT = '{"level":"'.length;

export function createLogger(opts: LogOptions): Logger {
  const fd = opts.fd ?? 1;
  const dest = pino.destination({ fd, sync: true });
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pop: opts.pop, component: opts.component, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    writesToJournal(fd, process.env.JOURNAL_STREAM) ? withPriority(dest) : dest,
  );
}

/** JOURNAL_STREAM is `device:inode` of the journal's stream; it is ours only if `fd` is that stream (systemd.exec(5)). */
function writesToJournal(fd: number, journalStream: string | undefined): boolean {
  if (journalStream === undefined || journalStream === '') return false;
  try {
    const st = fstatSync(fd);
    return `${st.dev}:${st.ino}` === journalStream;
  } catch {
    return false;
  }
}

function withPriority(dest: DestinationStream): DestinationStream {
  return {
    write(line: string): void {
      const level = line.slice(LEVEL_AT, line.indexOf('"', LEVEL_AT));
      dest.write((JOURNAL_PRIORITY[level] ?? '<6>') + line);
    },
  };
}
