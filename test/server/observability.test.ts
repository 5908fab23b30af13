// What an operator sees of a POP, over real sockets: /metrics after a known mix of queries (exact
// counters, histograms, labels; `promtool check metrics` finds nothing; hostile names and types add no
// series), the same summed across two workers, CH TXT version.server, NSID turned off, and ZONEVERSION
// (RFC 9660) asked with dig.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { encodeQuery, exchangeTcp, exchangeUdp } from '../helpers/dns-query.js';
import { managementUrl, seriesValues } from '../helpers/management.js';
import { requireBinary, startAnycastDns, type RunningPeer } from '../helpers/peers.js';

const run = promisify(execFile);
const ZONES = [{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }];
const EXAMPLE_SERIAL = 2026112501;

let single: RunningPeer;
let pair: RunningPeer;

async function scrape(peer: RunningPeer): Promise<string> {
  return (await fetch(`${managementUrl(peer)}/metrics`)).text();
}

/** Sample lines (name{labels} value), comments left out. */
function samples(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

function value(text: string, name: string, labels: string): number {
  const v = seriesValues(text, name, labels)[0];
  assert.ok(v !== undefined, `${name} with ${labels} is exported`);
  return v;
}

/** promtool's findings on `text` ('' when it finds nothing), and its exit code. */
function promtool(text: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(requireBinary('promtool', 'prometheus'), ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
    p.stdin.end(text);
  });
}

let nextId = 1;
async function udp(peer: RunningPeer, name: string, type: string | number, cls: string | number = 'IN'): Promise<Buffer> {
  return exchangeUdp('127.0.0.1', peer.port, encodeQuery({ name, type, class: cls }, nextId++ & 0xffff), 3000);
}

/** Queries with random names (in the zone and out of it) and random types, 50 at a time. */
async function hostile(peer: RunningPeer, count: number, types: () => number): Promise<void> {
  const random = (n: number): string => Math.random().toString(36).slice(2, 2 + n) || 'x';
  for (let i = 0; i < count; i += 50) {
    const batch: Promise<Buffer>[] = [];
    for (let j = i; j < Math.min(count, i + 50); j++) {
      const name = j % 2 === 0 ? `${random(8)}.${random(5)}.example.com` : `${random(12)}.${random(3)}`;
      batch.push(udp(peer, name, types(), j % 7 === 0 ? 'CH' : 'IN'));
    }
    await Promise.all(batch);
  }
}

async function dig(peer: RunningPeer, ...args: string[]): Promise<string> {
  const { stdout } = await run(requireBinary('dig', 'bind9-dnsutils'), ['-p', String(peer.port), '@127.0.0.1', '+norec', '+time=2', '+tries=1', ...args], { timeout: 10_000 });
  return stdout;
}

before(async () => {
  single = await startAnycastDns(ZONES, { identity: 'pop-obs-1', extraConfig: { nsid: false, management: { listen: '127.0.0.1:0' } } });
  pair = await startAnycastDns(ZONES, { identity: 'pop-obs-2', workers: 2, extraConfig: { management: { listen: '127.0.0.1:0' } } });
});

after(async () => {
  await single?.stop();
  await pair?.stop();
});

