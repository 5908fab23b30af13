// Geo rules tests' common ground: example.com with a name for rules, written with a rules file into a
// temporary directory, and anycast-dns started on it with ECS and the rules.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAnycastDns, type RunningPeer, type ZoneSpec } from './peers.js';

/** example.com's apex, its name server and `www` (the name the tests give rules); a test adds its own records. */
const GEO_ZONE_HEAD = `$ORIGIN example.com.
$TTL 3600
@ SOA ns1 hostmaster 1 3600 600 86400 300
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.1
`;

export interface GeoFixture {
  dir: string;
  zones: ZoneSpec[];
  rulesFile: string;
  /** Removes the directory. */
  remove(): void;
}

/** Writes GEO_ZONE_HEAD with `more` records, and `rules` as geo.yaml, into a new directory named after `what`. */
export function geoFixture(what: string, rules: string, more = ''): GeoFixture {
  const dir = mkdtempSync(join(tmpdir(), `${what}-`));
  const zoneFile = join(dir, 'example.com.zone');
  writeFileSync(zoneFile, GEO_ZONE_HEAD + more);
  const rulesFile = join(dir, 'geo.yaml');
  writeFileSync(rulesFile, rules);
  return { dir, zones: [{ origin: 'example.com.', file: zoneFile }], rulesFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** anycast-dns on IPv4 loopback serving the fixture with its rules; `ecs` and more config keys in `extra`. */
export function startGeoServer(f: GeoFixture, extra: Record<string, unknown> = {}): Promise<RunningPeer> {
  const { geo, ...rest } = extra as { geo?: Record<string, unknown> };
  return startAnycastDns(f.zones, { ipv6: false, extraConfig: { geo: { rules: f.rulesFile, ...geo }, ...rest } });
}
