// The metrics registry in process: histogram buckets cumulative with exact sums, the pop label on every
// series or on none (metrics.pop_label), and promtool's lint clean either way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ServerMetrics } from '../../src/ops/metrics.js';
import { collectProcessMetrics } from '../../src/ops/process-metrics.js';
import { requireBinary } from '../helpers/peers.js';

function samples(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync(requireBinary('promtool', 'prometheus'), ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('ServerMetrics', () => {
  it('counts histogram observations into cumulative buckets with exact sums and counts', async () => {
    const m = new ServerMetrics('pop-m');
    m.sent('udp', 0, 0.005, 50); // 5 µs, 50 octets
    m.sent('udp', 0, 0.2, 300); // 200 µs, 300 octets
    m.sent('udp', 0, 5000, 70000); // 5 s, past every bound
    m.sent('tcp', 1, 3, 512);
    const lines = samples(await m.text());
    const v = (prefix: string): number => Number(lines.find((l) => l.startsWith(prefix))!.split(' ').pop());
    assert.equal(v('anycast_dns_request_duration_seconds_bucket{le="0.00001",transport="udp"'), 1);
    assert.equal(v('anycast_dns_request_duration_seconds_bucket{le="0.00025",transport="udp"'), 2);
    assert.equal(v('anycast_dns_request_duration_seconds_bucket{le="1",transport="udp"'), 2);
    assert.equal(v('anycast_dns_request_duration_seconds_bucket{le="+Inf",transport="udp"'), 3);
    assert.equal(v('anycast_dns_request_duration_seconds_count{transport="udp"'), 3);
    assert.equal(v('anycast_dns_response_size_bytes_bucket{le="100",transport="udp"'), 1);
    assert.equal(v('anycast_dns_response_size_bytes_bucket{le="300",transport="udp"'), 2);
    assert.equal(v('anycast_dns_response_size_bytes_bucket{le="64000",transport="udp"'), 2);
    assert.equal(v('anycast_dns_response_size_bytes_sum{transport="udp"'), 70350);
    assert.equal(v('anycast_dns_response_size_bytes_bucket{le="511",transport="tcp"'), 0);
    assert.equal(v('anycast_dns_response_size_bytes_bucket{le="1023",transport="tcp"'), 1);
  });

  it('puts pop on every series, or on none with pop_label off; promtool finds nothing either way', async () => {
    for (const popLabel of [true, false]) {
      const m = new ServerMetrics('pop-m', popLabel);
      m.sent('udp', 0, 0.01, 80);
      const text = await m.text();
      for (const line of samples(text)) assert.equal(line.includes('pop="pop-m"'), popLabel, line);
      const r = promtool(text);
      assert.equal(r.out.trim(), '');
      assert.equal(r.status, 0);
    }
  });

  it("has prom-client's default process and Node.js metrics but the GC histogram, and observes no collection", async () => {
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    // Left out on purpose: the GC histogram, and the `_total` gauges promtool flags (see src/ops/process-metrics.ts).
    const omitted = ['nodejs_gc_duration_seconds', 'nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
    const expected = (await defaults.getMetricsAsJSON()).map((m) => m.name).filter((n) => !omitted.includes(n));
    // Every 'gc' observer made from here on is counted: none may come from collectProcessMetrics.
    const observe = PerformanceObserver.prototype.observe;
    let gcObservers = 0;
    PerformanceObserver.prototype.observe = function (this: PerformanceObserver, o: Parameters<typeof observe>[0]) {
      if ('entryTypes' in o ? o.entryTypes.includes('gc') : o.type === 'gc') gcObservers++;
      return observe.call(this, o);
    };
    const ours = new Registry();
    try {
      collectProcessMetrics(ours);
    } finally {
      PerformanceObserver.prototype.observe = observe;
    }
    assert.equal(gcObservers, 0);
    const names = (await ours.getMetricsAsJSON()).map((m) => m.name);
    assert.ok(!names.includes('nodejs_gc_duration_seconds'));
    assert.deepEqual([...names].sort(), [...expected].sort());
  });

  it('reads the event loop lag as 0, not as an empty histogram, when no delay was sampled (an idle loop stops sampling)', async () => {
    const registry = new Registry();
    // Never enabled: as the sampler of a loop idle since the last scrape.
    collectProcessMetrics(registry, monitorEventLoopDelay());
    const lags = samples(await registry.metrics()).filter((l) => /^nodejs_eventloop_lag_[a-z0-9]+_seconds/.test(l));
    assert.deepEqual(
      lags.map((l) => l.replace(/\{.*\}/, '')),
      ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map((s) => `nodejs_eventloop_lag_${s}_seconds 0`),
    );
  });
});
