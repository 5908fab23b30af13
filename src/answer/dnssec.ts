// The DNSSEC step of the section pipeline, run after answer, authority and additional are filled for a
// DO query of a signed zone (RFC 4035 §3.1), as Knot's solve_answer_dnssec/solve_authority_dnssec:
// denial proofs by outcome (NSEC: RFC 4035 §3.1.3; NSEC3: RFC 5155 §7.2), the DS or the proof of its
// absence in referrals (RFC 4035 §3.1.4), then the RRSIGs beside every RRset that has them.

import type { DnssecIndex } from '../zone/dnssec-index.js';
import { parentKey } from '../zone/name.js';
import { T } from '../zone/types.js';
import { WireRRset } from '../zone/rrset.js';
import type { Zone, ZoneNode } from '../zone/zone.js';
import { assertNever, planRR, type AnswerPlan, type PlanRR } from './plan.js';

/** What the name resolution met that the proofs depend on (filled by resolve in answer.ts). */
export interface ChainTrace {
  /** The last name looked up: the one a negative answer or referral is about. */
  key: string;
  /** Each wildcard expansion as a pair: the name asked, then the `*` owner that answered it (RFC 4592 §3.3.1). */
  wildcards: string[] | null;
  /** Whether the last lookup matched a wildcard (a NODATA there is a wildcard NODATA, RFC 4035 §3.1.3.4). */
  lastWasWildcard: boolean;
}

export function newTrace(key: string): ChainTrace {
  return { key, wildcards: null, lastWasWildcard: false };
}

const WILDCARD_LABEL = '\u0001*';

export function addDnssec(plan: AnswerPlan, zone: Zone, idx: DnssecIndex, trace: ChainTrace, cut: ZoneNode | undefined): void {
  const proofs = new Proofs(zone, idx, plan.authority);
  const w = trace.wildcards;
  const finalWildcard = plan.outcome === 'nodata' && trace.lastWasWildcard;
  if (w !== null) {
    const last = finalWildcard ? w.length - 2 : w.length;
    // RFC 4035 §3.1.3.3, RFC 5155 §7.2.6: each expansion comes with the proof that the name itself doesn't exist.
    for (let i = 0; i < last; i += 2) proofs.wildcardAnswer(w[i]!, w[i + 1]!);
  }
  switch (plan.outcome) {
    case 'nodata':
      if (finalWildcard) proofs.wildcardNodata(trace.key, w![w!.length - 1]!);
      else proofs.nodata(trace.key);
      break;
    case 'nxdomain':
      proofs.nxdomain(trace.key);
      break;
    case 'referral':
      proofs.referral(cut!);
      break;
    case 'answer':
    case 'yxdomain':
    case 'refused':
    case 'servfail':
      break;
    default:
      assertNever(plan.outcome);
  }
  sign(plan.answer, idx, w);
  sign(plan.authority, idx, null);
  sign(plan.additional, idx, null);
}

/**
 * An answer to a query for RRSIG: the signatures at the name, one RRset per covered type, each with the
 * TTL of the RRset it signs (RFC 4034 §3: they are equal), as BIND answers. The zone's RRSIG RRset of
 * the name holds them all under one TTL.
 */
export function splitSignatures(plan: AnswerPlan, zone: Zone, idx: DnssecIndex): void {
  const answer = plan.answer;
  for (let i = answer.length - 1; i >= 0; i--) {
    const rr = answer[i]!;
    if (rr.set.type !== T.RRSIG || !(rr.set instanceof WireRRset)) continue;
    const node = zone.nodes.get(rr.ownerKey);
    if (node === undefined) continue;
    const groups = idx.sigGroups(rr.ownerKey).map((g) => {
      const ttl = node.find(g.covered)?.ttl ?? rr.ttl;
      return planRR(rr.ownerKey, new WireRRset(T.RRSIG, ttl, g.src, g.start, g.end), rr.optional);
    });
    if (groups.length > 0) answer.splice(i, 1, ...groups);
  }
}

/** Puts each RRset's RRSIGs beside it. A wildcard expansion's signatures are the wildcard's (RFC 4035 §3.1.3.3). */
function sign(section: PlanRR[], idx: DnssecIndex, wildcards: string[] | null): void {
  for (let i = 0; i < section.length; i++) {
    const rr = section[i]!;
    // Records synthesized here (the CNAME of a DNAME, RFC 6672 §5.3.1) have no signature: validators synthesize them too.
    if (!(rr.set instanceof WireRRset)) continue;
    let source = rr.ownerKey;
    if (wildcards !== null) {
      const at = wildcards.indexOf(source);
      if (at >= 0 && at % 2 === 0) source = wildcards[at + 1]!;
    }
    const sigs = idx.sigs(source, rr.set.type, rr.ttl);
    if (sigs !== undefined) section[i] = { ...rr, sigs };
  }
}

/** Adds denial records to the authority section, each once. */
class Proofs {
  constructor(
    private readonly zone: Zone,
    private readonly idx: DnssecIndex,
    private readonly authority: PlanRR[],
  ) {}

