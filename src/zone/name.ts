// Domain names. A name is held as its uncompressed wire form (a Buffer ending in the root label).
// Lookups use a *key*: the lower-cased wire form as a latin1 string. Keys make the walk to the
// parent a substring (drop `key.charCodeAt(0) + 1` characters) and are cheap Map keys.

export const MAX_NAME_LENGTH = 255; // RFC 1035 §2.3.4 (wire octets, including the root label)
export const MAX_LABEL_LENGTH = 63; // RFC 1035 §2.3.4

export class NameError extends Error {}

const scratch = Buffer.allocUnsafe(MAX_NAME_LENGTH + 1);

/** ASCII-only lower-casing (RFC 4343: DNS case-insensitivity covers A-Z only). */
export function lowerByte(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

const keyScratch = Buffer.allocUnsafe(MAX_NAME_LENGTH + 1);

/**
 * The lookup key of the wire name at `offset` (a complete, uncompressed name). Lower-cased into a
 * scratch buffer and decoded once, so the key is one flat string (no per-character concatenation).
 */
export function nameKey(wire: Uint8Array, offset = 0): string {
  let i = offset;
  let o = 0;
  for (;;) {
    const len = wire[i]!;
    keyScratch[o++] = len;
    if (len === 0 || o > MAX_NAME_LENGTH) break;
    for (const end = i + len; i < end; ) keyScratch[o++] = lowerByte(wire[++i]!);
    i++;
  }
  return keyScratch.toString('latin1', 0, o);
}

/** The wire form of a key (lower-case). */
export function keyToWire(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

/** Labels in the name of `key`, the root label not counted (the root: 0). */
export function keyLabelCount(key: string): number {
  let n = 0;
  for (let i = 0; key.charCodeAt(i) !== 0; i += key.charCodeAt(i) + 1) n++;
  return n;
}

/** The key of the parent name; the root has no parent. */
export function parentKey(key: string): string | null {
  if (key.length <= 1) return null;
  return key.substring(key.charCodeAt(0) + 1);
}

/** True when `key` equals `ancestor` or lies below it. */
export function keyIsAtOrBelow(key: string, ancestor: string): boolean {
  if (key.length < ancestor.length) return false;
  if (!key.endsWith(ancestor)) return false;
  // The suffix must start on a label boundary.
  const cut = key.length - ancestor.length;
  for (let i = 0; i < cut; i += key.charCodeAt(i) + 1) if (i + key.charCodeAt(i) + 1 === cut) return true;
  return cut === 0;
}

/** Length of the wire name at `offset` in `wire`, or -1 if it runs past the end or is too long. */
export function wireNameLength(wire: Uint8Array, offset: number): number {
  let i = offset;
  for (;;) {
    if (i >= wire.length) return -1;
    const len = wire[i]!;
    if (len === 0) break;
    if (len > MAX_LABEL_LENGTH) return -1;
    i += len + 1;
  }
  const total = i + 1 - offset;
  return total > MAX_NAME_LENGTH ? -1 : total;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Parses a name in presentation form (RFC 1035 §5.1: `\X` and `\DDD` escapes) into `scratch`,
 * returning its wire length. A name without a trailing dot is relative to `origin`; `@` alone is
 * the origin. The text is latin1: one char, one octet.
 */
function parseName(text: string, origin: Buffer | null): number {
  if (text === '@') {
    if (!origin) throw new NameError('"@" used with no origin');
    scratch.set(origin, 0);
    return origin.length;
  }
  if (text === '.') {
    scratch[0] = 0;
    return 1;
  }
  if (text.length === 0) throw new NameError('empty name');
  let o = 1; // write position in scratch
  let labelStart = 0;
  scratch[0] = 0;
  for (let i = 0; i < text.length; ) {
    let c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      const len = o - labelStart - 1;
      if (len === 0) throw new NameError(`empty label in "${text}"`);
      scratch[labelStart] = len;
      i++;
      if (i === text.length) {
        scratch[o++] = 0;
        if (o > MAX_NAME_LENGTH) throw new NameError(`name longer than 255 octets: "${text}"`);
        return o;
      }
      labelStart = o;
      scratch[o++] = 0;
      continue;
    }
    if (c === 0x5c /* \ */) {
      i++;
      if (i >= text.length) throw new NameError(`dangling escape in "${text}"`);
      c = text.charCodeAt(i);
      if (isDigit(c)) {
        const d1 = text.charCodeAt(i + 1);
        const d2 = text.charCodeAt(i + 2);
        if (!isDigit(d1) || !isDigit(d2)) throw new NameError(`bad \\DDD escape in "${text}"`);
        const v = (c - 48) * 100 + (d1 - 48) * 10 + (d2 - 48);
        if (v > 255) throw new NameError(`\\DDD escape out of range in "${text}"`);
        c = v;
        i += 3;
      } else {
        i++;
      }
    } else {
      if (c > 0xff) throw new NameError(`non-octet character in "${text}"`);
      i++;
    }
    if (o - labelStart - 1 >= MAX_LABEL_LENGTH) throw new NameError(`label longer than 63 octets in "${text}"`);
    if (o >= MAX_NAME_LENGTH) throw new NameError(`name longer than 255 octets: "${text}"`);
    scratch[o++] = c;
  }
  const len = o - labelStart - 1;
  if (len === 0) throw new NameError(`empty label in "${text}"`);
  scratch[labelStart] = len;
  if (!origin) throw new NameError(`relative name "${text}" with no origin`);
  if (o + origin.length > MAX_NAME_LENGTH) throw new NameError(`name longer than 255 octets: "${text}"`);
  scratch.set(origin, o);
  return o + origin.length;
}

/** A name in presentation form as a wire Buffer (see parseName for the syntax). */
export function nameFromText(text: string, origin: Buffer | null): Buffer {
  if (text === '@' && origin) return origin;
  const n = parseName(text, origin);
  // Copied by hand: Buffer.from(a view) takes Node's generic path, several times slower for a name's few octets.
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = scratch[i]!;
  return out;
}

/** A name in presentation form straight to its lookup key, with no Buffer in between. */
export function keyFromText(text: string, origin: Buffer | null): string {
  const n = parseName(text, origin);
  for (let i = 0; i < n; i++) scratch[i] = lowerByte(scratch[i]!);
  return scratch.toString('latin1', 0, n);
}

/** Room for a name in presentation form: every octet escaped as `\DDD`, a dot after each label. */
const textScratch = Buffer.allocUnsafe(MAX_NAME_LENGTH * 4 + 1);

/**
 * Presentation form of the wire name at `offset`, absolute (trailing dot), escaping as BIND does.
 * Written into a buffer and decoded once: a string grown by `+=` is a tree of its pieces, and a POP
 * keeps a zone's name for as long as it serves the zone.
 */
export function nameToText(wire: Uint8Array, offset = 0): string {
  const out = textScratch;
  let o = 0;
  let i = offset;
  for (;;) {
    const len = wire[i]!;
    if (len === 0) break;
    for (let j = i + 1; j <= i + len; j++) {
      const c = wire[j]!;
      if (c === 0x2e || c === 0x5c || c === 0x22 || c === 0x3b || c === 0x28 || c === 0x29 || c === 0x40 || c === 0x24) {
        out[o++] = 0x5c;
        out[o++] = c;
      } else if (c <= 0x20 || c >= 0x7f) {
        out[o++] = 0x5c;
        out[o++] = 0x30 + Math.floor(c / 100);
        out[o++] = 0x30 + (Math.floor(c / 10) % 10);
        out[o++] = 0x30 + (c % 10);
      } else {
        out[o++] = c;
      }
    }
    out[o++] = 0x2e;
    i += len + 1;
  }
  return o === 0 ? '.' : out.toString('latin1', 0, o);
}

/** Presentation form of a key. */
export function keyToText(key: string): string {
  return nameToText(keyToWire(key));
}

/**
 * A string whose plain `<` order is the RFC 4034 §6.1 canonical order of keys: labels from the
 * root down, each label's octets shifted up by one and ended by U+0000, so a label sorts before
 * any longer label it prefixes. For sorting many names without a comparator that allocates.
 */
export function canonicalSortKey(key: string): string {
  const starts: number[] = [];
  for (let i = 0; key.charCodeAt(i) !== 0; i += key.charCodeAt(i) + 1) starts.push(i);
  let out = '';
  for (let l = starts.length - 1; l >= 0; l--) {
    const s = starts[l]!;
    const len = key.charCodeAt(s);
    for (let j = s + 1; j <= s + len; j++) out += String.fromCharCode(key.charCodeAt(j) + 1);
    out += '\u0000';
  }
  return out;
}
