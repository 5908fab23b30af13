// The authoritative answer algorithm (RFC 1034 §4.3.2 with its updates), as a pure function of the zone
// set and the question. A section pipeline: resolve the name (following CNAME and DNAME), fill the
// authority section by outcome, then the additional section, then for a DO query of a signed zone the
// DNSSEC step (dnssec.ts: signatures and denial proofs).

import { MAX_NAME_LENGTH, keyIsAtOrBelow, keyToWire, parentKey } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';
import { NodeFlag, type Zone, type ZoneSet } from '../zone/zone.js';
import { addDnssec, newTrace, splitSignatures, type ChainTrace } from './dnssec.js';
import { MatchKind, lookup, matchKind, matchNode } from './lookup.js';
import { RCODE, assertNever, emptyPlan, planRR, type AnswerPlan, type PlanRR, type Question, type RRdata } from './plan.js';

/**
 * Longest CNAME/DNAME chain followed. RFC 1034 §3.6.2 asks only that loops be caught; BIND restarts a
 * query at most 11 times, so chains a BIND-served zone resolves in one response resolve here too.
 */
export const MAX_CHAIN = 11;

/**
 * Where the name resolution ended, in the zone that answers (plan.zone), packed in one number as
 * lookup's Match is, so a query makes no object for it: the final answer RRset, whose targets get
 * additional addresses (NS, MX, SRV), or the cut node of a referral, or neither (ENDED).
 */
type Resolved = number;
const ENDED: Resolved = -1;

function finalSet(set: number): Resolved {
  return set * 2;
}

function cutNode(node: number): Resolved {
  return node * 2 + 1;
}

/** The final RRset's id, or -1. */
function finalOf(r: Resolved): number {
  return r >= 0 && (r & 1) === 0 ? r / 2 : -1;
}

/** The cut's node id, or -1. */
function cutOf(r: Resolved): number {
  return r >= 0 && (r & 1) === 1 ? (r - 1) / 2 : -1;
}

/** The plan for `q`, written into `into` when given (see emptyPlan). */
export function answer(zones: ZoneSet, q: Question, into?: AnswerPlan): AnswerPlan {
  // RFC 4892 names are answered by answerChaos; every class but IN is refused here (no other class is served).
  if (q.qclass !== CLASS.IN) return emptyPlan('refused', RCODE.REFUSED, false, q.qclass, null, into);
  // Zone transfers are not offered on this path (RFC 5936 §4.2: a server may refuse).
  if (q.qtype === T.AXFR || q.qtype === T.IXFR) return emptyPlan('refused', RCODE.REFUSED, false, q.qclass, null, into);
  const zone = zoneFor(zones, q.key, q.qtype);
  // RFC 1034 §4.3.2 step 2: not in any zone we serve; we never recurse, so REFUSED with AA clear.
  // While the zones are first loaded the name may be in one not loaded yet: SERVFAIL, which sends
  // a resolver to another server at once, as Knot DNS answers for a zone it has not loaded.
  if (zone === undefined) return zones.loading ? emptyPlan('servfail', RCODE.SERVFAIL, false, q.qclass, null, into) : emptyPlan('refused', RCODE.REFUSED, false, q.qclass, null, into);
  // A secondary zone past its expire time is no longer answered from (RFC 1034 §4.3.5); SERVFAIL, as NSD and Knot answer.
  if (zones.expired.size > 0 && zones.expired.has(zone.origin)) return emptyPlan('servfail', RCODE.SERVFAIL, false, q.qclass, null, into);
  const plan = emptyPlan('answer', RCODE.NOERROR, true, CLASS.IN, zone, into);
  const idx = zone.dnssec;
  // RFC 4035 §3.1: signatures and denial proofs only for a DO query (RFC 3225 §3), only from a signed zone.
  const trace = q.dnssecOk && idx !== undefined && idx.signed ? newTrace(q.key) : null;
  const r = resolve(zone, q, plan, trace);
  fillAuthority(plan, zone, r);
  fillAdditional(plan, zone, r);
  if (idx !== undefined && idx.signed && q.qtype === T.RRSIG) splitSignatures(plan, zone, idx);
  if (trace !== null) {
    const cut = cutOf(r);
    addDnssec(plan, zone, idx!, trace, cut < 0 ? undefined : zone.nodes.get(zone.nodeKey(cut)));
  }
  return plan;
}

/**
 * The most specific zone holding `key`, except that DS at a child's apex is the parent's data when we serve
 * the parent too (RFC 4035 §3.1.4.1).
 */
