// Geo differential tests' shared parts: asking a server with `kdig +subnet` and reading the reply, the
// Knot geoip module's presence, and Knot's geoip config written from our rules.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseGeoRules } from '../../src/sync/geo-rules.js';
import type { GeoRuleSet } from '../../src/answer/geo.js';
import { keyToText } from '../../src/zone/name.js';
import { rdataToText, typeToText } from '../../src/zone/rdata/table.js';
import { requireBinary, startKnot, type RunningPeer, type ZoneSpec } from '../helpers/peers.js';
import { geoFixture, startGeoServer } from '../helpers/geo-fixture.js';

const run = promisify(execFile);

/** One reply as kdig prints it: status, AA, the ECS scope (null: no option echoed), answer lines sorted. */
export interface KdigReply {
  status: string;
  aa: boolean;
  scope: number | null;
  answer: string[];
}

/** Asks `server` (127.0.0.1) `name` `type`, with `+subnet=SUBNET` unless `subnet` is null. */
export async function kdig(server: RunningPeer, name: string, type: string, subnet: string | null): Promise<KdigReply> {
  const args = [`@127.0.0.1`, '-p', String(server.port), '+noall', '+header', '+answer', '+opt', '+retry=2', '+time=2', ...(subnet === null ? [] : [`+subnet=${subnet}`]), name, type];
  const { stdout } = await run(requireBinary('kdig', 'knot-dnsutils'), args);
  const status = /status: (\w+)/.exec(stdout)?.[1];
  const flags = /;; Flags: ([^;]*);/.exec(stdout)?.[1];
  if (status === undefined || flags === undefined) throw new Error(`kdig ${args.join(' ')}: no reply:\n${stdout}`);
  const ecs = /CLIENT-SUBNET: \S+\/\d+\/(\d+)/.exec(stdout);
  const answer = stdout
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(';'))
    .map((l) => l.split(/\s+/).join(' ').toLowerCase())
    .sort();
  return { status, aa: flags.split(' ').includes('aa'), scope: ecs === null ? null : Number(ecs[1]), answer };
}

/** The Knot geoip module (Debian's knot-module-geoip): the test fails without it, never skips. */
function requireKnotGeoip(): void {
  const dirs = ['/usr/lib/x86_64-linux-gnu/knot', '/usr/lib/aarch64-linux-gnu/knot', '/usr/lib/knot'];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const m of readdirSync(d)) if (existsSync(`${d}/${m}/geoip.so`)) return;
  }
  throw new Error('the Knot geoip module is not installed: apt-get install knot-module-geoip (scripts/install-deps.sh)');
}

/**
 * Knot's geoip config (its module's `config-file`) for `rules`: per name, one entry per network
 * (`net:`) or per country (`geo:`), each with the rule's records. Knot has no default: names whose
 * default we give are not written here (the tests leave defaults out).
 */
function knotGeoConfig(rules: GeoRuleSet, mode: 'subnet' | 'geodb'): string {
  const lines: string[] = [];
  for (const n of rules.names.values()) {
    lines.push(`${keyToText(n.key)}:`);
    for (const r of n.rules) {
      const keys = mode === 'subnet' ? r.networks.map((net) => `net: ${netText(net.bytes, net.bits)}`) : [...r.countries].map((c) => `geo: "${c}"`);
      for (const key of keys) {
        lines.push(`  - ${key}`);
        for (const [type, rr] of r.answers) lines.push(`    ${typeToText(type)}: [ ${rr.set.rdatas.map((d) => JSON.stringify(rdataToText(type, d))).join(', ')} ]`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

function netText(b: Uint8Array, bits: number): string {
  if (b.length === 4) return `${[...b].join('.')}/${bits}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return `${groups.join(':')}/${bits}`;
}

/** Knot with ECS on and its geoip module on every zone, reading `knotRules` in `mode` (`geodb` lines name the database). */
function startKnotGeoip(zones: ZoneSpec[], knotRules: string, mode: string[]): Promise<RunningPeer> {
  requireKnotGeoip();
  return startKnot(zones, {
    ipv6: false,
    knot: {
      server: ['edns-client-subnet: on'],
      sections: ['mod-geoip:', '  - id: geo', `    config-file: "${knotRules}"`, ...mode.map((l) => `    ${l}`), '    ttl: 60'],
      zone: ['module: mod-geoip/geo'],
    },
  });
}

/** Knot with its geoip module and anycast-dns with ECS, serving one geo fixture with the same rules. */
export interface GeoPair {
  rules: GeoRuleSet;
  knot: RunningPeer;
  ours: RunningPeer;
  stop(): Promise<void>;
}

/**
 * Writes the fixture (`rules` beside GEO_ZONE_HEAD and `more`), Knot's geoip config from our parsed
 * rules in `mode`, and starts both: Knot's module with `knotMode` lines, anycast-dns with `ecs: true`
 * and `geo` keys.
 */
export async function startGeoPair(what: string, rulesText: string, more: string, mode: 'subnet' | 'geodb', knotMode: string[], geo: Record<string, unknown> = {}): Promise<GeoPair> {
  const fixture = geoFixture(what, rulesText, more);
  const parsed = parseGeoRules(fixture.rulesFile, rulesText);
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const knotRules = join(fixture.dir, 'knot-geo.conf');
  writeFileSync(knotRules, knotGeoConfig(parsed.rules, mode));
  const [knot, ours] = await Promise.allSettled([startKnotGeoip(fixture.zones, knotRules, knotMode), startGeoServer(fixture, { ecs: true, geo })]);
  const stop = async (): Promise<void> => {
    await Promise.all([knot, ours].flatMap((p) => (p.status === 'fulfilled' ? [p.value.stop()] : [])));
    fixture.remove();
  };
  if (knot.status === 'rejected' || ours.status === 'rejected') {
    await stop();
    throw knot.status === 'rejected' ? knot.reason : (ours as PromiseRejectedResult).reason;
  }
  return { rules: parsed.rules, knot: knot.value, ours: ours.value, stop };
}
