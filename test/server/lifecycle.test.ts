// Starting and stopping `anycast-dns serve`: flags alone serve the bundled zones; /ready is 503
// until listeners are up; SIGTERM and SIGINT stop it with exit 0 within the bound; `workers: 2`
// runs two answering processes behind one set of addresses with metrics summed across them; started
// without the Node.js flags it wants (src/server/node-flags.ts), it says so, and through the bin's
// shebang it has them.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { dnsQuery } from '../helpers/dns-query.js';
import { SERVE_NODE_FLAGS, missingNodeFlags } from '../../src/server/node-flags.js';
import { CLI_JS, REPO_ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/peers.js';
import { waitFor, withTimeout } from '../helpers/wait.js';
import { logRecords, managementUrl, seriesSum, seriesValues } from '../helpers/management.js';

const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-lifecycle-'));
const children = new Set<ChildProcess>();

after(() => {
  for (const c of children) if (c.exitCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Resolves once a log line with this message has been written. */
  logged: (msg: string, timeoutMs?: number) => Promise<Record<string, unknown>>;
}

/** `command` runs the CLI: node with the flags the bin passes, unless told otherwise. */
function serve(args: string[], command: string[] = [process.execPath, ...SERVE_NODE_FLAGS, CLI_JS], env: NodeJS.ProcessEnv = process.env): Started {
  // A management port of its own: the default one is shared by every server on the host.
  const child = spawn(command[0]!, [...command.slice(1), 'serve', '--management', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const find = (msg: string): Record<string, unknown> | undefined => logRecords({ log: () => out }).find((l) => l.msg === msg);
  const logged = (msg: string, timeoutMs = 15_000): Promise<Record<string, unknown>> =>
    waitFor(
      () => {
        const hit = find(msg);
        if (!hit && child.exitCode !== null) throw new Error(`no "${msg}" log line before the exit (code ${child.exitCode}); output:\n${out}`);
        return hit;
      },
      { timeoutMs, what: `"${msg}" log line`, detail: () => `output:\n${out}` },
    );
  return { child, output: () => out, exited, logged };
}

async function stop(s: Started, signal: NodeJS.Signals): Promise<number | null> {
  s.child.kill(signal);
  return withTimeout(s.exited, 8000, 'the server to exit');
}

const FLAGS_WARNING = /"msg":"node was started without --max-semi-space-size=1 --no-memory-reducer: /;

describe('node flags', () => {
  it('finds a flag on the command line or in NODE_OPTIONS, whatever its value or spelling', () => {
    assert.deepEqual(missingNodeFlags([], ''), ['--max-semi-space-size=1', '--no-memory-reducer']);
    assert.deepEqual(missingNodeFlags(['--max-semi-space-size=1', '--no-memory-reducer'], ''), []);
    assert.deepEqual(missingNodeFlags(['--max_semi_space_size=4', '--memory-reducer'], ''), [], 'an operator\'s own choice counts');
    assert.deepEqual(missingNodeFlags(['--no-memory-reducer', '--max-old-space-size=512'], '--max-semi-space-size=2 --trace-gc'), []);
    assert.deepEqual(missingNodeFlags(['--max-semi-space', '--no-memory-reducer'], '--max-semi-space-size-x=1'), ['--max-semi-space-size=1']);
  });

  it('the bin\'s shebang and npm start pass exactly these flags', () => {
    const flags = SERVE_NODE_FLAGS.join(' ');
    assert.equal(readFileSync(CLI_JS, 'utf8').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    assert.match(pkg.scripts.start, new RegExp(`&& sh scripts/node\\.sh ${flags} dist/src/cli\\.js serve$`));
  });

  it('serve run by the bin file itself (its shebang) has them: no warning', async () => {
    const port = await freePort(false);
    // The shebang's `env node` finds this runtime first.
    const s = serve(['--listen', `127.0.0.1:${port}`], [CLI_JS], { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` });
    await s.logged('server ready');
    assert.doesNotMatch(s.output(), FLAGS_WARNING);
    assert.equal(await stop(s, 'SIGTERM'), 0);
  });

  it('serve started as plain `node cli.js` warns once naming the flags, and not when they are given', async () => {
    const port = await freePort(false);
    const bare = serve(['--listen', `127.0.0.1:${port}`], [process.execPath, CLI_JS]);
    await bare.logged('server ready');
    assert.equal(bare.output().split('\n').filter((l) => FLAGS_WARNING.test(l)).length, 1);
    assert.equal(await stop(bare, 'SIGTERM'), 0);
    const viaEnv = serve(['--listen', `127.0.0.1:${port}`], [process.execPath, '--memory-reducer', CLI_JS], { ...process.env, NODE_OPTIONS: '--max-semi-space-size=2' });
    await viaEnv.logged('server ready');
    assert.doesNotMatch(viaEnv.output(), FLAGS_WARNING);
    assert.equal(await stop(viaEnv, 'SIGTERM'), 0);
  });
});

describe('serve lifecycle', () => {
  it('with flags and no config serves the bundled zones, and SIGTERM stops it with exit 0', async () => {
    const port = await freePort(false);
    const s = serve(['--listen', `127.0.0.1:${port}`, '--identity', 'pop-flags']);
    await s.logged('server ready');
    const r = await dnsQuery({ port }, { name: 'www.example.com', type: 'A' });
    assert.equal(r.message.rcode, 0);
    assert.equal(r.message.aa, true);
    const t0 = Date.now();
    assert.equal(await stop(s, 'SIGTERM'), 0);
    assert.ok(Date.now() - t0 < 5000);
    assert.match(s.output(), /"msg":"stopped"/);
    await assert.rejects(dnsQuery({ port }, { name: 'www.example.com', type: 'A', timeoutMs: 300 }));
  });

  it('SIGINT stops it with exit 0 even with a TCP connection open', async () => {
    const port = await freePort(false);
    const s = serve(['--listen', `127.0.0.1:${port}`, '--log-level', 'warn']);
    await waitFor(() => dnsQuery({ port }, { name: 'example.com', type: 'SOA', tcp: true, timeoutMs: 200 }).catch(() => null), { timeoutMs: 15_000, what: 'an answer over TCP' });
    const { connect } = await import('node:net');
    const idle = connect({ port, host: '127.0.0.1' });
    idle.on('error', () => {});
    await new Promise((r) => idle.once('connect', r));
    assert.equal(await stop(s, 'SIGINT'), 0);
    idle.destroy();
  });

  it('a listen address already in use stops start-up with exit 1 naming it', async () => {
    const port = await freePort(false);
    const first = serve(['--listen', `127.0.0.1:${port}`]);
    await first.logged('server ready');
    const second = serve(['--listen', `127.0.0.1:${port}`]);
    assert.equal(await withTimeout(second.exited, 15_000, 'the second server to give up'), 1);
    assert.match(second.output(), new RegExp(`config: listen: cannot listen on 127\\.0\\.0\\.1:${port}/udp`));
    assert.equal(await stop(first, 'SIGTERM'), 0);
  });

  for (const workers of [1, 2]) {
    it(`workers: ${workers} with every zone failing to load says it is not ready, in its log and on /ready`, async () => {
      const port = await freePort(false);
      const zones = join(dir, `broken-${workers}`);
      mkdirSync(zones);
      writeFileSync(join(zones, 'broken.test.zone'), '$TTL 300\n@ SOA ns x 1 1 1 1 1\n@ NS ns\nns A 192.0.2.999\n');
      const cfg = join(dir, `broken-${workers}.yaml`);
      writeFileSync(cfg, [`listen: ["127.0.0.1:${port}"]`, `zones: ${zones}`, `workers: ${workers}`, 'management: { listen: "127.0.0.1:0" }'].join('\n'));
      const s = serve(['--config', cfg]);
      const mgmt = await s.logged('management listening');
      const line = await s.logged('server not ready: no zones loaded');
      assert.equal(line.level, 'warn');
      assert.equal(line.zones, 0);
      assert.doesNotMatch(s.output(), /"msg":"server ready"/);
      const ready = await fetch(`http://127.0.0.1:${/:(\d+)$/.exec(String(mgmt.listen))![1]}/ready`);
      assert.equal(ready.status, 503);
      const r = await dnsQuery({ port }, { name: 'broken.test', type: 'SOA' });
      assert.equal(r.message.rcode, 5, 'REFUSED');
      assert.equal(await stop(s, 'SIGTERM'), 0);
    });
  }

  it('workers: 2 answers from two threads of one process, counts them in one registry, and reports ready only when both are', async () => {
    const port = await freePort(true);
    const cfg = join(dir, 'workers.yaml');
    writeFileSync(cfg, [`identity: pop-workers`, `listen: ["127.0.0.1:${port}", "[::1]:${port}"]`, 'workers: 2', 'management: { listen: "127.0.0.1:0" }'].join('\n'));
    const s = serve(['--config', cfg]);
    await s.logged('management listening');
    const base = managementUrl({ log: s.output });
    await s.logged('server ready');
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    const listening = logRecords({ log: s.output }).filter((r) => r.msg === 'listening');
    assert.deepEqual(new Set(listening.map((r) => r.thread)), new Set([0, 1]), 'two threads listen');
    assert.equal(new Set(listening.map((r) => r.pid)).size, 1, 'in one process');
    const n = 40;
    for (let i = 0; i < n; i++) {
      const r = await dnsQuery({ port, host: i % 2 ? '::1' : '127.0.0.1' }, { name: 'www.example.com', type: 'A', tcp: i % 4 === 0 });
      assert.equal(r.message.rcode, 0);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const sum = seriesSum(metrics, 'anycast_dns_queries_total', 'qtype="A"');
    assert.ok(sum >= n, `queries of both threads: ${sum}`);
    assert.equal(seriesValues(metrics, 'anycast_dns_build_info').length, 1, 'one registry');
    assert.match(metrics, /anycast_dns_zones_loaded\{pop="pop-workers"\} 2/);
    assert.equal(await stop(s, 'SIGTERM'), 0);
  });
});
