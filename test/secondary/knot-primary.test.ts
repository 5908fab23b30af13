// anycast-dns as a secondary of Knot DNS with TSIG: the first AXFR, a change NOTIFYed and taken by
// IXFR, a version zone sync's checks refuse not served while the last good one serves, NOTIFYs from a stranger or with a
// bad signature refused and counted, a primary killed mid-transfer, a transfer past the size limit, a restart served from the state
// directory before any transfer, and expiry (SERVFAIL) with the primary gone, then its return.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { managementUrl, seriesSum } from '../helpers/management.js';
import { dnsQuery } from '../helpers/dns-query.js';
import { CLI_JS } from '../helpers/paths.js';
import { freePort, startAnycastDns, startKnot, type RunningPeer } from '../helpers/peers.js';
import { KEY, ORIGIN, digNotify, kdigAxfr, metricsText, secondaryConfig, servedSerial, zoneStatus, zoneText } from '../helpers/secondary.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

/** What serial 2 adds: names under new empty non-terminals, a wildcard, MX targets new and newly present. */
const IXFR_EXTRA = ['a.b.c.new A 192.0.2.10', '*.fresh TXT "synthesised"', 'shop MX 5 mx.shop', 'mx.shop AAAA 2001:db8::5', 'mail MX 20 later', 'later A 192.0.2.11'];
/** Questions whose answers tell versions apart: the names changed, their ancestors (empty non-terminals), wildcard synthesis, glue, a name that does not exist. */
const PROBES: [string, string][] = [
  ['a.b.c.new', 'A'], ['b.c.new', 'A'], ['c.new', 'TXT'], ['x.fresh', 'TXT'], ['fresh', 'TXT'], ['shop', 'MX'], ['mx.shop', 'AAAA'],
  ['mail', 'MX'], ['later', 'A'], ['changing', 'A'], ['host-3', 'A'], ['nothing-here', 'A'], ['@', 'NS'],
].map(([n, t]) => [n === '@' ? ORIGIN : `${n}.${ORIGIN}`, t] as [string, string]);

/** One answer as text: rcode, AA and every section's records (name, type, TTL, RDATA) in order. */
async function answerText(port: number, name: string, type: string): Promise<string> {
  const m = (await dnsQuery({ port }, { name, type, timeoutMs: 2000 })).message;
  const records = (rs: { name: string; type: number; ttl: number; rdata: Buffer }[]): string => `[${rs.map((r) => `${r.name}/${r.type}/${r.ttl}/${r.rdata.toString('hex')}`).join(' ')}]`;
  return `${name} ${type} rcode ${m.rcode} aa ${m.aa} answer ${records(m.answer)} authority ${records(m.authority)} additional ${records(m.additional)}`;
}

