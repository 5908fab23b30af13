// TSIG (RFC 8945) against the real implementations: dig and kdig sign queries that our verifier
// checks and verify the answers our signer signs (and see our BADSIG, BADKEY answers); Knot and BIND
// sign AXFR streams that our stream verifier checks message by message. Key files in BIND's syntax.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RCODE_NOTAUTH, TSIG_ERROR, TsigSigner, TsigVerifier, readTsig, tsigErrorRecord, tsigKey, verifyRequest, type TsigKey } from '../../src/wire/tsig.js';
import { parseKeyFile } from '../../src/wire/tsig-keyfile.js';
import { requireBinary, startBind, startKnot, type RunningPeer, type TransferKey } from '../helpers/peers.js';

const run = promisify(execFile);
const SECRET = 'tVRlPQFBJ+uoqQ5E3RTLTUg5u4o7rLjzVfVdJV8kaZo=';
const OTHER_SECRET = Buffer.alloc(32, 7).toString('base64');
const now = (): number => Math.floor(Date.now() / 1000);

describe('tsig key files (BIND syntax)', () => {
  test('tsig-keygen output is read for every algorithm it makes', async () => {
    const bin = requireBinary('tsig-keygen', 'bind9');
    for (const alg of ['hmac-sha1', 'hmac-sha256', 'hmac-sha512']) {
      const { stdout } = await run(bin, ['-a', alg, `k-${alg}`]);
      const [key, ...rest] = parseKeyFile(stdout, 'k.key');
      assert.equal(rest.length, 0);
      assert.equal(key!.name, `k-${alg}.`);
      assert.equal(key!.algorithm, alg);
      assert.equal(key!.secret.length > 0, true);
    }
  });

  test('comments, several keys, names quoted or not', () => {
    const text = [
      '# first', 'key "A.Example" { algorithm HMAC-SHA256; secret "' + SECRET + '"; }; // trailing',
      '/* a', 'block */ key b.example. {', '  algorithm hmac-sha512;', '  secret "' + OTHER_SECRET + '";', '};',
    ].join('\n');
    const keys = parseKeyFile(text, 'two.key');
    assert.deepEqual(keys.map((k) => [k.name, k.algorithm]), [['a.example.', 'hmac-sha256'], ['b.example.', 'hmac-sha512']]);
  });

  const bad: [string, string][] = [
    ['key "k" { algorithm hmac-sha256; };', 'bad.key:1: key "k" has no secret'],
    ['key "k" {\n secret "' + SECRET + '"; };', 'bad.key:1: key "k" has no algorithm'],
    ['key "k" {\n algorithm hmac-md5; secret "' + SECRET + '"; };', 'bad.key:1: key "k": unknown algorithm "hmac-md5"'],
    ['key "k" {\n algorithm hmac-sha256;\n secret "not base64!"; };', 'bad.key:1: key "k": the secret is not base64'],
    ['key "k" {\n algorithm hmac-sha256;\n color blue; };', 'bad.key:3: unknown clause "color"'],
    ['key "k" {\n algorithm hmac-sha256\n secret "x"; };', 'bad.key:3: expected ";", got "secret"'],
    ['key "k" { algorithm hmac-sha256; secret "' + SECRET + '"; }', 'bad.key:1: expected ";" at the end'],
    ['options { };', 'bad.key:1: expected "key", got "options"'],
  ];
  for (const [text, message] of bad) {
    test(`rejected: ${message}`, () => {
      assert.throws(() => parseKeyFile(text, 'bad.key'), (err: Error) => err.message.startsWith(message));
    });
  }
});

/** A query for `name` SOA, unsigned. */
function soaQuery(name: string, id: number, type = 6): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, qname, tail]);
}

/** Question end of a message of one question or none (BIND's later AXFR messages have none); the name uncompressed. */
function questionEnd(msg: Buffer): number {
  if (msg.readUInt16BE(4) === 0) return 12;
  let p = 12;
  while (msg[p] !== 0) p += msg[p]! + 1;
  return p + 5;
}

/**
 * A UDP server that checks each query's TSIG with verifyRequest and answers NOERROR (signed) or the
 * TSIG error RFC 8945 §5.2 asks for, as an authoritative server with a keyring does.
 */
class SigningServer {
  readonly socket: Socket = createSocket('udp4');
  verdicts: string[] = [];

  constructor(private readonly keys: Map<string, TsigKey>) {}

