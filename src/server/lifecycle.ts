// Stopping: the first SIGTERM or SIGINT stops accepting and closes the listeners, and the process
// exits 0 within a bound even if something refuses to close.
import type { Logger } from '../log.js';

/** How long a stop may take before the process exits anyway. */
const STOP_BOUND_MS = 5000;

/** Resolves on the first SIGTERM or SIGINT. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(sig);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * SIGHUP rescans the zones, as every NSD, Knot and BIND operator expects (`systemctl reload`). Its
 * default action is to end the process, so a process that can't reload (a worker) still installs a
 * handler that ignores it. Returns a function that removes the handler.
 */
export function onReloadSignal(log: Logger, reload: () => Promise<unknown> | undefined): () => void {
  const on = (): void => {
    log.info({ signal: 'SIGHUP' }, 'reloading zones');
    reload()?.catch((err: unknown) => log.error({ err }, 'reload failed'));
  };
  process.on('SIGHUP', on);
  return () => process.off('SIGHUP', on);
}

/** Runs `stop` for at most STOP_BOUND_MS, then makes sure nothing left open keeps the process alive. */
export async function boundedStop(stop: () => Promise<void>, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ bound_ms: STOP_BOUND_MS }, 'stop took too long; exiting anyway');
      resolve();
    }, STOP_BOUND_MS);
  });
  await Promise.race([stop(), timeout]);
  clearTimeout(timer);
  // Normally the event loop is empty now and the process ends by itself; this only fires if a
  // handle was left open, and it does not hold the process up otherwise (unref).
  setTimeout(() => process.exit(), 500).unref();
}

/**
 * The start-up's last line. With no zone loaded every query is refused and /ready says 503, so the
 * line says that rather than `server ready`; the first zone that loads makes /ready 200.
 */
export function logStarted(log: Logger, fields: Record<string, unknown>, zones: number): void {
  if (zones > 0) log.info({ ...fields, zones }, 'server ready');
  else log.warn({ ...fields, zones }, 'server not ready: no zones loaded');
}
