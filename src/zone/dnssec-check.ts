// What dnssec-verify checks of a signed zone before it is served, so a broken signer is caught before
// its output reaches the POPs: the NSEC chain (RFC 4034 §4.1: every authoritative name, in canonical
// order, each bitmap listing the name's types) or the NSEC3 chain of the NSEC3PARAM (RFC 5155 §7.1:
// every authoritative name and empty non-terminal hashed, the hashes linked in order, opt-out
// allowing insecure delegations to be left out), and signatures past (an error) or near (a warning)
// their expiry. A break in a chain is an error; a type bitmap that differs from the name's types is a warning (dnssec-verify
// calls it an error, but a record added after signing, as RFC 8976's ZONEMD example is, leaves a
// zone Knot and BIND serve and validators accept for every other type).

import { keyToText, nameKey, wireNameLength } from './name.js';
import { base32HexUpper } from './rdata/presentation.js';
import { typeToText } from './rdata/table.js';
import { T } from './types.js';
import { NodeFlag, type Zone, type ZoneNode } from './zone.js';

export interface DnssecProblem {
  /** Key of the owner of the record at fault (or of the name left out). */
  owner: string;
  /** Type of the record at fault: where the report points. */
  type: number;
  message: string;
  /** Errors reject the zone; warnings are reported. */
  error: boolean;
}

export interface DnssecCheckOptions {
  /** The time signatures are judged against, in seconds since 1970. */
  now: number;
  /** Warn of signatures that expire within this many days. */
  expiryWarningDays: number;
}

/** Problems of a signed zone (nothing for an unsigned one). */
export function checkDnssec(zone: Zone, opts: DnssecCheckOptions): DnssecProblem[] {
  const idx = zone.dnssec;
  if (idx === undefined || !idx.signed) return [];
  const out: DnssecProblem[] = [];
  // Without a DNSKEY at the apex there is nothing a validator could check the chains against.
  if (zone.apex.find(T.DNSKEY) === undefined) {
    checkExpiry(zone, opts, out);
    return out;
  }
  if (zone.apex.find(T.NSEC3PARAM) !== undefined) checkNsec3(zone, out);
  else if (zone.apex.find(T.NSEC) !== undefined) checkNsec(zone, out);
  else out.push({ owner: zone.origin, type: T.SOA, message: 'signed zone has neither an NSEC record nor an NSEC3PARAM at its apex', error: true });
  checkExpiry(zone, opts, out);
  return out;
}

function isAuthoritative(node: ZoneNode): boolean {
  return (node.flags & NodeFlag.BelowCut) === 0;
}

function isCut(node: ZoneNode): boolean {
  return (node.flags & (NodeFlag.Delegation | NodeFlag.Apex)) === NodeFlag.Delegation;
}

function typesOf(node: ZoneNode, without: number): number[] {
  return node.rrsets.map((s) => s.type).filter((t) => t !== without);
}

/** The types of an RFC 4034 §4.1.2 type bitmap at `rdata[from..]`. */
function bitmapTypes(rdata: Buffer, from: number): number[] {
  const types: number[] = [];
  for (let p = from; p + 2 <= rdata.length; ) {
    const window = rdata[p]!;
    const len = rdata[p + 1]!;
    for (let i = 0; i < len; i++) {
      const octet = rdata[p + 2 + i]!;
      for (let b = 0; b < 8; b++) if (octet & (0x80 >> b)) types.push(window * 256 + i * 8 + b);
    }
    p += 2 + len;
  }
  return types;
}

function sameTypes(a: number[], b: number[]): boolean {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.length === y.length && x.every((t, i) => t === y[i]);
}

const typeList = (types: number[]): string => [...types].sort((a, b) => a - b).map(typeToText).join(' ') || '(none)';

function checkNsec(zone: Zone, out: DnssecProblem[]): void {
  const owners = zone.dnssec!.nsecOwners();
  for (const node of zone.nodes.values()) {
    // RFC 4034 §4.1: every authoritative name and every delegation point owns one; ENTs and glue don't.
    if (!isAuthoritative(node) || (node.flags & NodeFlag.EmptyNonTerminal) !== 0) continue;
    const nsec = node.find(T.NSEC);
    if (nsec === undefined) {
      out.push({ owner: node.key, type: node.rrsets[0]!.type, message: `${keyToText(node.key)} has no NSEC record: the NSEC chain is broken`, error: true });
      continue;
    }
    const rdata = nsec.rdatas[0]!;
    const listed = bitmapTypes(rdata, wireNameLength(rdata, 0));
    if (!sameTypes(listed, typesOf(node, -1))) {
      out.push({ owner: node.key, type: T.NSEC, message: `NSEC type bitmap of ${keyToText(node.key)} lists ${typeList(listed)}; the name has ${typeList(typesOf(node, -1))}`, error: false });
    }
  }
  for (let i = 0; i < owners.length; i++) {
    const node = zone.nodes.get(owners[i]!)!;
    const next = nameKey(node.find(T.NSEC)!.rdatas[0]!);
    const expected = owners[(i + 1) % owners.length]!;
    if (next !== expected) {
      out.push({ owner: node.key, type: T.NSEC, message: `NSEC of ${keyToText(node.key)} points to ${keyToText(next)}; the next name in the chain is ${keyToText(expected)}`, error: true });
    }
  }
}