describe('metrics', () => {
  let soaSize = 0;
  let text = '';
  /** Before the mix: what the test harness asked while the server started (it listens while its zones load). */
  let start = '';
  before(async () => {
    start = await scrape(single);
    for (let i = 0; i < 3; i++) await udp(single, 'www.example.com', 'A');
    for (let i = 0; i < 2; i++) await udp(single, 'nowhere.example.com', 'AAAA');
    await udp(single, 'example.org', 'MX');
    soaSize = (await exchangeTcp('127.0.0.1', single.port, encodeQuery({ name: 'example.com', type: 'SOA' }, 7), 3000)).length;
    text = await scrape(single);
  });

  it('counts a known mix exactly, by transport, qtype, rcode, outcome and cache use, every series with pop', () => {
    const pop = 'pop="pop-obs-1"';
    // The mix's own counts: the scrape after it less the one before it.
    const added = (name: string, labels: string): number => value(text, name, labels) - (samples(start).some((l) => l.startsWith(`${name}{`) && l.includes(labels)) ? value(start, name, labels) : 0);
    assert.equal(added('anycast_dns_queries_total', 'transport="udp",qtype="SOA"'), 0);
    assert.equal(added('anycast_dns_queries_total', 'transport="udp",qtype="A"'), 3);
    assert.equal(added('anycast_dns_queries_total', 'transport="udp",qtype="AAAA"'), 2);
    assert.equal(added('anycast_dns_queries_total', 'transport="udp",qtype="MX"'), 1);
    assert.equal(added('anycast_dns_queries_total', 'transport="tcp",qtype="SOA"'), 1);
    assert.equal(added('anycast_dns_responses_total', 'transport="udp",rcode="NOERROR",outcome="answer"'), 3);
    assert.equal(added('anycast_dns_responses_total', 'transport="udp",rcode="NXDOMAIN",outcome="nxdomain"'), 2);
    assert.equal(added('anycast_dns_responses_total', 'transport="udp",rcode="REFUSED",outcome="refused"'), 1);
    assert.equal(added('anycast_dns_responses_total', 'transport="tcp",rcode="NOERROR",outcome="answer"'), 1);
    // One miss per distinct question and transport, the repeats hit; except that a response made for
    // one query name (the NXDOMAIN) is kept only from its second asking, so both of its queries miss.
    assert.equal(added('anycast_dns_cache_requests_total', 'result="miss"'), 5);
    assert.equal(added('anycast_dns_cache_requests_total', 'result="hit"'), 2);
    assert.equal(added('anycast_dns_request_duration_seconds_count', 'transport="udp"'), 6);
    assert.equal(added('anycast_dns_request_duration_seconds_count', 'transport="tcp"'), 1);
    assert.equal(added('anycast_dns_request_duration_seconds_bucket', 'le="+Inf",transport="udp"'), 6);
    assert.equal(value(text, 'anycast_dns_response_size_bytes_count', 'transport="tcp"'), 1);
    assert.equal(value(text, 'anycast_dns_response_size_bytes_sum', 'transport="tcp"'), soaSize);
    assert.equal(value(text, 'anycast_dns_build_info', `nodejs="${process.versions.node}"`), 1);
    assert.equal(value(text, 'anycast_dns_zone_serial', 'zone="example.com."'), EXAMPLE_SERIAL);
    assert.ok(value(text, 'process_resident_memory_bytes', pop) > 0, 'process_* under its standard name');
    assert.ok(samples(text).some((l) => l.startsWith('nodejs_heap_size_used_bytes{')), 'nodejs_* under its standard name');
    assert.ok(!/anycast_dns_(process|nodejs)_/.test(text), 'no prefixed process metrics');
    for (const line of samples(text)) assert.ok(line.includes(pop), `pop on ${line}`);
  });

  it('passes promtool check metrics with no finding', async () => {
    const { code, out } = await promtool(text);
    assert.equal(out.trim(), '');
    assert.equal(code, 0);
  });

  it('keeps the number of series under thousands of random names and types', async () => {
    // Every special type (meta types, ANY, AXFR, OPT...) once, then random ones: no new series.
    let t = 0;
    await hostile(single, 300, () => t++);
    const before = samples(await scrape(single)).filter((l) => l.startsWith('anycast_dns_')).length;
    await hostile(single, 3000, () => Math.floor(Math.random() * 65536));
    const after = samples(await scrape(single)).filter((l) => l.startsWith('anycast_dns_')).length;
    assert.equal(after, before);
  });
});

describe('metrics of two workers', () => {
  it('sums counters and histograms across workers and appends zone sync once; promtool finds nothing', async () => {
    for (let i = 0; i < 20; i++) await udp(pair, 'www.example.com', 'A');
    const text = await scrape(pair);
    // 20, and the harness's one SOA query.
    assert.equal(value(text, 'anycast_dns_queries_total', 'transport="udp",qtype="A"'), 20);
    assert.equal(value(text, 'anycast_dns_request_duration_seconds_count', 'transport="udp"'), 21);
    assert.equal(value(text, 'anycast_dns_request_duration_seconds_bucket', 'le="+Inf",transport="udp"'), 21);
    assert.equal(value(text, 'anycast_dns_cache_requests_total', 'result="hit"') + value(text, 'anycast_dns_cache_requests_total', 'result="miss"'), 21);
    assert.equal(text.split('\n').filter((l) => l === '# TYPE anycast_dns_zones_loaded gauge').length, 1);
    assert.equal(value(text, 'anycast_dns_build_info', 'pop="pop-obs-2"'), 1);
    const { code, out } = await promtool(text);
    assert.equal(out.trim(), '');
    assert.equal(code, 0);
  });
});

describe('CHAOS identity, NSID and ZONEVERSION', () => {
  it('answers CH TXT version.server and id.server', async () => {
    const version = (await dig(single, 'version.bind', 'TXT', 'CH', '+short')).trim();
    assert.match(version, /^".+"$/);
    assert.equal((await dig(single, 'version.server', 'TXT', 'CH', '+short')).trim(), version);
    assert.equal((await dig(single, 'id.server', 'TXT', 'CH', '+short')).trim(), '"pop-obs-1"');
  });

  it('leaves NSID out when nsid: false, and answers it by default', async () => {
    assert.doesNotMatch(await dig(single, '+nsid', 'example.com', 'SOA'), /NSID/);
    assert.match(await dig(pair, '+nsid', 'example.com', 'SOA'), /NSID: .*\("pop-obs-2"\)/);
  });

  it('returns the zone serial in ZONEVERSION: label count 2, type 0, the serial; none for a refused name', async () => {
    const hex = (EXAMPLE_SERIAL >>> 0).toString(16).padStart(8, '0').match(/../g)!.join(' ');
    const out = await dig(single, '+ednsopt=19', 'www.example.com', 'A');
    assert.match(out, new RegExp(`OPT=19: 02 00 ${hex} `, 'i'));
    // The cache keeps responses with and without it apart.
    assert.doesNotMatch(await dig(single, 'www.example.com', 'A'), /OPT=19/);
    assert.match(await dig(single, '+tcp', '+ednsopt=19', 'nowhere.example.com', 'A'), new RegExp(`OPT=19: 02 00 ${hex}`, 'i'));
    assert.doesNotMatch(await dig(single, '+ednsopt=19', 'example.org', 'A'), /OPT=19/);
    // RFC 9660: the option is empty in a query.
    assert.match(await dig(single, '+ednsopt=19:01', 'www.example.com', 'A'), /status: FORMERR/);
  });
});
