// Which files in a zones directory are zones, and which zone each one holds.
import { basename } from 'node:path';

/** Zone files are named `<origin>.zone` (`example.com.zone`); the root zone is `root.zone`. Other files (e.g. `$INCLUDE`d `*.inc`) are not zones. */
const ZONE_FILE_SUFFIX = '.zone';

/** The origin (presentation form, absolute) a zone file's name declares, or null for a file that is not a zone. */
export function originFromFileName(path: string): string | null {
  const base = basename(path);
  if (!base.endsWith(ZONE_FILE_SUFFIX) || base.startsWith('.')) return null;
  const stem = base.slice(0, -ZONE_FILE_SUFFIX.length);
  if (stem === '' ) return null;
  if (stem === 'root') return '.';
  return stem.endsWith('.') ? stem : stem + '.';
}
