// dnstap (https://dnstap.info): the Dnstap protobuf message, hand-encoded, and the Frame Streams frames
// that carry it. Only the fields an authoritative server logs are written: identity, version, and a
// Message of type AUTH_QUERY or AUTH_RESPONSE with the socket family and protocol, the client's address
// and port, the times, and the DNS message verbatim. Pure: the caller does the I/O.

/** Frame Streams content type of dnstap (dnstap.proto's package and message). */
export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap';

/** Frame Streams control frame types (fstrm's control.h). */
export const enum Control {
  Accept = 1,
  Start = 2,
  Stop = 3,
  Ready = 4,
  Finish = 5,
}
const CONTROL_FIELD_CONTENT_TYPE = 1;

/** dnstap.proto Message.Type. */
export const enum MessageType {
  AuthQuery = 1,
  AuthResponse = 2,
}

/** Protobuf wire types (field key = number << 3 | wire type). */
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

// dnstap.proto field numbers.
const DNSTAP_IDENTITY = 1;
const DNSTAP_VERSION = 2;
const DNSTAP_EXTRA = 3;
const DNSTAP_MESSAGE = 14;
const DNSTAP_TYPE = 15;
const DNSTAP_TYPE_MESSAGE = 1;
const MSG_TYPE = 1;
const MSG_SOCKET_FAMILY = 2; // INET = 1, INET6 = 2
const MSG_SOCKET_PROTOCOL = 3; // UDP = 1, TCP = 2
const MSG_QUERY_ADDRESS = 4;
const MSG_QUERY_PORT = 6;
const MSG_QUERY_TIME_SEC = 8;
const MSG_QUERY_TIME_NSEC = 9;
const MSG_QUERY_MESSAGE = 10;
const MSG_RESPONSE_TIME_SEC = 12;
const MSG_RESPONSE_TIME_NSEC = 13;
const MSG_RESPONSE_MESSAGE = 14;

/** One message to log: what was received or sent, to or from whom, and when (ms since the epoch, fractional). */
export interface TapEvent {
  type: MessageType;
  tcp: boolean;
  /** The client's address octets (4 or 16). */
  address: Uint8Array;
  addressLength: number;
  port: number;
  /** When the query was read. */
  queryTimeMs: number;
  /** When the response was sent (AUTH_RESPONSE). */
  responseTimeMs: number;
  /** The DNS message: the query (AUTH_QUERY) or the response. */
  message: Uint8Array;
  /** Dnstap's `extra` field (free-form octets), or null: the geo rule that answered. */
  extra: Uint8Array | null;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

const key = (field: number, wire: number): number => (field << 3) | wire;
const bytesFieldSize = (field: number, length: number): number => varintSize(key(field, LENGTH_DELIMITED)) + varintSize(length) + length;

function writeBytes(buf: Buffer, pos: number, field: number, data: Uint8Array, length: number): number {
  pos = writeVarint(buf, pos, key(field, LENGTH_DELIMITED));
  pos = writeVarint(buf, pos, length);
  buf.set(length === data.length ? data : data.subarray(0, length), pos);
  return pos + length;
}

function writeUint(buf: Buffer, pos: number, field: number, v: number): number {
  return writeVarint(buf, writeVarint(buf, pos, key(field, VARINT)), v);
}

function writeFixed32(buf: Buffer, pos: number, field: number, v: number): number {
  pos = writeVarint(buf, pos, key(field, FIXED32));
  buf.writeUInt32LE(v >>> 0, pos);
  return pos + 4;
}

/** Seconds and nanoseconds of a time in fractional ms since the epoch. */
function split(ms: number): [number, number] {
  const sec = Math.floor(ms / 1000);
  return [sec, Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6))];
}

/** Encodes the Dnstap fields every message shares (identity, version), once per output. */
export function dnstapHeader(identity: string, version: string | null): Buffer {
  const id = Buffer.from(identity, 'utf8');
  const ver = version === null ? null : Buffer.from(version, 'utf8');
  const out = Buffer.alloc(bytesFieldSize(DNSTAP_IDENTITY, id.length) + (ver === null ? 0 : bytesFieldSize(DNSTAP_VERSION, ver.length)));
  const pos = writeBytes(out, 0, DNSTAP_IDENTITY, id, id.length);
  if (ver !== null) writeBytes(out, pos, DNSTAP_VERSION, ver, ver.length);
  return out;
}

