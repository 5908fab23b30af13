// Reading a query by hand (RFC 1035 §4.1, RFC 6891 §6): the header, the one question, and the OPT
// record, into a reusable object. No per-field objects: this runs for every packet.

import { MAX_LABEL_LENGTH, MAX_NAME_LENGTH, lowerByte } from '../zone/name.js';
import { T } from '../zone/types.js';
import { COOKIE_OPTION, cookieLengthOk } from './cookies.js';

export const HEADER_SIZE = 12;
/** Header flag bits (RFC 1035 §4.1.1): in the third octet... */
export const FLAG_QR = 0x80;
export const OPCODE_MASK = 0x78;
export const FLAG_AA = 0x04;
export const FLAG_TC = 0x02;
export const FLAG_RD = 0x01;
/** ...and in the fourth (RFC 4035 §3.1.6). */
export const FLAG_CD = 0x10;
const OPCODE_QUERY = 0;
const EDNS_OPTION_NSID = 3; // RFC 5001 §2.3
export const EDNS_OPTION_ZONEVERSION = 19; // RFC 9660 §2
export const EDNS_OPTION_ECS = 8; // RFC 7871 §6
/** ECS FAMILY values (RFC 7871 §6, IANA address family numbers). */
const ECS_FAMILY_NONE = 0;
const ECS_FAMILY_IPV4 = 1;
const ECS_FAMILY_IPV6 = 2;

export const enum ParseStatus {
  Ok,
  /** Reply FORMERR (RFC 1035 §4.1.1: the name server was unable to interpret the query). */
  FormErr,
  /** Reply NOTIMP: an opcode other than QUERY. */
  NotImp,
  /** Reply BADVERS: EDNS version above 0 (RFC 6891 §6.1.3). */
  BadVers,
  /**
   * Reply FORMERR with the question and an OPT: a malformed COOKIE option (RFC 7873 §5.2.2) or EDNS
   * Client Subnet option (RFC 7871 §7.1.1, the cases BIND refuses).
   */
  BadOption,
  /** Reply FORMERR with the question and no OPT: an ECS option with a non-zero SCOPE PREFIX-LENGTH, as BIND answers it. */
  BadEcsScope,
}

/** One parsed query; a handler owns one and refills it per packet. */
export class ParsedQuery {
  /** Offset just past the question's QNAME. */
  qnameEnd = 0;
  /** Offset just past QTYPE and QCLASS. */
  questionEnd = 0;
  qtype = 0;
  qclass = 0;
  /** The query carried an OPT record (RFC 6891 §6.1.1). */
  edns = false;
  /** The requestor's UDP payload size, raised to 512 (RFC 6891 §6.2.5). */
  udpSize = 0;
  dnssecOk = false;
  /** The query asked for the name server identifier (RFC 5001 §2.3). */
  nsid = false;
  /** The query asked for the answering zone's version (RFC 9660). */
  zoneVersion = false;
  /** Offset of the first COOKIE option's data in the message, and its length (0: none; RFC 7873 §4). */
  cookieAt = 0;
  cookieLength = 0;
  /** Read EDNS Client Subnet options at all (config `ecs`); when false they are ignored like any unknown option. */
  ecsEnabled = false;
  /**
   * Offset of the first well-formed ECS option's data in the message and its length (0: none): FAMILY,
   * SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH (zero in a query), then the address's significant octets.
   */
  ecsAt = 0;
  ecsLength = 0;
  /** Its SOURCE PREFIX-LENGTH, and the address (4 or 16 octets, 0 when FAMILY is 0) zero-filled past it. */
  ecsSource = 0;
  ecsAddressLength = 0;
  readonly ecsAddress = new Uint8Array(16);
  /** The query carried a TSIG record (RFC 8945): its answer is signed, or a TSIG error. */
  tsig = false;
}

/**
 * Parses `msg` (whose header the caller has checked: at least 12 octets, QR clear). The QNAME, lower-cased,
 * is left in `nameOut` from offset 0 (its key, see zone/name.ts); `q.qnameEnd - 12` is its length.
 */
