// How the responder differential test decides: a response is right when, field by field, it equals
// Knot's or BIND's, or differs from both only in a way one of the ALLOWED differences below permits.
// Where Knot and BIND disagree with each other, the disagreement must itself be one of those allowed
// differences: that keeps the list honest (an unexplained disagreement fails the harness check).
import type { QueryOptions } from '../helpers/dns-query.js';
import { typeCode } from '../helpers/dns-query.js';
import type { NormalResponse, Section } from './normalise-response.js';
import { SECTIONS, dataType } from './normalise-response.js';

/** Each policy the RFCs leave open, where Knot and BIND are seen to differ, and what permits it. */
export const ALLOWED = {
  'apex-ns-in-authority': 'RFC 1034 §4.3.2 step 3a puts only the answer in a positive response; the apex NS (and its addresses) in authority is optional extra data (RFC 2181 §9: not required). BIND adds them (minimal-responses no-auth-recursive, no RD), Knot does not; we choose minimal responses',
  'optional-additional': 'RFC 1034 §4.3.2 step 6 and RFC 1035 §3.3.9/§3.3.11: additional records are added "which may be useful", from local data: which ones (addresses of apex NS, of an in-zone NS of a delegation that is not glue, the SRV and addresses a NAPTR replacement names per RFC 3403 §4) is policy',
  'cname-loop': 'RFC 1034 §3.6.2: CNAME loops are a configuration error with no prescribed response; Knot answers NOERROR with the chain, BIND SERVFAIL',
  'any-rfc8482': 'RFC 8482 §4.1-4.2: a response to ANY may hold one RRset, several, or all of them (Knot: one; BIND: all)',
  'truncated-content': 'RFC 2181 §9 and RFC 1035 §4.2.1: with TC set, whatever records fitted may be left in the response or removed (Knot sends none, BIND the part of the RRset that fitted)',
  'glue-under-size-limit': 'RFC 9471 §3 (and RFC 2181 §9): which glue fits a small UDP response, and whether missing in-domain glue sets TC, differ (Knot follows RFC 9471 and sets TC, BIND 9.18 fills A before AAAA and does not)',
  'negative-soa-ttl': 'RFC 2308 §3 and §5: the negative-caching TTL is at most min(SOA TTL, MINIMUM); BIND sends 0 for SOA queries so the SOA itself is not cached from a negative answer',
  'chaos-authority': 'RFC 4892 §2-3 does not say whether CH TXT identity answers are authoritative or carry NS: Knot sets no AA, BIND AA with a CH NS in authority',
  'unknown-class-rcode': 'RFC 1035 §4.1.1 leaves the rcode for an unsupported class open between Not Implemented (4, BIND) and Refused (5, Knot); issue 3 asks for REFUSED',
  'rrsig-query': 'RFC 4034 §3: the RRSIGs at a name are not one RRset (each has the TTL of the RRset it covers), and no RFC says which to answer a query for type RRSIG with: Knot sends those of one covered type, BIND all of them',
  'cname-to-served-child': 'RFC 1034 §4.3.2 step 3a restarts the search with the CNAME target, and step 3b makes a target below a cut of the same zone a referral; when the child zone is served too, Knot adds that referral after the CNAME while BIND ends the answer with the CNAME (the target is another zone\'s data). Both keep AA for the CNAME',
  'tc-not-needed': 'RFC 2181 §9: TC "should not be set merely because some extra information could have been included"; a reply holding every required record may leave TC clear where a reference sets it',
} as const;
export type AllowedId = keyof typeof ALLOWED;

/** The references' responses for one query, and their complete (TCP) responses when the query was UDP. */
export interface References {
  knot: NormalResponse;
  bind: NormalResponse;
  /** Over TCP, so nothing was dropped for size; equal to knot/bind for TCP queries. */
  knotFull: NormalResponse;
  bindFull: NormalResponse;
}

export interface Verdict {
  ok: boolean;
  /** Allowed differences the response needed (beyond equalling Knot or BIND field by field). */
  used: AllowedId[];
  /** One line per field that neither reference nor any allowed difference explains. */
  problems: string[];
}