function checkNsec3(zone: Zone, out: DnssecProblem[]): void {
  const idx = zone.dnssec!;
  const owners = idx.nsec3Owners();
  const param = zone.apex.find(T.NSEC3PARAM)!.rdatas[0]!;
  if (owners.length === 0) {
    const salt = param[4] === 0 ? '-' : param.subarray(5, 5 + param[4]!).toString('hex').toUpperCase();
    out.push({ owner: zone.origin, type: T.NSEC3PARAM, message: `NSEC3PARAM ${param[0]} ${param[1]} ${param.readUInt16BE(2)} ${salt} matches no NSEC3 record of the zone`, error: true });
    return;
  }
  const hashedOwners = new Set(owners);
  let optOut = false;
  for (let i = 0; i < owners.length; i++) {
    const rdata = zone.nodes.get(owners[i]!)!.find(T.NSEC3)!.rdatas[0]!;
    if ((rdata[1]! & 1) !== 0) optOut = true;
    const saltEnd = 5 + rdata[4]!;
    const hashLen = rdata[saltEnd]!;
    const next = base32HexUpper(rdata, saltEnd + 1, saltEnd + 1 + hashLen).toLowerCase();
    const expectedOwner = owners[(i + 1) % owners.length]!;
    const expected = expectedOwner.substring(1, 1 + expectedOwner.charCodeAt(0));
    if (next !== expected) {
      out.push({ owner: owners[i]!, type: T.NSEC3, message: `NSEC3 ${keyToText(owners[i]!)} points to ${next}; the next hash in the chain is ${expected}`, error: true });
    }
  }
  for (const node of zone.nodes.values()) {
    if (!isAuthoritative(node) || hashedOwners.has(node.key)) continue;
    const ent = (node.flags & NodeFlag.EmptyNonTerminal) !== 0;
    // RFC 5155 §7.1: opt-out may leave out insecure delegations, and ENTs above only such delegations.
    const insecureCut = isCut(node) && node.find(T.DS) === undefined;
    if (optOut && (insecureCut || ent)) continue;
    // NSEC3 records of another chain (other parameters) are hashed names too, not names of the zone.
    if (node.find(T.NSEC3) !== undefined && node.rrsets.every((s) => s.type === T.NSEC3 || s.type === T.RRSIG)) continue;
    const own = idx.nsec3Matching(node.key);
    if (own === undefined) {
      out.push({ owner: node.key, type: ent ? -1 : node.rrsets[0]!.type, message: `${keyToText(node.key)} has no NSEC3 record (hash ${keyToText(idx.nsec3Owner(node.key))}): the NSEC3 chain is broken`, error: true });
      continue;
    }
    const rdata = zone.nodes.get(own)!.find(T.NSEC3)!.rdatas[0]!;
    const saltEnd = 5 + rdata[4]!;
    const listed = bitmapTypes(rdata, saltEnd + 1 + rdata[saltEnd]!);
    const has = typesOf(node, -1);
    if (!sameTypes(listed, has)) {
      out.push({ owner: own, type: T.NSEC3, message: `NSEC3 type bitmap for ${keyToText(node.key)} lists ${typeList(listed)}; the name has ${typeList(has)}`, error: false });
    }
  }
}

/** RFC 4034 §3.1.5: signature times are serial numbers (RFC 1982) of seconds since 1970. */
function secondsUntil(expiration: number, now: number): number {
  return (expiration - now) | 0;
}

function checkExpiry(zone: Zone, opts: DnssecCheckOptions, out: DnssecProblem[]): void {
  const now = opts.now >>> 0;
  const warnWithin = opts.expiryWarningDays * 86400;
  let expired = 0;
  let soon = 0;
  let first: { owner: string; covered: number; left: number } | null = null;
  for (const node of zone.nodes.values()) {
    const sigs = node.find(T.RRSIG);
    if (sigs === undefined) continue;
    for (const rdata of sigs.rdatas) {
      const left = secondsUntil(rdata.readUInt32BE(8), now);
      if (left >= warnWithin) continue;
      if (left < 0) expired++;
      else soon++;
      if (first === null || left < first.left) first = { owner: node.key, covered: rdata.readUInt16BE(0), left };
    }
  }
  if (first === null) return;
  const when = new Date((opts.now + first.left) * 1000).toISOString().replace('.000Z', 'Z');
  const earliest = `earliest: RRSIG ${typeToText(first.covered)} of ${keyToText(first.owner)}, ${when}`;
  // Served, expired signatures make every validating resolver SERVFAIL the zone: a broken zone, so the last good version keeps serving.
  if (expired > 0) out.push({ owner: first.owner, type: T.RRSIG, message: `${expired} signature${expired === 1 ? ' has' : 's have'} expired (${earliest}): the signer must re-sign the zone`, error: true });
  if (soon > 0) {
    out.push({ owner: first.owner, type: T.RRSIG, message: `${soon} signature${soon === 1 ? '' : 's'} expire within ${opts.expiryWarningDays} days (${expired > 0 ? 'after the expired ones' : earliest})`, error: false });
  }
}
