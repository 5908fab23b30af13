// Client addresses as octets, read from the text Node's dgram gives (`rinfo.address`) without
// allocating: rate limiting groups clients by prefix and DNS cookies hash the address (RFC 9018 §4.4).

/** Octets of the last address parsed; 4 (IPv4) or 16 (IPv6) of them are meaningful. */
export class AddressBytes {
  readonly bytes = new Uint8Array(16);
  /** 4, 16, or 0 when the text was not an address. */
  length = 0;
  private readonly groups = new Uint16Array(8);

  /** Parses `text` (dotted quad, or RFC 5952 IPv6 with an optional %zone); returns the octet count. */
  parse(text: string): number {
    this.length = text.indexOf(':') >= 0 ? this.parse6(text) : parse4(text, 0, text.length, this.bytes, 0) ? 4 : 0;
    return this.length;
  }

  private parse6(text: string): number {
    const g = this.groups;
    let end = text.indexOf('%');
    if (end < 0) end = text.length;
    let n = 0;
    let gap = -1;
    let i = 0;
    if (text.charCodeAt(0) === 58 /* : */) {
      if (text.charCodeAt(1) !== 58) return 0;
      gap = 0;
      i = 2;
    }
    while (i < end) {
      if (n === 8) return 0;
      let j = i;
      let value = 0;
      for (; j < end && j - i < 5; j++) {
        const d = hexDigit(text.charCodeAt(j));
        if (d < 0) break;
        value = value * 16 + d;
      }
      if (j < end && text.charCodeAt(j) === 46 /* . */) {
        // An embedded IPv4 address ends the text (RFC 4291 §2.2, form 3).
        if (n > 6 || !parse4(text, i, end, this.bytes, 12)) return 0;
        const b = this.bytes;
        g[n++] = (b[12]! << 8) | b[13]!;
        g[n++] = (b[14]! << 8) | b[15]!;
        break;
      }
      if (j === i || j - i > 4) return 0;
      g[n++] = value;
      i = j;
      if (i === end) break;
      if (text.charCodeAt(i) !== 58) return 0;
      i++;
      if (text.charCodeAt(i) === 58) {
        if (gap >= 0) return 0;
        gap = n;
        i++;
      } else if (i === end) return 0;
    }
    if (gap < 0 ? n !== 8 : n > 7) return 0;
    const b = this.bytes;
    const zeros = 8 - n;
    for (let k = 0, out = 0; k < 8; k++) {
      const v = gap >= 0 && k >= gap && k < gap + zeros ? 0 : g[out++]!;
      b[2 * k] = v >> 8;
      b[2 * k + 1] = v & 0xff;
    }
    return 16;
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** A dotted quad in `text[start, end)` into `out[at, at + 4)`. */
function parse4(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255 || part > 3) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + c - 48;
      digits++;
    } else return false;
  }
  return part === 4;
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2, as a dual-stack socket reports IPv4 clients) becomes the IPv4 address. */
export function unmapIPv4(a: AddressBytes): void {
  const b = a.bytes;
  if (a.length !== 16 || b[10] !== 0xff || b[11] !== 0xff) return;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return;
  for (let i = 0; i < 4; i++) b[i] = b[12 + i]!;
  a.length = 4;
}

/** A prefix such as `192.0.2.0/24` or `2001:db8::/32`, as octets and a bit length. */
export interface Prefix {
  readonly bytes: Uint8Array;
  /** 4 or 16. */
  readonly length: number;
  readonly bits: number;
}

/** Parses `text` (`ADDR` or `ADDR/BITS`); null when it is not one. */
export function parsePrefix(text: string): Prefix | null {
  const slash = text.indexOf('/');
  const a = new AddressBytes();
  if (a.parse(slash < 0 ? text : text.slice(0, slash)) === 0) return null;
  const max = a.length * 8;
  const bitsText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > max) return null;
  return { bytes: a.bytes.slice(0, a.length), length: a.length, bits };
}

/** True when the first `bits` bits of `addr` (an AddressBytes of the same family) match the prefix. */
export function prefixContains(p: Prefix, addr: AddressBytes): boolean {
  if (p.length !== addr.length) return false;
  const whole = p.bits >> 3;
  for (let i = 0; i < whole; i++) if (p.bytes[i] !== addr.bytes[i]) return false;
  const rest = p.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (p.bytes[whole]! & mask) === (addr.bytes[whole]! & mask);
}
