// The sidecar's /metrics and /status on health.metrics_listen, scraped while it probes a real
// anycast-dns: healthy rounds until UP, then the server stopped until DOWN.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startSidecar, type RunningSidecar } from '../helpers/health-sidecar.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { freePort, requireBinary, startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { waitFor } from '../helpers/wait.js';

const POP = 'metrics-pop';

/** `name{labels} value` lines of a Prometheus text exposition, keyed by the series as written. */
function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

/** The value of the one series of `name` whose labels include all of `labels`. */
function value(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries({ ...labels, pop: POP }).map(([k, v]) => `${k}="${v}"`);
  const hits = [...series].filter(([k]) => (k === name || k.startsWith(name + '{')) && want.every((w) => k.includes(w)));
  assert.equal(hits.length, 1, `one series ${name} ${JSON.stringify(labels)}, found ${hits.map(([k]) => k).join(', ') || 'none'}`);
  return hits[0]![1];
}

describe('health sidecar metrics', { timeout: 60_000 }, () => {
  let server: RunningPeer | undefined;
  let sidecar: RunningSidecar | undefined;

  const scrape = async (): Promise<{ text: string; series: Map<string, number> }> => {
    const res = await fetch(`${sidecar!.base}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    return { text, series: parseExposition(text) };
  };

  before(async () => {
    const mgmt = await freePort(false);
    server = await startAnycastDns([{ origin: 'example.com', file: join(BUNDLED_ZONES_DIR, 'example.com.zone') }], {
      identity: POP,
      ipv6: false,
      extraConfig: { management: { listen: `127.0.0.1:${mgmt}` } },
    });
    sidecar = await startSidecar(
      { identity: POP, zones: join(server.dir, 'zones') },
      {
        server: `127.0.0.1:${server.port}`,
        // Named, not found in the zones directory: stop() removes the server's directory with it.
        names: ['example.com'],
        ready_url: `http://127.0.0.1:${mgmt}/ready`,
      },
    );
  });

  after(async () => {
    await sidecar?.stop();
    await server?.stop();
  });

  it('shows UP, the announced route, the transitions and the probes that led there', async () => {
    await sidecar!.waitFor('UP');
    const { series, text } = await scrape();
    for (const s of ['INIT', 'RISING', 'DEGRADED', 'FALLING', 'DOWN', 'DISABLED', 'EXIT']) {
      assert.equal(value(series, 'anycast_dns_health_state', { state: s }), 0, s);
    }
    assert.equal(value(series, 'anycast_dns_health_state', { state: 'UP' }), 1);
    assert.equal(value(series, 'anycast_dns_health_route_announced'), 1);
    assert.equal(value(series, 'anycast_dns_health_transitions_total', { from: 'INIT', to: 'RISING' }), 1);
    assert.equal(value(series, 'anycast_dns_health_transitions_total', { from: 'RISING', to: 'UP' }), 1);
    // Healthy rounds: one ok attempt per check and round, no failure of any kind.
    const udpOk = value(series, 'anycast_dns_health_probe_results_total', { check: 'udp', outcome: 'ok' });
    assert.ok(udpOk >= 2, `at least rise=2 rounds, got ${udpOk}`);
    for (const check of ['tcp', 'ready']) {
      const ok = value(series, 'anycast_dns_health_probe_results_total', { check, outcome: 'ok' });
      assert.ok(Math.abs(ok - udpOk) <= 1, `${check} ok ${ok} vs udp ok ${udpOk} (a round may be half counted)`);
      for (const outcome of ['timeout', 'refused', 'bad']) assert.equal(value(series, 'anycast_dns_health_probe_results_total', { check, outcome }), 0);
    }
    const attempts = [...series].filter(([k]) => k.startsWith('anycast_dns_health_probe_results_total{')).reduce((n, [, v]) => n + v, 0);
    assert.equal(value(series, 'anycast_dns_health_probe_duration_seconds_count'), attempts);
    const ts = value(series, 'anycast_dns_health_last_transition_timestamp_seconds');
    assert.ok(Math.abs(ts - Date.now() / 1000) < 30, `last transition ${ts}`);
    // Every series (process_* too) names the POP.
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      assert.match(line, /pop="metrics-pop"/, line);
    }
    // The Prometheus conventions, as promtool checks them: no finding at all.
    const lint = spawnSync(requireBinary('promtool', 'prometheus'), ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.equal((lint.stdout + lint.stderr).trim(), '');
    const st = await sidecar!.status();
    assert.equal(st.announced, 'up');
    assert.equal(st.last_round?.checks.every((c) => c.outcome === 'ok'), true);
    assert.ok(sidecar!.commands.some((c) => c.startsWith('announce route 198.18.53.0/24')), sidecar!.commands.join('\n'));
  });

  it('shows DOWN, the withdrawal and the refused probes with the reason once the server stops', async () => {
    await server!.stop();
    await sidecar!.waitFor('DOWN');
    const { series } = await scrape();
    assert.equal(value(series, 'anycast_dns_health_state', { state: 'DOWN' }), 1);
    assert.equal(value(series, 'anycast_dns_health_state', { state: 'UP' }), 0);
    assert.equal(value(series, 'anycast_dns_health_route_announced'), 0);
    assert.equal(value(series, 'anycast_dns_health_transitions_total', { from: 'UP', to: 'FALLING' }), 1);
    assert.equal(value(series, 'anycast_dns_health_transitions_total', { from: 'FALLING', to: 'DOWN' }), 1);
    assert.ok(value(series, 'anycast_dns_health_probe_results_total', { check: 'udp', outcome: 'refused' }) >= 2);
    const st = await sidecar!.status();
    assert.equal(st.announced, 'none');
    assert.match(st.reason, /2 failed rounds: .*refused/);
    assert.ok(Date.now() - Date.parse(st.since) < 15_000);
    assert.equal(sidecar!.commands.at(-1)?.startsWith('withdraw route 198.18.53.0/24'), true, sidecar!.commands.join('\n'));
  });
});

describe('health sidecar with its metrics port taken', { timeout: 60_000 }, () => {
  it('logs the error and keeps routing: the route is announced all the same', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as AddressInfo).port;
    let server: RunningPeer | undefined;
    let sidecar: RunningSidecar | undefined;
    try {
      server = await startAnycastDns([{ origin: 'example.com', file: join(BUNDLED_ZONES_DIR, 'example.com.zone') }], { identity: POP, ipv6: false });
      sidecar = await startSidecar({ identity: POP }, { server: `127.0.0.1:${server.port}`, names: ['example.com'], metrics_listen: `127.0.0.1:${taken}` });
      const running = sidecar;
      await waitFor(() => running.commands.some((c) => c.startsWith('announce route')), { timeoutMs: 15_000, what: 'an announcement', detail: () => running.stderr() });
      assert.ok(sidecar.commands.some((c) => c.startsWith('announce route 198.18.53.0/24')), sidecar.stderr());
      assert.match(sidecar.stderr(), /health metrics listener not started; running without it/);
      assert.match(sidecar.stderr(), /config: health\.metrics_listen: cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      await sidecar?.stop();
      await server?.stop();
      busy.close();
    }
  });
});
