// The geo rules file (YAML) into a GeoRuleSet, every problem reported as `file:line: message`. Pure:
// text in, rules or errors out; geo-source.ts reads and watches the file.

import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node, type Pair } from 'yaml';
import type { GeoNetwork, GeoRule, GeoRuleSet, NameRules } from '../answer/geo.js';
import { planRR, type PlanRR } from '../answer/plan.js';
import { parsePrefix } from '../wire/address.js';
import { lex } from '../zone/lexer.js';
import { NameError, keyFromText, nameFromText, nameToText } from '../zone/name.js';
import { RdataError, type RdataField } from '../zone/rdata/descriptor.js';
import { descriptorFor, typeFromText } from '../zone/rdata/table.js';
import { T } from '../zone/types.js';
import { NodeFlag, type ZoneSet } from '../zone/zone.js';

const DEFAULT_TTL = 300;
/** TTLs are 31 bits (RFC 2181 §8). */
const MAX_TTL = 0x7fffffff;
/** Rule ids become metric labels: short, plain. */
const RULE_ID = /^[A-Za-z0-9_-]{1,32}$/;
const COUNTRY = /^[A-Z]{2}$/;
/** Types a rule may not give: zone structure and DNSSEC data, which belong to the zone alone. */
const ZONE_ONLY_TYPES: ReadonlySet<number> = new Set([T.SOA, T.NS, T.DNAME, T.DS, T.RRSIG, T.NSEC, T.NSEC3, T.NSEC3PARAM, T.DNSKEY, T.OPT]);
const RULE_KEYS = new Set(['id', 'networks', 'countries', 'ttl']);

export type GeoRulesResult = { ok: true; rules: GeoRuleSet } | { ok: false; errors: string[] };

class Problems {
  readonly errors: string[] = [];
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  at(node: Node | Pair | null | undefined, message: string): void {
    this.errors.push(`${this.file}:${node === null || node === undefined ? 1 : this.line(node)}: ${message}`);
  }

  atLine(line: number, message: string): void {
    this.errors.push(`${this.file}:${line}: ${message}`);
  }

  line(node: Node | Pair): number {
    const range = isPair(node) ? (node.key as Node | null)?.range : node.range;
    return range === undefined || range === null ? 1 : this.lines.linePos(range[0]).line;
  }
}

/** Parses the rules file `file` whose content is `text`. */
export function parseGeoRules(file: string, text: string): GeoRulesResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const p = new Problems(file, lines);
  for (const e of doc.errors) p.errors.push(`${file}:${e.linePos?.[0].line ?? 1}: ${e.message.split('\n')[0]}`);
  if (p.errors.length > 0) return { ok: false, errors: p.errors };
  const names = new Map<string, NameRules>();
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { ok: true, rules: { file, names } };
  if (!isMap(root)) {
    p.at(root, 'the rules file is a map with the keys `ttl` and `names`');
    return { ok: false, errors: p.errors };
  }
  let ttl = DEFAULT_TTL;
  let namesNode: Node | null = null;
  for (const pair of root.items) {
    const key = scalarText(pair.key);
    if (key === 'ttl') ttl = readTtl(p, pair.value as Node, ttl);
    else if (key === 'names') namesNode = pair.value as Node;
    else p.at(pair, `unknown key "${key}" (expected ttl, names)`);
  }
  if (namesNode !== null && !isMap(namesNode)) p.at(namesNode, '`names` maps each name to its rules');
  else if (namesNode !== null) {
    for (const pair of namesNode.items) {
      const rules = readName(p, pair, ttl);
      if (rules === null) continue;
      if (names.has(rules.key)) p.at(pair, `${rules.name} is listed twice`);
      else names.set(rules.key, rules);
    }
  }
  return p.errors.length > 0 ? { ok: false, errors: p.errors } : { ok: true, rules: { file, names } };
}

