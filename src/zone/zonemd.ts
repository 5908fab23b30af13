// ZONEMD (RFC 8976): checking a loaded zone against the digest it carries at its apex, so a zone
// whose data does not match its own digest can be refused before it is served. Pure: the outcome
// is a value, never an exception.

import { createHash, type Hash } from 'node:crypto';
import { canonicalSortKey } from './name.js';
import { canonicalRdata } from './rdata/canonical.js';
import { CLASS, T } from './types.js';
import type { RRset } from './rrset.js';
import type { Zone, ZoneNode } from './zone.js';

export type ZonemdResult =
  /** The apex has no ZONEMD RRset: nothing to verify. */
  | { readonly status: 'absent' }
  /** A ZONEMD record with a supported scheme and hash algorithm matches the zone data (RFC 8976 §4 step 5f). */
  | { readonly status: 'verified'; readonly scheme: number; readonly hashAlgorithm: number }
  /** No record matched, and at least one that could be checked failed: the zone is not what its publisher digested. */
  | { readonly status: 'mismatch'; readonly message: string }
  /** Every apex ZONEMD record uses a scheme or hash algorithm this verifier does not support. */
  | { readonly status: 'unverifiable'; readonly message: string };

const SCHEME_SIMPLE = 1; // RFC 8976 §2.2.2, the only scheme defined

/** RFC 8976 §2.2.3 hash algorithms: node:crypto name, label for messages, digest length (never truncated). */
const HASHES: ReadonlyMap<number, { readonly name: string; readonly label: string; readonly length: number }> = new Map([
  [1, { name: 'sha384', label: 'SHA-384', length: 48 }],
  [2, { name: 'sha512', label: 'SHA-512', length: 64 }],
]);

interface ZonemdRecord {
  readonly serial: number;
  readonly scheme: number;
  readonly hashAlgorithm: number;
  readonly digest: Buffer;
}

/**
 * Verifies the zone's apex ZONEMD RRset (RFC 8976 §4). DNSSEC validation of the SOA and ZONEMD
 * (§4 steps 1–3) is not performed here, so verification starts at step 4, as the RFC allows.
 * Any one matching record verifies the zone (§4: "a match using any one ... is sufficient").
 */
export function verifyZonemd(zone: Zone): ZonemdResult {
  const set = zone.apex.find(T.ZONEMD);
  if (!set) return { status: 'absent' };
  const records = set.rdatas.map(readZonemd);

  const failures: string[] = [];
  const unsupported: string[] = [];
  const candidates: { record: ZonemdRecord; label: string }[] = [];
  for (const r of records) {
    const tuple = `scheme ${r.scheme} hash algorithm ${r.hashAlgorithm}`;
    const hash = HASHES.get(r.hashAlgorithm);
    // §4 steps 5b, 5c: a record with an unsupported scheme or algorithm cannot verify the zone, nor fail it.
    if (r.scheme !== SCHEME_SIMPLE || !hash) {
      unsupported.push(`${tuple} is not supported`);
      continue;
    }
    const label = `${tuple} (${hash.label})`;
    // §4 step 4: records sharing a scheme and algorithm cannot verify (the zone breaks §2.5's MUST).
    if (records.filter((o) => o.scheme === r.scheme && o.hashAlgorithm === r.hashAlgorithm).length > 1) {
      failures.push(`${label}: more than one ZONEMD record with this scheme and hash algorithm`);
    } else if (r.serial !== zone.serial) {
      // §4 step 5a: the digest is of another version of the zone.
      failures.push(`${label}: ZONEMD serial ${r.serial} is not the SOA serial ${zone.serial}`);
    } else if (r.digest.length !== hash.length) {
      // §4 step 5d (both lengths are above its 12-octet minimum).
      failures.push(`${label}: digest of ${r.digest.length} octets, expected ${hash.length}`);
    } else {
      candidates.push({ record: r, label });
    }
  }

  if (candidates.length > 0) {
    const computed = simpleDigests(zone, new Set(candidates.map((c) => c.record.hashAlgorithm)));
    for (const { record: r, label } of candidates) {
      const digest = computed.get(r.hashAlgorithm)!;
      // §4 step 5f.
      if (digest.equals(r.digest)) return { status: 'verified', scheme: r.scheme, hashAlgorithm: r.hashAlgorithm };
      failures.push(`${label}: zone digest ${abbreviate(digest)} differs from the ZONEMD's ${abbreviate(r.digest)}`);
    }
  }
  if (failures.length > 0) return { status: 'mismatch', message: failures.concat(unsupported).join('; ') };
  return { status: 'unverifiable', message: unsupported.join('; ') };
}

