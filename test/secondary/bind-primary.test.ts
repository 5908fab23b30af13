// anycast-dns as a secondary of BIND 9 with TSIG: the first AXFR, a change NOTIFYed and taken by
// IXFR (BIND keeps the differences of its file's versions), with and without query threads; a
// version that lost most of its records held back by the shrink guard while the last good one
// serves; with the primary gone, expiry on every query thread.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { seriesSum } from '../helpers/management.js';
import { freePort, startAnycastDns, startBind, type RunningPeer } from '../helpers/peers.js';
import { KEY, ORIGIN, metricsText, secondaryConfig, servedSerial, zoneStatus, zoneText } from '../helpers/secondary.js';
import { waitFor } from '../helpers/wait.js';

describe('a secondary of BIND 9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-secondary-bind-'));
  const zoneFile = join(dir, 'sec.example.zone');
  const zonesDir = join(dir, 'zones');
  mkdirSync(zonesDir);
  writeFileSync(zoneFile, zoneText(1, { hosts: 100 }));
  let bind: RunningPeer;
  let ours: RunningPeer;
  /** With query threads: the NOTIFY reaches a thread, which hands the zone to the main thread. */
  let threaded: RunningPeer;
  const change = (text: string): void => {
    writeFileSync(zoneFile, text);
    process.kill(bind.pid, 'SIGHUP');
  };

  before(async () => {
    const ourPort = await freePort(false);
    const threadedPort = await freePort(false);
    bind = await startBind([{ origin: ORIGIN, file: zoneFile }], {
      ipv6: false,
      transferKey: KEY,
      // notify-delay 0: BIND would otherwise space the NOTIFYs of the zone to the two secondaries.
      namedZone: ['ixfr-from-differences yes;', 'notify explicit;', 'notify-delay 0;', `also-notify { 127.0.0.1 port ${ourPort} key "${KEY.name}"; 127.0.0.1 port ${threadedPort} key "${KEY.name}"; };`],
    });
    ours = await startAnycastDns([{ origin: ORIGIN, file: zoneFile }], { ipv6: false, port: ourPort, zonesDir, extraConfig: secondaryConfig(join(dir, 'state'), bind.port) });
    threaded = await startAnycastDns([{ origin: ORIGIN, file: zoneFile }], { ipv6: false, port: threadedPort, zonesDir, workers: 2, extraConfig: secondaryConfig(join(dir, 'state-threaded'), bind.port) });
  });
  after(async () => {
    await Promise.all([bind?.stop(), ours?.stop(), threaded?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('AXFR first, then a change NOTIFYed is served within 2 s by IXFR', async () => {
    assert.equal(await servedSerial(ours.port), 1);
    assert.match(ours.log(), /"kind":"axfr".*"msg":"zone transfer in"/);
    change(zoneText(2, { hosts: 100 }));
    await waitFor(async () => (await servedSerial(ours.port)) === 2, { timeoutMs: 2000, what: 'serial 2', detail: () => ours.log().slice(-3000) + bind.log().slice(-2000) });
    assert.match(ours.log(), /"kind":"ixfr","style":"ixfr","from":1,"serial":2.*"msg":"zone transfer in"/);
    assert.match(bind.log(), /transfer of 'sec\.example\/IN': IXFR started/);
    assert.doesNotMatch(bind.log(), /AXFR-style IXFR/);
    // With query threads too: a thread answered the NOTIFY, the main thread transferred, every thread serves it.
    await waitFor(async () => (await servedSerial(threaded.port)) === 2, { timeoutMs: 2000, what: 'serial 2 with workers: 2', detail: () => threaded.log().slice(-3000) });
    await waitFor(() => /"remote":"127\.0\.0\.1","msg":"notify received"/.test(threaded.log()), { timeoutMs: 2000, what: 'the NOTIFY at a query thread', detail: () => bind.log().slice(-3000) });
    assert.match(threaded.log(), /"kind":"ixfr","style":"ixfr","from":1,"serial":2.*"msg":"zone transfer in"/);
    assert.equal(seriesSum(await metricsText(threaded), 'anycast_dns_notifies_received_total', 'result="accepted"'), 1);
  });

  test('a version that lost most of its records is held back by the shrink guard; the last good one serves', async () => {
    change(zoneText(3, { hosts: 2 }));
    await waitFor(() => /"msg":"zone transfer in not served; the last good version stays"/.test(ours.log()), { timeoutMs: 5000, what: 'the hold', detail: () => ours.log().slice(-3000) });
    assert.equal(await servedSerial(ours.port), 2);
    assert.match((await zoneStatus(ours)).secondary?.last_error ?? '', /serial 3 not served: the new version has \d+ records, \d+% fewer/);
    assert.ok(seriesSum(await metricsText(ours), 'anycast_dns_transfers_in_total', 'result="rejected"') >= 1);
  });

  test('the primary gone, the zone expires on every query thread: SERVFAIL, state expired', async () => {
    await bind.stop();
    await waitFor(async () => (await servedSerial(threaded.port)) === 'SERVFAIL', { timeoutMs: 10_000, what: 'SERVFAIL after expiry', detail: () => threaded.log().slice(-3000) });
    // Each query from a new source port: the kernel spreads them over both threads' sockets.
    for (let i = 0; i < 10; i++) assert.equal(await servedSerial(threaded.port), 'SERVFAIL');
    assert.equal((await zoneStatus(threaded)).state, 'expired');
  });
});
