// A Prometheus histogram counted into typed arrays: one observation is a short scan of the bounds and
// two array increments, with no label objects or Map lookups; prom-client sees the counts only when
// /metrics is scraped (get() below is its metric interface, so a Registry and the workers'
// AggregatorRegistry treat it as one of their own: buckets, _sum and _count summed across workers).
import type { Registry } from 'prom-client';

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

export class FixedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Per label value: one count per bound (cumulated at scrape), then +Inf. */
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly width: number;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly labelValues: readonly string[],
    /** Upper bounds, ascending; the +Inf bucket is implied. */
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    this.width = bounds.length + 1;
    this.counts = new Float64Array(labelValues.length * this.width);
    this.sums = new Float64Array(labelValues.length);
    registry.registerMetric(this as never);
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

  /** prom-client's metric interface: the samples of every label value, buckets cumulative. */
  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
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
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
