// Zone files for the zone sync tests: small, valid, and each version telling its serial at `ver`.

/** A zone `name` at `serial` with `hosts` A records (and apex SOA and NS, and the NS address). */
export function zoneText(name: string, serial: number, hosts = 4, extra = ''): string {
  const lines = ['$TTL 300', `@ SOA ns.${name}. admin.${name}. ${serial} 3600 600 86400 300`, '@ NS ns', 'ns A 192.0.2.53', `ver TXT "${serial}"`];
  for (let i = 0; i < hosts; i++) lines.push(`h${i} A 198.51.100.${i % 250}`);
  return lines.join('\n') + '\n' + extra;
}
