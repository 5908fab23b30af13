// A Prometheus histogram counted into typed arrays: one observation is a short scan of the bounds and
// two array increments, with no label objects or Map lookups. The counting side (HistogramCounts)
// writes into arrays it is given, which may be a query thread's slots of shared memory; the
// exposition side (FixedHistogram) reads the counts when /metrics is scraped: get() below is
// prom-client's metric interface, so a Registry treats it as one of its own.
import type { Registry } from 'prom-client';

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Slots a histogram of `bounds` over `labels` label values needs: counts (one per bound, then +Inf) and sums. */
export function histogramSlots(bounds: readonly number[], labels: number): { counts: number; sums: number } {
  return { counts: labels * (bounds.length + 1), sums: labels };
}

export class HistogramCounts {
  private readonly width: number;

  constructor(
    /** Upper bounds, ascending; the +Inf bucket is implied. */
    private readonly bounds: readonly number[],
    /** Per label value: one count per bound (cumulated at scrape), then +Inf. */
    private readonly counts: Float64Array,
    private readonly sums: Float64Array,
  ) {
    this.width = bounds.length + 1;
  }

  /** One observation of `value` under the `label`-th label value. */
  observe(label: number, value: number): void {
    const bounds = this.bounds;
    let b = 0;
    // Most observations fall in the first buckets, so a linear scan ends early.
    while (b < bounds.length && value > bounds[b]!) b++;
    this.counts[label * this.width + b]!++;
    this.sums[label] += value;
  }
}

export class FixedHistogram {
  readonly type = 'histogram';
  private readonly width: number;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly labelValues: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
    /** The counts and sums as HistogramCounts writes them, read at each scrape. */
    private readonly counts: ArrayLike<number>,
    private readonly sums: ArrayLike<number>,
  ) {
    this.width = bounds.length + 1;
    registry.registerMetric(this as never);
  }

  /** prom-client's metric interface: the samples of every label value, buckets cumulative. */
  get(): { name: string; help: string; type: string; values: Sample[] } {
    const values: Sample[] = [];
    for (let l = 0; l < this.labelValues.length; l++) {
      const label = this.labelValues[l]!;
      let cumulative = 0;
      for (let b = 0; b < this.width; b++) {
        cumulative += this.counts[l * this.width + b]!;
        const le = b < this.bounds.length ? this.bounds[b]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { le, [this.labelName]: label }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { [this.labelName]: label }, value: this.sums[l]! });
      values.push({ metricName: `${this.name}_count`, labels: { [this.labelName]: label }, value: cumulative });
    }
    return { name: this.name, help: this.help, type: this.type, values };
  }
}
