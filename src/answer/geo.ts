// Geo rules: for a name, which RRsets a client gets by its network or country, and the network the
// choice is valid for (the ECS SCOPE PREFIX-LENGTH, RFC 7871 §7.2.1). Pure: an address in, a rule and a
// scope out; the country database is an interface filled by zone sync.

import { T } from '../zone/types.js';
import type { PlanRR } from './plan.js';

/** A network of a rule: its octets (4 or 16) and prefix length. */
export interface GeoNetwork {
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly bits: number;
}

export interface GeoRule {
  /** The rule's label in metrics and dnstap: its `id`, or its position; `default` for the default. */
  readonly id: string;
  /** The name's key and this rule's id, as dnstap's `extra` and the metric's labels name it. */
  readonly tag: string;
  readonly networks: readonly GeoNetwork[];
  /** ISO 3166 alpha-2 codes, upper case. */
  readonly countries: ReadonlySet<string>;
  /** The RRsets the rule gives, by type, as answer records owned by the name; a CNAME is alone (RFC 1034 §3.6.2). */
  readonly answers: ReadonlyMap<number, PlanRR>;
  /** Line of the rule in its file. */
  readonly line: number;
}

export interface NameRules {
  /** The name's key (zone/name.ts). */
  readonly key: string;
  /** Its presentation form. */
  readonly name: string;
  /** In file order; network rules are chosen by longest prefix, then country rules in this order. */
  readonly rules: readonly GeoRule[];
  /** What a client no rule matches gets; null: the zone's own records. */
  readonly fallback: GeoRule | null;
  /** The tag (GeoRule.tag) of answers the zone's records give to a client the rules do not give the type. */
  readonly zoneTag: string;
  /** Types some rule or the default gives: a query for any other type does not depend on the client. */
  readonly types: ReadonlySet<number>;
  readonly usesCountries: boolean;
  readonly line: number;
}

/** A loaded rules file: names by key. */
export interface GeoRuleSet {
  readonly file: string;
  readonly names: ReadonlyMap<string, NameRules>;
}

/** A country database: the country of an address and the prefix length of the database's network holding it. */
export interface CountryDb {
  /** `country` is null where the database has no record; `prefix` is the length of the network it looked in, record or not. */
  lookup(bytes: Uint8Array, length: number, out: CountryHit): void;
  /** The database's build time (its metadata), for the control endpoint. */
  readonly buildDate: Date;
  readonly path: string;
}

export interface CountryHit {
  country: string | null;
  prefix: number;
}

/** What chooseRule decided; a caller keeps one and passes it in. */
export interface GeoChoice {
  /** The rule that answered; null where the zone's records answer. */
  rule: GeoRule | null;
  /** The prefix length of the network the choice holds for. */
  scope: number;
}

const CNAME = T.CNAME;

/**
 * Chooses for a client at `addr` (`length` octets, zero past `sourceBits`) asking `qtype`. Returns false
 * when the answer does not depend on the client (no rule gives the type): the zone answers, scope 0.
 */
export function chooseRule(
  rules: NameRules,
  qtype: number,
  addr: Uint8Array,
  length: number,
  db: CountryDb | null,
  hit: CountryHit,
  out: GeoChoice,
): boolean {
  if (!rules.types.has(qtype) && !rules.types.has(CNAME)) return false;
  let best: GeoRule | null = null;
  let bestBits = -1;
  // §7.2.1: the scope may not cover a network that would be answered otherwise. The longest matching
  // prefix is the answer's network; any rule network beside it that shares a longer stretch of bits with
  // the address narrows it to just past where they part.
  let scope = 0;
  for (const rule of rules.rules) {
    for (const net of rule.networks) {
      if (net.length !== length) continue;
      const common = commonBits(net.bytes, addr, net.bits);
      if (common >= net.bits) {
        if (net.bits > bestBits) {
          best = rule;
          bestBits = net.bits;
        }
      } else if (common + 1 > scope) scope = common + 1;
    }
  }
  if (bestBits > scope) scope = bestBits;
  if (best === null && rules.usesCountries && db !== null) {
    db.lookup(addr, length, hit);
    // The database's own network is what the country is known for (RFC 7871 §7.2.1).
    if (hit.prefix > scope) scope = hit.prefix;
    const country = hit.country;
    if (country !== null) {
      for (const rule of rules.rules) {
        if (rule.countries.has(country)) {
          best = rule;
          break;
        }
      }
    }
  }
  out.rule = best ?? rules.fallback;
  out.scope = scope;
  return true;
}

/** Leading bits `a` and `b` share, at most `max`. */
function commonBits(a: Uint8Array, b: Uint8Array, max: number): number {
  let bits = 0;
  for (let i = 0; bits < max; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) {
      bits += Math.clz32(x) - 24;
      return bits < max ? bits : max;
    }
    bits += 8;
  }
  return max;
}
