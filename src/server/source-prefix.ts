// The network a TCP peer's address belongs to, as the key that per-prefix limits count under. A
// prefix is a site or a customer, not one host: by default an IPv4 /24 and an IPv6 /56 (the smallest
// assignment RIPE-690 recommends for a customer site), as BIND, Knot and NSD key rate limits.
import { AddressBytes } from '../wire/address.js';

const parsed = new AddressBytes();

/**
 * `192.0.2.77` → `192.0.2.0/24`; `2001:db8:1:2345::9` → `2001:db8:1:2300::/56` (the groups the
 * prefix covers, then `::`); IPv4-mapped IPv6 counts as IPv4. Text that is no address is its own key.
 */
export function sourcePrefix(address: string, ipv4Length = 24, ipv6Length = 56): string {
  const plain = plainAddress(address);
  const n = parsed.parse(plain);
  const b = parsed.bytes;
  if (n === 4) {
    masked(b, 4, ipv4Length);
    return `${b[0]}.${b[1]}.${b[2]}.${b[3]}/${ipv4Length}`;
  }
  if (n !== 16) return plain;
  masked(b, 16, ipv6Length);
  const groups: string[] = [];
  for (let g = 0; g < Math.ceil(ipv6Length / 16); g++) groups.push(((b[2 * g]! << 8) | b[2 * g + 1]!).toString(16));
  return `${groups.join(':')}${groups.length < 8 ? '::' : ''}/${ipv6Length}`;
}

/** The address without a `::ffff:` IPv4-mapped prefix, as it is counted per address. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Clears the bits of `bytes[0, length)` past the first `bits`. */
function masked(bytes: Uint8Array, length: number, bits: number): void {
  for (let i = 0; i < length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    bytes[i] = bytes[i]! & ((0xff00 >> keep) & 0xff);
  }
}
