// `anycast-dns health [--config FILE]`: the process ExaBGP runs (`process` in exabgp.conf). Its stdout
// is the ExaBGP API pipe and carries nothing else; its logs are JSON lines on stderr.
import { UsageError } from '../errors.js';
import { formatListenAddress } from '../ops/config.js';
import { createLogger } from '../log.js';
import { loadHealthConfig } from './config.js';
import { HealthDriver } from './driver.js';
import { exabgpTextApi4 } from './exabgp-api.js';
import { HealthMetrics, startHealthMetricsServer } from './metrics.js';
import { ExabgpPipe } from './pipe.js';
import { probeRound, watchServer } from './probe.js';

const USAGE = 'usage: anycast-dns health [--config FILE]';

export async function runHealth(argv: string[]): Promise<number> {
  let configFile = '/etc/anycast-dns/anycast-dns.yaml';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stderr.write(USAGE + '\n');
      return 0;
    }
    if (a === '--config' && argv[i + 1] !== undefined) configFile = argv[++i]!;
    else if (a.startsWith('--config=')) configFile = a.slice('--config='.length);
    else throw new UsageError(`${USAGE}\nunexpected argument "${a}"`);
  }
  const config = loadHealthConfig(configFile);
  const log = createLogger({ pop: config.identity, component: 'health', fd: 2, level: process.env.ANYCAST_DNS_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  let metrics: HealthMetrics | undefined;
  if (config.metricsListen !== null) {
    metrics = new HealthMetrics(config.identity);
    metrics.prepare(['udp', ...(config.tcp ? ['tcp'] : []), ...(config.readyUrl !== null ? ['ready'] : []), ...(config.freshnessMaxAge > 0 ? ['freshness'] : [])]);
    try {
      const listener = await startHealthMetricsServer(config.metricsListen, metrics, log);
      log.info({ metrics: formatListenAddress(listener.address) }, 'health metrics listening');
    } catch (err) {
      // Routing must not depend on monitoring: exiting here would make ExaBGP respawn us until it gives
      // up and drops the sessions. The failed scrape is what the operator sees.
      log.error({ err: (err as Error).message }, 'health metrics listener not started; running without it');
    }
  }

  return new Promise<number>((resolve) => {
    let driver: HealthDriver | null = null;
    const exit = (code: number): void => {
      log.info({ code }, 'health sidecar exiting');
      process.removeListener('SIGTERM', onStop);
      process.removeListener('SIGINT', onStop);
      resolve(code);
      // Timers and sockets of an abandoned probe round must not keep a process alive that ExaBGP
      // considers gone; the logger writes synchronously, so nothing is lost.
      setImmediate(() => process.exit(code));
    };
    const pipe = new ExabgpPipe({
      api: exabgpTextApi4,
      routes: config.routes,
      localAs: config.localAs,
      log,
      input: process.stdin,
      outFd: 1,
      onGone: (code, reason) => {
        log.warn({ reason }, 'leaving at once');
        driver?.abort(code);
      },
    });
    const watch = config.tcp ? { watch: (c: typeof config, onGone: () => void) => watchServer(c.server, onGone) } : {};
    driver = new HealthDriver({ config, pipe, log, probe: probeRound, clock: () => performance.now(), exit, ...watch, ...(metrics ? { metrics } : {}) });
    const onStop = (): void => driver?.stop();
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    log.info({ server: `${config.server.host}:${config.server.port}`, routes: config.routes.map((r) => r.prefix) }, 'health sidecar starting, routes withdrawn');
    driver.start();
  });
}
