// Reading a running anycast-dns from outside: its JSON log lines, where its management listener is,
// and the values of a metric in a Prometheus text exposition.
import assert from 'node:assert/strict';

/** The JSON log records a server wrote so far (other output left out). */
export function logRecords(server: { log(): string }): Record<string, unknown>[] {
  return server
    .log()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** `http://ADDRESS:PORT` of the management listener, from its "management listening" log record. */
export function managementUrl(server: { log(): string }): string {
  const record = logRecords(server).find((r) => r.msg === 'management listening');
  assert.ok(record, 'the management listener is logged');
  return `http://${String(record.listen)}`;
}

/** The values of the series of `name` whose labels include the text `labels`, in the order written. */
export function seriesValues(exposition: string, name: string, labels = ''): number[] {
  return exposition
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

/** The sum of those values: one counter over all its label sets, or over the workers that export it. */
export function seriesSum(exposition: string, name: string, labels = ''): number {
  return seriesValues(exposition, name, labels).reduce((sum, v) => sum + v, 0);
}
