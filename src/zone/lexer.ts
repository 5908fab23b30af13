// Master-file lexer (RFC 1035 §5.1): splits a file into entries (one record or directive each),
// joining lines inside parentheses and dropping comments. Escapes stay raw: how `\X` and `\DDD`
// decode depends on whether the field is a name or a character string, which only the parser knows.

import type { RdataField } from './rdata/descriptor.js';

/**
 * One entry. The entry and its fields are reused for the next entry, of the same `lex` call or a
 * later one (a zone has millions of fields; allocating each would dominate the load): consume them
 * in the callback, keep only the strings.
 */
export interface Entry {
  /** The entry began with white space: its owner is the previous owner (RFC 1035 §5.1). */
  blankOwner: boolean;
  fields: RdataField[];
  /** Line the entry starts on (1-based). */
  line: number;
}

export class LexError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const SEMI = 0x3b;
const QUOTE = 0x22;
const LPAREN = 0x28;
const RPAREN = 0x29;
const BACKSLASH = 0x5c;

/** Octets that end a bare word (white space, comment, parentheses, quote) or escape the next one: one table load per character instead of eight comparisons. */
const SPECIAL = new Uint8Array(256);
for (const c of [SPACE, TAB, CR, LF, SEMI, QUOTE, LPAREN, RPAREN, BACKSLASH]) SPECIAL[c] = 1;

/** The fields a `lex` call fills and hands out, reused from entry to entry. */
interface Fields {
  pool: RdataField[];
  /** bySize[k]: the first k fields of the pool, so an entry's array has its length without being resized. */
  bySize: RdataField[][];
  entry: Entry;
}

/**
 * The last `lex` call's fields, for the next call of this thread (the file after it, or the next
 * zone's: a POP reads 100,000 small zones in a row). A call made while another runs ($INCLUDE)
 * makes its own. Only a few fields' worth is kept.
 */
let spareFields: Fields | null = null;
const SPARE_MAX_FIELDS = 64;

/** Where lexing of a chunk stopped: the offset and line of the first entry not yet complete. */
export interface LexRest {
  offset: number;
  line: number;
}

/**
 * Calls `onEntry` for each entry of `text` (latin1: one char per octet). Errors that break the
 * structure of the file (unbalanced parentheses or quotes) end that entry: `onError` is told and
 * lexing resumes on the next line, so one typo doesn't hide the rest of the file's problems.
 * With `final` false, `text` is one chunk of a larger file: an entry still open at its end is not
 * reported, and the returned rest says where the next chunk must resume.
 */
export function lex(text: string, onEntry: (e: Entry) => void, onError: (e: LexError) => void, firstLine = 1, final = true): LexRest {
  const fields = spareFields ?? { pool: [], bySize: [], entry: { blankOwner: false, fields: [], line: 0 } };
  spareFields = null;
  try {
    return lexWith(fields, text, onEntry, onError, firstLine, final);
  } finally {
    if (fields.pool.length <= SPARE_MAX_FIELDS) spareFields = fields;
  }
}

function lexWith({ pool, bySize, entry }: Fields, text: string, onEntry: (e: Entry) => void, onError: (e: LexError) => void, firstLine: number, final: boolean): LexRest {
  const n = text.length;
  let i = 0;
  let line = firstLine;
  let count = 0;
  const push = (t: string, quoted: boolean, at: number): void => {
    const f = pool[count];
    if (f === undefined) {
      pool.push({ text: t, quoted, line: at });
    } else {
      f.text = t;
      f.quoted = quoted;
      f.line = at;
    }
    count++;
  };
  while (i < n) {
    // Start of a physical line that may begin an entry.
    const entryStart = i;
    const startLine = line;
    const blankOwner = text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB;
    count = 0;
    let depth = 0;
    let parenLine = 0;
    let broken = false;
    for (;;) {
      if (i >= n) {
        if (!final) return { offset: entryStart, line: startLine };
        if (depth > 0 && !broken) onError(new LexError('unbalanced parentheses', parenLine));
        break;
      }
      const c = text.charCodeAt(i);
      if (c === SPACE || c === TAB || c === CR) {
        i++;
        continue;
      }
      if (c === LF) {
        i++;
        line++;
        if (depth === 0) break;
        continue;
      }
      if (c === SEMI) {
        while (i < n && text.charCodeAt(i) !== LF) i++;
        continue;
      }
      if (c === LPAREN) {
        if (depth === 0) parenLine = line;
        depth++;
        i++;
        continue;
      }
      if (c === RPAREN) {
        i++;
        if (depth === 0) {
          onError(new LexError('unbalanced parentheses', line));
          broken = true;
          skipToEndOfLine();
          break;
        }
        depth--;
        continue;
      }
      if (c === QUOTE) {
        const fieldLine = line;
        let j = i + 1;
        let closed = false;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === BACKSLASH) {
            j += 2;
            continue;
          }
          if (d === QUOTE) {
            closed = true;
            break;
          }
          if (d === LF) break;
          j++;
        }
        if (!closed) {
          onError(new LexError('unbalanced quotes', fieldLine));
          broken = true;
          i = j;
          skipToEndOfLine();
          break;
        }
        push(text.substring(i + 1, j), true, fieldLine);
        i = j + 1;
        continue;
      }
      // A bare word: runs to white space, a comment, a parenthesis or a quote; escapes are kept.
      let j = i;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (SPECIAL[d] !== 1) {
          j++;
          continue;
        }
        if (d !== BACKSLASH) break;
        j += 2;
      }
      if (j > n) j = n;
      push(text.substring(i, j), false, line);
      i = j;
    }
    if (!broken && count > 0) {
      entry.fields = bySize[count] ??= pool.slice(0, count);
      entry.blankOwner = blankOwner;
      entry.line = startLine;
      onEntry(entry);
    }
  }
  return { offset: n, line };

  function skipToEndOfLine(): void {
    while (i < n && text.charCodeAt(i) !== LF) i++;
    if (i < n) {
      i++;
      line++;
    }
  }
}
