// The contract between the master-file parser and the RR-type table. One descriptor per type drives
// presentation parsing, wire rendering, printing, and which embedded names the encoder may compress.

/** One whitespace-separated field of a record's RDATA as the lexer read it. */
export interface RdataField {
  /** Raw text: escapes (`\X`, `\DDD`) are NOT decoded; quotes are removed. latin1: one char, one octet. */
  text: string;
  /** The field was a quoted string ("..."). */
  quoted: boolean;
  /** 1-based line in the file where the field starts (records may span lines in parentheses). */
  line: number;
}

export interface ParseContext {
  /** The current $ORIGIN, wire form. */
  origin: Buffer;
  /** Resolves a name field against the origin (`@`, relative, absolute); throws RdataError on bad names. */
  name(field: RdataField): Buffer;
}

/**
 * How the wire RDATA is laid out, for walking it without parsing presentation (Knot's descriptor blocks):
 * - a positive number: that many fixed octets;
 * - 'compressible-name': an embedded name the encoder may compress (RFC 3597 §4: only RFC 1035 types), lower-cased in canonical form;
 * - 'decompressible-name': an embedded name never compressed, lower-cased in canonical form (RFC 4034 §6.2, RFC 6840 §5.1);
 * - 'fixed-name': an embedded name never compressed nor lower-cased (e.g. the NSEC next name);
 * - 'naptr': NAPTR's order/preference and three character-strings (RFC 3403), before its replacement name;
 * - 'rest': everything to the end of the RDATA, opaque.
 */
export type WireBlock = number | 'compressible-name' | 'decompressible-name' | 'fixed-name' | 'naptr' | 'rest';

export interface TypeDescriptor {
  code: number;
  mnemonic: string;
  wire: readonly WireBlock[];
  /** Presentation fields → wire RDATA. Throws RdataError naming the bad field. */
  fromText(fields: readonly RdataField[], ctx: ParseContext): Buffer;
  /** Wire RDATA → presentation (names absolute, as BIND's `named-compilezone` prints them). */
  toText(rdata: Buffer): string;
}

export class RdataError extends Error {
  constructor(
    message: string,
    /** The field at fault, when there is one; its line is the one reported. */
    readonly field?: RdataField,
  ) {
    super(message);
  }
}