describe('a secondary of Knot DNS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-secondary-knot-'));
  const zoneFile = join(dir, 'sec.example.zone');
  const stateDir = join(dir, 'state');
  const zonesDir = join(dir, 'zones');
  mkdirSync(zonesDir);
  writeFileSync(zoneFile, zoneText(1));
  let knotPort: number;
  let ourPort: number;
  let knot: RunningPeer;
  let ours: RunningPeer;
  const startPrimary = (): Promise<RunningPeer> =>
    startKnot([{ origin: ORIGIN, file: zoneFile }], {
      ipv6: false,
      port: knotPort,
      transferKey: KEY,
      knot: {
        sections: ['remote:', '  - id: secondary', `    address: 127.0.0.1@${ourPort}`, `    key: ${KEY.name}`],
        // A journal of the differences between versions of the file, for IXFR, and a NOTIFY to us.
        zone: ['zonefile-load: difference', 'journal-content: changes', 'notify: secondary'],
      },
    });
  const startSecondary = (): Promise<RunningPeer> => startAnycastDns([{ origin: ORIGIN, file: zoneFile }], { ipv6: false, port: ourPort, zonesDir, extraConfig: secondaryConfig(stateDir, knotPort) });
  /** The primary takes a new version of its file and NOTIFYs us. */
  const change = (text: string): void => {
    writeFileSync(zoneFile, text);
    process.kill(knot.pid, 'SIGHUP');
  };

  before(async () => {
    knotPort = await freePort(false);
    ourPort = await freePort(false);
    knot = await startPrimary();
    ours = await startSecondary();
  });
  after(async () => {
    await Promise.all([knot?.stop(), ours?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the zone is transferred whole first, and kept in the state directory as a master file', async () => {
    assert.equal(await servedSerial(ours.port), 1);
    assert.match(ours.log(), /"kind":"axfr".*"msg":"zone transfer in"/);
    assert.match(readFileSync(join(stateDir, 'sec.example.zone'), 'utf8'), /SOA\tns\.sec\.example\. hostmaster\.sec\.example\. 1 /);
    const z = await zoneStatus(ours);
    assert.equal(z.state, 'ok');
    assert.equal(z.secondary?.primary, `127.0.0.1:${knotPort}`);
    assert.ok(z.secondary?.next_refresh !== null && z.secondary?.expires_at !== null, JSON.stringify(z));
  });

  test('a change NOTIFYed by the primary is served within 2 s, by IXFR', async () => {
    change(zoneText(2, { extra: IXFR_EXTRA }));
    await waitFor(async () => (await servedSerial(ours.port)) === 2, { timeoutMs: 2000, what: 'serial 2', detail: () => ours.log().slice(-3000) });
    assert.match(ours.log(), /"msg":"notify received"/);
    assert.match(ours.log(), /"kind":"ixfr","style":"ixfr","from":1,"serial":2.*"msg":"zone transfer in"/);
    assert.match(knot.log(), /IXFR, outgoing.*started, serial 1 -> 2/);
    const metrics = await metricsText(ours);
    assert.equal(seriesSum(metrics, 'anycast_dns_transfers_in_total', 'kind="ixfr",result="ok"'), 1);
    assert.ok(seriesSum(metrics, 'anycast_dns_notifies_received_total', 'result="accepted"') >= 1);
    assert.ok(seriesSum(metrics, 'anycast_dns_transfer_in_bytes_total') > 0);
  });

  test('the version an IXFR made answers as the same serial transferred whole (AXFR) does', async () => {
    const viaIxfr = await Promise.all(PROBES.map(([name, type]) => answerText(ours.port, name, type)));
    const ctl = (...args: string[]): Promise<{ stdout: string }> => run(process.execPath, [CLI_JS, 'ctl', '--server', managementUrl(ours).slice('http://'.length), ...args]);
    const axfrs = (): number => (ours.log().match(/"kind":"axfr".*"msg":"zone transfer in"/g) ?? []).length;
    const before = axfrs();
    await ctl('retransfer', ORIGIN);
    assert.equal(axfrs(), before + 1);
    assert.equal(await servedSerial(ours.port), 2);
    const viaAxfr = await Promise.all(PROBES.map(([name, type]) => answerText(ours.port, name, type)));
    assert.deepEqual(viaIxfr, viaAxfr);
    // The probes see what the difference brought: a name under new empty non-terminals, a wildcard, glue for a new MX target.
    assert.match(viaIxfr.join('\n'), /a\.b\.c\.new\.sec\.example\. A rcode 0 aa true answer \[a\.b\.c\.new\.sec\.example\.\/1\/300\/c000020a\]/);
    assert.match(viaIxfr.join('\n'), /x\.fresh\.sec\.example\. TXT rcode 0 aa true answer \[x\.fresh\.sec\.example\.\/16/);
    assert.match(viaIxfr.join('\n'), /shop\.sec\.example\. MX rcode 0 .*additional \[mx\.shop\.sec\.example\.\/28\//);
  });

  test('a version zone sync refuses (an in-zone NS without an address, which Knot serves) is not served; the last good one is, and stays on disk', async () => {
    change(zoneText(3, { extra: ['@ NS ns2'] }));
    await waitFor(() => /"msg":"zone transfer in not served; the last good version stays"/.test(ours.log()), { timeoutMs: 5000, what: 'the refusal', detail: () => ours.log().slice(-3000) });
    assert.equal(await servedSerial(ours.port), 2);
    assert.match(readFileSync(join(stateDir, 'sec.example.zone'), 'utf8'), / 2 2 1 6 300\n/);
    assert.ok(seriesSum(await metricsText(ours), 'anycast_dns_transfers_in_total', 'result="rejected"') >= 1);
    assert.match((await zoneStatus(ours)).secondary?.last_error ?? '', /serial 3 not served: .*NS 'ns2\.sec\.example' has no address records/);
    // The next good version goes in.
    change(zoneText(4));
    await waitFor(async () => (await servedSerial(ours.port)) === 4, { timeoutMs: 5000, what: 'serial 4', detail: () => ours.log().slice(-3000) });
  });

  test('NOTIFY from a stranger is REFUSED, with a bad signature NOTAUTH (BADSIG): both counted, nothing refreshed', async () => {
    assert.match(await digNotify(ours.port, '127.0.0.2', KEY), /status: REFUSED/);
    assert.match(await digNotify(ours.port, '127.0.0.1', { ...KEY, secret: Buffer.alloc(32, 7).toString('base64') }), /status: NOTAUTH|BADSIG/);
    assert.match(await digNotify(ours.port, '127.0.0.1', null), /status: REFUSED/);
    const metrics = await metricsText(ours);
    assert.equal(seriesSum(metrics, 'anycast_dns_notifies_received_total', 'result="refused"'), 2);
    assert.equal(seriesSum(metrics, 'anycast_dns_notifies_received_total', 'result="badsig"'), 1);
    assert.match(ours.log(), /"msg":"notify refused"/);
  });

  test('ctl retransfer takes the whole zone now; ctl zones shows the primary and the timers', async () => {
    const ctl = (...args: string[]): Promise<{ stdout: string }> => run(process.execPath, [CLI_JS, 'ctl', '--server', managementUrl(ours).slice('http://'.length), ...args]);
    const before = (ours.log().match(/"kind":"axfr".*"msg":"zone transfer in"/g) ?? []).length;
    await ctl('retransfer', ORIGIN);
    assert.equal((ours.log().match(/"kind":"axfr".*"msg":"zone transfer in"/g) ?? []).length, before + 1);
    const { stdout } = await ctl('zones');
    assert.match(stdout, new RegExp(`secondary of 127\\.0\\.0\\.1:${knotPort}: last refresh 20`));
  });

  test('a primary killed during a transfer: the last good version serves, and a retry takes the new one; past the size limit, a transfer is abandoned', async () => {
    // A second secondary that takes at most 1 MiB a transfer (and, with no refresh succeeding past
    // the limit, would expire after the zone's 6 s: its EXPIRE is raised to 10 minutes).
    const limitedConfig = secondaryConfig(join(dir, 'state-limited'), knotPort);
    const limited = await startAnycastDns([{ origin: ORIGIN, file: zoneFile }], {
      ipv6: false,
      zonesDir,
      extraConfig: { ...limitedConfig, secondary: { ...(limitedConfig.secondary as object), max_transfer_mb: 1, expire_min: 600 } },
    });
    try {
      assert.equal(await servedSerial(limited.port), 4, 'the limited secondary before');
      const started = (): number => (ours.log().match(/"msg":"zone transfer in started"/g) ?? []).length;
      const before = started();
      // Big enough that the transfer is still being read when the primary dies.
      change(zoneText(5, { hosts: 200_000 }));
      await waitFor(() => started() > before, { timeoutMs: 10_000, intervalMs: 10, what: 'the transfer to start', detail: () => ours.log().slice(-2000) });
      process.kill(knot.pid, 'SIGKILL');
      await knot.stop();
      await waitFor(() => /"msg":"zone transfer in failed"/.test(ours.log()), { timeoutMs: 5000, what: 'the transfer to fail', detail: () => ours.log().slice(-3000) });
      assert.equal(await servedSerial(ours.port), 4, 'the last good version while the primary is down');
      knot = await startPrimary();
      await waitFor(async () => (await servedSerial(ours.port)) === 5, { timeoutMs: 15_000, what: 'serial 5 after the restart', detail: () => ours.log().slice(-3000) });
      await waitFor(() => /"err":"more than 1048576 octets \(limit\)".*"msg":"zone transfer in failed"/.test(limited.log()), { timeoutMs: 10_000, what: 'the size limit', detail: () => limited.log().slice(-3000) });
      assert.equal(await servedSerial(limited.port), 4, 'the limited secondary after the abandoned transfer');
    } finally {
      await limited.stop();
    }
  });

  test('restarted with the primary gone, it serves the state directory at once, and expires (SERVFAIL) at the SOA expire time', async () => {
    await knot.stop();
    await ours.stop();
    // startAnycastDns resolves once the zone answers: from the state file, no primary there.
    ours = await startSecondary();
    assert.equal(await servedSerial(ours.port), 5);
    assert.doesNotMatch(ours.log(), /"msg":"zone transfer in"/);
    // EXPIRE is 6 s from the last refresh that reached the primary.
    await waitFor(async () => (await servedSerial(ours.port)) === 'SERVFAIL', { timeoutMs: 10_000, what: 'SERVFAIL after expiry', detail: () => ours.log().slice(-3000) });
    assert.equal((await zoneStatus(ours)).state, 'expired');
    assert.match(ours.log(), /"msg":"zone expired/);
    // Nor is it handed on to a secondary of ours.
    assert.match(await kdigAxfr(ours.port, KEY), /NOTAUTH/);
    // The primary back: the next retry refreshes and the zone is served again.
    knot = await startPrimary();
    await waitFor(async () => (await servedSerial(ours.port)) === 5, { timeoutMs: 10_000, what: 'the zone served again', detail: () => ours.log().slice(-3000) });
    assert.equal((await zoneStatus(ours)).state, 'ok');
  });
});
