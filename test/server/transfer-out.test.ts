// anycast-dns as a primary: AXFR and IXFR out over TCP to the `transfer.allow` rules with TSIG.
// Knot, BIND and NSD, as secondaries of it on loopback, transfer the zone and serve what it serves;
// kdig without the key, with a wrong one, or from outside the rules is turned away as RFC 8945 and
// RFC 5936 say.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { dnsQuery } from '../helpers/dns-query.js';
import { managementUrl, seriesSum } from '../helpers/management.js';
import { waitFor } from '../helpers/wait.js';
import { freePort, requireBinary, startAnycastDns, startBind, startKnot, startNsd, type RunningPeer, type TransferKey } from '../helpers/peers.js';

const run = promisify(execFile);
const KEY: TransferKey = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: 'tVRlPQFBJ+uoqQ5E3RTLTUg5u4o7rLjzVfVdJV8kaZo=' };
const ORIGIN = 'xfr.example.';

/** The records of a kdig AXFR, one normalised line each (owner, TTL, class, type, data), TSIG left out, sorted. */
function records(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith(';'))
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] !== 'TSIG')
    .map((f) => [f[0]!.toLowerCase(), ...f.slice(1)].join(' '))
    .sort();
}

/** kdig's output, its errors too (it exits 1 on a refused transfer). */
async function kdig(port: number, type: string, args: string[] = [], origin = ORIGIN): Promise<string> {
  const bin = requireBinary('kdig', 'knot-dnsutils');
  const { stdout, stderr } = await run(bin, ['@127.0.0.1', '-p', String(port), origin, type, '+retry=0', '+timeout=5', ...args], { maxBuffer: 64 * 1024 * 1024 }).catch(
    (err: { stdout: string; stderr: string }) => err,
  );
  return stdout + stderr;
}

describe('anycast-dns as a primary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-xfr-out-'));
  const zoneFile = join(dir, 'xfr.example.zone');
  const lines = [
    '$ORIGIN xfr.example.',
    '$TTL 300',
    '@ SOA ns hostmaster 2026120701 3600 600 86400 300',
    '@ NS ns',
    '@ MX 10 mail',
    'ns A 192.0.2.1',
    'ns AAAA 2001:db8::1',
    'mail A 192.0.2.2',
    'sub NS ns.sub',
    'ns.sub A 192.0.2.3',
    '*.wild TXT "wildcard"',
  ];
  // Enough for many messages.
  for (let i = 0; i < 4000; i++) lines.push(`host-${i} A 198.51.${(i >> 8) & 0xff}.${i & 0xff}`, `host-${i} TXT "record ${i}"`);
  writeFileSync(zoneFile, lines.join('\n') + '\n');
  let primary: RunningPeer;
  let knotAsPrimary: RunningPeer;
  const secondaries: RunningPeer[] = [];
  before(async () => {
    primary = await startAnycastDns([{ origin: ORIGIN, file: zoneFile }], {
      ipv6: false,
      extraConfig: {
        tsig_keys: [KEY],
        transfer: { allow: [{ key: KEY.name }, { from: '127.0.0.2' }] },
        log_level: 'info',
      },
    });
    knotAsPrimary = await startKnot([{ origin: ORIGIN, file: zoneFile }], { ipv6: false, transferKey: KEY });
  });
  after(async () => {
    await Promise.all([primary?.stop(), knotAsPrimary?.stop(), ...secondaries.map((s) => s.stop())]);
    rmSync(dir, { recursive: true, force: true });
  });

  const y = `-y${KEY.algorithm}:${KEY.name}:${KEY.secret}`;

  test('a signed AXFR gives the records Knot gives for the same file, every message signed', async () => {
    const ours = await kdig(primary.port, 'AXFR', [y]);
    assert.doesNotMatch(ours, /WARNING|;; ERROR/);
    const knot = await kdig(knotAsPrimary.port, 'AXFR', [y]);
    assert.deepEqual(records(ours), records(knot));
    const messages = Number(/\((\d+) messages/.exec(ours)?.[1]);
    assert.ok(messages > 3, `${messages} messages`);
    // kdig prints the TSIG record of each message it checked.
    assert.equal(ours.match(/\tTSIG\t/g)?.length, messages);
    assert.match(primary.log(), /"msg":"zone transfer out"/);
  });

  test('without the key, with a wrong key, with a bad signature: refused as RFC 8945 and RFC 5936 say', async () => {
    assert.match(await kdig(primary.port, 'AXFR'), /replied with error 'REFUSED'/);
    assert.match(await kdig(primary.port, 'AXFR', [`-yhmac-sha256:stranger:${KEY.secret}`]), /BADKEY/);
    assert.match(await kdig(primary.port, 'AXFR', [`-yhmac-sha256:${KEY.name}:${Buffer.alloc(32, 1).toString('base64')}`]), /BADSIG/);
  });

  test('a source the rules name may transfer unsigned; a zone not served is NOTAUTH', async () => {
    const ours = await kdig(primary.port, 'AXFR', ['-b', '127.0.0.2']);
    assert.match(ours, /;; Received \d+ B \(\d+ messages?, \d+ records?\)/);
    // 8,009 records, the SOA twice.
    assert.equal(records(ours).length, 8010);
    assert.match(await kdig(primary.port, 'AXFR', [y], 'other.example.'), /NOTAUTH/);
  });

  test('IXFR: the whole zone, AXFR-style, to a secondary behind; the SOA alone to one up to date', async () => {
    const behind = await kdig(primary.port, 'IXFR=2026120600', [y]);
    assert.deepEqual(records(behind), records(await kdig(primary.port, 'AXFR', [y])));
    const current = await kdig(primary.port, 'IXFR=2026120701', [y]);
    assert.equal(records(current).length, 1);
    assert.match(records(current)[0]!, / SOA .* 2026120701 /);
  });

  for (const [name, start] of [
    ['knot', startKnot],
    ['bind', startBind],
    ['nsd', startNsd],
  ] as const) {
    test(`${name} as a secondary transfers the zone with TSIG and serves what we serve`, async () => {
      const secondary = await start([{ origin: ORIGIN, file: zoneFile }], { ipv6: false, primary: { port: primary.port, key: KEY }, transferKey: KEY });
      secondaries.push(secondary);
      assert.deepEqual(records(await kdig(secondary.port, 'AXFR', [y])), records(await kdig(primary.port, 'AXFR', [y])));
      await secondary.stop();
    });
  }
});

