// Shared by the wire tests: a handler over zone text, queries from the test kit's builder, and
// responses decoded with dns-packet to check what the hand-written encoder produced.

import assert from 'node:assert/strict';
import dnsPacket from 'dns-packet';
import type { HandlerOptions, QueryHandler, QueryMeta, ResponseInfo } from '../../src/wire/handler-types.js';
import { bucketOf } from '../../src/rrl/classify.js';
import { createHandler } from '../../src/wire/handler.js';
import { zoneFromText, zoneSet } from '../answer/helpers.js';
import { encodeQuery } from '../helpers/dns-query.js';
import type { ZoneSet } from '../../src/zone/zone.js';

export const UDP: QueryMeta = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: 5353 };
export const TCP: QueryMeta = { transport: 'tcp', remoteAddress: '127.0.0.1', remotePort: 5353 };

const ZONE = `
$TTL 3600
@        SOA   ns1 hostmaster 2026112501 7200 3600 1209600 300
@        NS    ns1
@        NS    ns2
@        MX    10 mail
ns1      A     192.0.2.53
ns1      AAAA  2001:db8::53
ns2      A     198.51.100.53
mail     A     192.0.2.25
www      A     192.0.2.80
alias    CNAME www
_sip._udp SRV  10 60 5060 sip
sip      A     192.0.2.60
`;

export function exampleZones(extra = ''): ZoneSet {
  return zoneSet(zoneFromText('example.com.', ZONE + extra));
}

export interface Harness {
  handler: QueryHandler;
  infos: ResponseInfo[];
  errors: unknown[];
}

export function harness(zones: ZoneSet, opts: Partial<HandlerOptions> = {}): Harness {
  const infos: ResponseInfo[] = [];
  const errors: unknown[] = [];
  const handler = createHandler(zones, {
    identity: 'pop-test-1',
    version: 'anycast-dns test',
    ednsUdpSize: 1232,
    bucketOf,
    // A copy: the handler reuses its info object for the next query.
    onResponse: (info) => infos.push({ ...info }),
    onError: (err) => errors.push(err),
    ...opts,
  });
  return { handler, infos, errors };
}

export interface QueryOptions {
  id?: number;
  type?: string;
  class?: string;
  rd?: boolean;
  /** EDNS UDP size; undefined sends no OPT. */
  edns?: number;
  do?: boolean;
  nsid?: boolean;
  /** COOKIE option data (RFC 7873 §4); needs `edns`. */
  cookie?: Buffer;
}

/** A query as a stub resolver sends it unless told otherwise: RD set, no OPT. */
export function query(name: string, o: QueryOptions = {}): Buffer {
  return encodeQuery(
    {
      name,
      type: o.type ?? 'A',
      class: o.class ?? 'IN',
      recursionDesired: o.rd !== false,
      ...(o.edns === undefined ? { noEdns: true } : { udpSize: o.edns, dnssecOk: o.do === true, nsid: o.nsid === true }),
      ...(o.cookie !== undefined ? { cookie: o.cookie } : {}),
    },
    o.id ?? 0x1234,
  );
}

export type Decoded = dnsPacket.Packet & { rcode: string; flag_tc: boolean; flag_aa: boolean; flag_rd: boolean; flag_ra: boolean; flag_cd: boolean };

export function decode(r: Buffer | null): Decoded {
  assert.ok(r !== null, 'expected a response');
  return dnsPacket.decode(r) as unknown as Decoded;
}

/** Header fields straight from the bytes. */
export function header(r: Buffer): { id: number; qr: boolean; opcode: number; aa: boolean; tc: boolean; rd: boolean; ra: boolean; rcode: number; qd: number; an: number; ns: number; ar: number } {
  return {
    id: r.readUInt16BE(0),
    qr: (r[2]! & 0x80) !== 0,
    opcode: (r[2]! >> 3) & 0xf,
    aa: (r[2]! & 4) !== 0,
    tc: (r[2]! & 2) !== 0,
    rd: (r[2]! & 1) !== 0,
    ra: (r[3]! & 0x80) !== 0,
    rcode: r[3]! & 0xf,
    qd: r.readUInt16BE(4),
    an: r.readUInt16BE(6),
    ns: r.readUInt16BE(8),
    ar: r.readUInt16BE(10),
  };
}

/** The OPT record of a decoded response, if any. */
export function opt(d: dnsPacket.Packet): (dnsPacket.Answer & { udpPayloadSize: number; extendedRcode: number; ednsVersion: number; flags: number; options: { code: number; data?: Buffer }[] }) | undefined {
  return (d.additionals ?? []).find((a) => a.type === 'OPT') as never;
}
