// The sidecar's configuration: the server's settings, read from the same file by the same reader
// (identity, the zones and how they are found, the management listener), and the `health:` section,
// which is defined and validated here.
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { formatListenAddress, parseListenAddress, readConfigDocument, serverConfigFrom, type ListenAddress } from '../ops/config.js';
import { ConfigReader, keysAskedFor, type Plain } from '../ops/validate.js';

/** BGP attributes of an announcement in one state. */
export interface RouteAttributes {
  /** MULTI_EXIT_DISC, or null to send none. */
  med: number | null;
  /** How many extra copies of `local_as` to put in the AS path. */
  asPathPrepend: number;
  /** Standard communities as "ASN:VALUE". */
  communities: string[];
}

export interface RouteConfig {
  /** "198.51.100.0/24" or "2001:db8:53::/48". */
  prefix: string;
  /** "self" or an address. */
  nextHop: string;
}

export interface HealthConfig {
  /** The POP's name, in every log line. */
  identity: string;
  /** The zones directory, resolved as the server resolves it (the default probe names). */
  zonesDir: string;
  /** The server's explicit zone list (origin → file), or null (every `<origin>.zone` of zonesDir). */
  zoneFiles: Map<string, string> | null;
  /** The server's secondary zones (canonical origins): probed by default too, so an expired one (SERVFAIL) fails the round. */
  secondaryZones: string[];
  /** The server's zone status endpoint (`http://…/zones`), from management.listen; null when it has none. */
  zonesUrl: string | null;
  /** The DNS service address to probe. */
  server: { host: string; port: number };
  /** Names to query (SOA); empty means "the SOA of every zone in zonesDir". */
  names: string[];
  /** Also probe over TCP. */
  tcp: boolean;
  /** HTTP readiness endpoint ("http://127.0.0.1:9153/ready"), or null. */
  readyUrl: string | null;
  /** Maximum age in seconds of the newest zone version the server loaded (0 = no freshness check). */
  freshnessMaxAge: number;
  /** The other POPs' unicast DNS addresses: whether stale zones are this POP's alone is judged by their serials. */
  peers: { host: string; port: number }[];
  /** All times below are in milliseconds. */
  interval: number;
  fastInterval: number;
  /** Between rounds while a refused port is being confirmed (nobody listens: no reason to wait). */
  confirmInterval: number;
  timeout: number;
  attempts: number;
  rise: number;
  fall: number;
  holdDown: { base: number; max: number; window: number };
  maintenanceFile: string;
  drainTime: number;
  degraded: { latency: number; loss: number };
  localAs: number;
  routes: RouteConfig[];
  attributes: { up: RouteAttributes; degraded: RouteAttributes };
  /** The sidecar's own HTTP listener for /metrics and /status, or null (off). */
  metricsListen: ListenAddress | null;
}

/** RFC 8326 §3: GRACEFUL_SHUTDOWN, added to announcements while the POP drains. */
export const GRACEFUL_SHUTDOWN = '65535:0';

/** Reads and validates the config file; every bad value is reported with its dotted key. */
export function loadHealthConfig(file: string): HealthConfig {
  return healthConfigFrom(readConfigDocument(file), dirname(resolve(file)));
}

