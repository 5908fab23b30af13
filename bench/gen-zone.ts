// Generates the benchmark inputs, deterministically (seeded), into a cache directory:
//  - zones/bench.example.zone: a 1,000,000-record zone with a realistic mix (hosts with A/AAAA/TXT,
//    CNAME aliases, mail domains with MX to in-zone hosts, TXT-only names, delegations with glue);
//  - zones/hosts.example.zone: 1,000,000 records on many short names (`a1b2 A 192.0.2.7`), mostly
//    one A or AAAA per name, as a large host or reverse zone has: the reader's per-name costs;
//  - zones/root.zone: the shared 2018 root zone without its trailing second SOA (NSD refuses the
//    AXFR-style duplicate; the other servers drop it), so every server serves the same data;
//  - queries/*.txt: dnsperf input files ("name TYPE" per line) per category and mixed, for both zones.
// Run directly (`node dist/bench/gen-zone.js [--dir D] [--records N] [--force]`) or call ensureBenchData().
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRng, type Rng } from './prng.js';
import { ROOT_ZONE_2018 } from '../test/helpers/paths.js';

/** Bump when the output format or mix changes, so stale caches are regenerated. */
const GENERATOR_VERSION = 1;
const SEED = 0x5eed_d05;
export const BENCH_ORIGIN = 'bench.example.';
export const HOSTS_ORIGIN = 'hosts.example.';
const QUERIES_PER_FILE = 100_000;
/** Names in the random-name flood file: more than any run sends, so no name is asked twice. */
const RANDOM_NAMES = 1_000_000;

export interface QueryFiles {
  mixed: string;
  [category: string]: string;
}

export interface BenchData {
  dir: string;
  /** Directory with `<origin>.zone` files: both zones, ready to serve. */
  zonesDir: string;
  big: { origin: string; file: string; records: number; queries: QueryFiles };
  /** Many short names with one or two address records each; read by the zone benchmark only. */
  hosts: { origin: string; file: string; records: number };
  root: { origin: string; source: string; file: string; records: number; queries: QueryFiles };
}

