// A slow-TCP flood on loopback, for tests and benchmarks: N connections from many source addresses
// (127.B.P.H: P picks one of `prefixes` /24s, H a host in it), each sending a partial DNS frame
// (one byte of the length, the length alone, or the length and part of the header) and then
// nothing. Closed connections are opened again, so the flood holds on while it runs. It runs in its
// own process (its thousands of sockets must not slow the measuring client's event loop), is
// bounded in time, and dies with its parent.
//
//   const flood = await startSlowFlood({ port, connections: 4000, prefixes: 200 });
//   ... flood.stats() ...
//   await flood.stop();
import { fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { terminate } from './child.js';

export interface FloodOptions {
  /** TCP port on 127.0.0.1. */
  port: number;
  connections: number;
  /** Distinct /24s the sources are spread over (127.10.0.0/24 upwards). */
  prefixes: number;
  /** The child exits by itself after this long (default 60 s). */
  maxSeconds?: number;
}

interface FloodStats {
  /** Connections attempted, first tries and reconnects. */
  attempted: number;
  /** Connections the handshake completed for. */
  connected: number;
  /** Open now. */
  open: number;
  /** Closed by the server (refused, evicted or timed out). */
  closed: number;
}

export interface SlowFlood {
  stats(): FloodStats;
  stop(): Promise<void>;
}

const CHILD_FLAG = '--slow-tcp-flood-child';
/** Connects in flight at once: the server's accept queue is 511. */
const CONNECTS_IN_FLIGHT = 256;
const RECONNECT_DELAY_MS = 100;
const STARTED_AFTER_MS = 5000;
const PARTIAL_FRAMES = [Buffer.from([0]), Buffer.from([0, 40]), Buffer.from([0, 40, 0x12, 0x34, 0, 0, 0, 1])];

/** The source address of connection `i`: prefix i mod `prefixes`, so consecutive connections come from different /24s. */
function floodSource(i: number, prefixes: number): string {
  const p = i % prefixes;
  const h = Math.floor(i / prefixes);
  return `127.${10 + Math.floor(p / 256)}.${p % 256}.${(h % 254) + 1}`;
}

/** Starts the flood; resolves once every connection has been tried once (or after 5 s of trying, against a server that accepts slowly). */
export function startSlowFlood(opts: FloodOptions): Promise<SlowFlood> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let last: FloodStats = { attempted: 0, connected: 0, open: 0, closed: 0 };
  const stop = (): Promise<void> => terminate(child, 3000);
  return new Promise((resolve, reject) => {
    child.on('message', (m: { stats: FloodStats; started: boolean }) => {
      last = m.stats;
      if (m.started) resolve({ stats: () => last, stop });
    });
    child.once('exit', (code, signal) => reject(new Error(`the flood process exited during start-up (code ${code}, signal ${signal})`)));
  });
}

function runChild(opts: FloodOptions): void {
  const stats: FloodStats = { attempted: 0, connected: 0, open: 0, closed: 0 };
  const sockets = new Set<Socket>();
  let stopping = false;
  let inFlight = 0;
  let settledTries = 0;
  let started = false;
  const queue: number[] = [];

  const report = (): void => {
    process.send?.({ stats, started });
  };
  const markStarted = (): void => {
    if (!started) {
      started = true;
      report();
    }
  };
  const pump = (): void => {
    while (!stopping && inFlight < CONNECTS_IN_FLIGHT && queue.length > 0) open(queue.shift()!);
  };
  const open = (i: number): void => {
    inFlight++;
    stats.attempted++;
    const s = connect({ host: '127.0.0.1', port: opts.port, localAddress: floodSource(i, opts.prefixes) });
    sockets.add(s);
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      inFlight--;
      if (++settledTries === opts.connections) markStarted();
      pump();
    };
    s.on('error', () => {});
    s.once('connect', () => {
      stats.connected++;
      stats.open++;
      s.write(PARTIAL_FRAMES[i % PARTIAL_FRAMES.length]!);
      settle();
      s.once('close', () => {
        stats.open--;
        stats.closed++;
      });
    });
    s.once('close', () => {
      sockets.delete(s);
      settle();
      if (!stopping) setTimeout(() => (queue.push(i), pump()), RECONNECT_DELAY_MS).unref();
    });
  };

  const shutdown = (): void => {
    stopping = true;
    for (const s of sockets) s.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown);
  setTimeout(shutdown, (opts.maxSeconds ?? 60) * 1000);
  setInterval(report, 200);
  setTimeout(markStarted, STARTED_AFTER_MS);
  for (let i = 0; i < opts.connections; i++) queue.push(i);
  pump();
}

if (process.argv[2] === CHILD_FLAG) runChild(JSON.parse(process.argv[3]!) as FloodOptions);
