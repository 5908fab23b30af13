// The pipe to ExaBGP: commands out on stdout (nothing else is ever written there), acknowledgements
// in on stdin. Each command is remembered until ExaBGP acknowledges it; a command it rejects is sent
// again after a pause for as long as it is still what the route should be.
import { writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { RouteAttributes, RouteConfig } from './config.js';
import type { ExabgpApi } from './exabgp-api.js';

/** Pause before re-sending a command ExaBGP rejected. */
const RETRY_DELAY_MS = 1000;

export interface PipeOptions {
  api: ExabgpApi;
  routes: RouteConfig[];
  localAs: number;
  log: Logger;
  input: Readable;
  /** File descriptor of the pipe to ExaBGP (1). */
  outFd: number;
  /** ExaBGP is gone (stdin closed, `shutdown`) or the pipe broke: the process must exit with this code. */
  onGone: (code: number, reason: string) => void;
}

interface Sent {
  route: RouteConfig;
  line: string;
}

export class ExabgpPipe {
  /** The command that expresses what each route should be now (by prefix). */
  private readonly wanted = new Map<string, string>();
  /** Commands written and not yet acknowledged, oldest first (ExaBGP answers in order). */
  private readonly unacked: Sent[] = [];
  private readonly retries = new Set<NodeJS.Timeout>();
  private pending = '';
  private gone = false;

  constructor(private readonly o: PipeOptions) {
    o.input.setEncoding('utf8');
    o.input.on('data', (chunk: string) => this.onData(chunk));
    o.input.on('end', () => this.fail(0, 'stdin closed: ExaBGP is gone'));
    o.input.on('error', (err) => this.fail(1, `stdin: ${err.message}`));
  }

  announce(attributes: RouteAttributes, communities: string[]): void {
    for (const r of this.o.routes) this.send(r, this.o.api.announce(r, attributes, this.o.localAs, communities));
  }

  withdraw(): void {
    for (const r of this.o.routes) this.send(r, this.o.api.withdraw(r));
  }

  close(): void {
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    this.o.input.removeAllListeners('data');
    this.o.input.pause();
  }

  private send(route: RouteConfig, line: string): void {
    if (this.gone) return;
    this.wanted.set(route.prefix, line);
    try {
      writeLine(this.o.outFd, line);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EPIPE: ExaBGP closed our stdout; whatever we meant to announce can no longer be said.
      this.fail(1, `writing to ExaBGP failed: ${code ?? (err as Error).message}`);
      return;
    }
    this.unacked.push({ route, line });
    this.o.log.info({ command: line }, 'sent to ExaBGP');
  }

  private onData(chunk: string): void {
    this.pending += chunk;
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (line.trim() !== '') this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const reply = this.o.api.parseReply(line);
    switch (reply.kind) {
      case 'done':
        this.unacked.shift();
        return;
      case 'error': {
        const failed = this.unacked.shift();
        this.o.log.error({ command: failed?.line, message: reply.message }, 'ExaBGP rejected a command');
        if (failed) this.retryLater(failed);
        return;
      }
      case 'shutdown':
        this.fail(0, 'ExaBGP is shutting down');
        return;
      case 'other':
        this.o.log.debug({ line: reply.line }, 'ignored a line from ExaBGP');
        return;
    }
  }

  private retryLater(failed: Sent): void {
    const t = setTimeout(() => {
      this.retries.delete(t);
      // Superseded by a later command for the same route: that one is what counts now.
      if (this.wanted.get(failed.route.prefix) === failed.line) this.send(failed.route, failed.line);
    }, RETRY_DELAY_MS);
    this.retries.add(t);
  }

  private fail(code: number, reason: string): void {
    if (this.gone) return;
    this.gone = true;
    this.o.onGone(code, reason);
  }
}

/** A blocking write of one whole line, so commands are never interleaved or half written. */
function writeLine(fd: number, line: string): void {
  const buf = Buffer.from(line + '\n', 'utf8');
  let off = 0;
  let spins = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      // A non-blocking pipe that is momentarily full: wait for ExaBGP to read (bounded, ~1 s).
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || ++spins > 1000) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
