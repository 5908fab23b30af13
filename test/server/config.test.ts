// The server's config: defaults, flags over the file, and errors that name the key — both from
// loadServerConfig and from `anycast-dns serve` itself (non-zero exit, message on stderr).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { BUNDLED_ZONES_DIR, loadServerConfig, parseListenAddress } from '../../src/ops/config.js';
import { CLI_JS, REPO_ROOT } from '../helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string): string {
  const p = join(dir, `c${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

describe('loadServerConfig', () => {
  it('defaults: bundled zones on 127.0.0.1:5300 and [::1]:5300, host name as identity', () => {
    const c = loadServerConfig(null);
    assert.deepEqual(c.listen, [
      { host: '127.0.0.1', port: 5300, family: 4 },
      { host: '::1', port: 5300, family: 6 },
    ]);
    assert.equal(c.zones, BUNDLED_ZONES_DIR);
    assert.equal(c.zones, join(REPO_ROOT, 'zones'));
    assert.equal(c.identity, hostname());
    assert.equal(c.ednsUdpSize, 1232);
    assert.equal(c.udpIo, 'auto');
    assert.equal(c.responseCacheBytes, 64 * 1024 * 1024);
    assert.deepEqual(c.tcp, {
      idleTimeoutMs: 10000,
      ioTimeoutMs: 2000,
      maxConnections: 1000,
      maxConnectionsPerAddress: 20,
      maxConnectionsPerPrefix: 100,
      newConnectionsPerSecondPerPrefix: 0,
      ipv4PrefixLength: 24,
      ipv6PrefixLength: 56,
    });
    assert.equal(c.workers, 1);
    assert.deepEqual(c.management.listen, { host: '127.0.0.1', port: 9153, family: 4 });
    assert.match(c.version ?? '', /^anycast-dns /);
  });

  it('management.listen: null turns the management endpoint off; --management replaces the file\'s', () => {
    assert.equal(loadServerConfig(file('management: { listen: null }\n')).management.listen, null);
    assert.equal(loadServerConfig(file('management:\n  listen: ~\n')).management.listen, null);
    assert.deepEqual(loadServerConfig(file('management: { listen: null }\n'), { management: '[::1]:0' }).management.listen, { host: '::1', port: 0, family: 6 });
    assert.throws(() => loadServerConfig(null, { management: '9153' }), /--management: "9153" is not ADDR:PORT/);
  });

  it('reads every key; zones is relative to the file; flags override the file', () => {
    const p = file(
      [
        'identity: pop-a',
        'listen: ["192.0.2.1:53", "[2001:db8::1]:53"]',
        'zones: z',
        'version: hidden',
        'edns_udp_size: 4096',
        'response_cache_mb: 0',
        'tcp: { idle_timeout: 2500, io_timeout: 500, max_connections: 7, max_connections_per_address: 0, max_connections_per_prefix: 5, new_connections_per_second_per_prefix: 9, ipv4_prefix_length: 22, ipv6_prefix_length: 48 }',
        'log_level: warn',
        'workers: auto',
        'management: { listen: "[::1]:9153" }',
        'health: { anything: the sidecar checks this }',
      ].join('\n'),
    );
    const c = loadServerConfig(p);
    assert.equal(c.identity, 'pop-a');
    assert.deepEqual(c.listen.map((a) => [a.host, a.port, a.family]), [['192.0.2.1', 53, 4], ['2001:db8::1', 53, 6]]);
    assert.equal(c.zones, join(dir, 'z'));
    assert.equal(c.version, null);
    assert.equal(c.ednsUdpSize, 4096);
    assert.equal(c.responseCacheBytes, 0);
    assert.deepEqual(c.tcp, {
      idleTimeoutMs: 2500,
      ioTimeoutMs: 500,
      maxConnections: 7,
      maxConnectionsPerAddress: 0,
      maxConnectionsPerPrefix: 5,
      newConnectionsPerSecondPerPrefix: 9,
      ipv4PrefixLength: 22,
      ipv6PrefixLength: 48,
    });
    assert.equal(c.logLevel, 'warn');
    assert.equal(c.workers, availableParallelism());
    assert.deepEqual(c.management.listen, { host: '::1', port: 9153, family: 6 });

    const o = loadServerConfig(p, { identity: 'pop-b', listen: ['127.0.0.2:5353'], zones: 'other', logLevel: 'debug' });
    assert.equal(o.identity, 'pop-b');
    assert.deepEqual(o.listen, [{ host: '127.0.0.2', port: 5353, family: 4 }]);
    assert.equal(o.zones, join(process.cwd(), 'other'));
    assert.equal(o.logLevel, 'debug');
  });

  it('reads nsid, metrics.pop_label, dnstap.output and the level name warning; defaults: NSID on, pop label on, dnstap off', () => {
    const d = loadServerConfig(null);
    assert.deepEqual([d.nsid, d.metrics.popLabel, d.dnstap], [true, true, null]);
    const c = loadServerConfig(file(['nsid: false', 'metrics: { pop_label: false }', 'dnstap: { output: "file:tap/out.fstrm" }', 'log_level: warning'].join('\n')));
    assert.deepEqual([c.nsid, c.metrics.popLabel, c.logLevel], [false, false, 'warn']);
    assert.deepEqual(c.dnstap, { output: { kind: 'file', path: join(dir, 'tap/out.fstrm') } });
    assert.deepEqual(loadServerConfig(file('dnstap: { output: "unix:/run/dnstap.sock" }')).dnstap, { output: { kind: 'unix', path: '/run/dnstap.sock' } });
    assert.equal(loadServerConfig(null, { logLevel: 'warning' }).logLevel, 'warn');
  });

  it('an empty file means all defaults', () => {
    assert.equal(loadServerConfig(file('')).ednsUdpSize, 1232);
  });

  it('rate limiting is on by default; the rrl and cookies sections are read', () => {
    const d = loadServerConfig(null);
    assert.deepEqual(
      { ...d.rrl, exempt: d.rrl.exempt.length },
      { responsesPerSecond: 200, window: 15, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: 0, logOnly: false, tableSize: 393_241 },
    );
    assert.deepEqual(d.cookies, { secret: null, secretPrevious: null });
    const c = loadServerConfig(
      file(
        [
          'rrl: { responses_per_second: 0, window: 5, slip: 0, ipv4_prefix_length: 32, ipv6_prefix_length: 64, exempt: ["192.0.2.0/24", "2001:db8::/32"], log_only: true, table_size: 2048 }',
          'cookies: { secret: "0123456789ABCDEF0123456789abcdef", secret_previous: "ffeeddccbbaa99887766554433221100" }',
        ].join('\n'),
      ),
    );
    assert.equal(c.rrl.responsesPerSecond, 0);
    assert.equal(c.rrl.exempt.length, 2);
    assert.equal(c.rrl.exempt[1]!.bits, 32);
    assert.deepEqual([c.rrl.window, c.rrl.slip, c.rrl.ipv4PrefixLength, c.rrl.ipv6PrefixLength, c.rrl.logOnly, c.rrl.tableSize], [5, 0, 32, 64, true, 2048]);
    assert.equal(c.cookies.secret!.toString('hex'), '0123456789abcdef0123456789abcdef');
    assert.equal(c.cookies.secretPrevious!.toString('hex'), 'ffeeddccbbaa99887766554433221100');
  });

  const bad: [string, string][] = [
    ['bogus: 1', 'config: bogus: unknown key'],
    ['tcp: { idle_timeout: soon }', 'config: tcp.idle_timeout: expected an integer'],
    ['tcp: { idle_timeout: 1000, linger: 3 }', 'config: tcp.linger: unknown key'],
    ['tcp: { io_timeout: 0 }', 'config: tcp.io_timeout: 0 is out of range 100..60000'],
    ['tcp: { max_connections_per_address: -1 }', 'config: tcp.max_connections_per_address: -1 is out of range'],
    ['tcp: { new_connections_per_second_per_prefix: 2.5 }', 'config: tcp.new_connections_per_second_per_prefix: expected an integer'],
    ['edns_udp_size: 100', 'config: edns_udp_size: 100 is out of range 512..4096'],
    ['response_cache_mb: -1', 'config: response_cache_mb: -1 is out of range 0..4096'],
    ['listen: ["127.0.0.1"]', 'config: listen[0]: "127.0.0.1" is not ADDR:PORT'],
    ['listen: ["::1:53"]', 'config: listen[0]:'],
    ['listen: ["example.com:53"]', 'config: listen[0]: "example.com" is not an IP address'],
    ['listen: ["127.0.0.1:70000"]', 'config: listen[0]: port 70000 is out of range'],
    ['listen: []', 'config: listen: needs at least one address'],
    ['workers: many', 'config: workers: expected an integer or "auto"'],
    ['workers: 0', 'config: workers: 0 is out of range'],
    ['log_level: loud', 'config: log_level: "loud" is not one of'],
    ['udp_io: recvmmsg', 'config: udp_io: "recvmmsg" is not one of auto, native, dgram'],
    ['nsid: 0', 'config: nsid: expected'],
    ['metrics: { pop_label: "no" }', 'config: metrics.pop_label: expected'],
    ['metrics: { labels: 1 }', 'config: metrics.labels: unknown key'],
    ['dnstap: { output: "tcp:127.0.0.1:6000" }', 'config: dnstap.output: "tcp:127.0.0.1:6000" is not file:PATH or unix:PATH'],
    ['management: { listen: 9153 }', 'config: management.listen:'],
    ['management: 3', 'config: management: expected a mapping'],
    ['rrl: { slip: 11 }', 'config: rrl.slip: 11 is out of range 0..10'],
    ['rrl: { responses_per_second: -1 }', 'config: rrl.responses_per_second: -1 is out of range'],
    ['rrl: { ipv6_prefix_length: 129 }', 'config: rrl.ipv6_prefix_length: 129 is out of range 0..128'],
    ['tcp: { ipv4_prefix_length: 33 }', 'config: tcp.ipv4_prefix_length: 33 is out of range 0..32'],
    ['rrl: { exempt: ["192.0.2.0/33"] }', 'config: rrl.exempt[0]: "192.0.2.0/33" is not an address'],
    ['rrl: { table_size: 10 }', 'config: rrl.table_size: 10 is out of range'],
    ['rrl: { rate: 5 }', 'config: rrl.rate: unknown key'],
    ['zone_sync: { signature_warning_days: -1 }', 'config: zone_sync.signature_warning_days: -1 is out of range 0..3650'],
    ['cookies: { secret: "abc" }', 'config: cookies.secret: expected 32 hex digits'],
    ['cookies: { secret_previous: "0123456789abcdef0123456789abcdef" }', 'config: cookies.secret_previous: needs cookies.secret too'],
    ['tsig_keys: [{ name: k, algorithm: hmac-md5, secret: "AAAA" }]', 'config: tsig_keys[0].name: unknown algorithm "hmac-md5"'],
    ['tsig_keys: [{ name: k, secret: "not base64" }]', 'config: tsig_keys[0].name: the secret is not base64'],
    ['tsig_keys: [{ name: k, secret: "AAAA" }, { name: K., secret: "AAAA" }]', 'config: tsig_keys[1].name: key "k." is defined twice'],
    ['tsig_keys: [{ secret: "AAAA" }]', 'config: tsig_keys[0].name: a key needs a name (or a file)'],
    ['tsig_keys: [{ file: absent.key }]', 'config: tsig_keys[0].file: cannot read'],
    ['tsig_keys: [{ name: k, colour: red }]', 'config: tsig_keys[0].colour: unknown key'],
    ['transfer: { allow: [{ key: nokey }] }', 'config: transfer.allow[0].key: no key "nokey" in tsig_keys'],
    ['transfer: { allow: [{ from: 192.0.2.0/33 }] }', 'config: transfer.allow[0].from: "192.0.2.0/33" is not an address'],
    ['transfer: { notify: [{ to: "localhost:53" }] }', 'config: transfer.notify[0].to: "localhost" is not an IP address'],
    ['transfer: { notify: [{ key: k }] }', 'config: transfer.notify[0].to: a secondary needs an address'],
    ['transfer: { allow: [{}] }', 'config: transfer.allow[0].from: a rule needs an address or prefix (from), a key, or both'],
    ['secondary: { zones: [{ zone: a.test, primaries: [{ address: 192.0.2.1 }] }] }', 'config: secondary.state_dir: secondary zones need a directory'],
    ['secondary: { state_dir: s, zones: [{ zone: a.test }] }', 'config: secondary.zones[0].primaries: a.test. needs at least one primary'],
    ['secondary: { state_dir: s, zones: [{ primaries: [{ address: 192.0.2.1 }] }] }', 'config: secondary.zones[0].zone: a secondary zone needs its name'],
    ['secondary: { state_dir: s, zones: [{ zone: a.test, primaries: [{ address: "primary:53" }] }] }', 'config: secondary.zones[0].primaries[0].address: "primary" is not an IP address'],
    ['secondary: { state_dir: s, zones: [{ zone: a.test, primaries: [{ address: 192.0.2.1, key: nokey }] }] }', 'config: secondary.zones[0].primaries[0].key: no key "nokey" in tsig_keys'],
    ['zone_files: { a.test: a.zone }\nsecondary: { state_dir: s, zones: [{ zone: A.test., primaries: [{ address: 192.0.2.1 }] }] }', 'config: secondary.zones[0].zone: a.test. is also in zone_files'],
    ['secondary: { state_dir: s, zones: [{ zone: a.test, primaries: [{ address: 192.0.2.1 }] }, { zone: a.test., primaries: [{ address: 192.0.2.1 }] }] }', 'config: secondary.zones[1].zone: a.test. is listed twice'],
    ['secondary: { state_dir: s, refresh_min: 100, refresh_max: 10 }', 'config: secondary.refresh_min: 100 is above refresh_max (10)'],
  ];
  for (const [text, message] of bad) {
    it(`rejects ${JSON.stringify(text)} naming the key`, () => {
      assert.ok(configError(() => loadServerConfig(file(text))).startsWith(message), message);
    });
  }

  it('tsig_keys: keys given inline and in a BIND key file; transfer.allow names them', () => {
    const keyFile = join(dir, 'xfr.key');
    writeFileSync(keyFile, 'key "xfr-key" {\n\talgorithm hmac-sha512;\n\tsecret "AAAA";\n};\n');
    const cfg = loadServerConfig(file(`tsig_keys: [{ name: Inline., secret: "AAAA" }, { file: ${keyFile} }]\ntransfer: { allow: [{ key: xfr-key, from: 192.0.2.0/24 }, { from: "::1" }] }`));
    assert.deepEqual([...cfg.tsigKeys.values()].map((k) => [k.name, k.algorithm]), [['inline.', 'hmac-sha256'], ['xfr-key.', 'hmac-sha512']]);
    assert.equal(cfg.transfer.allow.length, 2);
    assert.equal(cfg.transfer.allow[0]!.key, cfg.tsigKeys.get([...cfg.tsigKeys.keys()][1]!)!.key);
    assert.equal(cfg.transfer.allow[1]!.key, null);
  });

  it('secondary: port 53 unless given, IPv6 too; the state directory relative to the config; never the zones directory', () => {
    const cfg = loadServerConfig(
      file('zones: z\nsecondary: { state_dir: s, zones: [{ zone: A.test, primaries: [{ address: 192.0.2.1 }, { address: "2001:db8::1" }, { address: "[2001:db8::2]:5353" }] }] }'),
    );
    assert.equal(cfg.secondary!.stateDir, join(dir, 's'));
    assert.equal(cfg.secondary!.zones[0]!.origin, 'a.test.');
    assert.deepEqual(
      cfg.secondary!.zones[0]!.primaries.map((p) => [p.host, p.port]),
      [
        ['192.0.2.1', 53],
        ['2001:db8::1', 53],
        ['2001:db8::2', 5353],
      ],
    );
    assert.equal(configError(() => loadServerConfig(file('zones: z\nsecondary: { state_dir: z, zones: [{ zone: a.test, primaries: [{ address: 192.0.2.1 }] }] }'))).startsWith('config: secondary.state_dir: '), true);
    assert.equal(loadServerConfig(file('zones: z')).secondary, null);
  });

  it('a bad key file is named with its line', () => {
    const keyFile = join(dir, 'bad.key');
    writeFileSync(keyFile, 'key "x" {\n\talgorithm hmac-sha256;\n};\n');
    assert.equal(configError(() => loadServerConfig(file(`tsig_keys: [{ file: ${keyFile} }]`))), `config: tsig_keys[0].file: ${keyFile}:1: key "x" has no secret`);
  });

  it('a file that is not a mapping is rejected, naming the file', () => {
    const p = file('- a list');
    assert.equal(configError(() => loadServerConfig(p)), `config: ${p}: expected a mapping at the top`);
  });

  it('bad flags are named as flags', () => {
    assert.match(configError(() => loadServerConfig(null, { listen: ['nowhere'] })), /^config: --listen: /);
    assert.match(configError(() => loadServerConfig(null, { logLevel: 'loud' })), /^config: --log-level: /);
  });

  it('a missing file is an error naming the file', () => {
    assert.match(configError(() => loadServerConfig(join(dir, 'absent.yaml'))), /absent\.yaml: cannot read/);
  });

  it('parseListenAddress takes [v6]:port and v4:port only', () => {
    assert.deepEqual(parseListenAddress('[::]:53', 'k'), { host: '::', port: 53, family: 6 });
    assert.deepEqual(parseListenAddress('0.0.0.0:53', 'k'), { host: '0.0.0.0', port: 53, family: 4 });
    assert.throws(() => parseListenAddress('[127.0.0.1]:x', 'k'), ConfigError);
  });
});

describe('anycast-dns serve with a bad config', () => {
  function serve(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [CLI_JS, 'serve', ...args], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('an unknown key stops start-up with exit 1 and names the key', () => {
    const r = serve(['--config', file('listen: ["127.0.0.1:1"]\ntcp:\n  idle_timout: 5\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config: tcp\.idle_timout: unknown key/);
  });

  it('a bad value stops start-up with exit 1 and names the key', () => {
    const r = serve(['--config', file('tcp:\n  idle_timeout: "ten seconds"\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config: tcp\.idle_timeout: expected an integer/);
  });

  it('a missing zones directory names the key, and nothing is opened before it', () => {
    const r = serve(['--zones', join(dir, 'no-such-dir'), '--listen', '127.0.0.1:1', '--management', '127.0.0.1:0']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config: zones: .*no-such-dir is not a directory/);
    assert.doesNotMatch(r.stdout + r.stderr, /management listening/);
  });

  it('an unknown flag is a usage error (exit 2)', () => {
    const r = serve(['--frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: anycast-dns serve/);
  });
});
