// Structured JSON logs. Every line carries the POP's identity so logs from many POPs can be merged.
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

export interface LogOptions {
  /** The POP's name (config `identity`). */
  pop: string;
  /** Which program wrote the line: "server", "health", ... */
  component: string;
  level?: Level | 'silent';
  /** File descriptor to write to: 1 (stdout, the server) or 2 (stderr, the health sidecar, whose stdout is the ExaBGP pipe). */
  fd?: 1 | 2;
}

export function createLogger(opts: LogOptions): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pop: opts.pop, component: opts.component, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: opts.fd ?? 1, sync: true }),
  );
}
