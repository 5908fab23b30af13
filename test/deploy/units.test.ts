// The documented install (scripts/install.sh) into a scratch root, then what systemd and ExaBGP say
// about the shipped units and exabgp.conf there, and `anycast-dns check-config` on good and bad files.
// The scratch root gets the few parts of a Debian system the units name (systemd's own units,
// /bin/kill, /bin/sh, /usr/sbin/exabgp), copied from this host; everything else comes from the install.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_JS, REPO_ROOT } from '../helpers/paths.js';
import { requireBinary } from '../helpers/peers.js';
import { SERVE_NODE_FLAGS } from '../../src/server/node-flags.js';

const INSTALL = join(REPO_ROOT, 'scripts', 'install.sh');
const UNITS = ['anycast-dns.service', 'exabgp.service'];

function run(cmd: string, args: string[], cwd = tmpdir(), env: NodeJS.ProcessEnv = process.env): { code: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A merged-/usr Debian skeleton: what the units refer to that the install does not make. */
function baseSystem(root: string): void {
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(root, 'usr', 'sbin'), { recursive: true });
  mkdirSync(join(root, 'usr', 'lib', 'systemd'), { recursive: true });
  for (const d of ['bin', 'sbin', 'lib']) symlinkSync(`usr/${d}`, join(root, d));
  cpSync('/usr/lib/systemd/system', join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true, verbatimSymlinks: true });
  copyFileSync('/usr/bin/kill', join(root, 'usr', 'bin', 'kill'));
  copyFileSync('/usr/bin/dash', join(root, 'usr', 'bin', 'dash'));
  symlinkSync('dash', join(root, 'usr', 'bin', 'sh'));
  copyFileSync(requireBinary('exabgp', 'exabgp'), join(root, 'usr', 'sbin', 'exabgp'));
}

/** systemd-analyze security's overall exposure (0 = locked down, 10 = unprotected). */
function exposure(args: string[]): number {
  const r = run('systemd-analyze', ['security', '--offline=true', ...args]);
  const m = /Overall exposure level for \S+: (\d+\.\d+)/.exec(r.out + r.err);
  assert.ok(m, `no exposure in:\n${r.out}${r.err}`);
  return Number(m[1]);
}

/** `Key=value` lines of a unit file's section, in order. */
function directives(unit: string, section: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  for (const line of unit.split('\n')) {
    const s = /^\[(\w+)\]$/.exec(line.trim());
    if (s) current = s[1]!;
    else if (current === section && /^\w+=/.test(line)) {
      const eq = line.indexOf('=');
      out.push([line.slice(0, eq), line.slice(eq + 1)]);
    }
  }
  return out;
}