/** Builds the config from a parsed YAML document; relative paths resolve against `baseDir` (the config file's directory). */
export function healthConfigFrom(doc: Plain, baseDir = process.cwd()): HealthConfig {
  const srv = serverConfigFrom(doc, baseDir);
  const identity = srv.identity;
  const zonesDir = srv.zones;
  const zoneFiles = srv.zoneFiles;
  const secondaryZones = srv.secondary?.zones.map((z) => z.origin) ?? [];
  const zonesUrl = srv.management.listen === null ? null : `http://${formatListenAddress(srv.management.listen)}/zones`;
  const h = new ConfigReader(doc).section('health');

  const server = parseHostPort(h.string('server', '127.0.0.1:53'), h.key('server'));
  const names = h.stringList('names', []).map((n, i) => absoluteName(n, `${h.key('names')}[${i}]`));
  const tcp = h.bool('tcp', true);
  const readyText = h.string('ready_url', '');
  const readyUrl = readyText === '' ? null : parseUrl(readyText, h.key('ready_url'));
  const fr = h.section('freshness');
  const freshnessMaxAge = fr.number('max_age', 0, 0, 365 * 86400);
  fr.done();
  if (freshnessMaxAge > 0 && zonesUrl === null) throw new ConfigError(fr.key('max_age'), 'needs management.listen: freshness is read from the server\'s /zones');

  const peers = h.stringList('peers', []).map((p, i) => parseHostPort(p, `${h.key('peers')}[${i}]`));
  if (peers.length > 0 && freshnessMaxAge === 0) throw new ConfigError(h.key('peers'), 'needs health.freshness.max_age: peers are asked only when this POP\'s zones are stale');

  const interval = seconds(h, 'interval', 1, 0.01, 3600);
  const fastInterval = seconds(h, 'fast_interval', 0.25, 0.01, 3600);
  const confirmInterval = seconds(h, 'confirm_interval', 0.05, 0.01, 3600);
  const timeout = seconds(h, 'timeout', 0.25, 0.01, 60);
  const attempts = h.int('attempts', 5, 1, 20);
  const rise = h.int('rise', 3, 1, 100);
  const fall = h.int('fall', 3, 1, 100);

  const hd = h.section('hold_down');
  const holdDown = {
    base: seconds(hd, 'base', 10, 0, 86400),
    max: seconds(hd, 'max', 300, 0, 86400),
    window: seconds(hd, 'window', 900, 0, 86400),
  };
  hd.done();
  if (holdDown.max < holdDown.base) throw new ConfigError(hd.key('max'), 'must not be smaller than hold_down.base');

  const metricsText = h.string('metrics_listen', '');
  const metricsListen = metricsText === '' ? null : parseListenAddress(metricsText, h.key('metrics_listen'), 0);

  const maintenanceFile = h.string('maintenance_file', '/run/anycast-dns/maintenance');
  const drainTime = seconds(h, 'drain_time', 15, 0, 3600);

  const dg = h.section('degraded');
  const degraded = { latency: seconds(dg, 'latency', 0.1, 0.001, 60), loss: dg.number('loss', 0.2, 0.01, 1) };
  dg.done();

  const localAs = h.int('local_as', 0, 0, 4294967295);
  const routes = h.sections('routes').map((r) => {
    const prefix = parsePrefix(r.string('prefix', ''), r.key('prefix'));
    const nextHop = r.string('next_hop', 'self');
    if (nextHop !== 'self' && isIP(nextHop) === 0) throw new ConfigError(r.key('next_hop'), `"${nextHop}" is neither "self" nor an IP address`);
    r.done();
    return { prefix, nextHop };
  });
  if (routes.length === 0) throw new ConfigError(h.key('routes'), 'at least one route (prefix) to announce is required');

  const at = h.section('attributes');
  const up = attributes(at.section('up'), { med: null, asPathPrepend: 0, communities: [] });
  // Three extra hops make most upstreams prefer a neighbouring POP for part of the traffic while this
  // one stays reachable (a flooded POP keeps answering what it can instead of pushing it all next door).
  const degradedAttrs = attributes(at.section('degraded'), { med: null, asPathPrepend: 3, communities: [] });
  at.done();
  if ((up.asPathPrepend > 0 || degradedAttrs.asPathPrepend > 0) && localAs === 0) {
    throw new ConfigError(h.key('local_as'), 'required (the AS number to prepend) when an as_path_prepend is set');
  }
  h.done();

  if (fastInterval > interval) throw new ConfigError(h.key('fast_interval'), 'must not be longer than health.interval');
  if (confirmInterval > fastInterval) throw new ConfigError(h.key('confirm_interval'), 'must not be longer than health.fast_interval');
  return {
    identity, zonesDir, zoneFiles, secondaryZones, zonesUrl, server, names, tcp, readyUrl, freshnessMaxAge, peers, interval, fastInterval, confirmInterval, timeout, attempts, rise, fall,
    holdDown, maintenanceFile, drainTime, degraded, localAs, routes, attributes: { up, degraded: degradedAttrs }, metricsListen,
  };
}

/**
 * Every key the config file accepts, the server's and the `health:` section's, dotted (`tcp.idle_timeout`,
 * `health.routes[].prefix`); sections themselves are left out. docs/reference.md documents exactly these.
 */
export function acceptedConfigKeys(): string[] {
  // The smallest document the health reader takes, with one route so the keys of a route are asked for.
  const doc = { health: { routes: [{ prefix: '192.0.2.0/24' }], local_as: 64496 } };
  const keys = [...keysAskedFor(() => healthConfigFrom(doc))];
  return keys.filter((k) => !keys.some((other) => other.startsWith(`${k}.`) || other.startsWith(`${k}[]`))).sort();
}

function attributes(r: ConfigReader, def: RouteAttributes): RouteAttributes {
  const med = r.has('med') ? r.int('med', 0, 0, 4294967295) : def.med;
  r.skip('med');
  const asPathPrepend = r.int('as_path_prepend', def.asPathPrepend, 0, 10);
  const communities = r.stringList('communities', def.communities);
  communities.forEach((c, i) => {
    const m = /^(\d+):(\d+)$/.exec(c);
    if (!m || Number(m[1]) > 65535 || Number(m[2]) > 65535) throw new ConfigError(`${r.key('communities')}[${i}]`, `"${c}" is not a community ASN:VALUE (0-65535 each)`);
  });
  r.done();
  return { med, asPathPrepend, communities };
}

/** Durations are written in seconds (fractions allowed) and kept in milliseconds. */
function seconds(r: ConfigReader, k: string, def: number, min: number, max: number): number {
  return Math.round(r.number(k, def, min, max) * 1000);
}

function parseHostPort(text: string, key: string): { host: string; port: number } {
  // "[2001:db8::53]:53" or "192.0.2.53:53"
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m || isIP(m[1]!) === 0) throw new ConfigError(key, `"${text}" is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new ConfigError(key, `port ${port} is out of range 1..65535`);
  return { host: m[1]!, port };
}

function parsePrefix(text: string, key: string): string {
  const m = /^([^/]+)\/(\d+)$/.exec(text);
  const family = m ? isIP(m[1]!) : 0;
  if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) throw new ConfigError(key, `"${text}" is not an IPv4 or IPv6 prefix ADDRESS/LENGTH`);
  return text;
}

function parseUrl(text: string, key: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(key, `"${text}" is not a URL`);
  }
  if (url.protocol !== 'http:') throw new ConfigError(key, 'only http:// readiness endpoints are supported');
  return text;
}

function absoluteName(name: string, key: string): string {
  if (name === '' || /\s/.test(name)) throw new ConfigError(key, `"${name}" is not a domain name`);
  return name.endsWith('.') ? name : name + '.';
}
