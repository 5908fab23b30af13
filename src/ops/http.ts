// The management listener: /metrics (Prometheus text), /ready (200 once zones are loaded and the
// DNS listeners are up, else 503: what the health sidecar and load balancers poll), /live (200 while
// the process runs its event loop), GET /zones (zone sync status, JSON), GET /geo (the geo rules and
// country database in force, JSON; 404 when geo is off), POST /reload (a scan now,
// `?zone=NAME` for one zone, `&force=1` to release held changes; answers the status after it), and
// POST /refresh and /retransfer `?zone=NAME` (a secondary zone's SOA check, or AXFR, now).
import type { Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { GeoStatus } from '../sync/geo-source.js';
import type { ScanRequest, ZoneStatus } from '../sync/store.js';
import { canonicalOrigin } from '../sync/zone-files.js';
import { ConfigError } from '../errors.js';
import { formatListenAddress, type ListenAddress } from './config.js';
import type { Logger } from '../log.js';

// Required, not imported: importing node:http builds its ES module namespace, which reads every
// export, and one of them loads Node's bundled fetch client, tens of milliseconds of the main thread
// at start-up, before the first zone is read.
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export interface ManagementSources {
  metrics: () => Promise<string>;
  metricsContentType: string;
  ready: () => boolean;
  zones: () => ZoneStatus[];
  reload: (req: ScanRequest) => Promise<ZoneStatus[]>;
  /** The geo rules and database; absent when the config names no rules file. */
  geo?: () => GeoStatus;
  /** A secondary zone refreshed now (`axfr`: transferred whole); absent when there are none. Null for a zone that is not a secondary. */
  refresh?: (zone: string, axfr: boolean) => Promise<ZoneStatus[]> | null;
}

export interface ManagementServer {
  /** The bound address (the port is the real one when 0 was asked for). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export async function startManagementServer(at: ListenAddress, src: ManagementSources, log: Logger): Promise<ManagementServer> {
  const json = (res: ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body, null, 1) + '\n');
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://management');
    const path = url.pathname;
    if (path === '/reload' || path === '/refresh' || path === '/retransfer') {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      // Any web page can make a browser on this host POST to a loopback address; browsers then send
      // Origin (RFC 6454 §7; the Fetch standard sends it with every POST); ctl and curl send none.
      if (req.headers.origin !== undefined) {
        json(res, 403, { error: 'reload is not taken from a web page (the request has an Origin header)' });
        return;
      }
      const zoneParam = url.searchParams.get('zone');
      let zone: string | null = null;
      if (zoneParam !== null) {
        try {
          zone = canonicalOrigin(zoneParam);
        } catch (err) {
          json(res, 400, { error: `zone: ${(err as Error).message}` });
          return;
        }
        if (!src.zones().some((z) => z.zone === zone)) {
          json(res, 404, { error: `no zone ${zone}` });
          return;
        }
      }
      if (path !== '/reload') {
        const refreshed = zone === null ? null : (src.refresh?.(zone, path === '/retransfer') ?? null);
        if (refreshed === null) {
          json(res, 404, { error: zone === null ? 'name a secondary zone: ?zone=NAME' : `${zone} is not a secondary zone` });
          return;
        }
        log.info({ zone, axfr: path === '/retransfer' }, 'refresh requested');
        refreshed.then(
          (zones) => json(res, 200, { zones }),
          (err: unknown) => json(res, 500, { error: (err as Error).message }),
        );
        return;
      }
      const force = ['1', 'true', 'yes'].includes(url.searchParams.get('force') ?? '');
      log.info({ zone, force }, 'reload requested');
      src.reload({ reason: 'reload', verify: true, force, zone }).then(
        (zones) => json(res, 200, { zones }),
        (err: unknown) => json(res, 500, { error: (err as Error).message }),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/live':
        res.writeHead(200, { 'content-type': 'text/plain' }).end('live\n');
        return;
      case '/ready': {
        const ready = src.ready();
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
        return;
      }
      case '/zones':
        json(res, 200, { zones: src.zones() });
        return;
      case '/geo':
        if (src.geo === undefined) json(res, 404, { error: 'geo rules are off: the config names no geo.rules' });
        else json(res, 200, { geo: src.geo() });
        return;
      case '/metrics':
        src.metrics().then(
          (text) => res.writeHead(200, { 'content-type': src.metricsContentType }).end(text),
          (err: unknown) => {
            log.warn({ err }, 'metrics collection failed');
            res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
          },
        );
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void =>
      reject(new ConfigError('management.listen', `cannot listen on ${formatListenAddress(at)}: ${err.message} (set management.listen or --management ADDR:PORT, or null to turn it off)`));
    server.once('error', failed);
    server.listen({ host: at.host, port: at.port, ipv6Only: at.family === 6 }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'management listener error'));
  const bound = server.address() as AddressInfo;
  const address: ListenAddress = { host: at.host, port: bound.port, family: at.family };
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