/** Buffers lines and writes them in ~1 MiB chunks (a 1M-record zone is ~40 MB of text). */
class LineWriter {
  private readonly fd: number;
  private parts: string[] = [];
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  line(s: string): void {
    this.parts.push(s);
    this.size += s.length + 1;
    if (this.size >= 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.parts.length === 0) return;
    writeSync(this.fd, this.parts.join('\n') + '\n');
    this.parts = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const SYLLABLES = ['ka', 'lo', 'mi', 'net', 'sha', 'dro', 'vel', 'tor', 'pix', 'ra', 'zen', 'fo', 'bri', 'cas', 'lu', 'mar', 'ne', 'qua', 'sol', 'tek', 'web', 'app', 'dev', 'shop'];

/** A word-like label made unique by its index in base 36 after a hyphen (every generated owner has a hyphen). */
function label(rng: Rng, index: number): string {
  let w = '';
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) w += rng.pick(SYLLABLES);
  return `${w}-${index.toString(36)}`;
}

function ipv4(rng: Rng): string {
  return `${1 + rng.int(223)}.${rng.int(256)}.${rng.int(256)}.${1 + rng.int(254)}`;
}

function ipv6(rng: Rng): string {
  const h = (): string => rng.int(0x10000).toString(16);
  return `2001:db8:${h()}:${h()}::${h()}`;
}

function token(rng: Rng, len: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

/** What the query generator needs to know about the generated zone (relative owner names). */
interface BigZoneIndex {
  hostsA: string[];
  hostsAAAA: string[];
  aliases: string[];
  txtNames: string[];
  mailNames: string[];
  delegations: string[];
}

/** Writes the 1M-record zone; returns its exact record count and the name index. */
function writeBigZone(path: string, target: number, rng: Rng): { records: number; index: BigZoneIndex } {
  const out = new LineWriter(path);
  const index: BigZoneIndex = { hostsA: [], hostsAAAA: [], aliases: [], txtNames: [], mailNames: [], delegations: [] };
  let records = 0;
  const rr = (s: string): void => {
    out.line(s);
    records++;
  };
  out.line(`$ORIGIN ${BENCH_ORIGIN}`);
  out.line('$TTL 3600');
  rr('@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 3600');
  rr('@ IN NS ns1');
  rr('@ IN NS ns2');
  rr('@ IN MX 10 mx1');
  rr('@ IN TXT "v=spf1 mx -all"');
  rr('ns1 IN A 192.0.2.1');
  rr('ns1 IN AAAA 2001:db8::1');
  rr('ns2 IN A 192.0.2.2');
  rr('ns2 IN AAAA 2001:db8::2');
  rr('mx1 IN A 192.0.2.25');
  index.hostsA.push('mx1');

  // Each entity is written whole, so the zone stays valid; the tail is filled with single A records.
  for (let i = 0; ; i++) {
    const remaining = target - records;
    if (remaining <= 8) {
      for (let j = 0; j < remaining; j++) rr(`${label(rng, i + j)} 300 IN A ${ipv4(rng)}`);
      break;
    }
    const name = label(rng, i);
    const p = rng.next();
    if (p < 0.5) {
      // A host: one or two addresses, often IPv6 too, sometimes a TXT.
      rr(`${name} IN A ${ipv4(rng)}`);
      if (rng.next() < 0.2) rr(`${name} IN A ${ipv4(rng)}`);
      index.hostsA.push(name);
      if (rng.next() < 0.35) {
        rr(`${name} IN AAAA ${ipv6(rng)}`);
        index.hostsAAAA.push(name);
      }
      if (rng.next() < 0.1) rr(`${name} IN TXT "id=${token(rng, 16)}"`);
    } else if (p < 0.6) {
      // An alias: mostly to a host of this zone (chased in-zone), some to a CDN outside it.
      const target = rng.next() < 0.9 ? rng.pick(index.hostsA) : `edge-${rng.int(5000)}.cdn.example.net.`;
      rr(`${name} 300 IN CNAME ${target}`);
      index.aliases.push(name);
    } else if (p < 0.72) {
      // A mail domain: two MX to hosts of this zone, so answers carry addresses in additional.
      rr(`${name} IN MX 10 ${rng.pick(index.hostsA)}`);
      rr(`${name} IN MX 20 ${rng.pick(index.hostsA)}`);
      if (rng.next() < 0.6) rr(`${name} IN TXT "v=spf1 a mx include:_spf.example.net ~all"`);
      if (rng.next() < 0.5) {
        rr(`${name} IN A ${ipv4(rng)}`);
        index.hostsA.push(name);
      }
      index.mailNames.push(name);
    } else if (p < 0.82) {
      // Verification / policy strings only.
      rr(`${name} IN TXT "site-verification=${token(rng, 43)}"`);
      if (rng.next() < 0.3) rr(`${name} IN TXT "v=DMARC1; p=${rng.pick(['none', 'quarantine', 'reject'])}; rua=mailto:d@${name}.${BENCH_ORIGIN}"`);
      index.txtNames.push(name);
    } else if (rng.next() < 0.85) {
      // A delegation with in-bailiwick name servers and their glue.
      rr(`${name} 86400 IN NS ns1.${name}`);
      rr(`${name} 86400 IN NS ns2.${name}`);
      for (const ns of ['ns1', 'ns2']) {
        rr(`${ns}.${name} 86400 IN A ${ipv4(rng)}`);
        if (rng.next() < 0.3) rr(`${ns}.${name} 86400 IN AAAA ${ipv6(rng)}`);
      }
      index.delegations.push(name);
    } else {
      // A delegation to a hosting provider's servers outside the zone: no glue.
      const provider = rng.int(200);
      rr(`${name} 86400 IN NS ns1.provider-${provider}.example.net.`);
      rr(`${name} 86400 IN NS ns2.provider-${provider}.example.net.`);
      index.delegations.push(name);
    }
  }
  out.close();
  return { records, index };
}

/**
 * Writes the zone of many short names: owners are the name's index in base 36 behind a letter
 * (`a1b2`, 2-5 characters), most with a single A, some with an AAAA beside it or instead, a few with
 * two A; 5% of the names sit one label down in a short "subnet" label (`k3.s12`). Mostly no class and
 * no TTL, as hand-kept host files read; returns the exact record count.
 */
function writeHostsZone(path: string, target: number, rng: Rng): number {
  const out = new LineWriter(path);
  let records = 0;
  const rr = (s: string): void => {
    out.line(s);
    records++;
  };
  out.line(`$ORIGIN ${HOSTS_ORIGIN}`);
  out.line('$TTL 3600');
  rr('@ SOA ns1 hostmaster 2024010101 7200 3600 1209600 3600');
  rr('@ NS ns1');
  rr('@ NS ns2');
  rr('ns1 A 192.0.2.1');
  rr('ns2 A 192.0.2.2');
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; records < target; i++) {
    const base = `${letters[i % 26]}${Math.floor(i / 26).toString(36)}`;
    const name = rng.next() < 0.05 ? `${base}.s${rng.int(400)}` : base;
    const p = rng.next();
    const left = target - records;
    if (p < 0.7 || left < 2) {
      rr(rng.next() < 0.9 ? `${name} A ${ipv4(rng)}` : `${name} 300 IN A ${ipv4(rng)}`);
    } else if (p < 0.85) {
      rr(`${name} A ${ipv4(rng)}`);
      rr(`${name} AAAA ${ipv6(rng)}`);
    } else if (p < 0.95) {
      rr(`${name} AAAA ${ipv6(rng)}`);
    } else {
      rr(`${name} A ${ipv4(rng)}`);
      rr(`${name} A ${ipv4(rng)}`);
    }
  }
  out.close();
  return records;
}

/** Writes one query file per category and a mixed one drawing from them with the given weights. */
function writeQueries(
  dir: string,
  prefix: string,
  makers: Record<string, { weight: number; make: () => string }>,
  rng: Rng,
): QueryFiles {
  const names = Object.keys(makers);
  const files: QueryFiles = { mixed: join(dir, `${prefix}-mixed.txt`) };
  for (const n of names) {
    files[n] = join(dir, `${prefix}-${n}.txt`);
    const w = new LineWriter(files[n]);
    const make = makers[n]!.make;
    for (let i = 0; i < QUERIES_PER_FILE; i++) w.line(make());
    w.close();
  }
  const total = names.reduce((s, n) => s + makers[n]!.weight, 0);
  const w = new LineWriter(files.mixed);
  for (let i = 0; i < QUERIES_PER_FILE; i++) {
    let x = rng.next() * total;
    let chosen = names[names.length - 1]!;
    for (const n of names) {
      x -= makers[n]!.weight;
      if (x < 0) {
        chosen = n;
        break;
      }
    }
    w.line(makers[chosen]!.make());
  }
  w.close();
  return files;
}

function bigZoneQueries(dir: string, index: BigZoneIndex, rng: Rng): QueryFiles {
  const fq = (rel: string): string => `${rel}.${BENCH_ORIGIN}`;
  return writeQueries(
    dir,
    '1m',
    {
      hits: {
        weight: 40,
        make: () => {
          const p = rng.next();
          if (p < 0.5) return `${fq(rng.pick(index.hostsA))} A`;
          if (p < 0.7) return `${fq(rng.pick(index.hostsAAAA))} AAAA`;
          if (p < 0.85) return `${fq(rng.pick(index.aliases))} A`;
          return `${fq(rng.pick(index.txtNames))} TXT`;
        },
      },
      // No generated owner lacks a hyphen, so "nx<digits>" never exists; names below a host don't either.
      nxdomain: {
        weight: 20,
        make: () => (rng.next() < 0.7 ? `${fq(`nx${rng.int(1e9)}`)} A` : `${fq(`www.${rng.pick(index.hostsA)}`)} AAAA`),
      },
      referral: {
        weight: 20,
        make: () => {
          const child = rng.pick(index.delegations);
          return rng.next() < 0.7 ? `${fq(`www.${child}`)} A` : `${fq(child)} A`;
        },
      },
      mx: { weight: 20, make: () => `${fq(rng.pick(index.mailNames))} MX` },
    },
    rng,
  );
}

const JUNK_TLDS = ['local', 'home', 'lan', 'corp', 'internal', 'localdomain', 'belkin', 'domain', 'invalid', 'dlink', 'router', 'intranet'];

/** Reads the root zone's delegations and DS owners; writes the copy without the trailing duplicate SOA. */
function prepareRoot(source: string, dest: string): { records: number; tlds: string[]; dsOwners: string[] } {
  const lines = readFileSync(source, 'latin1').split('\n');
  const kept: string[] = [];
  const tlds = new Set<string>();
  const ds = new Set<string>();
  let soaSeen = false;
  for (const line of lines) {
    const f = line.split(/\s+/);
    if (f.length < 5 || line.startsWith(';')) continue;
    const [owner, , , type] = f as [string, string, string, string];
    if (type === 'SOA') {
      if (soaSeen) continue;
      soaSeen = true;
    }
    if (type === 'NS' && owner !== '.' && owner.split('.').length === 2) tlds.add(owner);
    if (type === 'DS') ds.add(owner);
    kept.push(line);
  }
  writeFileSync(dest, kept.join('\n') + '\n', 'latin1');
  return { records: kept.length, tlds: [...tlds], dsOwners: [...ds] };
}

function rootQueries(dir: string, tlds: string[], dsOwners: string[], rng: Rng): QueryFiles {
  const known = new Set(tlds);
  return writeQueries(
    dir,
    'root',
    {
      referral: {
        weight: 50,
        make: () => {
          const tld = rng.pick(tlds);
          const p = rng.next();
          if (p < 0.7) return `${label(rng, rng.int(1e6))}.${tld} A`;
          if (p < 0.85) return `www.${label(rng, rng.int(1e6))}.${tld} AAAA`;
          return `${tld} NS`;
        },
      },
      nxdomain: {
        weight: 25,
        make: () => {
          // Leaked private TLDs and Chrome-style random probes; never a delegated TLD.
          let tld = rng.next() < 0.6 ? rng.pick(JUNK_TLDS) : token(rng, 7 + rng.int(8)).toLowerCase();
          while (known.has(`${tld}.`)) tld += 'x';
          return rng.next() < 0.5 ? `${tld}. A` : `wpad.${tld}. A`;
        },
      },
      apex: { weight: 10, make: () => `. ${rng.pick(['SOA', 'NS', 'DNSKEY'])}` },
      ds: { weight: 15, make: () => `${rng.pick(dsOwners)} DS` },
    },
    rng,
  );
}

/**
 * A random-name ("water torture") flood below the root: every line a name never seen before, half
 * under junk TLDs (NXDOMAIN), half below real TLDs (referrals), so no response cache can help.
 * Written once beside the other files, outside the stamp: it depends only on the TLD list and the seed.
 */
function rootRandomQueries(file: string, tlds: string[], rng: Rng): void {
  const known = new Set(tlds);
  const w = new LineWriter(file);
  for (let i = 0; i < RANDOM_NAMES; i++) {
    // The index in base 36 makes every name distinct; the random part keeps them unpredictable.
    const unique = `${token(rng, 4 + rng.int(8)).toLowerCase()}-${i.toString(36)}`;
    const type = rng.next() < 0.8 ? 'A' : 'AAAA';
    if (rng.next() < 0.5) w.line(`${unique}.${rng.pick(tlds)} ${type}`);
    // A second draw, not the first's value: a quarter of the names each (the seed's zone stays the same).
    // eslint-disable-next-line no-dupe-else-if
    else if (rng.next() < 0.5) w.line(`${unique}.${rng.pick(JUNK_TLDS)}. ${type}`);
    else w.line(`${known.has(`${unique}.`) ? `${unique}x` : unique}. ${type}`);
  }
  w.close();
}

interface Stamp {
  version: number;
  seed: number;
  records: number;
  hostsRecords: number;
  rootSource: string;
  rootSize: number;
  rootRecords: number;
  bigIndexSizes: Record<string, number>;
}

function layout(dir: string, records: number): BenchData {
  const zonesDir = join(dir, 'zones');
  const queriesDir = join(dir, 'queries');
  const files = (prefix: string, cats: string[]): QueryFiles => {
    const q: QueryFiles = { mixed: join(queriesDir, `${prefix}-mixed.txt`) };
    for (const c of cats) q[c] = join(queriesDir, `${prefix}-${c}.txt`);
    return q;
  };
  return {
    dir,
    zonesDir,
    big: { origin: BENCH_ORIGIN, file: join(zonesDir, `${BENCH_ORIGIN}zone`), records, queries: files('1m', ['hits', 'nxdomain', 'referral', 'mx']) },
    hosts: { origin: HOSTS_ORIGIN, file: join(zonesDir, `${HOSTS_ORIGIN}zone`), records },
    root: { origin: '.', source: ROOT_ZONE_2018, file: join(zonesDir, 'root.zone'), records: 0, queries: { ...files('root', ['referral', 'nxdomain', 'apex', 'ds']), random: join(queriesDir, 'root-random.txt') } },
  };
}

/** The random-name file, generated if missing (data made before it existed has the rest). */
/** Its own stream, apart from the zones' (SEED .. SEED + 3). */
const RANDOM_QUERIES_SEED = SEED + 4;

function ensureRandomQueries(data: BenchData): void {
  const file = data.root.queries.random!;
  if (existsSync(file)) return;
  const tlds = new Set<string>();
  for (const line of readFileSync(data.root.file, 'latin1').split('\n')) {
    const f = line.split(/\s+/);
    if (f[3] === 'NS' && f[0] !== '.' && f[0]!.split('.').length === 2) tlds.add(f[0]!);
  }
  rootRandomQueries(file, [...tlds], createRng(RANDOM_QUERIES_SEED));
}

/** Generated zones and query files live outside the repository (tens of MB); override with ANYCAST_DNS_BENCH_DIR. */
function benchDataDir(): string {
  return process.env['ANYCAST_DNS_BENCH_DIR'] ?? join(tmpdir(), 'anycast-dns-bench');
}

/** Returns the benchmark data, generating it unless an up-to-date copy is already in `dir`. */
export function ensureBenchData(opts: { dir?: string; records?: number; force?: boolean; log?: (s: string) => void } = {}): BenchData {
  const dir = opts.dir ?? benchDataDir();
  const records = opts.records ?? 1_000_000;
  const log = opts.log ?? ((): void => undefined);
  const data = layout(dir, records);
  const stampFile = join(dir, 'stamp.json');
  const rootSize = statSync(ROOT_ZONE_2018).size;
  if (!opts.force && existsSync(stampFile)) {
    const s = JSON.parse(readFileSync(stampFile, 'utf8')) as Stamp;
    const allThere = [data.big.file, data.hosts.file, data.root.file, ...Object.values(data.big.queries), ...Object.entries(data.root.queries).flatMap(([c, f]) => (c === 'random' ? [] : [f]))].every((f) => existsSync(f));
    // A cache from before the hosts zone existed lacks its count: regenerated like any stale one.
    if (allThere && s.version === GENERATOR_VERSION && s.seed === SEED && s.records === records && typeof s.hostsRecords === 'number' && s.rootSource === ROOT_ZONE_2018 && s.rootSize === rootSize) {
      data.root.records = s.rootRecords;
      data.hosts.records = s.hostsRecords;
      ensureRandomQueries(data);
      return data;
    }
  }
  mkdirSync(data.zonesDir, { recursive: true });
  mkdirSync(join(dir, 'queries'), { recursive: true });
  const t0 = Date.now();
  log(`generating ${records} records into ${data.big.file} ...`);
  const big = writeBigZone(data.big.file, records, createRng(SEED));
  bigZoneQueries(join(dir, 'queries'), big.index, createRng(SEED + 1));
  const root = prepareRoot(ROOT_ZONE_2018, data.root.file);
  data.root.records = root.records;
  rootQueries(join(dir, 'queries'), root.tlds, root.dsOwners, createRng(SEED + 2));
  log(`generating ${records} records into ${data.hosts.file} ...`);
  data.hosts.records = writeHostsZone(data.hosts.file, records, createRng(SEED + 3));
  rootRandomQueries(data.root.queries.random!, root.tlds, createRng(RANDOM_QUERIES_SEED));
  const bigIndexSizes = Object.fromEntries(Object.entries(big.index).map(([k, v]) => [k, (v as string[]).length]));
  const stamp: Stamp = { version: GENERATOR_VERSION, seed: SEED, records: big.records, hostsRecords: data.hosts.records, rootSource: ROOT_ZONE_2018, rootSize, rootRecords: root.records, bigIndexSizes };
  writeFileSync(stampFile, JSON.stringify(stamp, null, 2) + '\n');
  log(`generated in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(bigIndexSizes)}`);
  return data;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const recordsArg = value('--records');
  const dirArg = value('--dir');
  const data = ensureBenchData({
    ...(dirArg !== undefined ? { dir: dirArg } : {}),
    ...(recordsArg !== undefined ? { records: Number(recordsArg) } : {}),
    force: argv.includes('--force'),
    log: (s) => process.stderr.write(s + '\n'),
  });
  process.stdout.write(JSON.stringify(data, null, 2) + '\n');
}