/** Enough of a digest to tell two apart in a log line. */
function abbreviate(digest: Buffer): string {
  return digest.subarray(0, 8).toString('hex') + '...';
}

function readZonemd(rdata: Buffer): ZonemdRecord {
  // RFC 8976 §2.2: serial, scheme, hash algorithm, digest. The loader has checked the layout.
  return { serial: rdata.readUInt32BE(0), scheme: rdata[4]!, hashAlgorithm: rdata[5]!, digest: rdata.subarray(6) };
}

/**
 * Octets collected before a hash update: one native call per chunk rather than three per record.
 * Larger than the largest record (255-octet owner, 10 octets, 65535-octet RDATA), so any record fits.
 */
const CHUNK = 1 << 17;

/**
 * RFC 8976 §3.3.1 SIMPLE digests, one per hash algorithm, in one pass over the zone: every record
 * in RFC 4034 §6.2 canonical form and §6.3 canonical order, RRsets of a name by ascending type.
 */
function simpleDigests(zone: Zone, algorithms: ReadonlySet<number>): Map<number, Buffer> {
  const hashes = new Map<number, Hash>([...algorithms].map((a) => [a, createHash(HASHES.get(a)!.name)]));
  const buf = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  const flush = (): void => {
    for (const h of hashes.values()) h.update(buf.subarray(0, used));
    used = 0;
  };

  const nodes: { sort: string; node: ZoneNode; rrsets: readonly RRset[] }[] = [];
  for (const node of zone.nodes.values()) {
    const rrsets = node.rrsets; // empty for an empty non-terminal
    if (rrsets.length > 0) nodes.push({ sort: canonicalSortKey(node.key), node, rrsets });
  }
  nodes.sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0));

  for (const { node, rrsets } of nodes) {
    const owner = node.name; // lower-case wire form already (RFC 4034 §6.2 item 2)
    const apex = node.key === zone.origin;
    for (const set of rrsets) {
      // RFC 8976 §3.3.1.1: the apex ZONEMD RRset is left out; non-apex ZONEMD records are ordinary data (§2.1).
      if (apex && set.type === T.ZONEMD) continue;
      // RFC 8976 §3.3.1.1: so is the RRSIG covering the apex ZONEMD RRset, and only that one.
      const records = set.rdatas
        .filter((r) => !(apex && set.type === T.RRSIG && r.readUInt16BE(0) === T.ZONEMD))
        .map((r) => canonicalRdata(set.type, r))
        .sort(Buffer.compare); // RFC 4034 §6.3; the loader has already dropped duplicates (RFC 8976 §3.3.1.1)
      for (const rdata of records) {
        if (used + owner.length + 10 + rdata.length > CHUNK) flush();
        used = writeHead(buf, used, owner, set.type, recordTtl(node, set, rdata), rdata.length);
        used += rdata.copy(buf, used);
      }
    }
  }
  flush();
  return new Map([...hashes].map(([a, h]) => [a, h.digest()]));
}

/** Writes owner | type | class | TTL | RDLENGTH (RFC 4034 §6.2) at `at`; returns the offset after it. */
function writeHead(buf: Buffer, at: number, owner: Buffer, type: number, ttl: number, rdlength: number): number {
  at += owner.copy(buf, at);
  at = buf.writeUInt16BE(type, at);
  at = buf.writeUInt16BE(CLASS.IN, at);
  at = buf.writeUInt32BE(ttl, at);
  return buf.writeUInt16BE(rdlength, at);
}

/**
 * The TTL a record had in the zone file. The loaded zone holds one TTL per RRset, but RRSIGs at one
 * name cover RRsets with different TTLs, and RFC 4034 §3 requires each RRSIG's TTL to be that of the
 * RRset it covers: that is the TTL the signer wrote, so it is the one digested.
 */
function recordTtl(node: ZoneNode, set: RRset, rdata: Buffer): number {
  if (set.type !== T.RRSIG) return set.ttl;
  return node.find(rdata.readUInt16BE(0))?.ttl ?? set.ttl;
}