describe('install, units and exabgp.conf', { timeout: 120_000 }, () => {
  let root = '';
  let bare = '';
  let installOut = '';

  before(() => {
    requireBinary('systemd-analyze', 'systemd');
    requireBinary('systemd-sysusers', 'systemd');
    assert.ok(existsSync(CLI_JS), 'build first (npm run build)');
    root = mkdtempSync(join(tmpdir(), 'adns-root-'));
    bare = mkdtempSync(join(tmpdir(), 'adns-bare-'));
    baseSystem(root);
    baseSystem(bare);
    const r = run('bash', [INSTALL, '--root', root]);
    installOut = r.out + r.err;
    assert.equal(r.code, 0, installOut);
  });

  after(() => {
    for (const d of [root, bare]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('installs the binary, the user, the config and zones directories, the units', () => {
    const bin = join(root, 'usr', 'bin', 'anycast-dns');
    assert.ok(statSync(bin).mode & 0o111, 'executable');
    const version = run(bin, ['--version']);
    assert.equal(version.code, 0, version.err);
    assert.match(version.out, /^\d+\.\d+\.\d+/);
    // The flags serve wants (src/server/node-flags.ts) come before the script, where node reads its own.
    assert.match(readFileSync(bin, 'utf8'), new RegExp(`^exec \\S+/node ${SERVE_NODE_FLAGS.join(' ')} \\S+/dist/src/cli\\.js "\\$@"$`, 'm'));
    assert.match(readFileSync(join(root, 'etc', 'passwd'), 'utf8'), /^anycast-dns:x:\d+:\d+:.*:\/usr\/sbin\/nologin$/m);
    const gid = /^anycast-dns:x:(\d+):/m.exec(readFileSync(join(root, 'etc', 'group'), 'utf8'))?.[1];
    assert.ok(gid);
    assert.ok(statSync(join(root, 'etc', 'anycast-dns', 'zones')).isDirectory());
    const conf = statSync(join(root, 'etc', 'anycast-dns', 'anycast-dns.yaml'));
    assert.equal(conf.mode & 0o777, 0o640);
    assert.equal(conf.gid, Number(gid));
    assert.match(readFileSync(join(root, 'etc', 'anycast-dns', 'anycast-dns.yaml'), 'utf8'), /^zones: \/etc\/anycast-dns\/zones$/m);
    for (const u of UNITS) assert.equal(readFileSync(join(root, 'etc', 'systemd', 'system', u), 'utf8'), readFileSync(join(REPO_ROOT, 'deploy', u), 'utf8'));
    assert.ok(existsSync(join(root, 'usr', 'share', 'doc', 'anycast-dns', 'deploy', 'README.md')));
    for (const page of ['man1/anycast-dns.1', 'man5/anycast-dns.yaml.5']) {
      const at = join(root, 'usr', 'share', 'man', page);
      assert.ok(existsSync(at) || existsSync(`${at}.gz`), `${page} installed`);
    }
  });

  it('keeps an edited config when run again', () => {
    const file = join(root, 'etc', 'anycast-dns', 'anycast-dns.yaml');
    writeFileSync(file, readFileSync(file, 'utf8') + '# edited\n');
    const r = run('bash', [INSTALL, '--root', root]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /anycast-dns\.yaml exists, kept/);
    assert.match(readFileSync(file, 'utf8'), /# edited\n$/);
  });

  it('passes systemd-analyze verify after the install, and fails it without', () => {
    // verify runs `man` for the units' Documentation=man:… pages, on the host: MANPATH points it at
    // the pages the install put in the scratch root.
    const ok = run('systemd-analyze', ['verify', `--root=${root}`, ...UNITS], tmpdir(), { ...process.env, MANPATH: join(root, 'usr', 'share', 'man') });
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.equal((ok.out + ok.err).trim(), '', 'no warnings');
    // The same check on a root without the install: it does look at the paths.
    mkdirSync(join(bare, 'etc', 'systemd', 'system'), { recursive: true });
    for (const u of UNITS) copyFileSync(join(REPO_ROOT, 'deploy', u), join(bare, 'etc', 'systemd', 'system', u));
    const missing = run('systemd-analyze', ['verify', `--root=${bare}`, ...UNITS], tmpdir(), { ...process.env, MANPATH: join(bare, 'usr', 'share', 'man') });
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /\/usr\/bin\/anycast-dns is not executable/);
    assert.match(missing.err, /Command 'man anycast-dns\(1\)' failed/);
  });

  it('is no more exposed than Debian\'s nsd.service, and ExaBGP than Debian\'s exabgp.service (systemd-analyze security)', () => {
    const ours = exposure([`--root=${root}`, 'anycast-dns.service']);
    const nsd = existsSync('/lib/systemd/system/nsd.service') ? exposure(['/lib/systemd/system/nsd.service']) : 5.0;
    assert.ok(ours <= nsd, `anycast-dns.service ${ours} > nsd.service ${nsd}`);
    // And ExaBGP's unit no more than Debian's own exabgp.service.
    const exabgp = exposure([`--root=${root}`, 'exabgp.service']);
    const debian = existsSync('/lib/systemd/system/exabgp.service') ? exposure(['/lib/systemd/system/exabgp.service']) : 7.0;
    assert.ok(exabgp <= debian, `exabgp.service ${exabgp} > Debian's ${debian}`);
  });

  it('restarts always, reloads with SIGHUP, checks the config first, and keeps V8\'s JIT working', () => {
    const svc = directives(readFileSync(join(REPO_ROOT, 'deploy', 'anycast-dns.service'), 'utf8'), 'Service');
    const get = (k: string) => svc.filter(([key]) => key === k).map(([, v]) => v);
    assert.deepEqual(get('Restart'), ['always']);
    assert.deepEqual(get('ExecReload'), ['/bin/kill -HUP $MAINPID']);
    assert.deepEqual(get('ExecStartPre'), ['/usr/bin/anycast-dns check-config --config /etc/anycast-dns/anycast-dns.yaml']);
    assert.deepEqual(get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(get('MemoryDenyWriteExecute'), []);
    assert.deepEqual(get('PrivateUsers'), []);
  });

  it('orders ExaBGP after the server without binding it to the server', () => {
    const unit = directives(readFileSync(join(REPO_ROOT, 'deploy', 'exabgp.service'), 'utf8'), 'Unit');
    const names = (k: string) => unit.filter(([key]) => key === k).flatMap(([, v]) => v.split(/\s+/));
    assert.ok(names('After').includes('anycast-dns.service'));
    for (const k of ['BindsTo', 'PartOf', 'Requires', 'Requisite']) assert.ok(!names(k).includes('anycast-dns.service'), `${k}=anycast-dns.service`);
    const svc = directives(readFileSync(join(REPO_ROOT, 'deploy', 'exabgp.service'), 'utf8'), 'Service');
    assert.deepEqual(svc.filter(([k]) => k === 'Restart').map(([, v]) => v), ['always']);
  });

  it('exabgp --test accepts the shipped exabgp.conf with the installed binary', () => {
    const shipped = readFileSync(join(REPO_ROOT, 'deploy', 'exabgp.conf'), 'utf8');
    assert.equal(readFileSync(join(root, 'etc', 'anycast-dns', 'exabgp.conf'), 'utf8'), shipped);
    // ExaBGP looks the program up on this host's file system: point it at the scratch root's binary.
    const inRoot = shipped.replaceAll('run /usr/bin/anycast-dns ', `run ${root}/usr/bin/anycast-dns `);
    assert.notEqual(inRoot, shipped);
    const conf = join(root, 'exabgp-test.conf');
    writeFileSync(conf, inRoot);
    const ok = run('exabgp', ['--test', conf], root);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.doesNotMatch(ok.out + ok.err, /syntax error|can not locate/);
    // Without the binary, the same check fails as it did before the install existed.
    writeFileSync(conf, shipped.replaceAll('run /usr/bin/anycast-dns ', `run ${bare}/usr/bin/anycast-dns `));
    const missing = run('exabgp', ['--test', conf], root);
    assert.notEqual(missing.code, 0);
    assert.match(missing.out + missing.err, /can not locate/);
  });
});

describe('anycast-dns check-config', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'adns-checkconf-'));
    mkdirSync(join(dir, 'zones'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = (yaml: string) => {
    const file = join(dir, 'anycast-dns.yaml');
    writeFileSync(file, yaml);
    return { file, ...run(process.execPath, [CLI_JS, 'check-config', '--config', file]) };
  };
  const health = 'health:\n  local_as: 65001\n  metrics_listen: "127.0.0.1:9154"\n  routes:\n    - prefix: 198.18.53.0/24\n';

  it('accepts a good config with a health section, exit 0', () => {
    const r = check(`identity: pop1\nzones: zones\nlisten: ["127.0.0.1:53"]\n${health}`);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${r.file}: ok\n`);
  });

  it('accepts the example config shipped in config/', () => {
    const r = run(process.execPath, [CLI_JS, 'check-config', '--config', join(REPO_ROOT, 'config', 'anycast-dns.yaml')]);
    assert.equal(r.code, 0, r.err);
  });

  const bad: { name: string; yaml: string; error: RegExp }[] = [
    { name: 'an unknown key', yaml: 'zones: zones\ntcp: { idle_timeoutt: 5 }\n', error: /config: tcp\.idle_timeoutt: unknown key/ },
    { name: 'a bad value', yaml: 'zones: zones\nlisten: ["localhost:53"]\n', error: /config: listen\[0\]: / },
    { name: 'a bad health value', yaml: `zones: zones\n${health.replace('65001', '-1')}`, error: /config: health\.local_as: / },
    { name: 'a missing zones directory', yaml: 'zones: nowhere\n', error: /config: zones: cannot read the zones directory/ },
    { name: 'broken YAML', yaml: 'zones: [\n', error: /not valid YAML/ },
  ];
  for (const b of bad) {
    it(`rejects ${b.name}, naming the key, exit 1`, () => {
      const r = check(b.yaml);
      assert.equal(r.code, 1, r.out + r.err);
      assert.match(r.err, b.error);
      assert.equal(r.out, '');
    });
  }
});
