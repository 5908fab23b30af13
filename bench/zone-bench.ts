// `npm run bench:zone`: how fast and how lean `anycast-dns check` reads two generated 1,000,000-record
// zones (a realistic mix, and many short names with one or two addresses each) and the real root
// zone, against nsd-checkzone and named-checkzone, in one run, alternating the tools.
//
//   node dist/bench/zone-bench.js [--runs N] [--quick] [--zones big,hosts,root] [--tools anycast-dns,nsd,named,startup]
//                                 [--timeout SECONDS] [--budget SECONDS]
//
// Targets (issue 2): wall time at most 1.5x nsd-checkzone's; peak RSS at most 1.2x named-checkzone's.
import { OptionReader } from './options.js';
import { runMain } from './cleanup.js';
import { ensureBenchData, type BenchData } from './gen-zone.js';
import { peakRssMethod, runMeasured, type Measured } from './measure.js';
import { CLI_JS } from '../test/helpers/paths.js';
import { SAME_RUN_NOTE, machineLine, median, mib, rate, ratio, table, times, verdict } from './report.js';

const TIME_TARGET = 1.5;
const ZONE_IDS = ['big', 'hosts', 'root'];
const RSS_TARGET = 1.2;

interface Tool {
  id: string;
  label: string;
  /** The command line for one zone, and whether the output says it loaded. */
  command(zone: ZoneCase): { cmd: string; args: string[] };
  loaded(m: Measured): boolean;
  /** Reads no zone (a floor to compare with): no records/s. */
  baseline?: boolean;
}

interface ZoneCase {
  id: string;
  origin: string;
  /** The file as operators have it. */
  file: string;
  /** The same data in a form NSD accepts (the root dump's trailing duplicate SOA removed). */
  nsdFile: string;
  records: number;
}

const TOOLS: Tool[] = [
  {
    id: 'anycast-dns',
    label: 'anycast-dns check',
    command: (z) => ({ cmd: process.execPath, args: [CLI_JS, 'check', z.file, '--origin', z.origin] }),
    loaded: (m) => m.code === 0 && /loaded serial \d+ \(\d+ records\)/.test(m.stdout),
  },
  {
    id: 'nsd',
    label: 'nsd-checkzone',
    command: (z) => ({ cmd: 'nsd-checkzone', args: [z.origin, z.nsdFile] }),
    loaded: (m) => m.code === 0 && / is ok/.test(m.stdout + m.stderr),
  },
  {
    id: 'named',
    // -i local: no look-ups of out-of-zone MX/NS targets over the network (they hang offline).
    label: 'named-checkzone -i local',
    command: (z) => ({ cmd: 'named-checkzone', args: ['-i', 'local', z.origin, z.file] }),
    loaded: (m) => m.code === 0 && /loaded serial/.test(m.stdout),
  },
  {
    // The floor under anycast-dns's figures: Node.js and the CLI starting and exiting, no zone read.
    // It dominates on a small zone such as the root (~20k records).
    id: 'startup',
    label: 'anycast-dns --version',
    command: () => ({ cmd: process.execPath, args: [CLI_JS, '--version'] }),
    loaded: (m) => m.code === 0,
    baseline: true,
  },
];

interface Options {
  runs: number;
  zones: string[];
  tools: string[];
  timeoutMs: number;
  budgetMs: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 3, zones: ZONE_IDS, tools: TOOLS.map((t) => t.id), timeoutMs: 180_000, budgetMs: 30 * 60_000 };
  const opts = new OptionReader(argv);
  for (const a of opts) {
    if (a === '--runs') o.runs = Number(opts.value());
    else if (a === '--quick') o.runs = 1;
    else if (a === '--zones') o.zones = opts.value().split(',');
    else if (a === '--tools') o.tools = opts.value().split(',');
    else if (a === '--timeout') o.timeoutMs = Number(opts.value()) * 1000;
    else if (a === '--budget') o.budgetMs = Number(opts.value()) * 1000;
    else throw new Error(`unknown option ${a} (see the header of bench/zone-bench.ts)`);
  }
  if (!(o.runs >= 1)) throw new Error('--runs must be at least 1');
  for (const t of o.tools) if (!TOOLS.some((x) => x.id === t)) throw new Error(`unknown tool ${t}`);
  for (const z of o.zones) if (!ZONE_IDS.includes(z)) throw new Error(`unknown zone ${z} (${ZONE_IDS.join(', ')})`);
  return o;
}

function zoneCases(data: BenchData, which: string[]): ZoneCase[] {
  const all: ZoneCase[] = [
    { id: 'big', origin: data.big.origin, file: data.big.file, nsdFile: data.big.file, records: data.big.records },
    { id: 'hosts', origin: data.hosts.origin, file: data.hosts.file, nsdFile: data.hosts.file, records: data.hosts.records },
    // Named and anycast-dns read the dump as it is; NSD refuses its second SOA, so it gets the copy without it.
    { id: 'root', origin: data.root.origin, file: data.root.source, nsdFile: data.root.file, records: data.root.records },
  ];
  return all.filter((z) => which.includes(z.id));
}

