// The authoritative answer algorithm (RFC 1034 §4.3.2 with its updates), as a pure function of the zone
// set and the question. A section pipeline: resolve the name (following CNAME and DNAME), fill the
// authority section by outcome, then the additional section.

import { MAX_NAME_LENGTH, keyIsAtOrBelow, keyToWire, nameKey, parentKey } from '../zone/name.js';
import { CLASS, T } from '../zone/types.js';
import { NodeFlag, findRRset, type RRset, type Zone, type ZoneNode, type ZoneSet } from '../zone/zone.js';
import { lookup } from './lookup.js';
import { RCODE, emptyPlan, planRR, type AnswerPlan, type PlanRR, type Question, type RRdata } from './plan.js';

/**
 * Longest CNAME/DNAME chain followed. RFC 1034 §3.6.2 asks only that loops be caught; BIND restarts a
 * query at most 11 times, so chains a BIND-served zone resolves in one response resolve here too.
 */
export const MAX_CHAIN = 11;

/** Where the name resolution ended: the zone and node whose data the additional section is built from. */
interface Resolved {
  zone: Zone;
  /** Final answer RRset whose targets get additional addresses (NS, MX, SRV), if any. */
  final: RRset | undefined;
  /** The cut of a referral. */
  cut: ZoneNode | undefined;
}

