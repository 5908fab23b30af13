// The management listener: /metrics (Prometheus text), /ready (200 once zones are loaded and the
// DNS listeners are up, else 503: what the health sidecar and load balancers poll), /live (200 while
// the process runs its event loop).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from './config.js';
import type { Logger } from './log.js';

export interface ManagementSources {
  metrics: () => Promise<string>;
  metricsContentType: string;
  ready: () => boolean;
}

export interface ManagementServer {
  /** The bound address (the port is the real one when 0 was asked for). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export async function startManagementServer(at: ListenAddress, src: ManagementSources, log: Logger): Promise<ManagementServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
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
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port, ipv6Only: at.family === 6 }, () => {
      server.off('error', reject);
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
