// Finding a name in one zone (RFC 1034 §4.3.2 step 3, RFC 4592 §3.3.1, RFC 6672 §2.3). Node flags were
// computed at load (cuts, occluded names, wildcard children, ENTs), so this walks at most once toward the apex.
// It reads the zone's arrays by node id and returns one number: a miss under a flood of random names
// allocates nothing here (ancestors are suffixes of the key, looked up in place).

import { T } from '../zone/types.js';
import { NodeFlag, type Zone } from '../zone/zone.js';

export const enum MatchKind {
  /** The name exists in the zone's authoritative data (ENTs included). */
  Exact = 0,
  /** The name doesn't exist; the wildcard child of its closest encloser answers (RFC 4592 §3.3.1). */
  Wildcard = 1,
  /** The name is at or below this zone cut. */
  Cut = 2,
  /** The name is strictly below this DNAME owner (RFC 6672 §2.3). */
  DName = 3,
  /** No such name, and no wildcard covers it. */
  NxDomain = 4,
}

/** A match: `node * 8 + kind` (see matchKind, matchNode); the node is the one named in MatchKind. */
export type Match = number;

export function matchKind(m: Match): MatchKind {
  return m & 7;
}

export function matchNode(m: Match): number {
  return m >>> 3;
}

function match(kind: MatchKind, node: number): Match {
  return node * 8 + kind;
}

const WILDCARD_LABEL = '\u0001*';

/** A non-apex node with NS (RFC 1034 §4.2.1: the apex NS is the zone's own, not a cut). */
function isCut(flags: number): boolean {
  return (flags & (NodeFlag.Delegation | NodeFlag.Apex)) === NodeFlag.Delegation;
}

/** `key` must be at or below `zone.origin`. */
export function lookup(zone: Zone, key: string, qtype: number): Match {
  let node = zone.nodeId(key);
  // RFC 5155 §7.2.8: an NSEC3 owner name is not in the zone's name space; it is answered as a name that doesn't exist.
  if (node >= 0 && zone.dnssec?.nsec3 === true && zone.setOf(node, T.NSEC3) >= 0) node = -1;
  const flags = node < 0 ? 0 : zone.nodeFlags(node);
  if (node >= 0 && (flags & NodeFlag.BelowCut) === 0) {
    // RFC 4035 §3.1.4.1: DS lives on the parent side of the cut, so it is answered here, not referred.
    if (isCut(flags) && qtype !== T.DS) return match(MatchKind.Cut, node);
    return match(MatchKind.Exact, node);
  }
  // Walk toward the apex. The topmost cut or DNAME above the name wins: RFC 1034 §4.3.2 step 3 descends
  // from the apex and stops at the first one it meets. Above the first node not below a cut there is none.
  let encloser = -1;
  let encloserAt = 0;
  let redirect = -1;
  const apexAt = key.length - zone.origin.length;
  for (let at = 0; at < apexAt; ) {
    at += key.charCodeAt(at) + 1;
    const anc = zone.nodeId(key, at);
    if (anc < 0) continue;
    const f = zone.nodeFlags(anc);
    if (encloser < 0) {
      encloser = anc;
      encloserAt = at;
    }
    if (isCut(f) || (f & NodeFlag.DName) !== 0) redirect = anc;
    if ((f & NodeFlag.BelowCut) === 0) break;
  }
  if (redirect >= 0) return match(isCut(zone.nodeFlags(redirect)) ? MatchKind.Cut : MatchKind.DName, redirect);
  if (node >= 0) return match(MatchKind.Exact, node);
  // RFC 4592 §3.3.1: the closest encloser's `*` child answers a name that doesn't exist. ENTs are real
  // nodes, so a name that exists only as an ENT was found above and never reaches here (RFC 4592 §2.2.2).
  if (encloser >= 0 && (zone.nodeFlags(encloser) & NodeFlag.WildcardChild) !== 0) {
    const w = zone.nodeId(WILDCARD_LABEL + key.substring(encloserAt));
    if (w >= 0) return match(MatchKind.Wildcard, w);
  }
  return MatchKind.NxDomain;
}