describe('NOTIFY to the secondaries when a zone changes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-notify-'));
  const zonesDir = join(dir, 'zones');
  mkdirSync(zonesDir);
  const zoneFile = join(zonesDir, 'xfr.example.zone');
  const zoneText = (serial: number): string => `$ORIGIN xfr.example.\n$TTL 300\n@ SOA ns hostmaster ${serial} 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nnew A 192.0.2.${serial % 200}\n`;
  writeFileSync(zoneFile, zoneText(1));
  const peers: RunningPeer[] = [];
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, start, logLine, workers] of [
    ['knot', startKnot, /IXFR, incoming, .* finished/, 1],
    ['bind', startBind, /notify from 127\.0\.0\.1/i, 1],
    // Query threads: zone sync and the NOTIFY run on the main thread, the transfer on whichever thread
    // the kernel gives the connection (each keeps its own IXFR versions: the style is not asserted).
    ['knot', startKnot, /(IXFR|AXFR), incoming, .* finished/, 2],
  ] as const) {
    test(`${name} learns of a new serial by our signed NOTIFY and serves it at once, not at its hourly refresh (workers: ${workers})`, async () => {
      const secondaryPort = await freePort(false);
      const serial = Number(/SOA ns hostmaster (\d+)/.exec(readFileSync(zoneFile, 'utf8'))![1]);
      const primary = await startAnycastDns([{ origin: ORIGIN, file: zoneFile }], {
        ipv6: false,
        zonesDir,
        workers,
        extraConfig: {
          tsig_keys: [KEY],
          transfer: { allow: [{ key: KEY.name }], notify: [{ to: `127.0.0.1:${secondaryPort}`, key: KEY.name }] },
          zone_sync: { settle_time: 0 },
          management: { listen: '127.0.0.1:0' },
          log_level: 'info',
        },
      });
      peers.push(primary);
      const secondary = await start([{ origin: ORIGIN, file: zoneFile }], { ipv6: false, port: secondaryPort, primary: { port: primary.port, key: KEY } });
      peers.push(secondary);
      writeFileSync(zoneFile, zoneText(serial + 1));
      const changedAt = Date.now();
      // The SOA refresh is an hour: only the NOTIFY brings the new serial this soon.
      await waitFor(
        async () => {
          const r = await dnsQuery({ port: secondary.port }, { name: ORIGIN, type: 'SOA', timeoutMs: 300 });
          return r.message.answer[0]?.rdata.readUInt32BE(r.message.answer[0].rdata.length - 20) === serial + 1;
        },
        { timeoutMs: 5000, intervalMs: 50, what: `${name} to serve serial ${serial + 1}`, detail: () => primary.log().slice(-2000) },
      );
      // Zone sync notices within its scan delay; the rest is NOTIFY and transfer.
      assert.ok(Date.now() - changedAt < 3000, `${Date.now() - changedAt} ms`);
      assert.match(secondary.log(), logLine);
      assert.match(primary.log(), /"msg":"notify answered"/);
      const metrics = await (await fetch(`${managementUrl(primary)}/metrics`)).text();
      assert.equal(seriesSum(metrics, 'anycast_dns_notifies_sent_total', 'result="answered"'), 1);
      assert.ok(seriesSum(metrics, 'anycast_dns_transfers_out_total', 'kind="ixfr",result="ok"') >= 1, metrics);
      if (workers > 1) {
        await secondary.stop();
        await primary.stop();
        return;
      }
      // The secondary held the version it had transferred from us: it got the difference.
      assert.match(primary.log(), new RegExp(`"kind":"ixfr".*"serial":${serial + 1},"from":${serial},.*"style":"ixfr"`));
      assert.doesNotMatch(secondary.log(), /AXFR-style/);
      // ...and applied it: the changed record is the new one.
      const a = await dnsQuery({ port: secondary.port }, { name: `new.${ORIGIN}`, type: 'A' });
      assert.deepEqual([...a.message.answer[0]!.rdata], [192, 0, 2, (serial + 1) % 200]);
      await secondary.stop();
      await primary.stop();
    });
  }
});
