// SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash RFC 9018 §4.4 makes server cookies with.
// The 64-bit words are kept as 32-bit halves in a typed array: no BigInt and no object per call,
// since it runs for every query that carries a cookie. The result goes to `out` as 8 octets, the
// reference implementation's little-endian order (RFC 9018 Appendix A's vectors are in that order).

/** A SipHash key: 16 octets read once into four 32-bit little-endian words. */
export class SipKey {
  readonly k0lo: number;
  readonly k0hi: number;
  readonly k1lo: number;
  readonly k1hi: number;

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError(`a SipHash key is 16 octets, not ${key.length}`);
    this.k0lo = le32(key, 0);
    this.k0hi = le32(key, 4);
    this.k1lo = le32(key, 8);
    this.k1hi = le32(key, 12);
  }
}

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

// The state v0..v3 as eight 32-bit halves [v0 lo, v0 hi, v1 lo, ...]: a typed array keeps every value
// unsigned (a carry is a comparison) and a call allocates nothing.
const v = new Uint32Array(8);

/** v[a] += v[b] (64-bit); v[b] = rotl(v[b], r) ^ v[a]. */
function addRotXor(a: number, b: number, r: number): void {
  const lo = (v[a]! + v[b]!) >>> 0;
  v[a + 1] = v[a + 1]! + v[b + 1]! + (lo < v[a]! ? 1 : 0);
  v[a] = lo;
  const bl = v[b]!;
  const bh = v[b + 1]!;
  v[b] = ((bl << r) | (bh >>> (32 - r))) ^ lo;
  v[b + 1] = ((bh << r) | (bl >>> (32 - r))) ^ v[a + 1]!;
}

/** rotl(v[a], 32): swap the halves. */
function swapHalves(a: number): void {
  const t = v[a]!;
  v[a] = v[a + 1]!;
  v[a + 1] = t;
}

function round(): void {
  addRotXor(0, 2, 13);
  swapHalves(0);
  addRotXor(4, 6, 16);
  addRotXor(0, 6, 21);
  addRotXor(4, 2, 17);
  swapHalves(4);
}

/** Absorbs one 64-bit message word (two compression rounds). */
function absorb(ml: number, mh: number): void {
  v[6] ^= ml;
  v[7] ^= mh;
  round();
  round();
  v[0] ^= ml;
  v[1] ^= mh;
}

/** SipHash-2-4 of `msg[start, start + length)` under `key`, written as 8 octets to `out` at `at`. */
export function sipHash24(key: SipKey, msg: Uint8Array, start: number, length: number, out: Uint8Array, at: number): void {
  v[0] = key.k0lo ^ 0x70736575;
  v[1] = key.k0hi ^ 0x736f6d65;
  v[2] = key.k1lo ^ 0x6e646f6d;
  v[3] = key.k1hi ^ 0x646f7261;
  v[4] = key.k0lo ^ 0x6e657261;
  v[5] = key.k0hi ^ 0x6c796765;
  v[6] = key.k1lo ^ 0x79746573;
  v[7] = key.k1hi ^ 0x74656462;
  const end = start + length;
  const whole = start + (length & ~7);
  let i = start;
  for (; i < whole; i += 8) absorb(le32(msg, i), le32(msg, i + 4));
  // The last word: the remaining octets, zero padded, with the length's low octet on top.
  let ml = 0;
  let mh = (length & 0xff) << 24;
  for (let k = 0; i < end; i++, k++) {
    if (k < 4) ml |= msg[i]! << (8 * k);
    else mh |= msg[i]! << (8 * (k - 4));
  }
  absorb(ml, mh);
  v[4] ^= 0xff;
  round();
  round();
  round();
  round();
  const lo = (v[0]! ^ v[2]! ^ v[4]! ^ v[6]!) >>> 0;
  const hi = (v[1]! ^ v[3]! ^ v[5]! ^ v[7]!) >>> 0;
  out[at] = lo & 0xff;
  out[at + 1] = (lo >>> 8) & 0xff;
  out[at + 2] = (lo >>> 16) & 0xff;
  out[at + 3] = lo >>> 24;
  out[at + 4] = hi & 0xff;
  out[at + 5] = (hi >>> 8) & 0xff;
  out[at + 6] = (hi >>> 16) & 0xff;
  out[at + 7] = hi >>> 24;
}
