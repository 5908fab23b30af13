// The server's configuration: one YAML file, command-line flags on top. Every bad value stops
// start-up with a message naming its key (ConfigReader), so a typo never silently runs defaults.
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import type { RrlConfig } from '../rrl/policy.js';
import { parsePrefix, type Prefix } from '../wire/address.js';
import { tsigKey, type TsigKey, type TsigKeyring } from '../wire/tsig.js';
import { parseKeyFile } from '../wire/tsig-keyfile.js';
import type { CookieConfig } from '../wire/cookies.js';
import type { GeoConfig } from '../sync/geo-source.js';
import type { SerialPolicy, ZoneSyncConfig } from '../sync/policy.js';
import type { Primary, SecondaryConfig, SecondaryZone } from '../secondary/config.js';
import { canonicalOrigin } from '../sync/zone-files.js';
import { VERSION } from '../version.js';
import { ConfigReader, type Plain } from './validate.js';

export { formatListenAddress } from './listen-address.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];
/** Level names accepted in the config and on the command line: syslog's `warning` too. */
const LOG_LEVEL_NAMES = [...LOG_LEVELS, 'warning'] as const;

/** Where dnstap messages go: a file, or a Frame Streams collector on a unix socket. */
export interface DnstapOutput {
  kind: 'file' | 'unix';
  path: string;
}

/** How UDP is read and written: the native path (recvmmsg/sendmmsg) when it loads, or node:dgram. */
const UDP_IO_CHOICES = ['auto', 'native', 'dgram'] as const;
export type UdpIo = (typeof UDP_IO_CHOICES)[number];

export interface ListenAddress {
  host: string;
  port: number;
  family: 4 | 6;
}

export interface ServerConfig {
  /** The POP's name: NSID, CH TXT id.server / hostname.bind, and a label on every log line and metric. */
  identity: string;
  /** DNS listeners; each address gets a UDP socket and a TCP listener. */
  listen: ListenAddress[];
  /** Directory of `<origin>.zone` files. */
  zones: string;
  /** origin → file (relative to `zones`) when the zones are listed; null serves every `<origin>.zone` of the directory. */
  zoneFiles: Map<string, string> | null;
  zoneSync: ZoneSyncConfig;
  /** CH TXT version.bind; null when hidden. */
  version: string | null;
  ednsUdpSize: number;
  /** Answer NSID (RFC 5001) with the identity; false ignores the option. */
  nsid: boolean;
  /** Section `metrics`: `pop_label` false leaves the pop label to the scraper. */
  metrics: { popLabel: boolean };
  /** Section `dnstap`: null when off. */
  dnstap: { output: DnstapOutput } | null;
  /** Octets of whole responses kept for reuse, per query thread; 0 disables the cache. */
  responseCacheBytes: number;
  tcp: {
    /** Close a connection after this long without a query (RFC 7766 §6.2.3). */
    idleTimeoutMs: number;
    /** A begun message must arrive, and our answers be taken, within this long (as Knot's tcp-io-timeout). */
    ioTimeoutMs: number;
    /** Open connections in the POP, every listener of every answering thread together. */
    maxConnections: number;
    /** 0: no limit. */
    maxConnectionsPerAddress: number;
    /** Per prefix (ipv4PrefixLength, ipv6PrefixLength); 0: no limit. */
    maxConnectionsPerPrefix: number;
    /** Accepted per prefix per second; 0 (the default): no limit. */
    newConnectionsPerSecondPerPrefix: number;
    /** What a prefix is for the two limits above: 24 and 56 by default. */
    ipv4PrefixLength: number;
    ipv6PrefixLength: number;
  };
  logLevel: LogLevel;
  /** Threads answering queries; 1 answers on the main thread, N > 1 in N query threads. */
  workers: number;
  /** `auto`: native when it loaded (one log line says which path runs and why); `native`: or stop. */
  udpIo: UdpIo;
  /** The HTTP listener for /metrics, /ready, /live, /zones and /reload (`ctl`); null disables it. */
  management: { listen: ListenAddress | null };
  /** Response rate limiting on UDP (section `rrl`). */
  rrl: RrlConfig;
  /** DNS cookie secrets (section `cookies`). */
  cookies: CookieConfig;
  /** EDNS Client Subnet (RFC 7871) read and echoed; off: the option is ignored. */
  ecs: boolean;
  /** Geo rules (section `geo`): null when no rules file is named. */
  geo: GeoConfig | null;
  /** TSIG keys (RFC 8945) by the lookup key of their name, from `tsig_keys`. */
  tsigKeys: TsigKeyring;
  /** Zone transfers out (section `transfer`). */
  transfer: TransferConfig;
  /** Secondary zones, transferred from their primaries (section `secondary`); null when none are listed. */
  secondary: SecondaryConfig | null;
}

