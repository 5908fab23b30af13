// Finding a name in one zone (RFC 1034 §4.3.2 step 3, RFC 4592 §3.3.1, RFC 6672 §2.3). Node flags were
// computed at load (cuts, occluded names, wildcard children, ENTs), so this walks at most once toward the apex.

import { parentKey } from '../zone/name.js';
import { T } from '../zone/types.js';
import { NodeFlag, findRRset, type RRset, type Zone, type ZoneNode } from '../zone/zone.js';

export type Match =
  /** The name exists in the zone's authoritative data (ENTs included). */
  | { kind: 'exact'; node: ZoneNode }
  /** The name doesn't exist; the wildcard child of its closest encloser answers (RFC 4592 §3.3.1). */
  | { kind: 'wildcard'; node: ZoneNode }
  /** The name is at or below this zone cut. */
  | { kind: 'cut'; node: ZoneNode }
  /** The name is strictly below this DNAME owner (RFC 6672 §2.3). */
  | { kind: 'dname'; node: ZoneNode; dname: RRset }
  /** No such name, and no wildcard covers it. */
  | { kind: 'nxdomain' };

const WILDCARD_LABEL = '\u0001*';

/** A non-apex node with NS (RFC 1034 §4.2.1: the apex NS is the zone's own, not a cut). */
function isCut(node: ZoneNode): boolean {
  return (node.flags & (NodeFlag.Delegation | NodeFlag.Apex)) === NodeFlag.Delegation;
}

/** `key` must be at or below `zone.origin`. */
export function lookup(zone: Zone, key: string, qtype: number): Match {
  const nodes = zone.nodes;
  let node = nodes.get(key);
  // RFC 5155 §7.2.8: an NSEC3 owner name is not in the zone's name space; it is answered as a name that doesn't exist.
  if (node !== undefined && zone.dnssec?.nsec3 === true && findRRset(node, T.NSEC3) !== undefined) node = undefined;
  if (node !== undefined && (node.flags & NodeFlag.BelowCut) === 0) {
    // RFC 4035 §3.1.4.1: DS lives on the parent side of the cut, so it is answered here, not referred.
    if (isCut(node) && qtype !== T.DS) return { kind: 'cut', node };
    return { kind: 'exact', node };
  }
  // Walk toward the apex. The topmost cut or DNAME above the name wins: RFC 1034 §4.3.2 step 3 descends
  // from the apex and stops at the first one it meets. Above the first node not below a cut there is none.
  let encloser: ZoneNode | undefined;
  let redirect: ZoneNode | undefined;
  let k = key;
  while (k !== zone.origin) {
    k = parentKey(k)!;
    const anc = nodes.get(k);
    if (anc === undefined) continue;
    encloser ??= anc;
    if (isCut(anc) || (anc.flags & NodeFlag.DName) !== 0) redirect = anc;
    if ((anc.flags & NodeFlag.BelowCut) === 0) break;
  }
  if (redirect !== undefined) {
    if (isCut(redirect)) return { kind: 'cut', node: redirect };
    return { kind: 'dname', node: redirect, dname: findRRset(redirect, T.DNAME)! };
  }
  if (node !== undefined) return { kind: 'exact', node };
  // RFC 4592 §3.3.1: the closest encloser's `*` child answers a name that doesn't exist. ENTs are real
  // nodes, so a name that exists only as an ENT was found above and never reaches here (RFC 4592 §2.2.2).
  if (encloser !== undefined && (encloser.flags & NodeFlag.WildcardChild) !== 0) {
    const w = nodes.get(WILDCARD_LABEL + encloser.key);
    if (w !== undefined) return { kind: 'wildcard', node: w };
  }
  return { kind: 'nxdomain' };
}
