// Metrics declared as a table: each row names a metric and says how to read its values at scrape
// time. Counts live in plain arrays or come from the runtime; prom-client sees them only when
// /metrics is scraped, through the public `collect` hook of its Counter and Gauge.
import { Counter, Gauge, type Registry } from 'prom-client';

type Labels = Record<string, string | number>;
/** A metric's values: one number for a metric without labels, else label sets and their values. */
export type Samples = number | Iterable<readonly [Labels, number]>;

export interface MetricRow<Source> {
  /** The full metric name, e.g. `anycast_dns_queries_total`. */
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labels?: readonly string[];
  /** The values now. Label sets not returned are not exposed. */
  collect(source: Source): Samples | Promise<Samples>;
}

/** Replaces `metric`'s values with `samples` (a gauge set from zero is set). */
function fill(metric: Counter | Gauge, samples: Samples): void {
  metric.reset();
  if (typeof samples === 'number') metric.inc(samples);
  else for (const [labels, v] of samples) metric.inc(labels, v);
}

/** Registers every row of `table` in `registry`, reading from `source` at each scrape. */
export function registerTable<Source>(registry: Registry, table: readonly MetricRow<Source>[], source: Source): void {
  for (const row of table) {
    const config = {
      name: row.name,
      help: row.help,
      labelNames: row.labels ?? [],
      registers: [registry],
      async collect(this: Counter | Gauge) {
        fill(this, await row.collect(source));
      },
    };
    if (row.type === 'counter') new Counter(config);
    else new Gauge(config);
  }
}
