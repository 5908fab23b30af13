// `anycast-dns health` started by a test, with ExaBGP's side of the pipe played here: every command
// it writes is recorded and acknowledged with "done". Its metrics listener is on a free loopback port.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI_JS, REPO_ROOT } from './paths.js';
import { freePort } from './peers.js';
import { waitFor } from './wait.js';

interface SidecarStatus {
  state: string;
  announced: string;
  reason: string;
  since: string;
  last_round: { checks: { check: string; outcome: string }[] } | null;
}

export interface RunningSidecar {
  /** http://127.0.0.1:PORT (health.metrics_listen). */
  readonly base: string;
  readonly port: number;
  /** API commands written to ExaBGP so far, in order. */
  readonly commands: string[];
  stderr(): string;
  status(): Promise<SidecarStatus>;
  /** Polls /status until the state is `state` (fails the test after `timeoutMs`). */
  waitFor(state: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL, wait for the exit, remove the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * `health` is merged over fast defaults (0.1 s rounds, rise and fall 2, no drain, one route) and
 * `metrics_listen`; `top` holds the top-level keys (identity, zones, management...).
 */
export async function startSidecar(top: Record<string, unknown>, health: Record<string, unknown>): Promise<RunningSidecar> {
  const port = await freePort(false);
  const dir = mkdtempSync(join(tmpdir(), 'health-sidecar-'));
  const config = {
    ...top,
    health: {
      metrics_listen: `127.0.0.1:${port}`,
      interval: 0.1,
      fast_interval: 0.05,
      timeout: 0.2,
      attempts: 2,
      rise: 2,
      fall: 2,
      drain_time: 0,
      maintenance_file: join(dir, 'maintenance'),
      local_as: 65001,
      routes: [{ prefix: '198.18.53.0/24' }],
      ...health,
    },
  };
  const configFile = join(dir, 'anycast-dns.yaml');
  writeFileSync(configFile, stringify(config));
  const child = spawn(process.execPath, [CLI_JS, 'health', '--config', configFile], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const commands: string[] = [];
  let pending = '';
  child.stdout.on('data', (c: Buffer) => {
    pending += c.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      commands.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      child.stdin.write('done\n');
    }
  });
  child.stdin.on('error', () => {}); // the sidecar may be gone before an acknowledgement is written
  const base = `http://127.0.0.1:${port}`;
  const status = async (): Promise<SidecarStatus> => (await (await fetch(`${base}/status`)).json()) as SidecarStatus;
  return {
    base,
    port,
    commands,
    stderr: () => err,
    status,
    async waitFor(state, timeoutMs = 15_000) {
      // An error is "not yet": the listener may not be up.
      const reached = (): Promise<boolean> => status().then((s) => s.state === state, () => false);
      await waitFor(reached, { timeoutMs, what: `the sidecar to reach ${state}`, detail: () => `its log:\n${err}` });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
