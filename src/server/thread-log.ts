// A query thread's logger: each line goes to the main thread, which writes it with its own logger
// (`thread` added). So a thread does not load the logging library (every module a thread imports
// is a copy of its own, about 2 MiB a thread for this one), and the POP's log has one writer.
import type { Logger, LogFn, LogMethod } from '../log.js';

/** A line as it crosses to the main thread: an Error in `fields` is made plain first (a clone keeps only its message and stack). */
export interface LogLine {
  type: 'log';
  level: LogMethod;
  fields: Record<string, unknown>;
  msg: string;
}

/** pino's numbers: a line is sent when its level is at least the configured one. */
const LEVEL_VALUE: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export function threadLogger(level: string, post: (line: LogLine) => void, bindings: Record<string, unknown> = {}): Logger {
  const threshold = LEVEL_VALUE[level] ?? LEVEL_VALUE.info!;
  const method = (name: LogMethod): LogFn => {
    if (LEVEL_VALUE[name]! < threshold) return () => {};
    return ((a: object | string, b?: string): void => {
      const [fields, msg] = typeof a === 'string' ? [{}, a] : [a, b ?? ''];
      post({ type: 'log', level: name, fields: plainFields({ ...bindings, ...fields }), msg });
    }) as LogFn;
  };
  return {
    fatal: method('fatal'),
    error: method('error'),
    warn: method('warn'),
    info: method('info'),
    debug: method('debug'),
    child: (more) => threadLogger(level, post, { ...bindings, ...more }),
  };
}

/** Errors as pino's serializer writes them (type, message, stack and their own fields, `code` and the like). */
function plainFields(fields: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(fields)) if (v instanceof Error) fields[k] = { ...v, type: v.name, message: v.message, stack: v.stack };
  return fields;
}
