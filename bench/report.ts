// Small helpers shared by the benchmarks' printed reports.
import { cpus, totalmem } from 'node:os';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function mib(kib: number): string {
  return kib > 0 ? `${(kib / 1024).toFixed(0)} MiB` : 'n/a';
}

export function rate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return 'n/a';
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : `${(perSecond / 1e3).toFixed(1)}k`;
}

export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : NaN;
}

export function times(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a';
}

/** "PASS"/"FAIL" for a target, "n/a" when the ratio could not be computed. */
export function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

/** Left-aligned text table (first row is the header). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function machineLine(): string {
  const c = cpus();
  return `machine: ${c.length} cores (${c[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, node ${process.version}, ${process.platform}/${process.arch}`;
}

export const SAME_RUN_NOTE = 'Absolute figures swing run to run on this shared machine; only the ratios measured in the same run count.';

/**
 * An in-process benchmark: `handle` over `queries` in turn for `seconds` after a warm-up, printed as
 * `label  N queries/s`; returns the rate.
 */
export function queriesPerSecond(label: string, seconds: number, queries: readonly Buffer[], handle: (q: Buffer) => Buffer | null): number {
  for (let i = 0; i < 20000; i++) handle(queries[i % queries.length]!);
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 1000; i++) handle(queries[i % queries.length]!);
    n += 1000;
  }
  const qps = Math.round(n / seconds);
  console.log(`${label.padEnd(40)} ${qps.toLocaleString('en')} queries/s`);
  return qps;
}
