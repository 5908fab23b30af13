// The network a TCP peer's address belongs to, as the key that per-prefix limits count under. A
// prefix is a site or a customer, not one host: an IPv4 /24 and an IPv6 /56 (the smallest
// assignment RIPE-690 recommends for a customer site), as BIND, Knot and NSD key rate limits.

/** `192.0.2.77` → `192.0.2.0/24`; `2001:db8:1:2345::9` → `2001:db8:1:2300::/56`; IPv4-mapped IPv6 counts as IPv4. */
export function sourcePrefix(address: string): string {
  const a = plainAddress(address);
  if (!a.includes(':')) return `${a.slice(0, a.lastIndexOf('.'))}.0/24`;
  const g = ipv6LeadingGroups(a);
  return `${g[0]!.toString(16)}:${g[1]!.toString(16)}:${g[2]!.toString(16)}:${(g[3]! & 0xff00).toString(16)}::/56`;
}

/** The address without a `::ffff:` IPv4-mapped prefix, as it is counted per address. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The first four 16-bit groups of an IPv6 address in text (RFC 4291 §2.2), `::` expanded. */
function ipv6LeadingGroups(address: string): number[] {
  const zone = address.indexOf('%');
  const text = zone >= 0 ? address.slice(0, zone) : address;
  const gap = text.indexOf('::');
  const head = gap < 0 ? text.split(':') : text.slice(0, gap) === '' ? [] : text.slice(0, gap).split(':');
  const tail = gap < 0 ? [] : text.slice(gap + 2) === '' ? [] : text.slice(gap + 2).split(':');
  // A dotted IPv4 tail (RFC 4291 §2.2 form 3) fills the last two groups.
  const tailGroups = tail.length + (tail.length > 0 && tail[tail.length - 1]!.includes('.') ? 1 : 0);
  const zeros = 8 - head.length - tailGroups;
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    const part = i < head.length ? head[i] : i < head.length + zeros ? '0' : tail[i - head.length - zeros];
    out.push(part === undefined || part.includes('.') ? 0 : parseInt(part, 16) || 0);
  }
  return out;
}