function zoneFor(zones: ZoneSet, key: string, qtype: number): Zone | undefined {
  const z = zones.find(key);
  if (z !== undefined && qtype === T.DS && z.origin === key) {
    const up = parentKey(key);
    const parent = up === null ? undefined : zones.find(up);
    if (parent !== undefined) return parent;
  }
  return z;
}

/**
 * Step 3 of RFC 1034 §4.3.2, looping over CNAME (step 3a) and DNAME (RFC 6672 §3.2) up to MAX_CHAIN links,
 * within the zone that holds the question name. `trace` (DO queries of signed zones) records what the proofs need.
 */
function resolve(zone: Zone, q: Question, plan: AnswerPlan, trace: ChainTrace | null): Resolved {
  const qtype = q.qtype;
  let key = q.key;
  // Names of the chain so far; most answers have no chain.
  let seen: string[] | null = null;
  for (let hop = 0; ; hop++) {
    const m = lookup(zone, key, qtype);
    const kind = matchKind(m);
    const node = matchNode(m);
    if (trace !== null) {
      trace.key = key;
      trace.lastWasWildcard = kind === MatchKind.Wildcard;
    }
    let nextKey: string;
    switch (kind) {
      case MatchKind.Cut:
        plan.outcome = 'referral';
        // RFC 1034 §4.3.2 step 3b: not authoritative for the name; AA stays set after a chain (RFC 1035 §4.1.1).
        if (hop === 0) plan.aa = false;
        plan.delegation = zone.nodeKey(node);
        return cutNode(node);
      case MatchKind.NxDomain:
        plan.outcome = 'nxdomain';
        plan.rcode = RCODE.NXDOMAIN; // RFC 6604 §2.1: the rcode is about the last name of a chain
        return ENDED;
      case MatchKind.DName: {
        const dnameSet = zone.setOf(node, T.DNAME);
        const dname = zone.rrset(dnameSet);
        const ownerKey = zone.nodeKey(node);
        plan.answer.push(planRR(ownerKey, dname));
        // RFC 6672 §2.2: replace the DNAME owner suffix of the name by the DNAME target.
        const newKey = key.substring(0, key.length - ownerKey.length) + zone.firstTargetKey(dnameSet);
        if (newKey.length > MAX_NAME_LENGTH) {
          plan.outcome = 'yxdomain';
          plan.rcode = RCODE.YXDOMAIN;
          return ENDED;
        }
        nextKey = newKey;
        // RFC 6672 §3.2: the synthesized CNAME gets the DNAME's TTL.
        const cname: RRdata = { type: T.CNAME, ttl: dname.ttl, rdatas: [keyToWire(newKey)] };
        plan.answer.push(planRR(key, cname));
        break;
      }
      case MatchKind.Exact:
      case MatchKind.Wildcard: {
        // RFC 4592 §2.1.3: a wildcard answer's owner is the name asked (`key`), never `*`.
        if (kind === MatchKind.Wildcard) {
          const wildcard = zone.nodeKey(node);
          plan.wildcard ??= wildcard;
          if (trace !== null) (trace.wildcards ??= []).push(key, wildcard);
        }
        if (qtype === T.ANY) {
          const set = pickAny(zone, node);
          if (set < 0) return nodata(plan);
          plan.answer.push(planRR(key, zone.rrset(set)));
          return finalSet(set);
        }
        const set = zone.setOf(node, qtype);
        if (set >= 0) {
          plan.answer.push(planRR(key, zone.rrset(set)));
          return finalSet(set);
        }
        const cname = qtype === T.CNAME ? -1 : zone.setOf(node, T.CNAME);
        if (cname < 0) return nodata(plan);
        // RFC 1034 §4.3.2 step 3a: answer the CNAME, then restart with its target.
        plan.answer.push(planRR(key, zone.rrset(cname)));
        nextKey = zone.firstTargetKey(cname);
        break;
      }
      default:
        return assertNever(kind);
    }
    (seen ??= []).push(key);
    // RFC 1034 §3.6.2 calls loops an error but prescribes no response: stop at a loop or an overlong chain
    // and answer NOERROR with the chain found, as Knot does (BIND answers SERVFAIL).
    if (hop + 1 >= MAX_CHAIN || seen.includes(nextKey)) return ENDED;
    // The target lies outside this zone: the chain so far is the answer, even when we serve the target's
    // zone too, as Knot and BIND answer (the client follows it; with DNSSEC that zone's proofs would be needed).
    if (!keyIsAtOrBelow(nextKey, zone.origin)) return ENDED;
    key = nextKey;
  }
}

function nodata(plan: AnswerPlan): Resolved {
  plan.outcome = 'nodata';
  return ENDED;
}

