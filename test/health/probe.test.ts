// Probes against real sockets on 127.0.0.1: NSD as the DNS server, a refused port, a silent port.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAnycastDns, startNsd, freePort, type RunningPeer } from '../helpers/peers.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait.js';
import { judgeFreshness, probeRound, ProbeCookies, readyAttempt, runCheck, tcpAttempt, udpAttempt, watchServer, zoneOrigins } from '../../src/health/probe.js';
import dnsPacket from 'dns-packet';
import { createServer as createTcpServer, type Socket as TcpSocket } from 'node:net';
import { healthConfigFrom } from '../../src/health/config.js';
import { judgeRound } from '../../src/health/state-machine.js';

describe('probes', () => {
  let nsd: RunningPeer;
  let silent: Socket;
  let silentPort: number;
  let http: Server;
  let httpPort: number;
  let ready = true;
  const dir = mkdtempSync(join(tmpdir(), 'health-probe-'));

  before(async () => {
    nsd = await startNsd([{ origin: 'example.com.', file: join(BUNDLED_ZONES_DIR, 'example.com.zone') }], { ipv6: false });
    // Bound but never answers: every query times out.
    silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    silentPort = silent.address().port;
    http = createServer((_req, res) => {
      res.statusCode = ready ? 200 : 503;
      res.end(ready ? 'ready' : 'not ready');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    httpPort = (http.address() as { port: number }).port;
  });

  after(async () => {
    await nsd?.stop();
    silent?.close();
    http?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const target = (port: number) => ({ host: '127.0.0.1', port });

  it('UDP: an authoritative answer is ok', async () => {
    const a = await udpAttempt(target(nsd.port), 'example.com.', 1000);
    assert.equal(a.outcome, 'ok', a.detail);
    assert.ok(a.ms > 0 && a.ms < 1000);
  });

  it('TCP: an authoritative answer is ok', async () => {
    const a = await tcpAttempt(target(nsd.port), 'example.com.', 1000);
    assert.equal(a.outcome, 'ok', a.detail);
  });

  it('a name the server is not authoritative for is a wrong answer (REFUSED), not a timeout', async () => {
    const a = await udpAttempt(target(nsd.port), 'example.org.', 1000);
    assert.equal(a.outcome, 'bad');
    assert.match(a.detail ?? '', /REFUSED/);
  });

  it('a name that does not exist is a wrong answer (NXDOMAIN)', async () => {
    const a = await udpAttempt(target(nsd.port), 'no-such-name.example.com.', 1000);
    assert.equal(a.outcome, 'bad');
    assert.match(a.detail ?? '', /NXDOMAIN/);
  });

  it('a refused UDP port fails at once (ICMP port unreachable), long before the timeout', async () => {
    const port = await freePort(false);
    const a = await udpAttempt(target(port), 'example.com.', 5000);
    assert.equal(a.outcome, 'refused');
    assert.ok(a.ms < 500, `took ${a.ms} ms`);
    const check = await runCheck('udp', 5, () => udpAttempt(target(port), 'example.com.', 5000));
    assert.equal(check.attempts.length, 1, 'no retry after a refusal');
  });

  it('a refused TCP port fails at once', async () => {
    const port = await freePort(false);
    const a = await tcpAttempt(target(port), 'example.com.', 5000);
    assert.equal(a.outcome, 'refused');
  });

  it('a silent server times out after the timeout, and is retried attempts times', async () => {
    const t0 = performance.now();
    const a = await udpAttempt(target(silentPort), 'example.com.', 150);
    assert.equal(a.outcome, 'timeout');
    assert.ok(performance.now() - t0 >= 140);
    const check = await runCheck('udp', 3, () => udpAttempt(target(silentPort), 'example.com.', 50));
    assert.deepEqual(check.attempts.map((x) => x.outcome), ['timeout', 'timeout', 'timeout']);
  });

  it('readiness endpoint: 2xx is ok, anything else is a failure', async () => {
    const url = `http://127.0.0.1:${httpPort}/ready`;
    assert.equal((await readyAttempt(url, 1000)).outcome, 'ok');
    ready = false;
    const a = await readyAttempt(url, 1000);
    ready = true;
    assert.equal(a.outcome, 'bad');
    assert.match(a.detail ?? '', /503/);
    const closed = await freePort(false);
    assert.equal((await readyAttempt(`http://127.0.0.1:${closed}/ready`, 1000)).outcome, 'refused');
  });

  it('finds the zones to probe as the server does: <origin>.zone files, not sync leftovers, or the configured list', () => {
    for (const f of ['placeholder', 'example.com.zone', '.example.net.zone.Xy12ab', 'example.org.zone.tmp', 'example.org.zone~']) writeFileSync(join(dir, f), '');
    assert.deepEqual(zoneOrigins(dir, null), ['example.com.']);
    assert.deepEqual(zoneOrigins(dir, new Map([['Example.NET', 'x.db']])), ['example.net.']);
  });

  it('freshness: stale when the newest zone version the server loaded is older than max_age', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    const at = (s: number): string => new Date(now - s * 1000).toISOString();
    assert.equal(judgeFreshness([{ loaded_at: at(10) }, { loaded_at: at(500) }], 60_000, now).outcome, 'ok');
    const stale = judgeFreshness([{ loaded_at: at(120) }, { loaded_at: null }], 60_000, now);
    assert.equal(stale.outcome, 'stale', 'old data alone degrades: its cause may be every POP\'s');
    assert.match(stale.detail ?? '', /loaded 120 s ago/);
    assert.equal(judgeFreshness([{ loaded_at: null }], 60_000, now).outcome, 'bad');
    assert.equal(judgeFreshness([], 60_000, now).outcome, 'bad');
  });

  it('a whole round: the SOA of every zone in the zones directory, over UDP and TCP', async () => {
    const cfg = (port: number) =>
      healthConfigFrom({
        zones: BUNDLED_ZONES_DIR,
        health: { server: `127.0.0.1:${port}`, names: ['example.com'], maintenance_file: join(dir, 'maint'), routes: [{ prefix: '198.18.53.0/24' }], local_as: 65001 },
      });
    const good = await probeRound(cfg(nsd.port));
    assert.deepEqual(good.checks.map((c) => c.check), ['udp example.com. SOA', 'tcp example.com. SOA']);
    assert.equal(judgeRound(good).healthy, true);
    assert.equal(good.maintenance, false);
    writeFileSync(join(dir, 'maint'), '');
    const dead = await probeRound(cfg(await freePort(false)));
    assert.equal(judgeRound(dead).healthy, false);
    assert.equal(dead.maintenance, true);
  });

  it('UDP probes carry a DNS cookie: rate limited for their /24 by a flood, they are still answered', async () => {
    const server = await startAnycastDns([{ origin: 'example.com.', file: join(BUNDLED_ZONES_DIR, 'example.com.zone') }], {
      ipv6: false,
      // Every limited response slips (TC=1, or BADCOOKIE with a server cookie): what is limited shows in each reply.
      extraConfig: { rrl: { responses_per_second: 1, slip: 1 } },
    });
    const flood = createSocket('udp4');
    try {
      const target = { host: '127.0.0.1', port: server.port };
      const q = dnsPacket.encode({ type: 'query', id: 7, flags: 0, questions: [{ type: 'SOA', name: 'example.com.', class: 'IN' }] });
      const replies: dnsPacket.DecodedPacket[] = [];
      flood.on('message', (m) => replies.push(dnsPacket.decode(m)));
      await new Promise<void>((r) => flood.bind(0, '127.0.0.1', () => r()));
      // The same /24, name and type as the probe's.
      for (let i = 0; i < 50; i++) flood.send(q, server.port, '127.0.0.1');
      await waitFor(() => replies.length === 50, { timeoutMs: 5000, what: 'a reply to each flood query' });
      assert.ok(replies.filter((r) => r.flag_tc).length >= 40, 'the flood is rate limited');
      const a = await runCheck('udp', 3, () => udpAttempt(target, 'example.com.', 1000, new ProbeCookies()));
      assert.equal(a.attempts.length, 1, JSON.stringify(a));
      assert.equal(a.attempts[0]!.outcome, 'ok', JSON.stringify(a));
      assert.equal(a.attempts[0]!.serial, 2026112501);
    } finally {
      flood.close();
      await server.stop();
    }
  });

  it('the watch: told at once when the server closes its connection (it died), never after close()', async () => {
    const conns: TcpSocket[] = [];
    const srv = createTcpServer((c) => conns.push(c));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const target = { host: '127.0.0.1', port: (srv.address() as { port: number }).port };
    try {
      let gone = 0;
      watchServer(target, () => gone++);
      const quiet = watchServer(target, () => assert.fail('a closed watch reports nothing'));
      await waitFor(() => conns.length === 2, { timeoutMs: 5000, what: 'both watches connected' });
      quiet.close();
      for (const c of conns) c.destroy();
      await waitFor(() => gone === 1, { timeoutMs: 5000, what: 'the watch to report the closed connection' });
      // A server that is gone refuses the next watch at once.
      srv.close();
      let refused = false;
      watchServer(target, () => (refused = true));
      await waitFor(() => refused, { timeoutMs: 5000, what: 'a refused watch to report' });
      assert.equal(gone, 1);
    } finally {
      srv.close();
    }
  });
});
