// Builds a compiled Zone from parsed records and makes the checks named-checkzone and kzonecheck
// make. Record-level checks run as records arrive (they know their line); zone-level checks run in
// finish(). Empty non-terminals become real nodes and node flags are computed once here.

import { keyIsAtOrBelow, keyLabelCount, keyToText, keyToWire, nameKey, parentKey } from './name.js';
import type { Diagnostic, RecordSink } from './parser.js';
import { canonicalRdata } from './rdata/walk.js';
import { descriptorFor, typeToText } from './rdata/table.js';
import { T } from './types.js';
import { newGeneration, NodeFlag, wireRecord, WireRRset, type Zone, type ZoneNode } from './zone.js';

/** An RRset with where its first record was read, for zone-level diagnostics. */
class BuildRRset extends WireRRset {
  constructor(
    type: number,
    ttl: number,
    data: string,
    readonly fileIndex: number,
    readonly line: number,
  ) {
    super(type, ttl, data);
  }
}

class Node implements ZoneNode {
  flags = 0;
  rrsets: BuildRRset[] = [];
  /** The node one label up (null at the apex): set once every name has its node. */
  parent: Node | null = null;
  constructor(readonly key: string) {}
  /** Lower-case wire name, derived on demand so a million-name zone holds one string per name. */
  get name(): Buffer {
    return keyToWire(this.key);
  }
}

/** From this many records on, an RRset's duplicate check uses a Set rather than a scan. */
const LARGE_RRSET = 16;

const canonicalNames: boolean[] = [];

/** Whether RDATA of this type holds names that are lower-cased in canonical form (RFC 4034 §6.2). */
function hasCanonicalNames(type: number): boolean {
  return (canonicalNames[type] ??= descriptorFor(type)?.wire.some((b) => b === 'cname' || b === 'dname') ?? false);
}

/** RRset types that may share a name with a CNAME (RFC 2181 §10.1, RFC 4035 §2.5). */
function mayCoexistWithCname(type: number): boolean {
  return type === T.CNAME || type === T.RRSIG || type === T.NSEC || type === T.KEY;
}

/** Types with a single record per name: a second, different record is an error (BIND: "multiple RRs of singleton type"). */
function isSingleton(type: number): boolean {
  return type === T.SOA || type === T.CNAME || type === T.DNAME;
}

export class ZoneBuilder implements RecordSink {
  private readonly nodes = new Map<string, Node>();
  private readonly originKey: string;
  private records = 0;
  /** Consecutive records usually share an owner: skip the map work for them. */
  private lastOwner: string | null = null;
  private lastNode: Node | null = null;
  /**
   * Canonical RDATA (latin1) of large sets, for duplicate detection in constant time; small sets are
   * scanned instead, so the common case keeps no side structure. Dropped when the zone is built.
   */
  private canon = new Map<BuildRRset, Set<string>>();
  /** Files records came from ($INCLUDE), indexed from each RRset. */
  private readonly files: string[] = [];
  private lastFile = '';
  private lastFileIndex = -1;
  /** Lines of each NS record: the "no address records" check names the NS line. */
  private nsLines = new Map<BuildRRset, number[]>();

  constructor(
    origin: Buffer,
    private readonly file: string,
    private readonly errors: Diagnostic[],
    private readonly warnings: Diagnostic[],
  ) {
    this.originKey = nameKey(origin);
  }