function readName(p: Problems, pair: Pair, fileTtl: number): NameRules | null {
  const text = scalarText(pair.key);
  if (text === null || !text.endsWith('.')) {
    p.at(pair, `"${text ?? ''}" is not an absolute name (it must end with a dot)`);
    return null;
  }
  let wire: Buffer;
  let key: string;
  try {
    wire = nameFromText(text, null);
    key = keyFromText(text, null);
  } catch (e) {
    if (!(e instanceof NameError)) throw e;
    p.at(pair, e.message);
    return null;
  }
  const name = nameToText(wire);
  const body = pair.value as Node | null;
  if (!isMap(body)) {
    p.at(pair, `${name}: expected a map with rules and default`);
    return null;
  }
  let ttl = fileTtl;
  const ttlNode = body.get('ttl', true) as Node | undefined;
  if (ttlNode !== undefined) ttl = readTtl(p, ttlNode, ttl);
  const rules: GeoRule[] = [];
  let fallback: GeoRule | null = null;
  for (const item of body.items) {
    const k = scalarText(item.key);
    if (k === 'ttl') continue;
    if (k === 'rules') {
      const seq = item.value as Node | null;
      if (!isSeq(seq)) {
        p.at(item, `${name}: rules is a list`);
        continue;
      }
      seq.items.forEach((r, i) => {
        const rule = readRule(p, r as Node, name, wire, key, ttl, String(i + 1), false);
        if (rule !== null) rules.push(rule);
      });
    } else if (k === 'default') fallback = readRule(p, item.value as Node, name, wire, key, ttl, 'default', true);
    else p.at(item, `${name}: unknown key "${k}" (expected ttl, rules, default)`);
  }
  const ids = new Set<string>();
  const seen = new Map<string, number>();
  for (const rule of rules) {
    if (ids.has(rule.id)) p.atLine(rule.line, `${name}: rule id "${rule.id}" is used twice`);
    ids.add(rule.id);
    for (const net of rule.networks) {
      const id = `${Buffer.from(net.bytes).toString('hex')}/${net.bits}`;
      const first = seen.get(id);
      // Longest prefix wins: two rules on one network would leave the choice to file order.
      if (first !== undefined) p.atLine(rule.line, `${name}: a network of this rule is also in the rule on line ${first}`);
      else seen.set(id, rule.line);
    }
  }
  const types = new Set<number>();
  for (const rule of fallback === null ? rules : [...rules, fallback]) for (const t of rule.answers.keys()) types.add(t);
  return { key, name, zoneTag: `${name} zone`, rules, fallback, types, usesCountries: rules.some((r) => r.countries.size > 0), line: p.line(pair) };
}

function readRule(p: Problems, node: Node | null, name: string, owner: Buffer, ownerKey: string, nameTtl: number, position: string, isDefault: boolean): GeoRule | null {
  if (!isMap(node)) {
    p.at(node, `${name}: a rule is a map of types to records`);
    return null;
  }
  const line = p.line(node);
  const errorsBefore = p.errors.length;
  let id = position;
  let ttl = nameTtl;
  const networks: GeoNetwork[] = [];
  const countries = new Set<string>();
  const answers = new Map<number, PlanRR>();
  const ttlNode = node.get('ttl', true) as Node | undefined;
  if (ttlNode !== undefined) ttl = readTtl(p, ttlNode, ttl);
  for (const item of node.items) {
    const k = scalarText(item.key) ?? '';
    const value = item.value as Node | null;
    if (RULE_KEYS.has(k) && isDefault && k !== 'ttl') {
      p.at(item, `${name}: the default has no ${k}`);
      continue;
    }
    if (k === 'ttl') continue;
    if (k === 'id') {
      const v = scalarText(value);
      if (v === null || !RULE_ID.test(v)) p.at(item, `${name}: rule id "${v ?? ''}" must be 1 to 32 letters, digits, - or _`);
      else if (v === 'default') p.at(item, `${name}: "default" names the default, not a rule`);
      else id = v;
    } else if (k === 'networks') {
      for (const n of listItems(value)) {
        const text = scalarText(n) ?? '';
        const net = parsePrefix(text);
        if (net === null || !text.includes('/')) p.at(n, `${name}: "${text}" is not a network (ADDRESS/LENGTH)`);
        else if (!hostBitsClear(net.bytes, net.bits)) p.at(n, `${name}: ${text} has bits set past its prefix length`);
        else networks.push(net);
      }
    } else if (k === 'countries') {
      for (const c of listItems(value)) {
        const text = scalarText(c) ?? '';
        if (!COUNTRY.test(text)) p.at(c, `${name}: "${text}" is not an ISO 3166 alpha-2 country code (two capital letters)`);
        else countries.add(text);
      }
    } else {
      const type = typeFromText(k.toUpperCase());
      if (type === undefined || descriptorFor(type) === undefined) {
        p.at(item, `${name}: unknown key or type "${k}" (expected id, networks, countries, ttl or a record type)`);
        continue;
      }
      if (ZONE_ONLY_TYPES.has(type)) {
        p.at(item, `${name}: ${k.toUpperCase()} records belong to the zone, not to geo rules`);
        continue;
      }
      const rdatas: Buffer[] = [];
      for (const r of listItems(value)) {
        const rdata = readRdata(p, r, name, owner, type);
        if (rdata !== null && !rdatas.some((d) => d.equals(rdata))) rdatas.push(rdata);
      }
      if (rdatas.length > 0) answers.set(type, planRR(ownerKey, { type, ttl, rdatas }));
    }
  }
  if (answers.has(T.CNAME) && answers.size > 1) p.at(node, `${name}: a CNAME can't be beside other types (RFC 1034 §3.6.2)`);
  if ((answers.get(T.CNAME)?.set.rdatas.length ?? 0) > 1) p.at(node, `${name}: a CNAME RRset holds one record (RFC 2181 §10.1)`);
  // Said only of a rule whose lines read well: a bad network or record is reported once, where it is.
  if (p.errors.length === errorsBefore) {
    if (!isDefault && networks.length === 0 && countries.size === 0) p.at(node, `${name}: rule ${id} has neither networks nor countries`);
    if (answers.size === 0) p.at(node, `${name}: rule ${id} gives no records`);
  }
  return { id, tag: `${name} ${id}`, networks, countries, answers, line };
}