/** Who may transfer zones out (AXFR, IXFR): a request is allowed when one rule's prefix holds its source and, when the rule names a key, it is signed with that key. */
interface TransferRule {
  /** null: any address (a rule with a key only). */
  prefix: Prefix | null;
  /** Lookup key of the TSIG key name the request must be signed with; null: any source in the prefix, signed or not. */
  key: string | null;
}

/** A secondary told of every zone change (RFC 1996). */
export interface NotifyTarget {
  address: ListenAddress;
  /** Signs the NOTIFY; null: unsigned. */
  key: TsigKey | null;
}

export interface TransferConfig {
  /** No rule: every transfer is refused. */
  allow: TransferRule[];
  notify: NotifyTarget[];
  /** Versions of each zone kept before the served one, for IXFR from them; each holds its compiled zone in memory. */
  ixfrVersions: number;
}

/** Values given on the command line; each replaces the config file's. */
export interface ConfigOverrides {
  listen?: string[];
  zones?: string;
  identity?: string;
  logLevel?: string;
  management?: string;
}

const DEFAULT_PORT = 5300;
/**
 * The management listener when the config names none, and where `ctl` looks without a config: on
 * loopback only, so only this host reaches it (Prometheus's usual exporter port range).
 */
export const DEFAULT_MANAGEMENT_LISTEN = '127.0.0.1:9153';
/** The zones shipped with the package (dist/src/ops/config.js → <package>/zones). */
export const BUNDLED_ZONES_DIR = fileURLToPath(new URL('../../../zones', import.meta.url));

/** `ADDR:PORT` or `[v6]:PORT` → address; `key` names the setting in errors. */
export function parseListenAddress(text: string, key: string, minPort = 1): ListenAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m) throw new ConfigError(key, `"${text}" is not ADDR:PORT or [IPv6]:PORT`);
  const host = m[1]!;
  const port = Number(m[2]);
  const family = isIPv4(host) ? 4 : isIPv6(host) ? 6 : 0;
  if (family === 0) throw new ConfigError(key, `"${host}" is not an IP address`);
  if (family === 6 && text[0] !== '[') throw new ConfigError(key, `write IPv6 addresses in brackets: "[${host}]:${port}"`);
  if (port < minPort || port > 65535) throw new ConfigError(key, `port ${port} is out of range ${minPort}..65535`);
  return { host, port, family };
}

/** Reads the config file (null: none) and applies the flags. Throws ConfigError naming the key. */
export function loadServerConfig(path: string | null, overrides: ConfigOverrides = {}): ServerConfig {
  const doc = path === null ? {} : readConfigDocument(path);
  // A relative zones path in the file is relative to the file, so a config works from any cwd.
  return serverConfigFrom(doc, path === null ? process.cwd() : dirname(resolve(path)), overrides);
}

