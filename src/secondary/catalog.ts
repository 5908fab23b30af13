// Catalog zones (RFC 9432, schema version 2): the member zones a catalog lists, read from a compiled
// catalog zone, and what a new version of the catalog adds, removes and resets. Pure: a zone in, its
// members or the reason the catalog is broken out. A broken catalog is not processed at all (§4.1,
// §4.2.1, §4.3.1), so the members of its last good version stay as they were.
import { keyToText, nameKey, nameToText, parentKey } from '../zone/name.js';
import type { RRset } from '../zone/rrset.js';
import { T } from '../zone/types.js';
import type { Zone } from '../zone/zone.js';

/** One member zone of a catalog. */
export interface CatalogMember {
  /** The member's unique-N label, lower case: its identity in the catalog (§4.1). */
  id: string;
  /** The member zone's name, presentation form with the final dot, lower case. */
  zone: string;
  /** The `group` property's strings (§4.3.2), in order; empty when the member has none. */
  groups: string[];
  /** The `coo` property (§4.3.1): the catalog the member is moving to, or null. */
  coo: string | null;
}

export type CatalogReading = { members: CatalogMember[]; error: null; ignored: string[] } | { members: null; error: string; ignored: string[] };

const VERSION = '2';

/**
 * The members of `catalog`. A member zone listed under two unique IDs is a name clash (§5.2): the
 * instance the catalog already had (`previous`) is kept, or else the first in canonical order, and the
 * other is ignored and named in `ignored`.
 */
export function readCatalog(catalog: Zone, previous: readonly CatalogMember[] = []): CatalogReading {
  const ignored: string[] = [];
  const origin = catalog.origin;
  const zonesKey = `\x05zones${origin}`;
  const version = catalog.nodes.get(`\x07version${origin}`)?.rrsets.find((s) => s.type === T.TXT);
  const versions = version === undefined ? [] : version.rdatas.map(txtText);
  if (versions.length !== 1 || versions[0] !== VERSION) {
    const found = versions.length === 0 ? 'none' : versions.map((v) => `"${v}"`).join(', ');
    return { members: null, error: `version.${catalog.originText} TXT must be one record "${VERSION}" (found ${found})`, ignored };
  }
  const byId = new Map<string, CatalogMember>();
  const properties: { id: string; name: string; set: RRset }[] = [];
  for (const node of catalog.nodes.values()) {
    const parent = parentKey(node.key);
    if (parent === zonesKey) {
      const ptr = node.rrsets.find((s) => s.type === T.PTR);
      if (ptr === undefined) continue;
      const targets = ptr.rdatas;
      const id = firstLabel(node.key);
      if (targets.length !== 1) return { members: null, error: `${keyToText(node.key)} has ${targets.length} PTR records; a member is one (RFC 9432 §4.1)`, ignored };
      byId.set(id, { id, zone: keyToText(nameKey(targets[0]!)), groups: [], coo: null });
    } else if (parent !== null && parentKey(parent) === zonesKey) {
      const name = firstLabel(node.key);
      for (const set of node.rrsets) properties.push({ id: firstLabel(parent), name, set });
    }
  }
  for (const { id, name, set } of properties) {
    const member = byId.get(id);
    if (member === undefined) continue;
    if (name === 'coo' && set.type === T.PTR) {
      const targets = set.rdatas;
      if (targets.length !== 1) return { members: null, error: `coo.${id}.zones.${catalog.originText} has ${targets.length} PTR records; coo is one (RFC 9432 §4.3.1)`, ignored };
      member.coo = nameToText(targets[0]!).toLowerCase();
    } else if (name === 'group' && set.type === T.TXT) {
      for (const r of set.rdatas) member.groups.push(txtText(r));
    }
    // Any other property (ext, or one this version does not know) is ignored (§3, §4.4).
  }
  const had = new Map(previous.map((m) => [m.zone, m.id]));
  const byZone = new Map<string, CatalogMember>();
  for (const m of byId.values()) {
    const other = byZone.get(m.zone);
    if (other === undefined) {
      byZone.set(m.zone, m);
      continue;
    }
    const keep = had.get(m.zone) === m.id ? m : other;
    const drop = keep === m ? other : m;
    byZone.set(m.zone, keep);
    ignored.push(`${drop.zone} under ${drop.id}: already a member under ${keep.id} (RFC 9432 §5.2)`);
  }
  return { members: [...byZone.values()], error: null, ignored };
}

export interface CatalogChanges {
  added: CatalogMember[];
  removed: CatalogMember[];
  /** Listed before and now under a new unique ID: a reset (§5.4), served afresh from a new transfer. */
  reset: CatalogMember[];
}

/** What `after` changes in the members of `before`, by zone name. */
export function catalogChanges(before: readonly CatalogMember[], after: readonly CatalogMember[]): CatalogChanges {
  const old = new Map(before.map((m) => [m.zone, m]));
  const added: CatalogMember[] = [];
  const reset: CatalogMember[] = [];
  for (const m of after) {
    const was = old.get(m.zone);
    if (was === undefined) added.push(m);
    else if (was.id !== m.id) reset.push(m);
    old.delete(m.zone);
  }
  return { added, removed: [...old.values()], reset };
}

function firstLabel(key: string): string {
  return key.substring(1, 1 + key.charCodeAt(0));
}

/** A TXT record's character-strings joined, as text (RFC 1035 §3.3.14). */
function txtText(rdata: Buffer): string {
  let s = '';
  for (let p = 0; p < rdata.length; p += 1 + rdata[p]!) s += rdata.toString('latin1', p + 1, p + 1 + rdata[p]!);
  return s;
}
