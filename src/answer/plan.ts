// The answer plan: what the pure answer algorithm decides and the wire encoder renders. Owner keys and
// RDATA are references into the compiled zone (no copies); only synthesized records allocate.

import type { Zone } from '../zone/zone.js';

/** Response codes (RFC 1035 §4.1.1, RFC 6672 §2.2 YXDOMAIN, RFC 6891 §9 BADVERS). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  BADVERS: 16,
} as const;

/**
 * What the algorithm concluded about the question. The rcode follows from it, except that a chain
 * (CNAME/DNAME) keeps the rcode of its last name (RFC 6604 §2.1).
 */
export type Outcome =
  /** The RRset asked for (possibly at the end of a CNAME/DNAME chain, or a chain that leaves our zones). */
  | 'answer'
  /** The name exists (or is an empty non-terminal) but has no RRset of that type (RFC 2308 §2.2). */
  | 'nodata'
  /** The name does not exist (RFC 2308 §2.1). */
  | 'nxdomain'
  /** The name is at or below a zone cut: NS of the child in authority (RFC 1034 §4.3.2 step 3b). */
  | 'referral'
  /** DNAME substitution made a name longer than 255 octets (RFC 6672 §2.2). */
  | 'yxdomain'
  /** Not ours to answer: outside every zone, or a class or name we don't serve. */
  | 'refused'
  /** Outside every zone loaded while the zones are still being loaded (ZoneSet.loading), or in an expired secondary zone (ZoneSet.expired). */
  | 'servfail';

/** The record data of one RRset as the encoder needs it (a zone RRset, or a synthesized one). */
export interface RRdata {
  readonly type: number;
  readonly ttl: number;
  readonly rdatas: readonly Buffer[];
  /** Target keys, where the zone precomputed them (see RRset.targets). */
  readonly targets?: readonly string[] | undefined;
}

export interface PlanRR {
  /**
   * Key of the owner name. The encoder writes an owner equal to the question name as a pointer to the
   * question, so it keeps the client's case (RFC 4343 §4.1); other names are written lower-case.
   */
  readonly ownerKey: string;
  readonly set: RRdata;
  /** TTL written (differs from set.ttl for the negative-answer SOA, RFC 2308 §3). */
  readonly ttl: number;
  /** Optional data may be left out when the response doesn't fit; required data sets TC instead (RFC 2181 §9). */
  readonly optional: boolean;
  /**
   * The RRSIGs covering the RRset, for a DO query of a signed zone, written right after it with the same
   * owner and TTL: one unit for truncation, kept or dropped together (RFC 4035 §3.1.1).
   */
  readonly sigs: RRdata | null;
}

export interface AnswerPlan {
  outcome: Outcome;
  rcode: number;
  /** Authoritative Answer bit (RFC 1035 §4.1.1: about the question name, the first owner in the answer). */
  aa: boolean;
  /** Class of every record in the plan (IN, or CH for the server-identity names). */
  rrclass: number;
  /** The zone that answered the question name, or null. */
  zone: Zone | null;
  /** Key of the wildcard (`*` owner) that synthesized the answer (RFC 4592 §3.3.1), or null: random names below one wildcard share it. */
  wildcard: string | null;
  /** Key of the zone cut a referral points to, or null. */
  delegation: string | null;
  answer: PlanRR[];
  authority: PlanRR[];
  additional: PlanRR[];
}

export interface Question {
  /** Lower-cased wire form of the name as a latin1 string (see zone/name.ts). */
  key: string;
  qtype: number;
  qclass: number;
  /** The DO bit (RFC 3225): a signed zone's answers then carry RRSIGs and denial proofs (RFC 4035 §3.1). */
  dnssecOk: boolean;
}

/**
 * A plan with empty sections: `into`, emptied and reused (a caller answering query after query keeps
 * one, so a miss makes no plan of its own), or a new one.
 */
export function emptyPlan(outcome: Outcome, rcode: number, aa: boolean, rrclass: number, zone: Zone | null, into?: AnswerPlan): AnswerPlan {
  if (into === undefined) return { outcome, rcode, aa, rrclass, zone, wildcard: null, delegation: null, answer: [], authority: [], additional: [] };
  into.outcome = outcome;
  into.rcode = rcode;
  into.aa = aa;
  into.rrclass = rrclass;
  into.zone = zone;
  into.wildcard = null;
  into.delegation = null;
  empty(into.answer);
  empty(into.authority);
  empty(into.additional);
  return into;
}

/** Empties `rrs` and keeps its capacity: `length = 0` would drop it, and the next push would allocate again. */
function empty(rrs: PlanRR[]): void {
  while (rrs.length > 0) rrs.pop();
}

export function planRR(ownerKey: string, set: RRdata, optional = false, ttl = set.ttl): PlanRR {
  return { ownerKey, set, ttl, optional, sigs: null };
}

/** The exhaustive end of a switch over a union: a case left out fails to compile. */
export function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
