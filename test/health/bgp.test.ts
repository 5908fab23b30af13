// The real thing: BIRD as the upstream router and ExaBGP running `anycast-dns health` as its process,
// in two network namespaces made here (private 198.18.0.0/15 and 2001:db8::/32 addresses exist only
// inside them), with anycast-dns serving on the POP's service address. BIRD's table says what the world sees.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BUNDLED_ZONES_DIR, CLI_JS, REPO_ROOT } from '../helpers/paths.js';
import { requireBinary } from '../helpers/peers.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { SERVE_NODE_FLAGS } from '../../src/server/node-flags.js';

const ID = process.pid;
const NS_R = `adns-r-${ID}`;
const NS_P = `adns-p-${ID}`;
const VETH_R = `vr${ID}`.slice(0, 15);
const VETH_P = `vp${ID}`.slice(0, 15);
const R4 = '198.18.0.1';
const P4 = '198.18.0.2';
const R6 = '2001:db8:ffff::1';
const P6 = '2001:db8:ffff::2';
const SERVICE = '198.18.53.1';
const PREFIX4 = '198.18.53.0/24';
const PREFIX6 = '2001:db8:53::/48';
const POP_AS = 65001;
const DRAIN_S = 2;
const HOLD_S = 2;

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
const inNs = (ns: string, ...args: string[]) => run('ip', ['netns', 'exec', ns, ...args]);

/** A child in its own process group, so the whole server (workers included) can be killed at once. */
interface Proc {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
}

function start(ns: string, cmd: string[], logFile: string): Proc {
  const out = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', out, out], detached: true, cwd: REPO_ROOT });
  closeSync(out);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, pid: child.pid!, exited };
}

async function killGroup(p: Proc | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    return;
  }
  await Promise.race([p.exited, sleep(5000)]);
}

/** Children of `pid` (from /proc), e.g. the sidecar ExaBGP runs. */
function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return kids;
}

interface BirdRoute {
  asPath: string;
  communities: string;
}

