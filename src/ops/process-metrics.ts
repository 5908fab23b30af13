// The standard process_* and nodejs_* metrics, under the names prom-client's collectDefaultMetrics
// gives them, read from Node.js's public APIs at scrape time. Not collectDefaultMetrics itself: it
// always adds the GC histogram (nodejs_gc_duration_seconds), which observes every collection
// through a PerformanceObserver; Node.js makes objects per collection for it, and under load they
// outlive the young generation and bring full collections that stop the query thread. Nor its
// `_total` gauges (nodejs_active_handles_total and the like), which Prometheus's conventions keep
// for counters (`promtool check metrics` flags them): each is the sum of a per-type gauge kept here.
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Registry } from 'prom-client';
import { registerTable, type MetricRow, type Samples } from './metric-table.js';

/** Event loop delay sampled every 10 ms, as collectDefaultMetrics samples it by default (while the loop handles I/O: loopDelay). */
const LOOP_RESOLUTION_MS = 10;
/** How often the loop's I/O is looked at, to start or stop the sampling. */
const LOOP_CHECK_MS = 1000;

interface ProcessSource {
  loop: IntervalHistogram;
}

/**
 * The event loop's delay, sampled every LOOP_RESOLUTION_MS while the loop handles I/O. The sampling
 * is a timer: left on, it wakes an idle server 100 times a second for nothing. A second in which the
 * loop handled no I/O event (no query, no connection, no message from another thread) ran timers
 * only, and held up nobody, so the sampler stops after such a second and starts again after one
 * with I/O; the count of I/O events is libuv's own (uvMetricsInfo), which timers leave unchanged.
 */
function loopDelay(): IntervalHistogram {
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  let sampling = true;
  const ioEvents = (): number => performance.nodeTiming.uvMetricsInfo.events;
  let seen = ioEvents();
  setInterval(() => {
    const events = ioEvents();
    const busy = events !== seen;
    seen = events;
    if (busy === sampling) return;
    sampling = busy;
    if (busy) loop.enable();
    else loop.disable();
  }, LOOP_CHECK_MS).unref();
  return loop;
}

/** The soft limit of open files (/proc/self/limits), or null off Linux. */
function maxFds(): number | null {
  const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return line === null ? null : Number(line[1]);
}

/** VmRSS, VmSize and VmData of /proc/self/status, in octets. */
function procStatus(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of readFileSync('/proc/self/status', 'utf8').matchAll(/^(Vm\w+):\s+(\d+) kB$/gm)) out[m[1]!] = Number(m[2]) * 1024;
  return out;
}

