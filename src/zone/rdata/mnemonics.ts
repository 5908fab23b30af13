// Type and class mnemonics ⇄ codes. The type list is the set BIND 9 prints by name (so an NSEC bitmap
// or an RRSIG "type covered" prints the same here as in `named-compilezone` output); every other code
// is `TYPEnnn` / `CLASSnnn` (RFC 3597 §5).

import { RdataError, type RdataField } from './descriptor.js';

const TYPE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [1, 'A'], [2, 'NS'], [3, 'MD'], [4, 'MF'], [5, 'CNAME'], [6, 'SOA'], [7, 'MB'], [8, 'MG'], [9, 'MR'],
  [10, 'NULL'], [11, 'WKS'], [12, 'PTR'], [13, 'HINFO'], [14, 'MINFO'], [15, 'MX'], [16, 'TXT'], [17, 'RP'],
  [18, 'AFSDB'], [19, 'X25'], [20, 'ISDN'], [21, 'RT'], [22, 'NSAP'], [23, 'NSAP-PTR'], [24, 'SIG'],
  [25, 'KEY'], [26, 'PX'], [27, 'GPOS'], [28, 'AAAA'], [29, 'LOC'], [30, 'NXT'], [31, 'EID'], [32, 'NIMLOC'],
  [33, 'SRV'], [34, 'ATMA'], [35, 'NAPTR'], [36, 'KX'], [37, 'CERT'], [38, 'A6'], [39, 'DNAME'], [40, 'SINK'],
  [41, 'OPT'], [42, 'APL'], [43, 'DS'], [44, 'SSHFP'], [45, 'IPSECKEY'], [46, 'RRSIG'], [47, 'NSEC'],
  [48, 'DNSKEY'], [49, 'DHCID'], [50, 'NSEC3'], [51, 'NSEC3PARAM'], [52, 'TLSA'], [53, 'SMIMEA'], [55, 'HIP'],
  [56, 'NINFO'], [57, 'RKEY'], [58, 'TALINK'], [59, 'CDS'], [60, 'CDNSKEY'], [61, 'OPENPGPKEY'], [62, 'CSYNC'],
  [63, 'ZONEMD'], [64, 'SVCB'], [65, 'HTTPS'], [99, 'SPF'], [100, 'UINFO'], [101, 'UID'], [102, 'GID'],
  [103, 'UNSPEC'], [104, 'NID'], [105, 'L32'], [106, 'L64'], [107, 'LP'], [108, 'EUI48'], [109, 'EUI64'],
  [249, 'TKEY'], [250, 'TSIG'], [251, 'IXFR'], [252, 'AXFR'], [253, 'MAILB'], [254, 'MAILA'], [255, 'ANY'],
  [256, 'URI'], [257, 'CAA'], [258, 'AVC'], [259, 'DOA'], [260, 'AMTRELAY'], [261, 'RESINFO'],
  [32768, 'TA'], [32769, 'DLV'],
];

const typeByName = new Map<string, number>();
const nameByType = new Map<number, string>();
for (const [code, name] of TYPE_NAMES) {
  typeByName.set(name, code);
  nameByType.set(code, name);
}

const CLASS_NAMES: ReadonlyArray<readonly [number, string]> = [
  [1, 'IN'], [3, 'CH'], [4, 'HS'], [254, 'NONE'], [255, 'ANY'],
];
const classByName = new Map<string, number>([['CHAOS', 3], ['HESIOD', 4]]);
const nameByClass = new Map<number, string>();
for (const [code, name] of CLASS_NAMES) {
  classByName.set(name, code);
  nameByClass.set(code, name);
}

/** `PREFIXnnn` (RFC 3597 §5) → nnn, or undefined when `s` is not of that form or out of 0..65535. */
function numberedMnemonic(upper: string, prefix: string): number | undefined {
  if (!upper.startsWith(prefix) || upper.length === prefix.length || upper.length > prefix.length + 5) return undefined;
  let v = 0;
  for (let i = prefix.length; i < upper.length; i++) {
    const d = upper.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v <= 0xffff ? v : undefined;
}

/** Type mnemonic (any case) or `TYPEnnn` → code; undefined when unknown. */
export function typeFromText(s: string): number | undefined {
  const upper = s.toUpperCase();
  return typeByName.get(upper) ?? numberedMnemonic(upper, 'TYPE');
}

/** Code → mnemonic, `TYPEnnn` when BIND has no name for it. */
export function typeToText(code: number): string {
  return nameByType.get(code) ?? `TYPE${code}`;
}

/** Class mnemonic (any case; CHAOS and HESIOD too) or `CLASSnnn` → code; undefined when unknown. */
export function classFromText(s: string): number | undefined {
  const upper = s.toUpperCase();
  return classByName.get(upper) ?? numberedMnemonic(upper, 'CLASS');
}

/** Code → mnemonic, `CLASSnnn` for the rest. */
export function classToText(code: number): string {
  return nameByClass.get(code) ?? `CLASS${code}`;
}

/** A type named inside RDATA (NSEC bitmap, RRSIG type covered): unknown mnemonics are errors. */
export function typeField(text: string, field?: RdataField): number {
  const t = typeFromText(text);
  if (t === undefined) throw new RdataError(`unknown type "${text}"`, field);
  return t;
}
