// Sends one real DNS query to a server on loopback, over UDP or TCP, and reads the reply.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket from 'dns-packet';
import { parseMessage, type WireMessage } from './dns-message.js';
import { frame } from './tcp-client.js';

/** A server to ask: only loopback addresses are allowed (tests never send anywhere else). */
export interface QueryTarget {
  port: number;
  /** 127.0.0.1 unless given; must be loopback (127.0.0.0/8 or ::1). */
  host?: string;
}

export interface QueryOptions {
  name: string;
  /** Mnemonic (`A`, `SVCB`, `TYPE65534`) or number. */
  type: string | number;
  /** `IN` (default), `CH`, or a number. */
  class?: string | number;
  /** Set the DO bit (RFC 3225); implies EDNS. */
  dnssecOk?: boolean;
  /** EDNS UDP payload size advertised (default 1232). */
  udpSize?: number;
  /** Send no OPT record at all. */
  noEdns?: boolean;
  /** Ask for the server's NSID (RFC 5001). */
  nsid?: boolean;
  /** COOKIE option data (RFC 7873 §4): a client cookie, or client and server cookie. */
  cookie?: Buffer;
  /** More EDNS options, written as given (malformed ones too), after NSID and COOKIE. */
  options?: { code: number; data: Buffer }[];
  /** Over TCP (2-byte length framing, RFC 7766) instead of UDP. */
  tcp?: boolean;
  /** The RD bit (default false: an authoritative server is asked non-recursively). */
  recursionDesired?: boolean;
  /** Milliseconds to wait for the reply (default 3000). */
  timeoutMs?: number;
}

export interface QueryReply {
  raw: Buffer;
  message: WireMessage;
  /** Milliseconds from send to reply. */
  elapsedMs: number;
}

/** Query types by mnemonic (the question's type is written as a number, so any code works). */
const TYPES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, RP: 17, AAAA: 28, LOC: 29, SRV: 33,
  NAPTR: 35, CERT: 37, DNAME: 39, OPT: 41, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50,
  NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63,
  SVCB: 64, HTTPS: 65, SPF: 99, IXFR: 251, AXFR: 252, ANY: 255, URI: 256, CAA: 257,
};

export function typeCode(type: string | number): number {
  if (typeof type === 'number') return type;
  const upper = type.toUpperCase();
  const generic = /^TYPE(\d+)$/.exec(upper);
  if (generic) return Number(generic[1]);
  const code = TYPES[upper];
  if (code === undefined) throw new Error(`dnsQuery: unknown type ${type}`);
  return code;
}

function classCode(klass: string | number | undefined): number {
  if (klass === undefined) return 1;
  if (typeof klass === 'number') return klass;
  const named: Record<string, number> = { IN: 1, CH: 3, CHAOS: 3, HS: 4, ANY: 255 };
  const generic = /^CLASS(\d+)$/i.exec(klass);
  const code = generic ? Number(generic[1]) : named[klass.toUpperCase()];
  if (code === undefined) throw new Error(`dnsQuery: unknown class ${klass}`);
  return code;
}

function assertLoopback(host: string): void {
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== '::1') throw new Error(`dnsQuery: ${host} is not a loopback address`);
}

/**
 * The query message, as bytes: the one query builder of the tests and benchmarks. dns-packet encodes
 * it; type and class are patched in as numbers so any code works.
 */
export function encodeQuery(q: QueryOptions, id: number): Buffer {
  const edns = !q.noEdns || q.dnssecOk;
  // NSID (RFC 5001 §2.1) is an empty option; the typings only list the options dns-packet decodes.
  const options = [...(q.nsid ? [{ code: 3, data: Buffer.alloc(0) }] : []), ...(q.cookie !== undefined ? [{ code: 10, data: q.cookie }] : []), ...(q.options ?? [])] as unknown as dnsPacket.PacketOpt[];
  const packet: dnsPacket.Packet = {
    type: 'query',
    id,
    flags: q.recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: 'A', name: q.name }],
    additionals: edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: q.udpSize ?? 1232,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: q.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
            flag_do: q.dnssecOk ?? false,
            options,
          },
        ]
      : [],
  };
  const buf = dnsPacket.encode(packet);
  // The question's name is written uncompressed from offset 12; its type and class follow it.
  let at = 12;
  while (buf[at]! !== 0) at += buf[at]! + 1;
  buf.writeUInt16BE(typeCode(q.type), at + 1);
  buf.writeUInt16BE(classCode(q.class), at + 3);
  return buf;
}

/** Sends `q` to `server` and resolves with the parsed reply; rejects on timeout or a reply with another ID. */
export async function dnsQuery(server: QueryTarget, q: QueryOptions): Promise<QueryReply> {
  const host = server.host ?? '127.0.0.1';
  assertLoopback(host);
  const id = Math.floor(Math.random() * 0x10000);
  const query = encodeQuery(q, id);
  const timeoutMs = q.timeoutMs ?? 3000;
  const started = performance.now();
  const raw = q.tcp ? await exchangeTcp(host, server.port, query, timeoutMs) : await exchangeUdp(host, server.port, query, timeoutMs);
  const message = parseMessage(raw);
  if (message.id !== id) throw new Error(`dnsQuery: reply ID ${message.id} does not match query ID ${id}`);
  return { raw, message, elapsedMs: performance.now() - started };
}

type Finish = (err: Error | null, reply?: Buffer) => void;

/**
 * One exchange: `open` sends the query and calls `finish` with the reply or an error (`server` names
 * the server and query for a message); it returns how to close its socket. Rejects after `timeoutMs`.
 */
function exchange(transport: 'UDP' | 'TCP', host: string, port: number, query: Buffer, timeoutMs: number, open: (finish: Finish, server: string) => () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = `${host}:${port} (query of ${query.length} octets)`;
    let done = false;
    const finish: Finish = (err, reply) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      if (err) reject(err);
      else resolve(reply!);
    };
    const timer = setTimeout(() => finish(new Error(`dnsQuery: no ${transport} reply from ${server} within ${timeoutMs} ms`)), timeoutMs);
    const close = open(finish, server);
  });
}

export function exchangeUdp(host: string, port: number, query: Buffer, timeoutMs: number): Promise<Buffer> {
  return exchange('UDP', host, port, query, timeoutMs, (finish) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.on('error', (err) => finish(err));
    sock.on('message', (msg) => {
      // Ignore anything that is not a reply to this query's ID (e.g. a late reply to an earlier one).
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) finish(null, msg);
    });
    sock.send(query, port, host);
    return () => sock.close();
  });
}

/** One query over a new TCP connection, from `localAddress` when given (any of 127.0.0.0/8 on Linux). */
export function exchangeTcp(host: string, port: number, query: Buffer, timeoutMs: number, localAddress?: string): Promise<Buffer> {
  return exchange('TCP', host, port, query, timeoutMs, (finish, server) => {
    const sock = connect({ host, port, ...(localAddress !== undefined ? { localAddress } : {}) });
    let buf = Buffer.alloc(0);
    sock.on('error', (err) => finish(err));
    sock.on('connect', () => sock.write(frame(query)));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(null, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
    sock.on('end', () => finish(new Error(`dnsQuery: TCP connection to ${server} closed before a whole reply`)));
    return () => sock.destroy();
  });
}