/** The parsed YAML mapping of a config file; `anycast-dns serve`, `health` and `ctl` all read it here. */
export function readConfigDocument(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, `not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(path, 'expected a mapping at the top');
  return parsed as Plain;
}

/** The server's settings from a parsed config; relative paths resolve against `baseDir` (the config file's directory). */
export function serverConfigFrom(doc: Plain, baseDir: string, overrides: ConfigOverrides = {}): ServerConfig {
  return readServerConfig(new ConfigReader(doc), baseDir, overrides);
}

function readServerConfig(r: ConfigReader, baseDir: string, o: ConfigOverrides): ServerConfig {
  const fileIdentity = r.string('identity', hostname());
  const identity = o.identity ?? fileIdentity;
  if (identity === '' || Buffer.byteLength(identity) > 255) {
    // CH TXT character-strings hold at most 255 octets (RFC 1035 §3.3).
    throw new ConfigError(o.identity === undefined ? r.key('identity') : '--identity', 'must be 1..255 bytes');
  }
  const listenTexts = r.stringList('listen', [`127.0.0.1:${DEFAULT_PORT}`, `[::1]:${DEFAULT_PORT}`]);
  const listen =
    o.listen !== undefined
      ? o.listen.map((t) => parseListenAddress(t, '--listen'))
      : listenTexts.map((t, i) => parseListenAddress(t, `${r.key('listen')}[${i}]`));
  if (listen.length === 0) throw new ConfigError(o.listen !== undefined ? '--listen' : r.key('listen'), 'needs at least one address');

  const zonesText = r.string('zones', '');
  const zones = o.zones !== undefined ? resolve(o.zones) : zonesText === '' ? BUNDLED_ZONES_DIR : resolve(baseDir, zonesText);

  // Validated here, so a bad origin stops start-up instead of leaving a zone unserved.
  const zoneFiles = r.stringMap('zone_files');
  zoneFiles?.forEach((_file, origin) => {
    try {
      canonicalOrigin(origin);
    } catch (err) {
      throw new ConfigError(`${r.key('zone_files')}.${origin}`, `not a domain name: ${(err as Error).message}`);
    }
  });
  const zoneSync = readZoneSync(r.section('zone_sync'));

  const versionText = r.string('version', `anycast-dns ${VERSION}`);
  const version = versionText === 'hidden' ? null : versionText;
  if (version !== null && Buffer.byteLength(version) > 255) throw new ConfigError(r.key('version'), 'must be at most 255 bytes');

  // RFC 6891 §6.2.5: below 512 is treated as 512; 1232 avoids IP fragmentation (DNS Flag Day 2020).
  const ednsUdpSize = r.int('edns_udp_size', 1232, 512, 4096);

  // Per query thread. Each MiB holds roughly 3,000 (root referrals with glue) to 7,000 (single A records)
  // responses; a miss costs about ten hits (the answer is computed and written).
  const responseCacheBytes = r.int('response_cache_mb', 64, 0, 4096) * 1024 * 1024;

  const t = r.section('tcp');
  const tcp = {
    idleTimeoutMs: t.int('idle_timeout', 10_000, 100, 3_600_000),
    // A client sends its query in one segment; 2 s also covers a long path and a lost segment
    // retransmitted (Linux's minimum RTO is 200 ms), and caps how long a slowloris holds a slot.
    ioTimeoutMs: t.int('io_timeout', 2000, 100, 60_000),
    maxConnections: t.int('max_connections', 1000, 1, 1_000_000),
    // Held only while half the table or more is in use, so a busy resolver is never refused while
    // there is room; loose even then (RFC 7766 §6.2.2: one address may be many clients behind NAT):
    // past half the default table, 25 addresses or 5 prefixes are needed to fill the rest.
    maxConnectionsPerAddress: t.int('max_connections_per_address', 20, 0, 1_000_000),
    maxConnectionsPerPrefix: t.int('max_connections_per_prefix', 100, 0, 1_000_000),
    // Off: a resolver farm behind one /24 retrying over TCP after TC=1 (RRL's slip sends it there)
    // opens hundreds a second, each asking at once and gone at once; a slow flood is held by the
    // timeouts and the table instead, as Knot and NSD hold it.
    newConnectionsPerSecondPerPrefix: t.int('new_connections_per_second_per_prefix', 0, 0, 1_000_000),
    // The same defaults as rrl's: a site or a customer (RIPE-690), not one host.
    ipv4PrefixLength: t.int('ipv4_prefix_length', 24, 0, 32),
    ipv6PrefixLength: t.int('ipv6_prefix_length', 56, 0, 128),
  };
  t.done();

  const logLevelText = r.oneOf<string>('log_level', 'info', LOG_LEVEL_NAMES);
  if (o.logLevel !== undefined && !(LOG_LEVEL_NAMES as readonly string[]).includes(o.logLevel)) {
    throw new ConfigError('--log-level', `"${o.logLevel}" is not one of ${LOG_LEVEL_NAMES.join(', ')}`);
  }
  const levelName = o.logLevel ?? logLevelText;
  const logLevel = (levelName === 'warning' ? 'warn' : levelName) as LogLevel;

  const nsid = r.bool('nsid', true);
  const mt = r.section('metrics');
  const metrics = { popLabel: mt.bool('pop_label', true) };
  mt.done();
  const dnstap = readDnstap(r.section('dnstap'), baseDir);

  const workers = readWorkers(r);
  const udpIo = r.oneOf<UdpIo>('udp_io', 'auto', UDP_IO_CHOICES);

  const m = r.section('management');
  const mgmtText = m.stringOrNull('listen', DEFAULT_MANAGEMENT_LISTEN);
  m.done();
  const management = {
    listen:
      o.management !== undefined ? parseListenAddress(o.management, '--management', 0) : mgmtText === null ? null : parseListenAddress(mgmtText, m.key('listen'), 0),
  };

  const rrl = readRrl(r.section('rrl'));
  const cookies = readCookies(r.section('cookies'));
  const ecs = r.bool('ecs', false);
  const geo = readGeo(r.section('geo'), baseDir);

  const tsigKeys = readTsigKeys(r, baseDir);
  const transfer = readTransfer(r.section('transfer'), tsigKeys);
  const secondary = readSecondary(r.section('secondary'), baseDir, tsigKeys, zones, zoneFiles);

  r.skip('health'); // the health sidecar's section, validated by `anycast-dns health`
  r.done();
  return { identity, listen, zones, zoneFiles, zoneSync, version, nsid, metrics, dnstap, ednsUdpSize, responseCacheBytes, tcp, logLevel, workers, udpIo, management, rrl, cookies, ecs, geo, tsigKeys, transfer, secondary };
}

/** `rules: PATH` (relative to the config file), `database: PATH` (the bundled one by default), `watch`. No rules: off. */
function readGeo(r: ConfigReader, baseDir: string): GeoConfig | null {
  const rules = r.string('rules', '');
  const database = r.string('database', '');
  const watch = r.bool('watch', true);
  r.done();
  if (rules === '') {
    if (database !== '') throw new ConfigError(r.key('database'), 'needs geo.rules too');
    return null;
  }
  return { rulesFile: resolve(baseDir, rules), database: database === '' ? null : resolve(baseDir, database), watch };
}

/**
 * `tsig_keys`: a list of keys, each `{ name, algorithm, secret }` or `{ file }` (BIND's key syntax,
 * one or more keys; a relative path is relative to the config file). A name given twice is an error.
 */
function readTsigKeys(r: ConfigReader, baseDir: string): TsigKeyring {
  const keys = new Map<string, TsigKey>();
  const add = (k: TsigKey, where: string): void => {
    if (keys.has(k.key)) throw new ConfigError(where, `key "${k.name}" is defined twice`);
    keys.set(k.key, k);
  };
  for (const e of r.sections('tsig_keys')) {
    if (e.has('file')) {
      const path = resolve(baseDir, e.string('file', ''));
      e.done();
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new ConfigError(e.key('file'), `cannot read: ${(err as Error).message}`);
      }
      let parsed: TsigKey[];
      try {
        parsed = parseKeyFile(text, path);
      } catch (err) {
        throw new ConfigError(e.key('file'), (err as Error).message);
      }
      for (const k of parsed) add(k, e.key('file'));
      continue;
    }
    const name = e.string('name', '');
    const algorithm = e.string('algorithm', 'hmac-sha256');
    const secret = e.string('secret', '');
    e.done();
    if (name === '') throw new ConfigError(e.key('name'), 'a key needs a name (or a file)');
    try {
      add(tsigKey(name, algorithm, secret), e.key('name'));
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(e.key(secret === '' ? 'secret' : 'name'), (err as Error).message);
    }
  }
  return keys;
}

/** `transfer.allow`: rules of `from` (an address or prefix) and `key` (a name in `tsig_keys`), at least one of them. */
function readTransfer(r: ConfigReader, keys: TsigKeyring): TransferConfig {
  const allow = r.sections('allow').map((e): TransferRule => {
    const from = e.string('from', '');
    const keyName = e.string('key', '');
    e.done();
    if (from === '' && keyName === '') throw new ConfigError(e.key('from'), 'a rule needs an address or prefix (from), a key, or both');
    const prefix = from === '' ? null : parsePrefix(from);
    if (from !== '' && prefix === null) throw new ConfigError(e.key('from'), `"${from}" is not an address or ADDR/BITS prefix`);
    if (keyName === '') return { prefix, key: null };
    return { prefix, key: namedKey(keys, keyName, e.key('key')).key };
  });
  const notify = r.sections('notify').map((e): NotifyTarget => {
    const to = e.string('to', '');
    const keyName = e.string('key', '');
    e.done();
    if (to === '') throw new ConfigError(e.key('to'), 'a secondary needs an address: to: ADDR:PORT');
    return { address: parseListenAddress(to, e.key('to')), key: keyName === '' ? null : namedKey(keys, keyName, e.key('key')) };
  });
  const ixfrVersions = r.int('ixfr_versions', 2, 0, 100);
  r.done();
  return { allow, notify, ixfrVersions };
}

/**
 * `secondary`: the zones transferred from primaries, `zones: [{ zone, primaries: [{ address, key }] }]`,
 * the state directory their versions are kept in, the bounds on their SOA timers, and the limits of
 * one transfer. A zone listed in `zone_files` too is an error.
 */
function readSecondary(r: ConfigReader, baseDir: string, keys: TsigKeyring, zonesDir: string, zoneFiles: Map<string, string> | null): SecondaryConfig | null {
  const fileZones = new Set([...(zoneFiles?.keys() ?? [])].map((o) => canonicalOrigin(o)));
  const seen = new Set<string>();
  const zones = r.sections('zones').map((e): SecondaryZone => {
    const text = e.string('zone', '');
    if (text === '') throw new ConfigError(e.key('zone'), 'a secondary zone needs its name');
    let origin: string;
    try {
      origin = canonicalOrigin(text);
    } catch (err) {
      throw new ConfigError(e.key('zone'), `not a domain name: ${(err as Error).message}`);
    }
    if (seen.has(origin)) throw new ConfigError(e.key('zone'), `${origin} is listed twice`);
    if (fileZones.has(origin)) throw new ConfigError(e.key('zone'), `${origin} is also in zone_files: a zone is served from a file or transferred, not both`);
    seen.add(origin);
    const primaries = e.sections('primaries').map((pe): Primary => {
      const address = pe.string('address', '');
      const keyName = pe.string('key', '');
      pe.done();
      if (address === '') throw new ConfigError(pe.key('address'), 'a primary needs an address: ADDR, ADDR:PORT or [IPv6]:PORT');
      // Port 53 when none is given (RFC 1035 §4.2).
      const withPort = isIPv4(address) ? `${address}:53` : isIPv6(address) ? `[${address}]:53` : address;
      const a = parseListenAddress(withPort, pe.key('address'));
      return { host: a.host, port: a.port, family: a.family, key: keyName === '' ? null : namedKey(keys, keyName, pe.key('key')) };
    });
    if (primaries.length === 0) throw new ConfigError(e.key('primaries'), `${origin} needs at least one primary`);
    const catalog = e.bool('catalog', false);
    e.done();
    return { origin, primaries, catalog };
  });
  const stateDirText = r.string('state_dir', '');
  const bounds = (what: 'refresh' | 'retry' | 'expire', min: number, max: number, limit: number): [number, number] => {
    const lo = r.int(`${what}_min`, min, 1, limit);
    const hi = r.int(`${what}_max`, max, 1, limit);
    if (lo > hi) throw new ConfigError(r.key(`${what}_min`), `${lo} is above ${what}_max (${hi})`);
    return [lo, hi];
  };
  const [refreshMin, refreshMax] = bounds('refresh', 2, 86400, 86400 * 28);
  const [retryMin, retryMax] = bounds('retry', 1, 86400, 86400 * 28);
  const [expireMin, expireMax] = bounds('expire', 3, 86400 * 28, 86400 * 365);
  const timers = { refreshMin, refreshMax, retryMin, retryMax, expireMin, expireMax };
  const maxTransferBytes = r.int('max_transfer_mb', 1024, 1, 1 << 20) * 1024 * 1024;
  const transferTimeoutMs = r.int('transfer_timeout', 600, 1, 86400) * 1000;
  r.done();
  if (zones.length === 0) return null;
  if (stateDirText === '') throw new ConfigError(r.key('state_dir'), 'secondary zones need a directory to keep their versions in');
  const stateDir = resolve(baseDir, stateDirText);
  if (stateDir === zonesDir) throw new ConfigError(r.key('state_dir'), `${stateDir} is the zones directory: transferred versions must not be mixed with the synced files`);
  return { stateDir, zones, timers, maxTransferBytes, transferTimeoutMs };
}

function namedKey(keys: TsigKeyring, name: string, where: string): TsigKey {
  const k = [...keys.values()].find((x) => x.name === canonicalKeyName(name));
  if (k === undefined) throw new ConfigError(where, `no key "${name}" in tsig_keys`);
  return k;
}

function canonicalKeyName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n : n + '.';
}

/** `output: file:PATH | unix:PATH`; a relative PATH is relative to the config file, like `zones`. No output: off. */
function readDnstap(r: ConfigReader, baseDir: string): { output: DnstapOutput } | null {
  const text = r.string('output', '');
  r.done();
  if (text === '') return null;
  const m = /^(file|unix):(.+)$/.exec(text);
  if (m === null) throw new ConfigError(r.key('output'), `"${text}" is not file:PATH or unix:PATH`);
  return { output: { kind: m[1] as 'file' | 'unix', path: resolve(baseDir, m[2]!) } };
}

function readZoneSync(z: ConfigReader): ZoneSyncConfig {
  const out: ZoneSyncConfig = {
    watch: z.bool('watch', true),
    serialPolicy: z.oneOf<SerialPolicy>('serial_policy', 'increase', ['increase', 'any']),
    maxRecordLoss: z.number('max_record_loss', 0.5, 0, 1),
    maxZoneLoss: z.number('max_zone_loss', 0.5, 0, 1),
    settleMs: Math.round(z.number('settle_time', 1, 0, 60) * 1000),
    rescanMs: Math.round(z.number('rescan_interval', 60, 0, 86400) * 1000),
    signatureWarningDays: z.int('signature_warning_days', 7, 0, 3650),
  };
  z.done();
  return out;
}

/**
 * Defaults (docs/guide.md, "Rate limiting and cookies", says why): NSD's rate, which Debian's NSD ships on;
 * BIND's window, slip and prefixes; Knot's table size.
 */
function readRrl(r: ConfigReader): RrlConfig {
  const exemptTexts = r.stringList('exempt', []);
  const exempt = exemptTexts.map((t, i) => {
    const p = parsePrefix(t);
    if (p === null) throw new ConfigError(`${r.key('exempt')}[${i}]`, `"${t}" is not an address or ADDR/BITS prefix`);
    return p;
  });
  const cfg: RrlConfig = {
    responsesPerSecond: r.int('responses_per_second', 200, 0, 1_000_000),
    window: r.int('window', 15, 1, 3600),
    slip: r.int('slip', 2, 0, 10),
    ipv4PrefixLength: r.int('ipv4_prefix_length', 24, 0, 32),
    ipv6PrefixLength: r.int('ipv6_prefix_length', 56, 0, 128),
    exempt,
    logOnly: r.bool('log_only', false),
    tableSize: r.int('table_size', 393_241, 1024, 100_000_000),
  };
  r.done();
  return cfg;
}

function readCookies(r: ConfigReader): CookieConfig {
  const secret = readSecret(r, 'secret');
  const secretPrevious = readSecret(r, 'secret_previous');
  if (secretPrevious !== null && secret === null) throw new ConfigError(r.key('secret_previous'), 'needs cookies.secret too');
  r.done();
  return { secret, secretPrevious };
}

/** 16 octets as 32 hex digits (RFC 9018 §4.4: the SipHash-2-4 key), or null when absent. */
function readSecret(r: ConfigReader, key: string): Buffer | null {
  const text = r.string(key, '');
  if (text === '') return null;
  if (!/^[0-9a-fA-F]{32}$/.test(text)) throw new ConfigError(r.key(key), 'expected 32 hex digits (16 octets)');
  return Buffer.from(text, 'hex');
}

function readWorkers(r: ConfigReader): number {
  const text = r.string('workers', '1');
  if (text === 'auto') return availableParallelism();
  if (!/^\d+$/.test(text)) throw new ConfigError(r.key('workers'), `expected an integer or "auto", got "${text}"`);
  const n = Number(text);
  if (n < 1 || n > 256) throw new ConfigError(r.key('workers'), `${n} is out of range 1..256`);
  return n;
}
