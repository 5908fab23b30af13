// Running dnsperf (2.x, as Debian 12 ships it) pinned to one core, and reading its results.
//
// dnsperf 2.10 prints only the average latency. For percentiles it runs with -v, which prints one
// line per response (`> NOERROR name TYPE 0.000123`, or `> T name TYPE` for a time-out). That
// output goes to a file, read once dnsperf has exited: parsed live, 60,000 lines a second kept this
// process busy beside the server under test (it is not pinned), and a full pipe would stall dnsperf's
// receiving thread, both of which land in the very latencies being measured.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnGroup } from './cleanup.js';

export interface DnsperfOptions {
  port: number;
  queryFile: string;
  /** Fixed duration (-l). */
  seconds: number;
  /** Client sockets (-c). */
  clients: number;
  /** Maximum queries outstanding (-q). */
  outstanding: number;
  /** Seconds before a query counts as lost (-t). */
  timeoutSeconds: number;
  /** Queries per second (-Q); unlimited when absent. */
  rate?: number;
  /** Collect per-query latencies (-v). */
  latencies?: boolean;
  /** CPU, or CPU list such as `4-7`, to pin dnsperf to (taskset -c). */
  cpu: number | string;
  /** dnsperf threads (-T); one when absent. */
  threads?: number;
  /** Set the DO bit in every query (-D, RFC 3225). */
  dnssecOk?: boolean;
  /** An EDNS option in every query (-E CODE:HEX), e.g. `8:0001180...` for a Client Subnet. */
  ednsOption?: string;
}

export interface DnsperfResult {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  avgLatencyMs: number;
  /** Response codes as dnsperf counted them, e.g. { NOERROR: 120, NXDOMAIN: 30 }. */
  rcodes: Record<string, number>;
  /** Average response size in octets, as dnsperf reports it (NaN when absent). */
  avgResponseBytes: number;
  /** 99th percentile latency from -v output (ms), when asked for. */
  p99LatencyMs?: number;
  /** Median latency from -v output (ms), when asked for. */
  p50LatencyMs?: number;
  commandLine: string;
}

/** The summary fields of dnsperf's report. */
export function parseDnsperfSummary(text: string): Omit<DnsperfResult, 'p99LatencyMs' | 'p50LatencyMs' | 'commandLine'> {
  const num = (re: RegExp): number => {
    const m = re.exec(text);
    if (!m) throw new Error(`dnsperf output lacks ${re.source}:\n${text.slice(-1500)}`);
    return Number(m[1]);
  };
  const rcodes: Record<string, number> = {};
  const rc = /Response codes:\s+(.*)/.exec(text);
  if (rc) for (const m of rc[1]!.matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[m[1]!] = Number(m[2]);
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    rcodes,
    avgResponseBytes: Number(/Average packet size:.*response (\d+)/.exec(text)?.[1] ?? NaN),
  };
}

/** Grows as -v lines arrive; a 10 s run at 100k/s is a million doubles. */
class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;
  push(x: number): void {
    if (this.length === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = x;
  }
  quantile(q: number): number {
    if (this.length === 0) return NaN;
    const sorted = this.buf.subarray(0, this.length).sort();
    return sorted[Math.min(this.length - 1, Math.floor(q * this.length))]!;
  }
}

export function runDnsperf(o: DnsperfOptions): Promise<DnsperfResult> {
  const args = ['-s', '127.0.0.1', '-p', String(o.port), '-d', o.queryFile, '-l', String(o.seconds), '-c', String(o.clients), '-q', String(o.outstanding), '-t', String(o.timeoutSeconds), '-e'];
  if (o.rate !== undefined) args.push('-Q', String(o.rate));
  if (o.latencies) args.push('-v');
  if (o.threads !== undefined && o.threads > 1) args.push('-T', String(o.threads));
  if (o.dnssecOk) args.push('-D');
  if (o.ednsOption !== undefined) args.push('-E', o.ednsOption);
  const argv = ['-c', String(o.cpu), 'dnsperf', ...args];
  // With -v, stdout is a file in a directory of this run's own.
  const outDir = o.latencies ? mkdtempSync(join(tmpdir(), 'anycast-dns-dnsperf-')) : null;
  const outFd = outDir === null ? -1 : openSync(join(outDir, 'out'), 'w');
  return new Promise<DnsperfResult>((resolve, reject) => {
    // dnsperf runs under taskset: kill the whole group on a hang or Ctrl-C, not only taskset's PID.
    const { child, kill, release } = outFd < 0 ? spawnGroup('taskset', argv) : spawnGroup('taskset', argv, outFd);
    const hardLimit = setTimeout(kill, (o.seconds + o.timeoutSeconds + 15) * 1000);
    let piped = '';
    child.stdout?.setEncoding('latin1').on('data', (s: string) => (piped += s));
    let stderr = '';
    child.stderr.setEncoding('latin1');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 20_000) stderr += s;
    });
    child.on('error', (e) => {
      clearTimeout(hardLimit);
      release();
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(hardLimit);
      release();
      try {
        if (code !== 0) throw new Error(`dnsperf exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
        const { summary, samples } = readOutput(outDir === null ? piped : readFileSync(join(outDir, 'out'), 'latin1'));
        resolve({
          ...parseDnsperfSummary(summary),
          ...(o.latencies ? { p99LatencyMs: samples.quantile(0.99) * 1000, p50LatencyMs: samples.quantile(0.5) * 1000 } : {}),
          commandLine: `taskset ${argv.join(' ')}`,
        });
      } catch (e) {
        reject(e);
      }
    });
  }).finally(() => {
    if (outFd >= 0) closeSync(outFd);
    if (outDir !== null) rmSync(outDir, { recursive: true, force: true });
  });
}

/** dnsperf's output split into its -v latencies and the rest (the summary). */
function readOutput(text: string): { summary: string; samples: Samples } {
  const samples = new Samples();
  const rest: string[] = [];
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (text.startsWith('> ', at)) {
      // `> RCODE name TYPE latency`; a time-out (`> T ...`) has no latency and shows up as lost.
      const lat = Number(text.slice(text.lastIndexOf(' ', end) + 1, end));
      if (!text.startsWith('> T ', at) && Number.isFinite(lat)) samples.push(lat);
    } else {
      rest.push(text.slice(at, end));
    }
    at = end + 1;
  }
  return { summary: rest.join('\n'), samples };
}