  add(owner: string, type: number, ttl: number, rdata: Buffer, file: string, line: number): void {
    let node: Node | undefined;
    if (owner === this.lastOwner) {
      node = this.lastNode!;
    } else {
      node = this.nodes.get(owner);
      if (!node) {
        node = new Node(owner);
        this.nodes.set(owner, node);
      }
      this.lastOwner = owner;
      this.lastNode = node;
    }
    const key = node.key;

    if (type === T.SOA && key !== this.originKey) {
      this.errors.push({ file, line, message: `SOA record not at top of zone (${keyToText(key)})` });
      return;
    }
    let set: BuildRRset | undefined;
    let hasCname = false;
    let hasOther = false;
    for (const s of node.rrsets) {
      if (s.type === type) set = s;
      if (s.type === T.CNAME) hasCname = true;
      else if (!mayCoexistWithCname(s.type)) hasOther = true;
    }
    // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME owner has no other data.
    if ((type === T.CNAME && hasOther) || (hasCname && !mayCoexistWithCname(type))) {
      this.errors.push({ file, line, message: `${keyToText(key)}: CNAME and other data` });
      return;
    }
    if (!set) {
      set = new BuildRRset(type, ttl, wireRecord(rdata), this.fileIndex(file), line);
      if (type === T.NS) this.nsLines.set(set, [line]);
      // Exact-size arrays: a first push would reserve 16 slots, 130 wasted octets a name.
      node.rrsets = node.rrsets.length === 0 ? [set] : node.rrsets.concat(set);
      this.records++;
      return;
    }
    const canon = canonicalRdata(type, rdata).toString('latin1');
    if (this.isDuplicate(set, canon)) {
      this.warnings.push({ file, line, message: `duplicate ${typeToText(type)} record at ${keyToText(key)} ignored` });
      return;
    }
    if (isSingleton(type)) {
      this.errors.push({ file, line, message: `${keyToText(key)}: multiple RRs of singleton type ${typeToText(type)}` });
      return;
    }
    // RFC 2181 §5.2: all TTLs in an RRset must match; keep the first, as BIND does.
    if (ttl !== set.ttl) {
      this.warnings.push({ file, line, message: `${keyToText(key)} ${typeToText(type)}: TTL ${ttl} differs from the RRset's; set to prior TTL (${set.ttl})` });
    }
    set.data += wireRecord(rdata);
    if (this.canon.size > 0) this.canon.get(set)?.add(canon);
    if (type === T.NS) this.nsLines.get(set)!.push(line);
    this.records++;
  }

  private isDuplicate(set: BuildRRset, canon: string): boolean {
    const known = this.canon.size > 0 ? this.canon.get(set) : undefined;
    if (known) return known.has(canon);
    // Scan the set's records in place; only types with names in their RDATA need re-canonicalising.
    const d = set.data;
    const names = hasCanonicalNames(set.type);
    let n = 0;
    let dup = false;
    for (let p = 0; p < d.length; n++) {
      const len = (d.charCodeAt(p) << 8) | d.charCodeAt(p + 1);
      if (!dup && len === canon.length) {
        let r = d.substring(p + 2, p + 2 + len);
        if (names) r = canonicalRdata(set.type, Buffer.from(r, 'latin1')).toString('latin1');
        dup = r === canon;
      }
      p += 2 + len;
    }
    if (n >= LARGE_RRSET) this.canon.set(set, new Set(set.rdatas.map((r) => canonicalRdata(set.type, r).toString('latin1'))));
    return dup;
  }

  private fileIndex(file: string): number {
    if (file !== this.lastFile) {
      this.lastFile = file;
      this.lastFileIndex = this.files.indexOf(file);
      if (this.lastFileIndex < 0) this.lastFileIndex = this.files.push(file) - 1;
    }
    return this.lastFileIndex;
  }

  private fileOf(set: BuildRRset): string {
    return this.files[set.fileIndex]!;
  }

  /** Runs the zone-level checks and, when there is no error, returns the compiled zone. */
  finish(): Zone | null {
    const apex = this.nodes.get(this.originKey);
    const soa = apex?.rrsets.find((s) => s.type === T.SOA);
    const zoneLine = soa?.line ?? 1;
    if (!apex || !soa) {
      this.errors.push({ file: this.file, line: 1, message: `zone ${keyToText(this.originKey)} has no SOA record` });
      return null;
    }
    if (!apex.rrsets.some((s) => s.type === T.NS)) {
      this.errors.push({ file: this.fileOf(soa), line: zoneLine, message: `zone ${keyToText(this.originKey)} has no NS records at the apex` });
    }
    const byDepth = this.addEmptyNonTerminals();
    this.setFlags(byDepth);
    this.checkOcclusion(byDepth);
    this.checkNsAddresses();
    if (this.errors.length > 0) return null;

    this.canon = new Map();
    for (const node of this.nodes.values()) {
      if (node.rrsets.length > 1) node.rrsets.sort((a, b) => a.type - b.type);
      for (const s of node.rrsets) finishRRset(s);
    }
    this.nsLines = new Map();
    const soaRdata = soa.rdatas[0]!;
    return {
      origin: this.originKey,
      originText: keyToText(this.originKey),
      apex,
      soa,
      serial: soaRdata.readUInt32BE(soaRdata.length - 20),
      negativeTtl: Math.min(soa.ttl, soaRdata.readUInt32BE(soaRdata.length - 4)),
      nodes: this.nodes,
      recordCount: this.records,
      file: this.file,
      generation: newGeneration(),
    };
  }

