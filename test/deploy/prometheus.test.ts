// The monitoring kit in deploy/ against the real thing: promtool checks and unit-tests the alerting
// rules; a real Prometheus (loopback, 1 s scrapes, rules loaded) scrapes a running anycast-dns and a
// health sidecar, and every expression of the Grafana dashboard must return data from it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSidecar, type RunningSidecar } from '../helpers/health-sidecar.js';
import { BUNDLED_ZONES_DIR, REPO_ROOT } from '../helpers/paths.js';
import { encodeQuery } from '../helpers/dns-query.js';
import { freePort, requireBinary, startAnycastDns, type RunningPeer } from '../helpers/peers.js';
import { terminate } from '../helpers/child.js';
import { sleep, waitFor } from '../helpers/wait.js';

const RULES_DIR = join(REPO_ROOT, 'deploy', 'prometheus');
const RULES = join(RULES_DIR, 'anycast-dns.rules.yml');
const DASHBOARD = join(REPO_ROOT, 'deploy', 'grafana', 'anycast-dns.json');
const POP = 'prom-pop';

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string; refId: string }[];
}

function dashboardExpressions(): { panel: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: `${p.title} (${t.refId})`, expr: t.expr })));
}

/** Grafana's variables as a dashboard user with "All" POPs sees them. */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5s').replaceAll('$pop', '.*');
}

/**
 * Sends `count` SOA queries over UDP from one socket on 127.0.0.2 at once and ignores the answers:
 * enough to trip rate limiting, which exempts the sidecar's probes from 127.0.0.1 (as a POP should).
 */
async function burst(port: number, count: number): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.2', () => r()));
  for (let i = 0; i < count; i++) {
    const q = encodeQuery({ name: 'example.com', type: 'SOA', noEdns: true }, i);
    await new Promise<void>((r) => sock.send(q, port, '127.0.0.1', () => r()));
  }
  await sleep(200);
  sock.close();
}

describe('promtool on the alerting rules', () => {
  before(() => requireBinary('promtool', 'prometheus'));

  it('check rules passes', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  it('test rules passes, with a test for every alert', () => {
    const r = spawnSync('promtool', ['test', 'rules', 'anycast-dns.rules.test.yml'], { cwd: RULES_DIR, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert: (\w+)/gm)].map((m) => m[1]!);
    const tests = readFileSync(join(RULES_DIR, 'anycast-dns.rules.test.yml'), 'utf8');
    for (const a of alerts) {
      assert.match(tests, new RegExp(`alertname: ${a}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `${a} is tested firing`);
      assert.match(tests, new RegExp(`alertname: ${a}\\n\\s+exp_alerts: \\[\\]`), `${a} is tested silent`);
    }
  });
});

describe('a real Prometheus scraping anycast-dns and its sidecar', { timeout: 120_000 }, () => {
  let server: RunningPeer | undefined;
  let sidecar: RunningSidecar | undefined;
  let prom: ChildProcess | undefined;
  let promLog = '';
  let dir = '';
  let api = '';

  const query = async (expr: string): Promise<unknown[]> => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: unknown[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error}`);
    return body.data.result;
  };

  before(async () => {
    const prometheus = requireBinary('prometheus', 'prometheus');
    const mgmt = await freePort(false);
    server = await startAnycastDns([{ origin: 'example.com', file: join(BUNDLED_ZONES_DIR, 'example.com.zone') }], {
      identity: POP,
      ipv6: false,
      extraConfig: { management: { listen: `127.0.0.1:${mgmt}` }, rrl: { responses_per_second: 5, slip: 2, ipv4_prefix_length: 32, exempt: ['127.0.0.1/32'] } },
    });
    sidecar = await startSidecar(
      { identity: POP, zones: join(server.dir, 'zones') },
      { server: `127.0.0.1:${server.port}`, names: ['example.com'], ready_url: `http://127.0.0.1:${mgmt}/ready` },
    );
    await sidecar.waitFor('UP');

    dir = mkdtempSync(join(tmpdir(), 'adns-prometheus-'));
    const promPort = await freePort(false);
    api = `http://127.0.0.1:${promPort}`;
    const config = [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      `rule_files: ["${RULES}"]`,
      'scrape_configs:',
      `  - { job_name: anycast-dns, static_configs: [{ targets: ["127.0.0.1:${mgmt}"] }] }`,
      `  - { job_name: anycast-dns-health, static_configs: [{ targets: ["127.0.0.1:${sidecar.port}"] }] }`,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'prometheus.yml'), config);
    prom = spawn(
      prometheus,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.stdout!.on('data', (c: Buffer) => (promLog += c.toString()));
    prom.stderr!.on('data', (c: Buffer) => (promLog += c.toString()));

    // Traffic: answered queries, then a burst over the rate limit (5/s from 127.0.0.2).
    await burst(server.port, 100);
    const bothUp = async (): Promise<boolean> => {
      try {
        const up = (await query('up == 1')) as { metric: { job: string } }[];
        return new Set(up.map((u) => u.metric.job)).size === 2;
      } catch {
        return false; // not up yet
      }
    };
    await waitFor(bothUp, { timeoutMs: 30_000, intervalMs: 250, what: 'Prometheus to scrape both targets', detail: () => promLog });
    await burst(server.port, 100);
    // Enough 1 s scrapes for rates over 5 s.
    await sleep(6000);
  });

  after(async () => {
    if (prom) await terminate(prom);
    await sidecar?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the alerting rules and evaluates them without error', async () => {
    const res = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] } };
    const group = res.data.groups.find((g) => g.name === 'anycast-dns');
    assert.ok(group, JSON.stringify(res));
    assert.equal(group.rules.length, (readFileSync(RULES, 'utf8').match(/^\s*- alert: /gm) ?? []).length);
    for (const r of group.rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
  });

  it('fires no alert for a healthy POP', async () => {
    const firing = (await query('ALERTS{alertstate="firing"}')) as { metric: { alertname: string } }[];
    assert.deepEqual(firing.map((a) => a.metric.alertname), []);
  });

  it('has data for every expression of the dashboard', async () => {
    const exprs = dashboardExpressions();
    assert.ok(exprs.length >= 25, `${exprs.length} expressions`);
    const empty: string[] = [];
    for (const { panel, expr } of exprs) {
      const result = await query(substitute(expr));
      if (result.length > 0) continue;
      empty.push(`${panel}: ${expr}`);
    }
    assert.deepEqual(empty, []);
  });

  it('shows the route announced and the sidecar UP for the POP', async () => {
    const announced = (await query(`anycast_dns_health_route_announced{pop="${POP}"}`)) as { value: [number, string] }[];
    assert.equal(announced[0]?.value[1], '1');
    const state = (await query(`anycast_dns_health_state{pop="${POP}"} == 1`)) as { metric: { state: string } }[];
    assert.deepEqual(state.map((s) => s.metric.state), ['UP']);
    const limited = (await query(`sum(anycast_dns_rrl_limited_responses_total{pop="${POP}"})`)) as { value: [number, string] }[];
    assert.ok(Number(limited[0]?.value[1]) > 0, 'the burst was rate limited');
  });
});