function readRdata(p: Problems, node: Node, name: string, owner: Buffer, type: number): Buffer | null {
  const text = scalarText(node);
  if (text === null) {
    p.at(node, `${name}: a record's data is a string`);
    return null;
  }
  const fields: RdataField[] = [];
  let bad = false;
  lex(
    text,
    (e) => {
      for (const f of e.fields) fields.push({ text: f.text, quoted: f.quoted, line: f.line });
    },
    () => {
      bad = true;
    },
  );
  if (bad || fields.length === 0) {
    p.at(node, `${name}: "${text}" is not record data`);
    return null;
  }
  try {
    return descriptorFor(type)!.fromText(fields, {
      origin: owner,
      name: (f) => {
        try {
          return nameFromText(f.text, owner);
        } catch (e) {
          throw e instanceof NameError ? new RdataError(e.message, f) : e;
        }
      },
    });
  } catch (e) {
    if (!(e instanceof RdataError)) throw e;
    p.at(node, `${name}: ${e.message}`);
    return null;
  }
}

function readTtl(p: Problems, node: Node, fallback: number): number {
  const v = isScalar(node) ? node.value : null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TTL) {
    p.at(node, `ttl must be a whole number of seconds from 0 to ${MAX_TTL}`);
    return fallback;
  }
  return v;
}

/** A scalar or a list of scalars, as a list. */
function listItems(node: Node | null): Node[] {
  if (isSeq(node)) return node.items as Node[];
  return node === null ? [] : [node];
}

function scalarText(node: unknown): string | null {
  if (!isScalar(node)) return null;
  const v = node.value;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : null;
}

function hostBitsClear(bytes: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const keep = bits >= (i + 1) * 8 ? 0xff : bits <= i * 8 ? 0 : (0xff << (8 - (bits - i * 8))) & 0xff;
    if ((bytes[i]! & ~keep & 0xff) !== 0) return false;
  }
  return true;
}

/** What the zones say of a rules file: errors are rules that contradict their zone (logged by the server, failing `check`); warnings are rules that answer nothing. */
export interface GeoZoneCheck {
  errors: string[];
  warnings: string[];
}

/**
 * Checks each name with rules against the zone that holds it: rules answer for a name the zone holds,
 * outside any delegation, in an unsigned zone (docs/guide.md, Geo rules and EDNS Client Subnet), and keep RFC 1034
 * §3.6.2 with the zone's own records: a CNAME beside nothing else.
 */
export function checkAgainstZones(rules: GeoRuleSet, zones: ZoneSet): GeoZoneCheck {
  const out: GeoZoneCheck = { errors: [], warnings: [] };
  for (const n of rules.names.values()) {
    const at = `${rules.file}:${n.line}: ${n.name}`;
    const zone = zones.find(n.key);
    if (zone === undefined) {
      out.warnings.push(`${at}: in no zone served: its rules answer nothing`);
      continue;
    }
    if (zone.dnssec?.signed === true) {
      out.errors.push(`${at}: zone ${zone.originText} is signed: geo rules are refused for signed zones (their answers would carry no valid signature)`);
      continue;
    }
    const node = zone.nodeId(n.key);
    if (node < 0 || (zone.nodeFlags(node) & NodeFlag.EmptyNonTerminal) !== 0) {
      out.warnings.push(`${at}: zone ${zone.originText} holds no records at this name: its rules answer nothing`);
      continue;
    }
    if ((zone.nodeFlags(node) & (NodeFlag.Delegation | NodeFlag.BelowCut)) !== 0) {
      out.errors.push(`${at}: at or below a delegation in zone ${zone.originText}: the child zone answers for it`);
      continue;
    }
    const zoneCname = zone.setOf(node, T.CNAME) >= 0;
    const ruleCname = n.types.has(T.CNAME);
    if (zoneCname && [...n.types].some((t) => t !== T.CNAME)) out.errors.push(`${at}: zone ${zone.originText} has a CNAME here: a rule can't give other types beside it (RFC 1034 §3.6.2)`);
    if (ruleCname && !zoneCname) out.errors.push(`${at}: a rule gives a CNAME where zone ${zone.originText} has other records (RFC 1034 §3.6.2)`);
  }
  return out;
}