export function parseQuery(msg: Buffer, q: ParsedQuery, nameOut: Buffer): ParseStatus {
  q.edns = false;
  q.udpSize = 512;
  q.dnssecOk = false;
  q.nsid = false;
  q.zoneVersion = false;
  q.cookieLength = 0;
  q.ecsLength = 0;
  q.tsig = false;
  q.questionEnd = 0;
  if (((msg[2]! >> 3) & 0x0f) !== OPCODE_QUERY) return ParseStatus.NotImp;
  // RFC 9619: a QUERY carries exactly one question.
  if (msg[4] !== 0 || msg[5] !== 1) return ParseStatus.FormErr;
  const len = msg.length;
  let i = HEADER_SIZE;
  // The question's name is the first in the message, so there is nothing a compression pointer
  // (RFC 1035 §4.1.4: a prior occurrence) could legitimately point to.
  for (;;) {
    if (i >= len) return ParseStatus.FormErr;
    const l = msg[i]!;
    if (l === 0) break;
    if (l > MAX_LABEL_LENGTH || i + l + 1 - HEADER_SIZE >= MAX_NAME_LENGTH) return ParseStatus.FormErr;
    nameOut[i - HEADER_SIZE] = l;
    for (let j = i + 1, end = i + 1 + l; j < end; j++) {
      if (j >= len) return ParseStatus.FormErr;
      nameOut[j - HEADER_SIZE] = lowerByte(msg[j]!);
    }
    i += l + 1;
  }
  nameOut[i - HEADER_SIZE] = 0;
  i++;
  q.qnameEnd = i;
  if (i + 4 > len) return ParseStatus.FormErr;
  q.qtype = (msg[i]! << 8) | msg[i + 1]!;
  q.qclass = (msg[i + 2]! << 8) | msg[i + 3]!;
  i += 4;
  q.questionEnd = i;
  // Answer and authority records of a query carry nothing we use, but must be well formed to reach the OPT.
  let skip = ((msg[6]! << 8) | msg[7]!) + ((msg[8]! << 8) | msg[9]!);
  for (; skip > 0; skip--) {
    i = skipRecord(msg, i);
    if (i < 0) return ParseStatus.FormErr;
  }
  let version = 0;
  for (let ar = (msg[10]! << 8) | msg[11]!; ar > 0; ar--) {
    const start = i;
    i = skipName(msg, i);
    if (i < 0 || i + 10 > len) return ParseStatus.FormErr;
    const type = (msg[i]! << 8) | msg[i + 1]!;
    const rdlen = (msg[i + 8]! << 8) | msg[i + 9]!;
    const rdStart = i + 10;
    const next = rdStart + rdlen;
    if (next > len) return ParseStatus.FormErr;
    if (type === T.TSIG) q.tsig = true;
    else if (type === T.OPT) {
      // RFC 6891 §6.1.1: one OPT, owned by the root.
      if (q.edns || msg[start] !== 0 || i !== start + 1) return ParseStatus.FormErr;
      q.edns = true;
      const size = (msg[i + 2]! << 8) | msg[i + 3]!;
      q.udpSize = size < 512 ? 512 : size; // RFC 6891 §6.2.5: below 512 is treated as 512
      version = msg[i + 5]!;
      q.dnssecOk = (msg[i + 6]! & 0x80) !== 0; // RFC 3225 §3
      for (let o = rdStart; o < next; ) {
        if (o + 4 > next) return ParseStatus.FormErr;
        const code = (msg[o]! << 8) | msg[o + 1]!;
        const olen = (msg[o + 2]! << 8) | msg[o + 3]!;
        o += 4 + olen;
        if (o > next) return ParseStatus.FormErr;
        // RFC 6891 §6.1.2: unknown options are ignored.
        if (code === EDNS_OPTION_NSID) q.nsid = true;
        else if (code === EDNS_OPTION_ZONEVERSION) {
          // RFC 9660 §3: the option is empty in a query; data there is FORMERR.
          if (olen !== 0) return ParseStatus.FormErr;
          q.zoneVersion = true;
        } else if (code === COOKIE_OPTION && q.cookieLength === 0) {
          // RFC 7873 §5.2: only the first COOKIE option counts; §5.2.2: a malformed one is FORMERR.
          if (!cookieLengthOk(olen)) return ParseStatus.BadOption;
          q.cookieAt = o - olen;
          q.cookieLength = olen;
        } else if (code === EDNS_OPTION_ECS && q.ecsEnabled && q.ecsLength === 0) {
          const ecs = readEcs(msg, o - olen, olen, q);
          if (ecs !== ParseStatus.Ok) return ecs;
        }
      }
    }
    i = next;
  }
  return version > 0 ? ParseStatus.BadVers : ParseStatus.Ok;
}

/**
 * Reads an ECS option's data at `at` into `q`. RFC 7871 §7.1.1 leaves the reply to a bad option open;
 * these are the cases BIND answers FORMERR, checked in its order: a non-zero SCOPE PREFIX-LENGTH (with
 * no OPT in the reply), then with an OPT: an unknown FAMILY (0 only with SOURCE PREFIX-LENGTH 0), a
 * source prefix longer than the address, ADDRESS not exactly ceil(SOURCE/8) octets, bits set past the
 * source prefix.
 */
function readEcs(msg: Buffer, at: number, length: number, q: ParsedQuery): ParseStatus {
  if (length < 4) return ParseStatus.BadOption;
  const family = (msg[at]! << 8) | msg[at + 1]!;
  const source = msg[at + 2]!;
  if (msg[at + 3] !== 0) return ParseStatus.BadEcsScope;
  const size = family === ECS_FAMILY_IPV4 ? 4 : family === ECS_FAMILY_IPV6 ? 16 : family === ECS_FAMILY_NONE && source === 0 ? 0 : -1;
  if (size < 0 || source > size * 8) return ParseStatus.BadOption;
  const octets = (source + 7) >> 3;
  if (length !== 4 + octets) return ParseStatus.BadOption;
  const rest = source & 7;
  if (rest !== 0 && (msg[at + 4 + octets - 1]! & (0xff >> rest)) !== 0) return ParseStatus.BadOption;
  const addr = q.ecsAddress;
  for (let i = 0; i < octets; i++) addr[i] = msg[at + 4 + i]!;
  addr.fill(0, octets);
  q.ecsAt = at;
  q.ecsLength = length;
  q.ecsSource = source;
  q.ecsAddressLength = size;
  return ParseStatus.Ok;
}

/** Offset just past the (possibly compressed) name at `i`, or -1 if it is malformed. */
export function skipName(msg: Buffer, i: number): number {
  const len = msg.length;
  let total = 0;
  for (;;) {
    if (i >= len) return -1;
    const l = msg[i]!;
    if (l === 0) return i + 1;
    if ((l & 0xc0) === 0xc0) return i + 2 <= len ? i + 2 : -1; // a pointer ends the name (RFC 1035 §4.1.4)
    if (l > MAX_LABEL_LENGTH) return -1; // 0x40/0x80 label types are not in use (RFC 6891 §5)
    total += l + 1;
    if (total >= MAX_NAME_LENGTH) return -1;
    i += l + 1;
  }
}

function skipRecord(msg: Buffer, i: number): number {
  i = skipName(msg, i);
  if (i < 0 || i + 10 > msg.length) return -1;
  const next = i + 10 + ((msg[i + 8]! << 8) | msg[i + 9]!);
  return next > msg.length ? -1 : next;
}
