// In-process cost of DNSSEC in QueryHandler.handle: the same query mixes with DO=0 and DO=1, cache off
// (every answer built: signatures looked up, NSEC/NSEC3 proofs searched) and on. Two signed zones: the
// 2018 root zone (NSEC) and a generated zone of 20,000 names signed here with NSEC3 (no salt, 0
// iterations). Not a test; prints queries/s. Needs dnssec-keygen and dnssec-signzone.
// Usage: node dist/bench/dnssec-micro.js [seconds-per-case]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadZoneFile } from '../src/zone/read-zone.js';
import { ZoneSet, type Zone } from '../src/zone/zone.js';
import { bucketOf } from '../src/rrl/classify.js';
import { createHandler } from '../src/wire/handler.js';
import type { QueryMeta } from '../src/wire/handler-types.js';
import { queriesPerSecond } from './report.js';
import { encodeQuery } from '../test/helpers/dns-query.js';
import { ROOT_ZONE_2018 } from '../test/helpers/paths.js';

const seconds = Number(process.argv[2] ?? 1);
const meta: QueryMeta = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: 5300 };

function signedNsec3Zone(dir: string, names: number): Zone {
  const origin = 'bench.test.';
  const lines = [`$ORIGIN ${origin}`, '$TTL 3600', '@ SOA ns1 host 1 7200 3600 1209600 300', '@ NS ns1', 'ns1 A 192.0.2.1', '*.wild A 192.0.2.2'];
  for (let i = 0; i < names; i++) lines.push(`h${i} A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  for (let i = 0; i < names / 10; i++) lines.push(`d${i} NS ns.d${i}`, `ns.d${i} A 192.0.2.3`);
  const file = join(dir, 'bench.zone');
  writeFileSync(file, lines.join('\n') + '\n');
  execFileSync('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-n', 'ZONE', origin]);
  execFileSync('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', '-n', 'ZONE', origin]);
  execFileSync('dnssec-signzone', ['-q', '-S', '-K', dir, '-d', dir, '-o', origin, '-f', `${file}.signed`, '-3', '-', '-H', '0', '-A', file]);
  return loadZoneFile(`${file}.signed`, origin).zone!;
}

function encode(list: [string, string][], dnssecOk: boolean): Buffer[] {
  return list.map(([name, type], i) => encodeQuery({ name, type, dnssecOk }, i));
}

function run(label: string, queries: Buffer[], handle: (q: Buffer) => Buffer | null): number {
  return queriesPerSecond(label, seconds, queries, handle);
}

const dir = mkdtempSync(join(tmpdir(), 'anycast-dnssec-bench-'));
try {
  const root = loadZoneFile(ROOT_ZONE_2018, '.').zone!;
  const bench = signedNsec3Zone(dir, 20000);
  const zones = new ZoneSet(new Map([[root.origin, root], [bench.origin, bench]]));
  const mixes: Record<string, [string, string][]> = {
    'root (NSEC)': [
      ['com', 'A'], ['www.example.com', 'A'], ['org', 'NS'], ['nic.aaa', 'AAAA'], ['.', 'SOA'], ['.', 'NS'],
      ['.', 'DNSKEY'], ['com', 'DS'], ['junk-one', 'A'], ['junk-two.xyzzy', 'AAAA'], ['.', 'MX'],
    ],
    'bench.test (NSEC3 opt-out)': [
      ['h1.bench.test', 'A'], ['h777.bench.test', 'A'], ['h1.bench.test', 'MX'], ['nope.bench.test', 'A'], ['x.wild.bench.test', 'A'],
      ['www.d5.bench.test', 'A'], ['d7.bench.test', 'DS'], ['bench.test', 'DNSKEY'], ['a.b.nope.bench.test', 'A'],
    ],
  };
  for (const [mix, list] of Object.entries(mixes)) {
    for (const cache of [0, 64 * 1024 * 1024]) {
      const h = createHandler(zones, { identity: 'bench', version: null, ednsUdpSize: 1232, bucketOf, responseCacheBytes: cache });
      const what = cache === 0 ? 'misses' : 'cache hits';
      const off = run(`${mix}, ${what}, DO=0`, encode(list, false), (q) => h.handle(q, meta));
      const on = run(`${mix}, ${what}, DO=1`, encode(list, true), (q) => h.handle(q, meta));
      console.log(`${''.padEnd(40)} DO=1 / DO=0 = ${(on / off).toFixed(2)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
