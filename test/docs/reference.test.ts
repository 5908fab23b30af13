// docs/reference.md against the code: the config keys it documents (and anycast-dns.yaml(5) with it)
// are exactly those the readers accept (the server's and the health sidecar's), the sample config
// loads, and every metric the server and the sidecar register is documented.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { acceptedConfigKeys, healthConfigFrom } from '../../src/health/config.js';
import { HealthMetrics } from '../../src/health/metrics.js';
import { loadServerConfig } from '../../src/ops/config.js';
import { ServerMetrics } from '../../src/ops/metrics.js';
import { ZoneSyncMetrics } from '../../src/ops/zone-metrics.js';
import { REPO_ROOT } from '../helpers/paths.js';

const reference = readFileSync(join(REPO_ROOT, 'docs', 'reference.md'), 'utf8');

/** The text of the `## heading` section, up to the next `## `. */
function section(heading: string): string {
  const start = reference.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/reference.md has no "## ${heading}" section`);
  const end = reference.indexOf('\n## ', start + 1);
  return reference.slice(start, end < 0 ? undefined : end);
}

/** The first cells of the section's table rows that are code: `| \`name\` | ...`. */
function firstCells(text: string): Set<string> {
  return new Set([...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!));
}

describe('docs/reference.md', () => {
  it('documents exactly the config keys the server and health readers accept', () => {
    const accepted = new Set(acceptedConfigKeys());
    const documented = firstCells(section('Configuration file'));
    const undocumented = [...accepted].filter((k) => !documented.has(k));
    const unknown = [...documented].filter((k) => !accepted.has(k));
    assert.deepEqual(undocumented, [], `keys the readers accept but docs/reference.md does not document: ${undocumented.join(', ')}`);
    assert.deepEqual(unknown, [], `keys docs/reference.md documents but no reader accepts: ${unknown.join(', ')}`);
  });

  it('anycast-dns.yaml(5) describes the same keys', () => {
    const page = readFileSync(join(REPO_ROOT, 'docs', 'man', 'anycast-dns.yaml.5'), 'utf8');
    const described = [...page.matchAll(/^\.TP\n\.B (\S+)$/gm)].map((m) => m[1]!).sort();
    assert.deepEqual(described, acceptedConfigKeys());
  });

  it('documents every metric the server, zone sync and the sidecar register', () => {
    const documented = firstCells(section('Metrics'));
    const registries = [new ServerMetrics('pop-doc').registry, new HealthMetrics('pop-doc').registry];
    const zoneSyncNames = [...new ZoneSyncMetrics('pop-doc', true, () => []).text().matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
    const names = [...registries.flatMap((r) => r.getMetricsAsArray().map((m) => m.name)), ...zoneSyncNames].filter((n) => n.startsWith('anycast_dns_'));
    assert.ok(names.length > 20, `only ${names.length} metrics registered`);
    const undocumented = names.filter((n) => !documented.has(n));
    assert.deepEqual(undocumented, [], `metrics registered but not in docs/reference.md: ${undocumented.join(', ')}`);
  });

  it('the sample config/anycast-dns.yaml loads with the server reader', () => {
    const cfg = loadServerConfig(join(REPO_ROOT, 'config', 'anycast-dns.yaml'));
    assert.equal(cfg.zones, join(REPO_ROOT, 'zones'));
  });

  it("the sample's commented health: example loads with the health reader", () => {
    const text = readFileSync(join(REPO_ROOT, 'config', 'anycast-dns.yaml'), 'utf8');
    const example = text.slice(text.indexOf('\n# health:\n') + 1).replace(/^# ?/gm, '');
    const health = healthConfigFrom({ management: { listen: '127.0.0.1:9153' }, ...(parseYaml(example) as object) });
    assert.deepEqual(health.routes.map((r) => r.prefix), ['198.51.100.0/24', '2001:db8:53::/48']);
  });
});