const eq = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const subset = (a: readonly string[], b: readonly string[]): boolean => a.every((x) => b.includes(x));
/** A line's type; an RRSIG line counts as the type it covers, so signatures go with their RRsets. */
const type = (line: string): string => dataType(line);

function isAny(q: QueryOptions): boolean {
  return typeCode(q.type) === 255;
}

function isChaos(q: QueryOptions): boolean {
  return q.class === 'CH' || q.class === 3;
}

/** Whether every line is optional additional data servers add: addresses (A/AAAA), and SRV for a NAPTR. */
function onlyAddresses(lines: readonly string[]): boolean {
  return lines.every((l) => type(l) === 'A' || type(l) === 'AAAA' || type(l) === 'SRV');
}

/** A positive answer whose authority lines given are one NS RRset (the zone's apex NS), with its RRSIGs for DO. */
function isApexNsOnly(lines: readonly string[], r: NormalResponse): boolean {
  return lines.length > 0 && lines.length <= 2 && lines.every((l) => type(l) === 'NS') && r.rcode === 0 && r.answer.length > 0;
}

/** A CNAME answer whose authority is the referral to a cut (NS, with DS or its denial) where a reference has none, or the other way round. */
function isReferralAfterChain(got: NormalResponse, g: readonly string[], k: readonly string[], b: readonly string[]): boolean {
  if (got.rcode !== 0 || !got.answer.some((l) => type(l) === 'CNAME')) return false;
  const referral = (ls: readonly string[]): boolean => ls.some((l) => type(l) === 'NS') && ls.every((l) => ['NS', 'DS', 'NSEC', 'NSEC3'].includes(type(l)));
  return (g.length === 0 && (referral(k) || referral(b))) || (referral(g) && (k.length === 0 || b.length === 0));
}

/** Allowed differences that can explain `got` in `section` given both references. */
function sectionAllowance(section: Section, q: QueryOptions, got: NormalResponse, refs: References): AllowedId | null {
  const g = got[section];
  const { knot, bind, knotFull, bindFull } = refs;
  const k = knot[section];
  const b = bind[section];
  const full = [...new Set([...knotFull[section], ...bindFull[section]])];
  if (isAny(q)) {
    // Any non-empty subset of the node's RRsets (BIND's TCP answer has them all) or Knot's choice.
    if (section === 'answer' && g.length > 0 && subset(g, full)) return 'any-rfc8482';
    if (section !== 'answer' && subset(g, [...full, ...k, ...b])) return 'any-rfc8482';
  }
  if (got.tc && subset(g, full)) return 'truncated-content';
  if (typeCode(q.type) === 46 && section === 'answer' && g.length > 0 && subset(g, full)) return 'rrsig-query';
  if (section === 'authority' && isReferralAfterChain(got, g, k, b)) return 'cname-to-served-child';
  if (section === 'authority') {
    const withoutNs = (r: NormalResponse): string[] => r.authority.filter((l) => !(type(l) === 'NS' && r.rcode === 0 && r.answer.length > 0));
    if (eq(withoutNs(got), withoutNs(knot)) || eq(withoutNs(got), withoutNs(bind))) {
      const ns = g.filter((l) => type(l) === 'NS');
      if (ns.length === 0 || isApexNsOnly(ns, got)) return 'apex-ns-in-authority';
    }
    const noTtl = (ls: readonly string[]): string[] => ls.map((l) => l.split(' ').filter((_, i) => i !== 1).join(' '));
    if (typeCode(q.type) === 6 && (eq(noTtl(g), noTtl(k)) || eq(noTtl(g), noTtl(b)))) return 'negative-soa-ttl';
    if (isChaos(q) && (g.length === 0 || eq(g, b))) return 'chaos-authority';
  }
  if (section === 'additional') {
    const common = k.filter((l) => b.includes(l));
    const union = [...new Set([...k, ...b])];
    if (subset(common, g) && subset(g, union) && onlyAddresses(g)) return 'optional-additional';
    // Under a size limit, any whole address RRsets of the complete answer's additional section.
    if (!q.tcp && onlyAddresses(g) && subset(g, full) && (knot.tc || bind.tc || !eq(k, knotFull.additional) || !eq(b, bindFull.additional))) {
      return 'glue-under-size-limit';
    }
  }
  return null;
}