  /** The name asked was answered by `wildcard`: prove it doesn't exist itself. */
  wildcardAnswer(key: string, wildcard: string): void {
    if (this.idx.nsec3) this.nsec3NextCloser(key, parentKey(wildcard)!);
    else this.addCovering(key);
  }

  /** RFC 4035 §3.1.3.4, RFC 5155 §7.2.5: the name doesn't exist, and its wildcard lacks the type. */
  wildcardNodata(key: string, wildcard: string): void {
    if (this.idx.nsec3) {
      const ce = parentKey(wildcard)!;
      this.addMatching(ce);
      this.nsec3NextCloser(key, ce);
      this.addMatching(wildcard);
    } else {
      this.addCovering(key);
      this.add(wildcard, T.NSEC);
    }
  }

  /** RFC 4035 §3.1.3.1, RFC 5155 §7.2.3-7.2.4: the name's own NSEC/NSEC3 shows the type's absence. */
  nodata(key: string): void {
    const idx = this.idx;
    if (idx.nsec3) {
      const own = idx.nsec3Matching(key);
      if (own !== undefined) this.add(own, T.NSEC3);
      // No NSEC3 of its own: an insecure delegation in an opt-out span, asked for DS (RFC 5155 §7.2.4).
      else this.closestProvableEncloser(key);
      return;
    }
    const node = this.zone.nodes.get(key);
    // An empty non-terminal owns no NSEC: the one before it, whose next name lies below it, proves it (RFC 4035 §3.1.3.2 applied to ENTs, RFC 4592 §2.2.2).
    if (node !== undefined && node.find(T.NSEC) !== undefined) this.add(key, T.NSEC);
    else this.addCovering(key);
  }

  /** RFC 4035 §3.1.3.2, RFC 5155 §7.2.2: no such name, and no wildcard at its closest encloser. */
  nxdomain(key: string): void {
    if (this.idx.nsec3) {
      const ce = this.closestProvableEncloser(key);
      if (ce !== undefined) this.addNsec3Covering(WILDCARD_LABEL + ce);
      return;
    }
    this.addCovering(key);
    this.addCovering(WILDCARD_LABEL + this.closestEncloser(key));
  }

  /** RFC 4035 §3.1.4: the DS of a secure delegation, or the proof it has none (RFC 5155 §7.2.7 with opt-out). */
  referral(cut: ZoneNode): void {
    if (cut.find(T.DS) !== undefined) {
      this.add(cut.key, T.DS);
      return;
    }
    if (!this.idx.nsec3) {
      this.add(cut.key, T.NSEC);
      return;
    }
    const own = this.idx.nsec3Matching(cut.key);
    if (own !== undefined) this.add(own, T.NSEC3);
    else this.closestProvableEncloser(cut.key);
  }

  /** The nearest existing ancestor of a name that doesn't exist (empty non-terminals are nodes). */
  private closestEncloser(key: string): string {
    let k = parentKey(key)!;
    while (k !== this.zone.origin && !this.zone.nodes.has(k)) k = parentKey(k)!;
    return k;
  }

  /**
   * RFC 5155 §7.2.1: the NSEC3 matching the closest ancestor of `key` that has one, and the one covering
   * the next closer name. Returns the closest provable encloser.
   */
  private closestProvableEncloser(key: string): string | undefined {
    const idx = this.idx;
    let nextCloser = key;
    let k = parentKey(key);
    while (k !== null) {
      if (this.zone.nodes.has(k)) {
        const own = idx.nsec3Matching(k);
        if (own !== undefined) {
          this.add(own, T.NSEC3);
          this.addNsec3Covering(nextCloser);
          return k;
        }
      }
      if (k === this.zone.origin) return undefined;
      nextCloser = k;
      k = parentKey(k);
    }
    return undefined;
  }

  /** The NSEC3 covering the name one label longer than `ce` on the way to `key` (RFC 5155 §7.2.6). */
  private nsec3NextCloser(key: string, ce: string): void {
    let nextCloser = key;
    for (let k = parentKey(key); k !== null && k !== ce; k = parentKey(k)) nextCloser = k;
    this.addNsec3Covering(nextCloser);
  }

  private addMatching(key: string): void {
    const own = this.idx.nsec3Matching(key);
    if (own !== undefined) this.add(own, T.NSEC3);
  }

  private addNsec3Covering(key: string): void {
    this.add(this.idx.nsec3Covering(this.idx.nsec3Owner(key)), T.NSEC3);
  }

  private addCovering(key: string): void {
    const owner = this.idx.nsecCovering(key);
    if (owner !== undefined) this.add(owner, T.NSEC);
  }

  private add(owner: string, type: number): void {
    for (const rr of this.authority) if (rr.ownerKey === owner && rr.set.type === type) return;
    const node = this.zone.nodes.get(owner);
    const set = node === undefined ? undefined : node.find(type);
    if (set !== undefined) this.authority.push(planRR(owner, set));
  }
}