  listen(): Promise<number> {
    this.socket.on('message', (msg, rinfo) => {
      const end = questionEnd(msg);
      const reply = Buffer.from(msg.subarray(0, end));
      reply[2] = 0x84 | (msg[2]! & 0x79);
      reply[3] = 0;
      reply.writeUInt16BE(0, 6);
      reply.writeUInt16BE(0, 8);
      reply.writeUInt16BE(0, 10);
      const v = verifyRequest(msg, this.keys, now());
      this.verdicts.push(v.status);
      let out: Buffer;
      if (v.status === 'ok') out = new TsigSigner(v.key, now(), v.tsig.mac).sign(reply);
      else if (v.status === 'badtime') {
        reply[3] = RCODE_NOTAUTH;
        out = new TsigSigner(v.key!, now(), v.tsig.mac).signBadTime(reply, v.tsig.timeSigned);
      } else if (v.status === 'badkey' || v.status === 'badsig') {
        reply[3] = RCODE_NOTAUTH;
        out = tsigErrorRecord(reply, v.tsig, v.status === 'badkey' ? TSIG_ERROR.BADKEY : TSIG_ERROR.BADSIG, now());
      } else {
        reply[3] = 1;
        out = reply;
      }
      this.socket.send(out, rinfo.port, rinfo.address);
    });
    return new Promise((resolve) => this.socket.bind(0, '127.0.0.1', () => resolve(this.socket.address().port)));
  }
}

describe('tsig with dig and kdig as the other side', () => {
  const keys = new Map<string, TsigKey>();
  for (const [name, alg, secret] of [
    ['k256', 'hmac-sha256', SECRET],
    ['k512', 'hmac-sha512', OTHER_SECRET],
    ['k1', 'hmac-sha1', SECRET],
  ] as const) {
    const k = tsigKey(name, alg, secret);
    keys.set(k.key, k);
  }
  let server: SigningServer;
  let port = 0;
  before(async () => {
    server = new SigningServer(keys);
    port = await server.listen();
  });
  after(() => server.socket.close());

  for (const [tool, pkg] of [
    ['dig', 'bind9-dnsutils'],
    ['kdig', 'knot-dnsutils'],
  ] as const) {
    const oneTry = tool === 'dig' ? ['+norec', '+tries=1', '+time=2'] : ['+norec', '+retry=0', '+timeout=2'];
    for (const [name, alg, secret] of [
      ['k256', 'hmac-sha256', SECRET],
      ['k512', 'hmac-sha512', OTHER_SECRET],
      ['k1', 'hmac-sha1', SECRET],
    ] as const) {
      test(`${tool} -y ${alg}: we verify its query, it verifies our signed answer`, async () => {
        const bin = requireBinary(tool, pkg);
        server.verdicts = [];
        const { stdout } = await run(bin, [`@127.0.0.1`, '-p', String(port), '-y', `${alg}:${name}:${secret}`, 'example.', 'SOA', ...oneTry]);
        assert.deepEqual(server.verdicts, ['ok']);
        assert.match(stdout, /status: NOERROR/);
        // dig prints ";; Couldn't verify signature", kdig ";; WARNING: TSIG..." when ours is wrong.
        assert.doesNotMatch(stdout, /verify|WARNING: TSIG|failure/i, stdout);
        assert.match(stdout, new RegExp(`${name}\\.\\s+0\\s+ANY\\s+TSIG\\s+${alg}\\.`, 'i'));
      });
    }

    for (const [error, what, keyAndSecret] of [
      ['BADSIG', "a secret we don't share", `k256:${OTHER_SECRET}`],
      ['BADKEY', "a key we don't hold", `stranger:${SECRET}`],
    ] as const) {
      test(`${tool} -y with ${what}: ${error}, unsigned, NOTAUTH`, async () => {
        const bin = requireBinary(tool, pkg);
        server.verdicts = [];
        const { stdout } = await run(bin, [`@127.0.0.1`, '-p', String(port), '-y', `hmac-sha256:${keyAndSecret}`, 'example.', 'SOA', ...oneTry]).catch(
          (err: { stdout: string }) => ({ stdout: err.stdout }),
        );
        assert.deepEqual(server.verdicts, [error.toLowerCase()]);
        // kdig shows the TSIG error as the status.
        assert.match(stdout, new RegExp(`status: ${tool === 'dig' ? 'NOTAUTH' : error}`));
        // An empty MAC: the answer is not signed (RFC 8945 §5.3.2).
        assert.match(stdout, new RegExp(`TSIG\\s+hmac-sha256\\. \\d+ 300 0 \\d+ ${error}`));
      });
    }
  }

  test('a request signed too long ago: BADTIME, signed, with our time in Other Data', () => {
    const key = keys.get(tsigKey('k256', 'hmac-sha256', SECRET).key)!;
    const signer = new TsigSigner(key, now() - 3600);
    const q = signer.sign(soaQuery('example.', 7));
    const v = verifyRequest(q, keys, now());
    assert.equal(v.status, 'badtime');
    const answer = soaQuery('example.', 7);
    answer[2] = 0x84;
    answer[3] = RCODE_NOTAUTH;
    const reply = new TsigSigner(key, now(), signer.mac).signBadTime(answer, now() - 3600);
    const t = readTsig(reply);
    assert.ok(t !== null && t !== 'formerr');
    assert.equal(t.error, TSIG_ERROR.BADTIME);
    assert.equal(t.timeSigned, now() - 3600);
    assert.ok(Math.abs(t.otherData.readUIntBE(0, 6) - now()) <= 1);
    // The requester can still check that answer (it is signed with the request's MAC).
    assert.deepEqual(new TsigVerifier(key, signer.mac!, () => now() - 3600).check(reply), { error: TSIG_ERROR.BADTIME });
  });

  test('one octet changed anywhere in a signed message: BADSIG; TSIG not last: FORMERR', () => {
    const key = keys.get(tsigKey('k256', 'hmac-sha256', SECRET).key)!;
    const q = new TsigSigner(key, now()).sign(soaQuery('example.', 9));
    // Octets 0-1 (the ID) are not covered: the MAC is over the original ID (RFC 8945 §4.3.1).
    for (const at of [2, 3, 14, 22]) {
      const bad = Buffer.from(q);
      bad[at] ^= 1;
      assert.equal(verifyRequest(bad, keys, now()).status, 'badsig', `octet ${at}`);
    }
    const t = readTsig(q) as { at: number };
    const moved = Buffer.concat([q.subarray(0, 12), q.subarray(12, t.at), q.subarray(t.at), q.subarray(t.at)]);
    moved.writeUInt16BE(2, 10);
    assert.equal(verifyRequest(moved, keys, now()).status, 'formerr');
  });
});

