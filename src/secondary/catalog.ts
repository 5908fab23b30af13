// The member zones a catalog zone lists (RFC 9432, version 2). Pure: a compiled zone in, names out.
import { keyToText, nameKey } from '../zone/name.js';
import { T } from '../zone/types.js';
import type { Zone } from '../zone/zone.js';

/** The key of `label.<parent key>`. */
function childKey(label: string, parent: string): string {
  return String.fromCharCode(label.length) + label + parent;
}

/**
 * The members (canonical origins) of catalog zone `zone`: the target of the PTR at each
 * `<unique-id>.zones.<catalog>` (RFC 9432 §4.1); a string says why the catalog can't be read (no
 * `version` TXT "2": §4.2.1). A member name with more than one PTR is left out (§4.1: it is broken).
 */
export function catalogMembers(zone: Zone): Set<string> | string {
  const version = zone.nodes.get(childKey('version', zone.origin))?.find(T.TXT);
  const versions = version?.rdatas.map((r) => r.toString('latin1', 1, 1 + r[0]!)) ?? [];
  if (versions.length !== 1 || versions[0] !== '2') return `version.${zone.originText} is not TXT "2" (catalog zones version 2, RFC 9432 §4.2.1)`;
  const zones = childKey('zones', zone.origin);
  const members = new Set<string>();
  for (const node of zone.nodes.values()) {
    const key = node.key;
    // Exactly one label below zones.<catalog>.
    if (key.length <= zones.length || !key.endsWith(zones) || key.charCodeAt(0) + 1 + zones.length !== key.length) continue;
    const ptr = node.find(T.PTR);
    if (ptr === undefined || ptr.rdatas.length !== 1) continue;
    members.add(keyToText(nameKey(ptr.rdatas[0]!)));
  }
  return members;
}