describe('BGP: the health sidecar under ExaBGP, seen from BIRD', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'health-bgp-'));
  const birdSock = join(dir, 'bird.ctl');
  const maintenance = join(dir, 'maintenance');
  const healthConfig = join(dir, 'anycast-dns.yaml');
  const exabgpLog = join(dir, 'exabgp.log');
  let bird: Proc | undefined;
  let exabgp: Proc | undefined;
  let dns: Proc | undefined;
  const figures: Record<string, number[]> = { serverDeathToWithdrawalMs: [], sidecarKillToWithdrawalMs: [] };

  function routes(): Map<string, BirdRoute> {
    const out = run('birdc', ['-s', birdSock, 'show', 'route', 'all']);
    const found = new Map<string, BirdRoute>();
    let current: string | null = null;
    for (const line of out.split('\n')) {
      const head = /^(\S+\/\d+)\s+unicast/.exec(line);
      if (head) {
        current = head[1]!;
        found.set(current, { asPath: '', communities: '' });
        continue;
      }
      if (current === null) continue;
      const attr = /^\s+BGP\.(as_path|community):\s*(.*)$/.exec(line);
      if (attr) found.get(current)![attr[1] === 'as_path' ? 'asPath' : 'communities'] = attr[2]!.trim();
    }
    return found;
  }

  /** Polls BIRD every 20 ms until `pred` holds; returns the elapsed ms. */
  async function waitForRoutes(what: string, pred: (r: Map<string, BirdRoute>) => boolean, limitMs: number): Promise<number> {
    const t0 = performance.now();
    await waitFor(() => pred(routes()), {
      timeoutMs: limitMs,
      intervalMs: 20,
      what,
      detail: () => `\nBIRD: ${run('birdc', ['-s', birdSock, 'show', 'route', 'all'])}\nExaBGP/sidecar log tail:\n${readFileSync(exabgpLog, 'utf8').split('\n').slice(-30).join('\n')}\nDNS server log tail:\n${tail(join(dir, 'dns.log'))}`,
    });
    return performance.now() - t0;
  }
  const tail = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-10).join('\n') : '(none)');
  const announced = (r: Map<string, BirdRoute>) => r.has(PREFIX4) && r.has(PREFIX6);
  const withdrawn = (r: Map<string, BirdRoute>) => !r.has(PREFIX4) && !r.has(PREFIX6);

  /** anycast-dns itself on the service address, as its own process group (killed with -9 to simulate a crash). */
  function startDns(): Proc {
    const conf = join(dir, 'server.yaml');
    writeFileSync(conf, stringify({ identity: 'pop-bgp-test', listen: [`${SERVICE}:53`], zones: BUNDLED_ZONES_DIR }));
    return start(NS_P, [process.execPath, ...SERVE_NODE_FLAGS, CLI_JS, 'serve', '--config', conf], join(dir, 'dns.log'));
  }

  /** A working but slow authoritative server (answers after `delayMs`), to make the POP DEGRADED. */
  function startSlowDns(delayMs: number): Proc {
    const script = join(dir, 'slow-dns.mjs');
    writeFileSync(
      script,
      `import dgram from 'node:dgram';
import packet from '${join(REPO_ROOT, 'node_modules', 'dns-packet', 'index.js')}';
import net from 'node:net';
const answer = (q) => packet.encode({ type: 'response', id: q.id, flags: packet.AUTHORITATIVE_ANSWER, questions: q.questions,
  answers: [{ type: 'SOA', name: q.questions[0].name, ttl: 60, data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 1 } }] });
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => setTimeout(() => u.send(answer(packet.decode(m)), r.port, r.address), ${delayMs}));
u.bind(53, '${SERVICE}');
net.createServer((s) => { s.on('error', () => {}); s.once('data', (d) => setTimeout(() => {
  const r = answer(packet.decode(d.subarray(2))); const len = Buffer.alloc(2); len.writeUInt16BE(r.length); s.end(Buffer.concat([len, r]));
}, ${delayMs})); }).listen(53, '${SERVICE}');
`,
    );
    return start(NS_P, [process.execPath, script], join(dir, 'slow-dns.log'));
  }

  function sidecarPids(): number[] {
    return exabgp ? childrenOf(exabgp.pid) : [];
  }

  before(async () => {
    for (const [bin, pkg] of [['bird', 'bird2'], ['birdc', 'bird2'], ['exabgp', 'exabgp'], ['ip', 'iproute2']] as const) requireBinary(bin, pkg);
    // ExaBGP drops privileges to its own user: the sidecar must be able to read its config.
    chmodSync(dir, 0o755);
    run('ip', ['netns', 'add', NS_R]);
    run('ip', ['netns', 'add', NS_P]);
    run('ip', ['link', 'add', VETH_R, 'type', 'veth', 'peer', 'name', VETH_P]);
    run('ip', ['link', 'set', VETH_R, 'netns', NS_R]);
    run('ip', ['link', 'set', VETH_P, 'netns', NS_P]);
    for (const [ns, dev, a4, a6] of [[NS_R, VETH_R, R4, R6], [NS_P, VETH_P, P4, P6]] as const) {
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
      inNs(ns, 'ip', 'addr', 'add', `${a4}/24`, 'dev', dev);
      inNs(ns, 'ip', '-6', 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad');
      inNs(ns, 'ip', 'link', 'set', dev, 'up');
    }
    inNs(NS_P, 'ip', 'addr', 'add', `${SERVICE}/32`, 'dev', 'lo');

    writeFileSync(
      join(dir, 'bird.conf'),
      `router id ${R4};
protocol device { scan time 1; }
protocol bgp pop {
  local ${R4} as 64500;
  neighbor ${P4} as ${POP_AS};
  passive on;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}
`,
    );
    bird = start(NS_R, ['bird', '-f', '-c', join(dir, 'bird.conf'), '-s', birdSock], join(dir, 'bird.log'));

    writeFileSync(
      healthConfig,
      stringify({
        identity: 'pop-bgp-test',
        zones: BUNDLED_ZONES_DIR,
        health: {
          server: `${SERVICE}:53`,
          maintenance_file: maintenance,
          // The timing defaults are kept (they are what is measured); only the drain is shortened.
          drain_time: DRAIN_S,
          // Short hold-down so the repeated kills below are measured in seconds, not minutes.
          hold_down: { base: HOLD_S, max: HOLD_S },
          local_as: POP_AS,
          routes: [{ prefix: PREFIX4 }, { prefix: PREFIX6, next_hop: P6 }],
        },
      }),
    );
    // The shipped ExaBGP settings, with this test's neighbour and process.
    const shipped = readFileSync(join(REPO_ROOT, 'deploy', 'exabgp.conf'), 'utf8');
    const conf = shipped
      .replace(/run [^;]+;/, `run ${process.execPath} ${CLI_JS} health --config ${healthConfig};`)
      .replace(/neighbor 192\.0\.2\.1/, `neighbor ${R4}`)
      .replace(/router-id [^;]+;/, `router-id ${P4};`)
      .replace(/local-address [^;]+;/, `local-address ${P4};`)
      .replace(/local-as [^;]+;/, `local-as ${POP_AS};`)
      .replace(/peer-as [^;]+;/, 'peer-as 64500;');
    writeFileSync(join(dir, 'exabgp.conf'), conf);
    chmodSync(join(dir, 'exabgp.conf'), 0o644);
    chmodSync(healthConfig, 0o644);
    // The shipped env drops ExaBGP, and the sidecar it runs, to the exabgp user, as a POP runs it.
    // A checkout that user can't read (a clone inside a 0700 mktemp directory) keeps them root.
    const readable = spawnSync('runuser', ['-u', 'exabgp', '--', 'test', '-r', CLI_JS]).status === 0;
    const user = readable ? [] : ['env', 'exabgp_daemon_user=root'];
    exabgp = start(NS_P, [...user, 'exabgp', '--env', join(REPO_ROOT, 'deploy', 'exabgp.env'), join(dir, 'exabgp.conf')], exabgpLog);

    // The session comes up; with no DNS server, nothing is announced.
    // birdc fails until BIRD has made its control socket: that is "not yet", like a session still down.
    const protocols = (): string => {
      try {
        return run('birdc', ['-s', birdSock, 'show', 'protocols', 'pop']);
      } catch {
        return '';
      }
    };
    await waitFor(() => /Established/.test(protocols()), { timeoutMs: 30_000, intervalMs: 100, what: 'the BGP session to be established', detail: () => readFileSync(exabgpLog, 'utf8') });
  });

  after(async () => {
    await killGroup(dns);
    await killGroup(exabgp);
    await killGroup(bird);
    for (const ns of [NS_P, NS_R]) {
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        // not created
      }
    }
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`health BGP figures: ${JSON.stringify(figures)}\n`);
  });

  it('announces nothing while the DNS server is absent, then announces v4 and v6 once it is healthy', async () => {
    await sleep(3000);
    assert.ok(withdrawn(routes()), 'no route before the POP is healthy');
    dns = startDns();
    await waitForRoutes('routes announced', announced, 15_000);
    const r = routes().get(PREFIX4)!;
    assert.equal(r.asPath, String(POP_AS), 'UP: no prepend');
    assert.equal(r.communities, '');
  });

  it('withdraws within 2 s of the DNS server being killed, and re-announces after rise rounds (5 runs)', async () => {
    for (let i = 0; i < 5; i++) {
      await waitForRoutes('routes announced', announced, 15_000);
      // Land the kill at different points of the probe interval.
      await sleep(1000 + i * 230);
      const killedAt = performance.now();
      await killGroup(dns);
      await waitForRoutes('routes withdrawn', withdrawn, 10_000);
      const ms = performance.now() - killedAt;
      figures.serverDeathToWithdrawalMs!.push(Math.round(ms));
      assert.ok(ms <= 2000, `withdrawn ${Math.round(ms)} ms after the server died`);
      const withdrawnAt = performance.now();
      dns = startDns();
      await waitForRoutes('routes announced again', announced, 15_000);
      const back = performance.now() - withdrawnAt;
      // rise (3) healthy rounds at fast_interval (250 ms) after the first one: not before ~500 ms;
      // from the second flap on, not before the hold-down.
      assert.ok(back >= 500, 'not re-announced before rise rounds');
      if (i > 0) assert.ok(back >= HOLD_S * 1000 - 100, `re-announced ${Math.round(back)} ms after a repeated flap, inside the hold-down`);
    }
    const log = readFileSync(exabgpLog, 'utf8');
    assert.match(log, /RISING -> UP: 3 healthy rounds/);
  });

  it('drains with GRACEFUL_SHUTDOWN and withdraws while the maintenance file exists', async () => {
    await waitForRoutes('routes announced', announced, 15_000);
    writeFileSync(maintenance, '');
    await waitForRoutes('GRACEFUL_SHUTDOWN community', (r) => r.get(PREFIX4)?.communities.includes('(65535,0)') === true, 5000);
    const gone = await waitForRoutes('withdrawn after the drain', withdrawn, 10_000);
    assert.ok(gone >= DRAIN_S * 1000 - 500, `drained for ${Math.round(gone)} ms`);
    await sleep(2500);
    assert.ok(withdrawn(routes()), 'stays withdrawn while the file exists');
    unlinkSync(maintenance);
    await waitForRoutes('back after maintenance', announced, 10_000);
    assert.equal(routes().get(PREFIX4)!.communities, '');
  });

  it('announces with a prepended AS path while the server is slow (DEGRADED), not withdrawn', async () => {
    await killGroup(dns);
    dns = startSlowDns(150);
    const expected = Array(4).fill(String(POP_AS)).join(' ');
    await waitForRoutes('prepended AS path', (r) => r.get(PREFIX4)?.asPath === expected, 30_000);
    assert.ok(announced(routes()));
    await killGroup(dns);
    dns = startDns();
    await waitForRoutes('plain AS path again', (r) => r.get(PREFIX4)?.asPath === String(POP_AS), 30_000);
  });

  it('on SIGTERM to the sidecar: GRACEFUL_SHUTDOWN, then withdrawal after drain_time', async () => {
    await waitForRoutes('routes announced', announced, 15_000);
    const [pid] = sidecarPids();
    assert.ok(pid, 'the sidecar runs under ExaBGP');
    process.kill(pid!, 'SIGTERM');
    await waitForRoutes('GRACEFUL_SHUTDOWN community', (r) => r.get(PREFIX4)?.communities.includes('(65535,0)') === true && r.get(PREFIX6)?.communities.includes('(65535,0)') === true, 5000);
    const gone = await waitForRoutes('withdrawn after the drain', withdrawn, 10_000);
    assert.ok(gone >= DRAIN_S * 1000 - 500, `drained for ${Math.round(gone)} ms`);
  });

  it('kill -9 of the sidecar leaves no route (the respawned one withdraws first), 3 runs', async () => {
    for (let i = 0; i < 3; i++) {
      await waitForRoutes('routes announced', announced, 15_000);
      const [pid] = sidecarPids();
      assert.ok(pid, 'the sidecar runs under ExaBGP');
      const killedAt = performance.now();
      process.kill(pid!, 'SIGKILL');
      await waitForRoutes('routes withdrawn', withdrawn, 10_000);
      figures.sidecarKillToWithdrawalMs!.push(Math.round(performance.now() - killedAt));
    }
  });

  it('a sidecar that cannot come back makes ExaBGP exit, which ends the session: no route', async () => {
    await waitForRoutes('routes announced', announced, 15_000);
    writeFileSync(healthConfig, 'health: { no_such_key: 1 }\n');
    const [pid] = sidecarPids();
    process.kill(pid!, 'SIGKILL');
    await waitForRoutes('routes withdrawn', withdrawn, 30_000);
    const code = await Promise.race([exabgp!.exited, sleep(30_000).then(() => 'still running')]);
    assert.notEqual(code, 'still running', 'ExaBGP gives up after repeated sidecar deaths');
    assert.ok(withdrawn(routes()));
  });
});