  /** Creates a node for every name between a record's owner and the apex (RFC 4592 §2.2.2), and returns the nodes by depth. */
  private addEmptyNonTerminals(): Node[][] {
    const originDepth = keyLabelCount(this.originKey);
    const byDepth: Node[][] = [];
    // A Map visits entries added while it is iterated, so new ENTs get their own parents in turn.
    for (const node of this.nodes.values()) {
      if (node.key === this.originKey) continue;
      const pk = parentKey(node.key)!;
      let parent = this.nodes.get(pk);
      if (!parent) {
        parent = new Node(pk);
        parent.flags |= NodeFlag.EmptyNonTerminal;
        this.nodes.set(pk, parent);
      }
      node.parent = parent;
    }
    for (const node of this.nodes.values()) {
      const d = keyLabelCount(node.key) - originDepth;
      (byDepth[d] ??= []).push(node);
    }
    return byDepth;
  }

  /** Flags in one pass from the apex down: a node is below a cut if its parent is a cut, a DNAME, or below one. */
  private setFlags(byDepth: Node[][]): void {
    for (const level of byDepth) {
      if (!level) continue;
      for (const node of level) {
        let f = node.flags;
        if (node.key === this.originKey) f |= NodeFlag.Apex;
        for (const s of node.rrsets) {
          if (s.type === T.NS && node.key !== this.originKey) f |= NodeFlag.Delegation;
          if (s.type === T.DNAME) f |= NodeFlag.DName;
        }
        const parent = node.parent;
        if (parent !== null) {
          if (parent.flags & (NodeFlag.Delegation | NodeFlag.DName | NodeFlag.BelowCut)) f |= NodeFlag.BelowCut;
          if (node.key.charCodeAt(0) === 1 && node.key.charCodeAt(1) === 0x2a) parent.flags |= NodeFlag.WildcardChild;
        }
        node.flags = f;
      }
    }
  }

  /** Data below a zone cut other than glue, and anything below a DNAME, is occluded: served never (a warning, as kzonecheck says). */
  private checkOcclusion(byDepth: Node[][]): void {
    for (const level of byDepth) {
      if (!level) continue;
      for (const node of level) {
        if (node.flags & NodeFlag.Delegation) {
          for (const s of node.rrsets) {
            if (s.type === T.NS || s.type === T.DS || s.type === T.NSEC || s.type === T.RRSIG || s.type === T.A || s.type === T.AAAA) continue;
            this.warnings.push({ file: this.fileOf(s), line: s.line, message: `${keyToText(node.key)} ${typeToText(s.type)} is occluded by the delegation at the same name` });
          }
        }
        if (!(node.flags & NodeFlag.BelowCut)) continue;
        const underDname = this.occludingDname(node);
        for (const s of node.rrsets) {
          if (!underDname && (s.type === T.A || s.type === T.AAAA)) continue; // glue
          const by = underDname ? `the DNAME at ${keyToText(underDname)}` : 'a delegation';
          this.warnings.push({ file: this.fileOf(s), line: s.line, message: `${keyToText(node.key)} ${typeToText(s.type)} is occluded by ${by}` });
        }
      }
    }
  }

  private occludingDname(node: Node): string | null {
    let found: string | null = null;
    for (let n = node.parent; n !== null; n = n.parent) if (n.flags & NodeFlag.DName) found = n.key;
    return found;
  }

  /** An NS target inside the zone must have an address, or resolvers can't reach the server (BIND's check-integrity). */
  private checkNsAddresses(): void {
    for (const node of this.nodes.values()) {
      if (!(node.flags & (NodeFlag.Apex | NodeFlag.Delegation)) || node.flags & NodeFlag.BelowCut) continue;
      const ns = node.rrsets.find((s) => s.type === T.NS);
      if (!ns) continue;
      ns.rdatas.forEach((rdata, i) => {
        const target = nameKey(rdata);
        if (!keyIsAtOrBelow(target, this.originKey)) return;
        const t = this.nodes.get(target);
        if (t && t.rrsets.some((s) => s.type === T.A || s.type === T.AAAA)) return;
        this.errors.push({ file: this.fileOf(ns), line: this.nsLines.get(ns)?.[i] ?? ns.line, message: `NS '${keyToText(target).replace(/\.$/, '')}' has no address records (A or AAAA)` });
      });
    }
  }
}


/** Appending records built the data as a rope of string pieces: copy it flat, once; note target keys. */
function finishRRset(s: BuildRRset): void {
  if (s.data.length > 0 && s.count > 1) s.data = Buffer.from(s.data, 'latin1').toString('latin1');
  s.resolveTargets();
}