/** Judges our response against the two references. */
export function judge(q: QueryOptions, got: NormalResponse, refs: References): Verdict {
  const used = new Set<AllowedId>();
  const problems: string[] = [];
  const { knot, bind } = refs;
  const scalar = (field: string, g: unknown, k: unknown, b: unknown, allow: AllowedId | null): void => {
    if (g === k || g === b) return;
    if (allow) used.add(allow);
    else problems.push(`${field}: got ${String(g)}, knot ${String(k)}, bind ${String(b)}`);
  };
  scalar('question', got.question, knot.question, bind.question, null);
  scalar('opt', got.opt, knot.opt, bind.opt, null);
  scalar('ra', got.ra, knot.ra, bind.ra, null);
  scalar('rd', got.rd, knot.rd, bind.rd, null);
  scalar('rcode', got.rcode, knot.rcode, bind.rcode, null);
  scalar('aa', got.aa, knot.aa, bind.aa, isChaos(q) ? 'chaos-authority' : null);
  const answerComplete = eq(got.answer, refs.knotFull.answer) || eq(got.answer, refs.bindFull.answer);
  scalar('tc', got.tc, knot.tc, bind.tc, !got.tc && answerComplete ? 'tc-not-needed' : null);
  for (const s of SECTIONS) {
    if (eq(got[s], knot[s]) || eq(got[s], bind[s])) continue;
    const allow = sectionAllowance(s, q, got, refs);
    if (allow) used.add(allow);
    else problems.push(`${s}:\n      got:  ${got[s].join('\n            ') || '(empty)'}\n      knot: ${knot[s].join('\n            ') || '(empty)'}\n      bind: ${bind[s].join('\n            ') || '(empty)'}`);
  }
  return { ok: problems.length === 0, used: [...used], problems };
}

/**
 * Why Knot and BIND differ on one query, or the fields nothing explains. Run on every case before
 * judging anycast-dns, so the allowed list above stays exactly what the references need.
 */
export function explainReferenceDifference(q: QueryOptions, refs: References): { used: AllowedId[]; unexplained: string[] } {
  const { knot, bind } = refs;
  const used = new Set<AllowedId>();
  const unexplained: string[] = [];
  const note = (field: string, allow: AllowedId | null): void => {
    if (allow) used.add(allow);
    else unexplained.push(field);
  };
  if (knot.question !== bind.question) note('question', null);
  if (knot.opt !== bind.opt) note('opt', null);
  if (knot.rd !== bind.rd || knot.ra !== bind.ra) note('rd/ra', null);
  const loop = knot.rcode === 0 && bind.rcode === 2 && knot.answer.some((l) => type(l) === 'CNAME');
  if (knot.rcode !== bind.rcode) note('rcode', loop ? 'cname-loop' : knot.rcode === 5 && bind.rcode === 4 ? 'unknown-class-rcode' : null);
  if (knot.aa !== bind.aa) note('aa', isChaos(q) ? 'chaos-authority' : null);
  if (knot.tc !== bind.tc) note('tc', !q.tcp ? 'glue-under-size-limit' : null);
  for (const s of SECTIONS) {
    if (eq(knot[s], bind[s])) continue;
    // Judge Knot's section with BIND's as the only reference, then the other way round.
    const oneRef = (r: NormalResponse, full: NormalResponse): References => ({ knot: r, bind: r, knotFull: full, bindFull: full });
    const a = sectionAllowance(s, q, knot, oneRef(bind, refs.bindFull));
    const b = sectionAllowance(s, q, bind, oneRef(knot, refs.knotFull));
    const allow = a ?? b;
    // Extra additional data on one side only: optional additional (RFC 1034 §4.3.2 step 6).
    const extraOnly = s === 'additional' && (subset(knot[s], bind[s]) || subset(bind[s], knot[s])) && onlyAddresses([...knot[s], ...bind[s]]);
    if (s === 'answer' && loop) note(s, 'cname-loop');
    else note(s, allow ?? (extraOnly ? 'optional-additional' : null));
  }
  return { used: [...used], unexplained };
}