export function answer(zones: ZoneSet, q: Question): AnswerPlan {
  // RFC 4892 names are answered by answerChaos; every class but IN is refused here (no other class is served).
  if (q.qclass !== CLASS.IN) return emptyPlan('refused', RCODE.REFUSED, false, q.qclass, null);
  // Zone transfers are not offered on this path (RFC 5936 §4.2: a server may refuse).
  if (q.qtype === T.AXFR || q.qtype === T.IXFR) return emptyPlan('refused', RCODE.REFUSED, false, q.qclass, null);
  const zone = zoneFor(zones, q.key, q.qtype);
  // RFC 1034 §4.3.2 step 2: not in any zone we serve; we never recurse, so REFUSED with AA clear.
  if (zone === undefined) return emptyPlan('refused', RCODE.REFUSED, false, q.qclass, null);
  const plan = emptyPlan('answer', RCODE.NOERROR, true, CLASS.IN, zone);
  const r = resolve(zones, zone, q, plan);
  fillAuthority(plan, r);
  fillAdditional(plan, r);
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

/** Step 3 of RFC 1034 §4.3.2, looping over CNAME (step 3a) and DNAME (RFC 6672 §3.2) up to MAX_CHAIN links. */
function resolve(zones: ZoneSet, startZone: Zone, q: Question, plan: AnswerPlan): Resolved {
  const qtype = q.qtype;
  let zone = startZone;
  let key = q.key;
  const seen: string[] = [];
  for (let hop = 0; ; hop++) {
    const m = lookup(zone, key, qtype);
    let nextKey: string;
    switch (m.kind) {
      case 'cut':
        plan.outcome = 'referral';
        // RFC 1034 §4.3.2 step 3b: not authoritative for the name; AA stays set after a chain (RFC 1035 §4.1.1).
        if (hop === 0) plan.aa = false;
        plan.delegation = m.node.key;
        return { zone, final: undefined, cut: m.node };
      case 'nxdomain':
        plan.outcome = 'nxdomain';
        plan.rcode = RCODE.NXDOMAIN; // RFC 6604 §2.1: the rcode is about the last name of a chain
        return { zone, final: undefined, cut: undefined };
      case 'dname': {
        const dname = m.dname;
        plan.answer.push(planRR(m.node.key, dname));
        // RFC 6672 §2.2: replace the DNAME owner suffix of the name by the DNAME target.
        const newKey = key.substring(0, key.length - m.node.key.length) + targetKey(dname);
        if (newKey.length > MAX_NAME_LENGTH) {
          plan.outcome = 'yxdomain';
          plan.rcode = RCODE.YXDOMAIN;
          return { zone, final: undefined, cut: undefined };
        }
        nextKey = newKey;
        // RFC 6672 §3.2: the synthesized CNAME gets the DNAME's TTL.
        const cname: RRdata = { type: T.CNAME, ttl: dname.ttl, rdatas: [keyToWire(newKey)] };
        plan.answer.push(planRR(key, cname));
        break;
      }
      case 'exact':
      case 'wildcard': {
        // RFC 4592 §2.1.3: a wildcard answer's owner is the name asked (`key`), never `*`.
        const node = m.node;
        if (m.kind === 'wildcard') plan.wildcard ??= node.key;
        if (qtype === T.ANY) {
          const set = pickAny(node);
          if (set === undefined) return nodata(plan, zone);
          plan.answer.push(planRR(key, set));
          return { zone, final: set, cut: undefined };
        }
        const set = findRRset(node, qtype);
        if (set !== undefined) {
          plan.answer.push(planRR(key, set));
          return { zone, final: set, cut: undefined };
        }
        const cname = qtype === T.CNAME ? undefined : findRRset(node, T.CNAME);
        if (cname === undefined) return nodata(plan, zone);
        // RFC 1034 §4.3.2 step 3a: answer the CNAME, then restart with its target.
        plan.answer.push(planRR(key, cname));
        nextKey = targetKey(cname);
        break;
      }
      default:
        return assertNever(m);
    }
    seen.push(key);
    // RFC 1034 §3.6.2 calls loops an error but prescribes no response: stop at a loop or an overlong chain
    // and answer NOERROR with the chain found, as Knot does (BIND answers SERVFAIL).
    if (hop + 1 >= MAX_CHAIN || seen.includes(nextKey)) return { zone, final: undefined, cut: undefined };
    const next = zoneFor(zones, nextKey, qtype);
    // The target is outside every zone we serve: the chain so far is the answer (we never recurse).
    if (next === undefined) return { zone, final: undefined, cut: undefined };
    zone = next;
    key = nextKey;
  }
}

function nodata(plan: AnswerPlan, zone: Zone): Resolved {
  plan.outcome = 'nodata';
  return { zone, final: undefined, cut: undefined };
}

/**
 * RFC 8482 §4.1: answer ANY with one RRset the node really holds, the lowest type (RRSIGs are not data of
 * their own). Real data rather than the synthesized HINFO: it is what a type-specific query returns, so
 * caches stay coherent, and it is BIND's `minimal-any` behaviour.
 */
function pickAny(node: ZoneNode): RRset | undefined {
  for (const set of node.rrsets) if (set.type !== T.RRSIG) return set;
  return undefined;
}

function fillAuthority(plan: AnswerPlan, r: Resolved): void {
  const outcome = plan.outcome;
  switch (outcome) {
    case 'answer':
    case 'yxdomain':
    case 'refused':
      // Minimal responses: no apex NS with positive answers (RFC 2181 §6.1 leaves it optional).
      return;
    case 'nodata':
    case 'nxdomain':
      plan.authority.push(negativeSoa(r.zone));
      return;
    case 'referral': {
      const cut = r.cut!;
      // RFC 1034 §4.3.2 step 3b: the child's NS RRset is what a referral is; it can't be left out.
      plan.authority.push(planRR(cut.key, findRRset(cut, T.NS)!));
      return;
    }
    default:
      assertNever(outcome);
  }
}

/** RFC 2308 §3: the SOA of a negative answer has TTL = min(SOA TTL, SOA MINIMUM). */
function negativeSoa(zone: Zone): PlanRR {
  return planRR(zone.origin, zone.soa, false, zone.negativeTtl);
}

function fillAdditional(plan: AnswerPlan, r: Resolved): void {
  if (r.cut !== undefined) {
    addAddresses(plan, r.zone, findRRset(r.cut, T.NS)!, true, r.cut.key);
    return;
  }
  const set = r.final;
  if (set === undefined) return;
  // RFC 1035 §3.3.9/§3.3.11, RFC 2782: addresses of NS, MX and SRV targets are additional data.
  if (set.type === T.NS) addAddresses(plan, r.zone, set, true, null);
  else if (set.type === T.MX || set.type === T.SRV) addAddresses(plan, r.zone, set, false, null);
}

const ADDRESS_TYPES = [T.A, T.AAAA] as const;

/**
 * A/AAAA of each target held in `zone`. `glueOk` lets data below a cut serve (NS targets only). Within a
 * referral, addresses of targets at or below the cut are required (RFC 9471 §3: without them the child is
 * unreachable); others (sibling glue, in-zone names) are optional.
 */
function addAddresses(plan: AnswerPlan, zone: Zone, set: RRset, glueOk: boolean, cutKey: string | null): void {
  const targets = set.targets;
  if (targets === undefined) return;
  // The additional section is empty until now (one call per answer), so an address can be listed
  // already only in the answer, or for a target named twice (two MX or SRV records, one host).
  const answer = plan.answer;
  const mayRepeat = set.type !== T.NS;
  for (let i = 0; i < targets.length; i++) {
    const tk = targets[i]!;
    if (mayRepeat && targets.indexOf(tk) < i) continue;
    if (!keyIsAtOrBelow(tk, zone.origin)) continue;
    const node = zone.nodes.get(tk);
    if (node === undefined) continue;
    if (!glueOk && (node.flags & NodeFlag.BelowCut) !== 0) continue;
    const required = cutKey !== null && keyIsAtOrBelow(tk, cutKey);
    for (const type of ADDRESS_TYPES) {
      const a = findRRset(node, type);
      if (a === undefined || (answer.length > 0 && inAnswer(answer, tk, type))) continue;
      plan.additional.push(planRR(tk, a, !required));
    }
  }
}

function inAnswer(answer: readonly PlanRR[], key: string, type: number): boolean {
  for (const rr of answer) if (rr.set.type === type && rr.ownerKey === key) return true;
  return false;
}

/** The key of a CNAME's or DNAME's target: precomputed for zone data, decoded for synthesized records. */
function targetKey(set: RRdata): string {
  return set.targets?.[0] ?? nameKey(set.rdatas[0]!);
}

function assertNever(x: never): never {
  throw new Error(`unhandled case ${JSON.stringify(x)}`);
}
