// dnstap: a server writing to a file, read back by BIND's dnstap-read (one AUTH_QUERY and one
// AUTH_RESPONSE per query, with the POP's identity and version); a server sending to a Frame Streams
// collector on a unix socket (a small reader here: READY/ACCEPT/START, data frames, STOP/FINISH); and a
// writer with no collector, which drops and counts instead of holding anything up.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createLogger } from '../../src/log.js';
import { DnstapWriter } from '../../src/ops/dnstap-output.js';
import { Control, DNSTAP_CONTENT_TYPE, controlFrame } from '../../src/wire/dnstap.js';
import { BUNDLED_ZONES_DIR } from '../helpers/paths.js';
import { encodeQuery, exchangeTcp, exchangeUdp } from '../helpers/dns-query.js';
import { requireBinary, startAnycastDns } from '../helpers/peers.js';
import { sleep } from '../helpers/wait.js';

const run = promisify(execFile);
const ZONES = [{ origin: 'example.com', file: `${BUNDLED_ZONES_DIR}/example.com.zone` }];
const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-dnstap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The harness's readiness query, then `n` UDP queries and one over TCP. */
async function ask(port: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await exchangeUdp('127.0.0.1', port, encodeQuery({ name: `q${i}.example.com`, type: 'A' }, 100 + i), 3000);
  await exchangeTcp('127.0.0.1', port, encodeQuery({ name: 'example.com', type: 'SOA' }, 99), 3000);
}

/** Top-level protobuf fields of `buf`: number → values (varints as numbers, the rest as Buffers). */
function fields(buf: Buffer): Map<number, (number | Buffer)[]> {
  const out = new Map<number, (number | Buffer)[]>();
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (b < 0x80) return v;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const len = varint();
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 5) {
      value = buf.readUInt32LE(i);
      i += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
    const list = out.get(key >> 3) ?? [];
    list.push(value);
    out.set(key >> 3, list);
  }
  return out;
}

/** A Frame Streams collector: accepts one writer, keeps its data frames, answers STOP with FINISH. */
function collector(path: string): Promise<{ server: Server; frames: Buffer[]; controls: number[]; stopped: Promise<void> }> {
  const frames: Buffer[] = [];
  const controls: number[] = [];
  let stoppedResolve: () => void = () => {};
  const stopped = new Promise<void>((r) => (stoppedResolve = r));
  const server = createServer((sock: Socket) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0);
        if (len === 0) {
          if (buf.length < 12) return;
          const clen = buf.readUInt32BE(4);
          if (buf.length < 8 + clen) return;
          const type = buf.readUInt32BE(8);
          controls.push(type);
          if (type === Control.Ready) {
            assert.ok(buf.subarray(12, 8 + clen).includes(Buffer.from(DNSTAP_CONTENT_TYPE)), 'READY names the content type');
            sock.write(controlFrame(Control.Accept));
          } else if (type === Control.Stop) {
            sock.end(controlFrame(Control.Finish));
            stoppedResolve();
          }
          buf = buf.subarray(8 + clen);
        } else {
          if (buf.length < 4 + len) return;
          frames.push(Buffer.from(buf.subarray(4, 4 + len)));
          buf = buf.subarray(4 + len);
        }
      }
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, frames, controls, stopped })));
}

describe('dnstap', () => {
  it('writes a file that dnstap-read reads: one AUTH_QUERY and one AUTH_RESPONSE per query, with the identity', async () => {
    const file = join(dir, 'tap.fstrm');
    const server = await startAnycastDns(ZONES, { identity: 'pop-tap-1', version: 'tap-version', extraConfig: { dnstap: { output: `file:${file}` } } });
    try {
      await ask(server.port, 5);
    } finally {
      await server.stop();
    }
    const { stdout } = await run(requireBinary('dnstap-read', 'bind9-dnsutils'), ['-y', file], { timeout: 10_000 });
    // 5 UDP and 1 TCP from the test, and the harness's readiness queries (the server listens while
    // its zones load, so there may be several).
    const count = (re: RegExp): number => stdout.match(re)?.length ?? 0;
    const queries = count(/type: AUTH_QUERY/g);
    assert.ok(queries >= 7, `${queries} AUTH_QUERY messages`);
    assert.equal(count(/type: AUTH_RESPONSE/g), queries);
    assert.equal(count(/identity: pop-tap-1/g), 2 * queries);
    assert.equal(count(/version: tap-version/g), 2 * queries);
    assert.equal(count(/socket_protocol: TCP/g), 2);
    assert.match(stdout, /query_address: "127\.0\.0\.1"/);
    for (let i = 0; i < 5; i++) assert.match(stdout, new RegExp(`q${i}\\.example\\.com`));
    const { stdout: brief } = await run('dnstap-read', [file], { timeout: 10_000 });
    assert.equal(brief.trim().split('\n').length, 2 * queries);
  });

  it('sends to a Frame Streams collector on a unix socket after READY/ACCEPT/START, and ends with STOP/FINISH', async () => {
    const path = join(dir, 'collector.sock');
    const c = await collector(path);
    const server = await startAnycastDns(ZONES, { identity: 'pop-tap-2', extraConfig: { dnstap: { output: `unix:${path}` } } });
    try {
      await ask(server.port, 3);
    } finally {
      await server.stop();
      await Promise.race([c.stopped, sleep(3000)]);
      c.server.close();
    }
    assert.deepEqual(c.controls, [Control.Ready, Control.Start, Control.Stop]);
    const messages = c.frames.map((f) => fields(f));
    for (const m of messages) {
      assert.equal((m.get(1)![0] as Buffer).toString(), 'pop-tap-2');
      assert.equal(m.get(15)![0], 1); // Dnstap.Type MESSAGE
    }
    const inner = messages.map((m) => fields(m.get(14)![0] as Buffer));
    // The readiness queries may have come before the collector accepted (then they queued): all are here,
    // the test's 4 and at least one of the harness's.
    const queries = inner.filter((m) => m.get(1)![0] === 1).length;
    assert.ok(queries >= 5, `${queries} AUTH_QUERY messages`);
    assert.equal(inner.filter((m) => m.get(1)![0] === 2).length, queries);
    for (const m of inner) {
      assert.deepEqual(m.get(4)![0], Buffer.from([127, 0, 0, 1]));
      assert.ok(m.has(m.get(1)![0] === 1 ? 10 : 14), 'the DNS message is there');
    }
  });

  it('never holds answering up: with no collector, messages wait up to the bound, then are dropped and counted', async () => {
    const log = createLogger({ pop: 'pop-tap-3', component: 'test', level: 'silent' });
    const w = new DnstapWriter({ kind: 'unix', path: join(dir, 'nobody.sock') }, 'pop-tap-3', null, log, new Float64Array(2), 4096);
    const query = encodeQuery({ name: 'www.example.com', type: 'A' }, 1);
    const started = performance.now();
    for (let i = 0; i < 200; i++) w.exchange(false, '127.0.0.1', 40000 + i, query, query, Date.now(), Date.now(), null);
    assert.ok(performance.now() - started < 1000, 'answered within 1 s');
    assert.equal(w.written + w.dropped, 400);
    assert.ok(w.written > 0 && w.written * 60 <= 4096, `${w.written} queued within the bound`);
    assert.ok(w.dropped > 300);
    await w.close();
  });
});