/** A Frame Streams data frame (4-octet big-endian length, then the Dnstap message) for `e`. */
export function dnstapFrame(header: Buffer, e: TapEvent): Buffer {
  const response = e.type === MessageType.AuthResponse;
  const [qSec, qNsec] = split(e.queryTimeMs);
  const [rSec, rNsec] = split(e.responseTimeMs);
  let msgLength =
    3 * 2 + // type, socket family, socket protocol: one-octet key and value each
    bytesFieldSize(MSG_QUERY_ADDRESS, e.addressLength) +
    1 + varintSize(e.port) +
    1 + varintSize(qSec) +
    5 +
    bytesFieldSize(response ? MSG_RESPONSE_MESSAGE : MSG_QUERY_MESSAGE, e.message.length);
  if (response) msgLength += 1 + varintSize(rSec) + 5;
  const extra = e.extra;
  const dnstapLength = header.length + (extra === null ? 0 : bytesFieldSize(DNSTAP_EXTRA, extra.length)) + 1 + varintSize(msgLength) + msgLength + 2;
  const out = Buffer.allocUnsafe(4 + dnstapLength);
  out.writeUInt32BE(dnstapLength, 0);
  header.copy(out, 4);
  let pos = 4 + header.length;
  if (extra !== null) pos = writeBytes(out, pos, DNSTAP_EXTRA, extra, extra.length);
  pos = writeVarint(out, pos, key(DNSTAP_MESSAGE, LENGTH_DELIMITED));
  pos = writeVarint(out, pos, msgLength);
  pos = writeUint(out, pos, MSG_TYPE, e.type);
  pos = writeUint(out, pos, MSG_SOCKET_FAMILY, e.addressLength === 16 ? 2 : 1);
  pos = writeUint(out, pos, MSG_SOCKET_PROTOCOL, e.tcp ? 2 : 1);
  pos = writeBytes(out, pos, MSG_QUERY_ADDRESS, e.address, e.addressLength);
  pos = writeUint(out, pos, MSG_QUERY_PORT, e.port);
  pos = writeUint(out, pos, MSG_QUERY_TIME_SEC, qSec);
  pos = writeFixed32(out, pos, MSG_QUERY_TIME_NSEC, qNsec);
  if (response) {
    pos = writeUint(out, pos, MSG_RESPONSE_TIME_SEC, rSec);
    pos = writeFixed32(out, pos, MSG_RESPONSE_TIME_NSEC, rNsec);
    pos = writeBytes(out, pos, MSG_RESPONSE_MESSAGE, e.message, e.message.length);
  } else {
    pos = writeBytes(out, pos, MSG_QUERY_MESSAGE, e.message, e.message.length);
  }
  pos = writeUint(out, pos, DNSTAP_TYPE, DNSTAP_TYPE_MESSAGE);
  if (pos !== out.length) throw new Error(`dnstap frame: wrote ${pos} of ${out.length} octets`);
  return out;
}

/** A Frame Streams control frame: escape (0), length, type, and the content type field (not for STOP/FINISH). */
export function controlFrame(type: Control): Buffer {
  const withType = type === Control.Accept || type === Control.Start || type === Control.Ready;
  const ct = Buffer.from(DNSTAP_CONTENT_TYPE, 'latin1');
  const length = 4 + (withType ? 8 + ct.length : 0);
  const out = Buffer.alloc(8 + length);
  out.writeUInt32BE(0, 0);
  out.writeUInt32BE(length, 4);
  out.writeUInt32BE(type, 8);
  if (withType) {
    out.writeUInt32BE(CONTROL_FIELD_CONTENT_TYPE, 12);
    out.writeUInt32BE(ct.length, 16);
    ct.copy(out, 20);
  }
  return out;
}

/** The control frame at the start of `data` (its type and octets), or null when a whole one is not there yet. */
export function readControlFrame(data: Buffer): { type: number; length: number } | null {
  if (data.length < 12 || data.readUInt32BE(0) !== 0) return null;
  const length = data.readUInt32BE(4);
  if (data.length < 8 + length) return null;
  return { type: data.readUInt32BE(8), length: 8 + length };
}
