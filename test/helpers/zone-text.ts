// Zone files for the zone sync tests: small, valid, and each version telling its serial at `ver`;
// and putting a file in place the way a deploy does.
import { renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A zone `name` at `serial` with `hosts` A records (and apex SOA and NS, and the NS address). */
export function zoneText(name: string, serial: number, hosts = 4, extra = ''): string {
  const lines = ['$TTL 300', `@ SOA ns.${name}. admin.${name}. ${serial} 3600 600 86400 300`, '@ NS ns', 'ns A 192.0.2.53', `ver TXT "${serial}"`];
  for (let i = 0; i < hosts; i++) lines.push(`h${i} A 198.51.100.${i % 250}`);
  return lines.join('\n') + '\n' + extra;
}

/**
 * Writes `text` aside and renames it into place as `dir/file`, as rsync and every careful tool does.
 * With `ageMs`, its mtime is set that far in the past, so a watcher's settle wait is already over.
 */
export function putFile(dir: string, file: string, text: string, ageMs?: number): void {
  const tmp = join(dir, `.${file}.tmp`);
  writeFileSync(tmp, text);
  if (ageMs !== undefined) {
    const t = new Date(Date.now() - ageMs);
    utimesSync(tmp, t, t);
  }
  renameSync(tmp, join(dir, file));
}
