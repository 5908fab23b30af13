// `anycast-dns serve` as a child process, asked by the real `dig` and `kdig`: UDP and TCP over IPv4
// and IPv6, pipelined TCP, truncation and dig's TCP retry, NSID, CHAOS identity, start-up logs,
// a zone that fails to load, and the management endpoints.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { logRecords, managementUrl, seriesValues } from '../helpers/management.js';
import { requireBinary, startAnycastDns, type RunningPeer } from '../helpers/peers.js';

const run = promisify(execFile);
const IDENTITY = 'pop-test-1';
const BIG_TXT_RECORDS = 40;

let server: RunningPeer;
let management = '';
const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-serve-test-'));

async function dig(...args: string[]): Promise<string> {
  const { stdout } = await run(requireBinary('dig', 'bind9-dnsutils'), ['-p', String(server.port), '+norec', '+time=2', '+tries=1', ...args], { timeout: 10_000 });
  return stdout;
}

async function kdig(...args: string[]): Promise<string> {
  const { stdout } = await run(requireBinary('kdig', 'knot-dnsutils'), ['-p', String(server.port), '+norec', '+time=2', '+retry=0', ...args], { timeout: 10_000 });
  return stdout;
}

async function http(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${management}${path}`);
  return { status: res.status, body: await res.text() };
}

async function metric(name: string, labels: string): Promise<number> {
  return seriesValues((await http('/metrics')).body, name, labels)[0] ?? 0;
}

before(async () => {
  const zones = join(dir, 'zones');
  mkdirSync(zones);
  copyFileSync(join(BUNDLED_ZONES_DIR, 'example.com.zone'), join(zones, 'example.com.zone'));
  copyFileSync(join(BUNDLED_ZONES_DIR, '2.0.192.in-addr.arpa.zone'), join(zones, '2.0.192.in-addr.arpa.zone'));
  const big = ['$TTL 300', '@ SOA ns.big.test. admin.big.test. 7 3600 600 86400 300', '@ NS ns', 'ns A 192.0.2.9'];
  for (let i = 0; i < BIG_TXT_RECORDS; i++) big.push(`@ TXT "record ${String(i).padStart(2, '0')} ${'x'.repeat(60)}"`);
  writeFileSync(join(zones, 'big.test.zone'), big.join('\n') + '\n');
  writeFileSync(join(zones, 'broken.test.zone'), '$TTL 300\n@ SOA ns.broken.test. admin.broken.test. 1 2 3 4 5\n@ NS ns\nns A 300.1.2.3\n');
  server = await startAnycastDns(
    [
      { origin: 'example.com', file: join(zones, 'example.com.zone') },
      { origin: '2.0.192.in-addr.arpa', file: join(zones, '2.0.192.in-addr.arpa.zone') },
      { origin: 'big.test', file: join(zones, 'big.test.zone') },
    ],
    { identity: IDENTITY, extraConfig: { zones, version: 'test-version', management: { listen: '127.0.0.1:0' } } },
  );
  management = managementUrl(server);
});

after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('anycast-dns serve', () => {
  it('logs each zone loaded with zone, serial and records, the broken zone with file:line errors, and the listeners', () => {
    const lines = logRecords(server);
    const loaded = lines.filter((l) => l.msg === 'zone loaded');
    assert.deepEqual(loaded.map((l) => l.zone).sort(), ['2.0.192.in-addr.arpa.', 'big.test.', 'example.com.']);
    const ex = loaded.find((l) => l.zone === 'example.com.')!;
    assert.equal(ex.serial, 2026112501);
    assert.ok(Number(ex.records) > 20);
    assert.ok(lines.every((l) => l.pop === IDENTITY), 'every line carries the POP identity');
    const failed = lines.filter((l) => l.msg === 'zone not loaded');
    assert.equal(failed.length, 1);
    assert.match(String((failed[0]!.errors as string[])[0]), /broken\.test\.zone:4: /);
    const listening = lines.filter((l) => l.msg === 'listening').map((l) => l.listen);
    assert.deepEqual(listening, [`127.0.0.1:${server.port}`, `[::1]:${server.port}`]);
  });

  for (const [label, args] of [
    ['UDP over IPv4', ['@127.0.0.1']],
    ['TCP over IPv4', ['@127.0.0.1', '+tcp']],
    ['UDP over IPv6', ['@::1']],
    ['TCP over IPv6', ['@::1', '+tcp']],
  ] as const) {
    it(`answers dig over ${label}`, async () => {
      const out = await dig(...args, 'www.example.com', 'A');
      assert.match(out, /status: NOERROR/);
      assert.match(out, /flags: qr aa;/);
      assert.match(out, /^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$/m);
    });
  }

  it('answers a zone that loaded while another failed, and refuses the failed one', async () => {
    assert.match(await dig('@127.0.0.1', '80.2.0.192.in-addr.arpa', 'PTR'), /status: NOERROR/);
    assert.match(await dig('@127.0.0.1', 'broken.test', 'SOA'), /status: REFUSED/);
  });

  it('answers several kdig queries over one kept-open TCP connection', async () => {
    const opened = await metric('anycast_dns_tcp_connections_total', 'event="opened"');
    const out = await kdig('@127.0.0.1', '+tcp', '+keepopen', 'www.example.com', 'A', 'mail.example.com', 'AAAA', 'example.com', 'MX', 'alias.example.com', 'A');
    assert.match(out, /^www\.example\.com\.\s+3600\s+IN\s+A\s+192\.0\.2\.80$/m);
    assert.match(out, /^mail\.example\.com\.\s+3600\s+IN\s+AAAA\s+2001:db8::25$/m);
    assert.match(out, /^example\.com\.\s+3600\s+IN\s+MX\s+10 mail\.example\.com\.$/m);
    assert.match(out, /^alias\.example\.com\.\s+3600\s+IN\s+CNAME\s+ftp\.example\.com\.$/m);
    assert.equal((await metric('anycast_dns_tcp_connections_total', 'event="opened"')) - opened, 1, 'one connection for all four');
  });

  it('truncates a UDP answer that does not fit, and dig retries over TCP and gets it all', async () => {
    const udpOnly = await dig('@127.0.0.1', '+ignore', '+bufsize=1232', 'big.test', 'TXT');
    assert.match(udpOnly, /flags: qr aa tc;/);
    const out = await dig('@127.0.0.1', '+bufsize=1232', 'big.test', 'TXT');
    assert.match(out, /Truncated, retrying in TCP mode/);
    assert.equal(out.match(/^big\.test\.\s+300\s+IN\s+TXT\s+"record/gm)?.length, BIG_TXT_RECORDS);
    assert.ok((await metric('anycast_dns_truncated_responses_total', 'transport="udp"')) >= 2);
  });

  it('returns the POP identity as NSID', async () => {
    const out = await dig('@127.0.0.1', '+nsid', 'example.com', 'SOA');
    assert.match(out, new RegExp(`; NSID: .*\\("${IDENTITY}"\\)`));
  });

  it('answers CH TXT id.server, hostname.bind and version.bind', async () => {
    assert.equal((await dig('@127.0.0.1', '+short', '-c', 'CH', '-t', 'TXT', 'id.server')).trim(), `"${IDENTITY}"`);
    assert.equal((await dig('@::1', '+short', '-c', 'CH', '-t', 'TXT', 'hostname.bind')).trim(), `"${IDENTITY}"`);
    assert.equal((await kdig('@127.0.0.1', '+short', '-c', 'CH', '-t', 'TXT', 'version.bind')).trim(), '"test-version"');
  });

  it('serves /metrics with the pop label on every sample, counting queries and zones', async () => {
    const { status, body } = await http('/metrics');
    assert.equal(status, 200);
    const samples = body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(samples.length > 20);
    for (const s of samples) assert.match(s, new RegExp(`pop="${IDENTITY}"`), s);
    assert.ok((await metric('anycast_dns_queries_total', 'transport="udp",qtype="A"')) >= 1);
    assert.ok((await metric('anycast_dns_queries_total', 'transport="tcp",qtype="A"')) >= 1);
    assert.ok((await metric('anycast_dns_responses_total', 'rcode="REFUSED"')) >= 1);
    assert.equal(await metric('anycast_dns_zone_serial', 'zone="example.com."'), 2026112501);
    assert.equal(await metric('anycast_dns_zones_loaded', `pop="${IDENTITY}"`), 3);
    assert.equal(await metric('anycast_dns_zone_reloads_total', 'zone="broken.test.",result="failure"'), 1);
  });

  it('serves /ready (200: zones loaded, listeners up) and /live', async () => {
    assert.deepEqual(await http('/ready'), { status: 200, body: 'ready\n' });
    assert.equal((await http('/live')).status, 200);
    assert.equal((await http('/nope')).status, 404);
  });

  it('takes no POST /reload from a web page (a request with Origin): 403, nothing rescanned', async () => {
    const res = await fetch(`${management}/reload?force=1`, { method: 'POST', headers: { origin: 'http://attacker.example' } });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /Origin/);
    assert.equal(logRecords(server).filter((l) => l.msg === 'reload requested').length, 0);
  });
});
