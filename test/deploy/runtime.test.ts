// Which Node.js runs anycast-dns: scripts/node.sh picks the machine's node when it is 22.12 or later,
// else the checkout's own (.runtimes/24), else says in one line that there is none; the bin started
// by an older node runs itself again on that pick, with its flags, and stops with it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MIN_NODE, supportedNode } from '../../src/runtime.js';
import { CLI_JS, REPO_ROOT } from '../helpers/paths.js';
import { freePort } from '../helpers/peers.js';

const NODE_SH = join(REPO_ROOT, 'scripts', 'node.sh');
const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-runtime-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in `node` of version `v` (what scripts/node.sh asks of a node: `-p process.versions.node`, `--version`). */
function fakeNode(path: string, v: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `#!/bin/sh\ncase "$1" in -p) echo ${v} ;; --version) echo v${v} ;; *) echo "fake node ${v}: $*" ;; esac\n`);
  chmodSync(path, 0o755);
}

/** A checkout of only scripts/node.sh under `root`, with nothing in .runtimes/ yet. */
function bareCheckout(root: string): string {
  mkdirSync(join(root, 'scripts'), { recursive: true });
  copyFileSync(NODE_SH, join(root, 'scripts', 'node.sh'));
  return join(root, 'scripts', 'node.sh');
}

function nodeSh(script: string, args: string[], pathDirs: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync('sh', [script, ...args], { encoding: 'utf8', env: { ...process.env, PATH: [...pathDirs, '/usr/bin', '/bin'].join(':') } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the supported Node.js lines', () => {
  it('22.12 and later', () => {
    for (const v of ['20.19.0', '20.20.2', '22.11.0', '18.20.0']) assert.equal(supportedNode(v), false, v);
    for (const v of ['22.12.0', '22.23.3', '24.21.0', '26.10.0']) assert.equal(supportedNode(v), true, v);
  });

  it('package.json engines, scripts/node.sh and the bin name the same minimum', () => {
    const engines = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    assert.equal(engines, `^${MIN_NODE.major}.${MIN_NODE.minor}.0 || ^24.0.0 || ^26.0.0`);
    const sh = readFileSync(NODE_SH, 'utf8');
    assert.match(sh, new RegExp(`^MIN_MAJOR=${MIN_NODE.major}$`, 'm'));
    assert.match(sh, new RegExp(`^MIN_MINOR=${MIN_NODE.minor}$`, 'm'));
  });
});

describe('scripts/node.sh', () => {
  it("picks the machine's node when it is supported", () => {
    const r = nodeSh(NODE_SH, ['--which'], [dirname(process.execPath)]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), join(dirname(process.execPath), 'node'));
  });

  it("picks the checkout's own Node.js 24 when the machine's is older, and runs it", () => {
    const root = join(dir, 'old-machine');
    const script = bareCheckout(root);
    fakeNode(join(root, 'machine', 'node'), '20.19.0');
    const own = join(root, '.runtimes', '24', 'node_modules', '.bin', 'node');
    fakeNode(own, '24.21.0');
    assert.equal(nodeSh(script, ['--which'], [join(root, 'machine')]).out.trim(), own);
    assert.equal(nodeSh(script, ['--which', '26'], [join(root, 'machine')]).out.trim(), join(root, '.runtimes', '26', 'node_modules', '.bin', 'node'));
    const ran = nodeSh(script, ['--max-semi-space-size=1', 'dist/src/cli.js', 'serve'], [join(root, 'machine')]);
    assert.equal(ran.out.trim(), 'fake node 24.21.0: --max-semi-space-size=1 dist/src/cli.js serve');
  });

  it('with no supported Node.js says so in one line and exits 1', () => {
    const root = join(dir, 'nothing');
    const script = bareCheckout(root);
    fakeNode(join(root, 'machine', 'node'), '20.19.0');
    for (const args of [['--which'], ['dist/src/cli.js', 'ctl', 'zones']]) {
      const r = nodeSh(script, args, [join(root, 'machine')]);
      assert.equal(r.code, 1);
      assert.equal(r.out, '');
      assert.equal(
        r.err,
        `anycast-dns: Node.js 22.12 or later is needed (${join(root, 'machine', 'node')} is v20.19.0); run npm install in ${root} to get its own (node@24 in .runtimes/24), or install Node.js 22.12+\n`,
      );
    }
  });

  it('--install with no line installs nothing when the machine has a supported node', () => {
    const root = join(dir, 'new-machine');
    const script = bareCheckout(root);
    const r = nodeSh(script, ['--install'], [dirname(process.execPath)]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    assert.equal(spawnSync('ls', ['-A', root], { encoding: 'utf8' }).stdout.trim(), 'scripts');
  });
});

describe('the bin started by an older Node.js', () => {
  /** The machine's own node if it is older than 22.12 (this suite's premise: Debian's is 20). */
  const machine = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8', env: { PATH: '/usr/local/bin:/usr/bin:/bin' } }).stdout.trim();
  const machineVersion = spawnSync(machine, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();

  it('runs itself again on a supported one, with its flags, and stops with it', async (t) => {
    if (supportedNode(machineVersion)) {
      t.diagnostic(`the machine's node ${machine} is ${machineVersion}, supported: nothing to run again`);
      return;
    }
    // As the README's `node dist/src/cli.js serve`: the older node on PATH, the checkout's own present.
    const port = await freePort(false);
    const config = join(dir, 'old-node.yaml');
    writeFileSync(config, [`listen: ["127.0.0.1:${port}"]`, `zones: ${join(REPO_ROOT, 'zones')}`, 'management: { listen: "127.0.0.1:0" }'].join('\n'));
    const child = spawn(machine, ['--max-semi-space-size=1', '--no-memory-reducer', CLI_JS, 'serve', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${dirname(machine)}:/usr/bin:/bin` },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!/"msg":"server ready"/.test(out)) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `no "server ready"; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const mgmt = /"listen":"127\.0\.0\.1:(\d+)","msg":"management listening"/.exec(out);
      assert.ok(mgmt, out);
      const metrics = await (await fetch(`http://127.0.0.1:${mgmt[1]}/metrics`)).text();
      const nodejs = /anycast_dns_build_info\{[^}]*nodejs="([\d.]+)"/.exec(metrics)?.[1];
      assert.ok(nodejs !== undefined && supportedNode(nodejs), `serving on Node.js ${nodejs}`);
      assert.doesNotMatch(out, /node was started without/, 'the flags came along');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(out, /"msg":"stopped"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