interface Sample {
  wallMs: number;
  peakRssKiB: number;
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const data = ensureBenchData({ log: (s) => process.stderr.write(s + '\n') });
  const zones = zoneCases(data, opts.zones);
  const tools = TOOLS.filter((t) => opts.tools.includes(t.id));
  // samples[zone/tool][run - 1]; undefined where that run failed.
  const samples = new Map<string, (Sample | undefined)[]>();
  const failures: string[] = [];
  const deadline = Date.now() + opts.budgetMs;

  console.log(machineLine());
  console.log(`peak RSS: ${peakRssMethod}; wall time: spawn to exit`);
  console.log(`runs: ${opts.runs} per tool and zone, alternating tools within each run`);

  run: for (let run = 1; run <= opts.runs; run++) {
    for (const z of zones) {
      // Rotate the starting tool each run, so none always runs right after the same neighbour.
      for (let k = 0; k < tools.length; k++) {
        const tool = tools[(k + run - 1) % tools.length]!;
        if (Date.now() > deadline) {
          failures.push(`time budget of ${opts.budgetMs / 1000} s spent: stopped before run ${run}`);
          break run;
        }
        const { cmd, args } = tool.command(z);
        const m = await runMeasured(cmd, args, opts.timeoutMs);
        const ok = !m.timedOut && tool.loaded(m);
        process.stderr.write(`run ${run} ${z.id.padEnd(5)} ${tool.label.padEnd(26)} ${(m.wallMs / 1000).toFixed(2)} s  ${mib(m.peakRssKiB)}${ok ? '' : '  FAILED'}\n`);
        if (!ok) {
          const why = m.timedOut ? `timed out after ${opts.timeoutMs / 1000} s` : `exit ${m.code}: ${(m.stderr || m.stdout).trim().split('\n').slice(-3).join(' | ')}`;
          failures.push(`${tool.label} on ${z.origin} (run ${run}): ${why}`);
          continue;
        }
        const key = `${z.id}/${tool.id}`;
        const list = samples.get(key) ?? [];
        list[run - 1] = { wallMs: m.wallMs, peakRssKiB: m.peakRssKiB };
        samples.set(key, list);
      }
    }
  }

  let allPass = true;
  for (const z of zones) {
    const runsOf = (toolId: string): (Sample | undefined)[] => samples.get(`${z.id}/${toolId}`) ?? [];
    const stat = (toolId: string): { wall: number; rss: number; n: number; min: number; max: number } => {
      const s = runsOf(toolId).flatMap((x) => (x ? [x] : []));
      const walls = s.map((x) => x.wallMs);
      return { wall: median(walls), rss: median(s.map((x) => x.peakRssKiB)), n: s.length, min: Math.min(...walls), max: Math.max(...walls) };
    };
    // Median over runs of the ratio within one run: the machine's drift between runs cancels out.
    const sameRun = (toolId: string, refId: string, field: keyof Sample): number => {
      const a = runsOf(toolId);
      const b = runsOf(refId);
      const rs: number[] = [];
      for (let i = 0; i < a.length; i++) {
        const x = a[i];
        const y = b[i];
        if (x && y) rs.push(ratio(x[field], y[field]));
      }
      return median(rs.filter(Number.isFinite));
    };
    const rows: string[][] = [['tool', 'median wall', '(min-max)', 'records/s', 'peak RSS', 'runs', 'time/nsd', 'RSS/named']];
    for (const t of tools) {
      const s = stat(t.id);
      rows.push([
        t.label,
        s.n ? `${(s.wall / 1000).toFixed(2)} s` : 'failed',
        s.n ? `${(s.min / 1000).toFixed(2)}-${(s.max / 1000).toFixed(2)}` : '',
        s.n && !t.baseline ? `${rate(z.records / (s.wall / 1000))}/s` : '',
        s.n ? mib(s.rss) : '',
        String(s.n),
        times(sameRun(t.id, 'nsd', 'wallMs')),
        times(sameRun(t.id, 'named', 'peakRssKiB')),
      ]);
    }
    console.log(`\nzone ${z.origin} (${z.records} records, ${z.file}); ratios are medians of same-run ratios`);
    console.log(table(rows));
    if (tools.some((t) => t.id === 'anycast-dns')) {
      const tr = sameRun('anycast-dns', 'nsd', 'wallMs');
      const rr = sameRun('anycast-dns', 'named', 'peakRssKiB');
      const tOk = Number.isFinite(tr) ? tr <= TIME_TARGET : undefined;
      const rOk = Number.isFinite(rr) ? rr <= RSS_TARGET : undefined;
      if (tOk !== true || rOk !== true) allPass = false;
      console.log(`target wall time <= ${TIME_TARGET}x nsd-checkzone: ${times(tr)} ${verdict(tOk)}`);
      console.log(`target peak RSS <= ${RSS_TARGET}x named-checkzone: ${times(rr)} ${verdict(rOk)}`);
    }
  }
  if (failures.length) {
    console.log('\nfailures:');
    for (const f of failures) console.log(`  ${f}`);
  }
  console.log(`\n${SAME_RUN_NOTE}`);
  return failures.length === 0 && allPass ? 0 : 1;
}

runMain('zone-bench', main);