/** Sends `query` over TCP and collects every message of the answer stream until the closing SOA. */
function axfrMessages(port: number, query: Buffer): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const out: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let soas = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`AXFR: no end after ${out.length} messages`));
    }, 10_000);
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        out.push(Buffer.from(msg));
        soas += countSoaAnswers(msg);
        if (soas >= 2 || (msg[3]! & 0x0f) !== 0) {
          clearTimeout(timer);
          socket.destroy();
          resolve(out);
          return;
        }
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function countSoaAnswers(msg: Buffer): number {
  let p = questionEnd(msg);
  let n = 0;
  for (let i = 0; i < msg.readUInt16BE(6); i++) {
    while (msg[p] !== 0 && (msg[p]! & 0xc0) !== 0xc0) p += msg[p]! + 1;
    p += msg[p] === 0 ? 1 : 2;
    if (msg.readUInt16BE(p) === 6) n++;
    p += 10 + msg.readUInt16BE(p + 8);
  }
  return n;
}

describe('tsig streams signed by Knot and BIND (AXFR)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anycast-dns-tsig-'));
  const zone = join(dir, 'big.example.zone');
  // Enough records for many messages (each at most 64 KiB).
  const lines = ['$ORIGIN big.example.', '$TTL 300', '@ SOA ns hostmaster 1 3600 600 86400 300', '@ NS ns', 'ns A 192.0.2.1'];
  for (let i = 0; i < 6000; i++) lines.push(`host-${i} TXT "record ${i} ${'x'.repeat(40)}"`);
  writeFileSync(zone, lines.join('\n') + '\n');
  const transferKey: TransferKey = { name: 'xfr-key', algorithm: 'hmac-sha256', secret: SECRET };
  const key = tsigKey(transferKey.name, transferKey.algorithm, transferKey.secret);
  const peers: RunningPeer[] = [];
  after(async () => {
    await Promise.all(peers.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, start] of [
    ['knot', startKnot],
    ['bind', startBind],
  ] as const) {
    test(`${name}: every message of a signed AXFR checks; one octet changed fails; unsigned is refused`, async () => {
      const peer = await start([{ origin: 'big.example.', file: zone }], { transferKey, ipv6: false });
      peers.push(peer);
      const signer = new TsigSigner(key, now());
      const messages = await axfrMessages(peer.port, signer.sign(soaQuery('big.example.', 4242, 252)));
      assert.ok(messages.length > 3, `${messages.length} messages`);
      assert.equal(messages[0]![3]! & 0x0f, 0, 'NOERROR');
      const verifier = new TsigVerifier(key, signer.mac!, now);
      for (const [i, m] of messages.entries()) assert.equal(verifier.check(m), 'ok', `message ${i}`);
      assert.ok(verifier.finished);

      const tampered = new TsigVerifier(key, signer.mac!, now);
      const middle = Math.floor(messages.length / 2);
      const results = messages.map((m, i) => {
        const copy = Buffer.from(m);
        if (i === middle) copy[copy.length >> 1] ^= 0x20;
        return tampered.check(copy);
      });
      assert.ok(results.slice(middle).some((r) => r === 'badsig'), JSON.stringify(results));

      // Without the key the peer refuses (or answers NOTAUTH): its ACL holds.
      const unsigned = await axfrMessages(peer.port, soaQuery('big.example.', 4243, 252));
      assert.notEqual(unsigned[0]![3]! & 0x0f, 0);
    });
  }
});