/**
 * RFC 8482 §4.1: answer ANY with one RRset the node really holds, the lowest type (RRSIGs are not data of
 * their own). Real data rather than the synthesized HINFO: it is what a type-specific query returns, so
 * caches stay coherent, and it is BIND's `minimal-any` behaviour.
 */
function pickAny(zone: Zone, node: number): number {
  for (let s = zone.firstSetOf(node), end = zone.firstSetOf(node + 1); s < end; s++) if (zone.setType(s) !== T.RRSIG) return s;
  return -1;
}

function fillAuthority(plan: AnswerPlan, zone: Zone, r: Resolved): void {
  const outcome = plan.outcome;
  switch (outcome) {
    case 'answer':
    case 'yxdomain':
    case 'refused':
    case 'servfail':
      // Minimal responses: no apex NS with positive answers (RFC 2181 §6.1 leaves it optional).
      return;
    case 'nodata':
    case 'nxdomain':
      plan.authority.push(negativeSoa(zone));
      return;
    case 'referral':
      // RFC 1034 §4.3.2 step 3b: the child's NS RRset is what a referral is; it can't be left out.
      plan.authority.push(planRR(plan.delegation!, zone.rrset(zone.setOf(cutOf(r), T.NS))));
      return;
    default:
      assertNever(outcome);
  }
}

/** The last zone's negative-answer SOA: a flood of names that don't exist mostly hits one zone, and a PlanRR is never mutated. */
let negativeSoaZone: Zone | null = null;
let negativeSoaRR: PlanRR | null = null;

/** RFC 2308 §3: the SOA of a negative answer has TTL = min(SOA TTL, SOA MINIMUM). */
function negativeSoa(zone: Zone): PlanRR {
  if (negativeSoaZone !== zone) {
    negativeSoaRR = planRR(zone.origin, zone.soa, false, zone.negativeTtl);
    negativeSoaZone = zone;
  }
  return negativeSoaRR!;
}

function fillAdditional(plan: AnswerPlan, zone: Zone, r: Resolved): void {
  const cut = cutOf(r);
  if (cut >= 0) {
    addAddresses(plan, zone, zone.setOf(cut, T.NS), true, plan.delegation);
    return;
  }
  const set = finalOf(r);
  if (set < 0) return;
  // RFC 1035 §3.3.9/§3.3.11, RFC 2782: addresses of NS, MX and SRV targets are additional data.
  const type = zone.setType(set);
  if (type === T.NS) addAddresses(plan, zone, set, true, null);
  else if (type === T.MX || type === T.SRV) addAddresses(plan, zone, set, false, null);
}

const ADDRESS_TYPES = [T.A, T.AAAA] as const;

/**
 * A/AAAA of each target held in `zone` (targets are node ids, looked up once per RRset: see
 * Zone.targetNode). `glueOk` lets data below a cut serve (NS targets only). Within a referral, addresses
 * of targets at or below the cut are required (RFC 9471 §3: without them the child is unreachable);
 * others (sibling glue, in-zone names) are optional.
 */
function addAddresses(plan: AnswerPlan, zone: Zone, set: number, glueOk: boolean, cutKey: string | null): void {
  const count = zone.targetCount(set);
  // The additional section is empty until now (one call per answer), so an address can be listed
  // already only in the answer, or for a target named twice (two MX or SRV records, one host).
  const answer = plan.answer;
  const mayRepeat = zone.setType(set) !== T.NS;
  for (let i = 0; i < count; i++) {
    const node = zone.targetNode(set, i);
    if (node < 0 || (mayRepeat && namedBefore(zone, set, i, node))) continue;
    if (!glueOk && (zone.nodeFlags(node) & NodeFlag.BelowCut) !== 0) continue;
    let tk: string | null = null;
    for (const type of ADDRESS_TYPES) {
      const a = zone.setOf(node, type);
      if (a < 0) continue;
      tk ??= zone.nodeKey(node);
      if (answer.length > 0 && inAnswer(answer, tk, type)) continue;
      const required = cutKey !== null && keyIsAtOrBelow(tk, cutKey);
      plan.additional.push(planRR(tk, zone.rrset(a), !required));
    }
  }
}

/** Whether a record of `set` before record `i` names the same target node. */
function namedBefore(zone: Zone, set: number, i: number, node: number): boolean {
  for (let j = 0; j < i; j++) if (zone.targetNode(set, j) === node) return true;
  return false;
}

function inAnswer(answer: readonly PlanRR[], key: string, type: number): boolean {
  for (const rr of answer) if (rr.set.type === type && rr.ownerKey === key) return true;
  return false;
}
