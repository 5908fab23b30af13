// `anycast-dns serve`: reads the config, then runs the responder on the main thread (workers: 1) or
// in query threads, plus the management HTTP listener; stops cleanly on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { DEFAULT_MANAGEMENT_LISTEN, loadServerConfig, type ConfigOverrides } from '../ops/config.js';
import { createLogger, type Logger } from '../log.js';
import { requireZonesDirectory } from '../sync/service.js';
import { missingNodeFlags } from './node-flags.js';

const USAGE = `usage: anycast-dns serve [--config FILE] [--listen ADDR:PORT ...] [--zones DIR] [--identity NAME] [--log-level LEVEL]
                         [--management ADDR:PORT]

  --config FILE          YAML configuration (see config/anycast-dns.yaml)
  --listen ADDR:PORT     address to answer on, UDP and TCP; repeat for several ([::1]:5300 for IPv6)
  --zones DIR            directory of <origin>.zone files
  --identity NAME        this POP's name (NSID, id.server, hostname.bind, logs, metrics)
  --log-level LEVEL      fatal, error, warn (or warning), info, debug, trace or silent
  --management ADDR:PORT HTTP endpoint of metrics, readiness and "anycast-dns ctl" (port 0: any free one)

Without a config it serves the bundled zones on 127.0.0.1:5300 and [::1]:5300, with the management
endpoint on ${DEFAULT_MANAGEMENT_LISTEN}.`;

export async function runServe(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        listen: { type: 'string', multiple: true },
        zones: { type: 'string' },
        identity: { type: 'string' },
        'log-level': { type: 'string' },
        management: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(`serve: ${(err as Error).message}\n${USAGE}`);
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const overrides: ConfigOverrides = {};
  if (v.listen !== undefined) overrides.listen = v.listen;
  if (v.zones !== undefined) overrides.zones = v.zones;
  if (v.identity !== undefined) overrides.identity = v.identity;
  if (v['log-level'] !== undefined) overrides.logLevel = v['log-level'];
  if (v.management !== undefined) overrides.management = v.management;
  const cfg = loadServerConfig(v.config ?? null, overrides);
  // Before the management listener opens, so a missing directory is the one line of a failed start.
  requireZonesDirectory(cfg.zones);

  const log = createLogger({ pop: cfg.identity, component: 'server', level: cfg.logLevel });
  keepRunningOnStrayErrors(log);
  const missing = missingNodeFlags();
  if (missing.length > 0) {
    log.warn({ missing }, `node was started without ${missing.join(' ')}: latency suffers from garbage collection (see src/server/node-flags.ts; the anycast-dns command, its installed wrapper and npm start pass them)`);
  }
  // Only the modules of the mode that runs: the main thread of query threads answers nothing.
  if (cfg.workers > 1) return (await import('./threads.js')).runThreads(cfg, log);
  return (await import('./single.js')).runSingle(cfg, log);
}

/**
 * Queries never get here (the handler turns a bug into SERVFAIL and the transports guard that);
 * an error escaping some other callback is logged with the POP's identity and the server goes on
 * answering instead of dropping every zone it serves.
 */
function keepRunningOnStrayErrors(log: Logger): void {
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception'));
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
}
