// A secondary's conversations with its primary: the SOA query over UDP (again over TCP when the
// answer is truncated), and a zone transfer over TCP (RFC 5936 §4.1, RFC 1995 §2), every query signed
// and every answer checked when the primary has a TSIG key (RFC 8945 §5.3: each message of a stream).
// A transfer is held to a size and a time: past either it is abandoned.
import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import { TsigSigner, TsigVerifier } from '../wire/tsig.js';
import { TransferStream, readResponse, soaSerial, xfrQuery, type InMessage, type InRecord, type TransferContent } from '../wire/xfr-in.js';
import { nameFromText } from '../zone/name.js';
import { T } from '../zone/types.js';
import type { Primary } from './config.js';

const RCODE_NAMES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 9: 'NOTAUTH' };

/** An answer the primary gave with an error rcode (IXFR falls back to AXFR on some: RFC 1995 §2 leaves it to the secondary). */
export class RcodeError extends Error {
  constructor(
    readonly rcode: number,
    what: string,
  ) {
    super(`${what}: the primary answered ${RCODE_NAMES[rcode] ?? `rcode ${rcode}`}`);
  }
}

export function primaryText(p: Primary): string {
  return p.family === 6 ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`;
}

/** Signs a query and checks the answers to it, when the primary has a key. */
function exchange(p: Primary, query: Buffer): { wire: Buffer; check(msg: Buffer): void; finished(): boolean } {
  if (p.key === null) return { wire: query, check: () => {}, finished: () => true };
  const now = (): number => Math.floor(Date.now() / 1000);
  const signer = new TsigSigner(p.key, now());
  const wire = signer.sign(query);
  const verifier = new TsigVerifier(p.key, signer.mac!, now);
  return {
    wire,
    check(msg) {
      const v = verifier.check(msg);
      if (v !== 'ok') throw new Error(`TSIG: ${typeof v === 'string' ? v : `the primary answered TSIG error ${v.error}`}`);
    },
    finished: () => verifier.finished,
  };
}

/** The primary's SOA for `zone` (RFC 1034 §4.3.5): over UDP, over TCP when truncated. */
export async function querySoa(p: Primary, zone: string, timeoutMs: number): Promise<InRecord> {
  const id = randomInt(0x10000);
  const x = exchange(p, xfrQuery(id, nameFromText(zone, null), T.SOA, null));
  const udp = await udpExchange(p, x.wire, id, timeoutMs);
  let m: InMessage = udp;
  if (udp.tc) {
    const y = exchange(p, xfrQuery(id, nameFromText(zone, null), T.SOA, null));
    let answer: Buffer | null = null;
    await tcpExchange(p, y.wire, timeoutMs, Number.MAX_SAFE_INTEGER, (msg) => {
      answer = msg;
      return true;
    });
    y.check(answer!);
    m = checked(answer!, id);
  } else x.check(udp.raw);
  if (m.rcode !== 0) throw new RcodeError(m.rcode, 'SOA query');
  if (!m.aa) throw new Error('SOA query: the answer is not authoritative');
  const soa = m.answer.find((r) => r.type === T.SOA);
  if (soa === undefined) throw new Error('SOA query: no SOA in the answer');
  return soa;
}

/** Ends when a message that passes `check` comes, or the time runs out. */
function udpExchange(p: Primary, query: Buffer, id: number, timeoutMs: number): Promise<InMessage & { raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = createSocket(p.family === 6 ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error(`SOA query: no answer within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | null, m?: InMessage & { raw: Buffer }): void => {
      clearTimeout(timer);
      s.close();
      if (err !== null) reject(err);
      else resolve(m!);
    };
    s.on('error', (err) => finish(err));
    s.on('message', (msg, rinfo) => {
      // Only the primary's answer to this query; anything else is ignored, as a resolver would.
      if (rinfo.address !== p.host || rinfo.port !== p.port || msg.length < 2 || msg.readUInt16BE(0) !== id) return;
      try {
        finish(null, { ...checked(msg, id), raw: msg });
      } catch (err) {
        finish(err as Error);
      }
    });
    s.send(query, p.port, p.host);
  });
}

function checked(msg: Buffer, id: number): InMessage {
  const m = readResponse(msg);
  if (typeof m === 'string') throw new Error(`malformed answer: ${m}`);
  if (m.id !== id) throw new Error('an answer with another ID');
  return m;
}

/**
 * Sends `query` over TCP and hands each message of the answer to `take` until it returns true (the
 * stream is complete). Rejects past `timeoutMs` in all or `maxBytes` received.
 */
function tcpExchange(p: Primary, query: Buffer, timeoutMs: number, maxBytes: number, take: (msg: Buffer) => boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: p.host, port: p.port, noDelay: true });
    let bytes = 0;
    let pending: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(bytes);
    };
    const timer = setTimeout(() => finish(new Error(`not finished within ${timeoutMs} ms (limit)`)), timeoutMs);
    socket.on('connect', () => {
      const frame = Buffer.allocUnsafe(query.length + 2);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      socket.write(frame);
    });
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return finish(new Error(`more than ${maxBytes} octets (limit)`));
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        try {
          if (take(msg)) return finish(null);
        } catch (err) {
          return finish(err as Error);
        }
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('the primary closed the connection before the end of the transfer')));
  });
}

export interface TransferResult {
  content: TransferContent;
  bytes: number;
  records: number;
}

/**
 * Transfers `zone`: IXFR from `held` (the SOA of the version served) or, with `held` null, AXFR.
 * Every message is read as it comes; the stream is checked as RFC 5936 and RFC 1995 lay it out.
 */
export async function transfer(p: Primary, zone: string, held: { ttl: number; rdata: Buffer } | null, limits: { timeoutMs: number; maxBytes: number }): Promise<TransferResult> {
  const id = randomInt(0x10000);
  const x = exchange(p, xfrQuery(id, nameFromText(zone, null), held === null ? T.AXFR : T.IXFR, held));
  const stream = new TransferStream(held !== null);
  const what = held === null ? 'AXFR' : 'IXFR';
  const bytes = await tcpExchange(p, x.wire, limits.timeoutMs, limits.maxBytes, (msg) => {
    x.check(msg);
    const m = checked(msg, id);
    if (m.rcode !== 0) throw new RcodeError(m.rcode, what);
    stream.add(m.answer);
    if (stream.content === null) return false;
    if (!x.finished()) throw new Error('TSIG: the last message of the transfer is not signed');
    return true;
  });
  const content = stream.content!;
  if (content.style === 'current' && held !== null && soaSerial(content.soa.rdata) !== soaSerial(held.rdata)) {
    // A lone SOA of another serial is no answer to the IXFR asked.
    throw new Error(`IXFR: the primary sent only its SOA, of serial ${soaSerial(content.soa.rdata)}`);
  }
  return { content, bytes, records: stream.count };
}