function byType(items: readonly object[] | readonly string[]): Samples {
  const counts = new Map<string, number>();
  for (const item of items) {
    const type = typeof item === 'string' ? item : item.constructor.name;
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return [...counts].map(([type, n]) => [{ type }, n] as const);
}

/** Node.js's own lists of handles and requests (what collectDefaultMetrics reads, not a documented API). */
const internals = process as unknown as { _getActiveHandles?: () => object[]; _getActiveRequests?: () => object[] };

const START_TIME = Math.round(Date.now() / 1000 - process.uptime());

const cpuSeconds = (part: 'user' | 'system' | 'both'): number => {
  const u = process.cpuUsage();
  return (part === 'user' ? u.user : part === 'system' ? u.system : u.user + u.system) / 1e6;
};

/** One statistic of the delays sampled since the last scrape; 0 when none was (no I/O meanwhile: loopDelay). */
const loopStat = (name: string, help: string, read: (h: IntervalHistogram) => number): MetricRow<ProcessSource> => ({
  name: `nodejs_eventloop_lag_${name}_seconds`,
  help,
  type: 'gauge',
  collect: ({ loop }) => (loop.count === 0 ? 0 : read(loop) / 1e9),
});

const heapSpace = (what: 'total' | 'used' | 'available', field: 'space_size' | 'space_used_size' | 'space_available_size'): MetricRow<ProcessSource> => ({
  name: `nodejs_heap_space_size_${what}_bytes`,
  help: `Process heap space size ${what} from Node.js in bytes.`,
  type: 'gauge',
  labels: ['space'],
  collect: () => getHeapSpaceStatistics().map((s) => [{ space: s.space_name.replace(/_space$/, '') }, s[field]] as const),
});

const LINUX: readonly MetricRow<ProcessSource>[] = [
  { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', type: 'gauge', collect: () => procStatus().VmRSS ?? process.memoryUsage().rss },
  { name: 'process_virtual_memory_bytes', help: 'Virtual memory size in bytes.', type: 'gauge', collect: () => procStatus().VmSize ?? 0 },
  { name: 'process_heap_bytes', help: 'Process heap size in bytes.', type: 'gauge', collect: () => procStatus().VmData ?? 0 },
  { name: 'process_open_fds', help: 'Number of open file descriptors.', type: 'gauge', collect: () => readdirSync('/proc/self/fd').length - 1 },
  { name: 'process_max_fds', help: 'Maximum number of open file descriptors.', type: 'gauge', collect: () => maxFds() ?? 0 },
];

const PORTABLE: readonly MetricRow<ProcessSource>[] = [
  { name: 'process_cpu_user_seconds_total', help: 'Total user CPU time spent in seconds.', type: 'counter', collect: () => cpuSeconds('user') },
  { name: 'process_cpu_system_seconds_total', help: 'Total system CPU time spent in seconds.', type: 'counter', collect: () => cpuSeconds('system') },
  { name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.', type: 'counter', collect: () => cpuSeconds('both') },
  { name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.', type: 'gauge', collect: () => START_TIME },
  {
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    type: 'gauge',
    collect: () =>
      new Promise<number>((resolve) => {
        const start = process.hrtime.bigint();
        setImmediate(() => resolve(Number(process.hrtime.bigint() - start) / 1e9));
      }),
  },
  loopStat('min', 'The minimum recorded event loop delay.', (h) => h.min),
  loopStat('max', 'The maximum recorded event loop delay.', (h) => h.max),
  loopStat('mean', 'The mean of the recorded event loop delays.', (h) => h.mean),
  loopStat('stddev', 'The standard deviation of the recorded event loop delays.', (h) => h.stddev),
  loopStat('p50', 'The 50th percentile of the recorded event loop delays.', (h) => h.percentile(50)),
  loopStat('p90', 'The 90th percentile of the recorded event loop delays.', (h) => h.percentile(90)),
  // Last of the loop statistics: the window starts again after it is read.
  loopStat('p99', 'The 99th percentile of the recorded event loop delays.', (h) => {
    const p99 = h.percentile(99);
    h.reset();
    return p99;
  }),
  { name: 'nodejs_active_resources', help: 'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.', type: 'gauge', labels: ['type'], collect: () => byType(process.getActiveResourcesInfo()) },
  { name: 'nodejs_active_handles', help: 'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.', type: 'gauge', labels: ['type'], collect: () => byType(internals._getActiveHandles?.() ?? []) },
  { name: 'nodejs_active_requests', help: 'Number of active libuv requests grouped by request type. Every request type is C++ class name.', type: 'gauge', labels: ['type'], collect: () => byType(internals._getActiveRequests?.() ?? []) },
  { name: 'nodejs_heap_size_total_bytes', help: 'Process heap size from Node.js in bytes.', type: 'gauge', collect: () => process.memoryUsage().heapTotal },
  { name: 'nodejs_heap_size_used_bytes', help: 'Process heap size used from Node.js in bytes.', type: 'gauge', collect: () => process.memoryUsage().heapUsed },
  { name: 'nodejs_external_memory_bytes', help: 'Node.js external memory size in bytes.', type: 'gauge', collect: () => process.memoryUsage().external },
  heapSpace('total', 'space_size'),
  heapSpace('used', 'space_used_size'),
  heapSpace('available', 'space_available_size'),
  {
    name: 'nodejs_version_info',
    help: 'Node.js version info.',
    type: 'gauge',
    labels: ['version', 'major', 'minor', 'patch'],
    collect: () => {
      const [major, minor, patch] = process.versions.node.split('.').map(Number);
      return [[{ version: process.version, major: major!, minor: minor!, patch: patch! }, 1]];
    },
  },
];

/**
 * The standard process_* and nodejs_* metrics in `registry`, under their standard names (no prefix).
 * `loop`: where the event loop's delays are sampled (another only in tests).
 */
export function collectProcessMetrics(registry: Registry, loop: IntervalHistogram = loopDelay()): void {
  registerTable(registry, process.platform === 'linux' ? [...PORTABLE, ...LINUX] : PORTABLE, { loop });
}
