// Which files in a zones directory are zones, and which zone each one holds.
import { basename, isAbsolute, resolve } from 'node:path';

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

/** `resolve(path)`, without its work for a path already absolute and normal (no `.`, `..` or empty segment): a POP reads 100,000 zone files at start-up. */
export function absolutePath(path: string): string {
  return isAbsolute(path) && !path.includes('/.') && !path.includes('//') ? path : resolve(path);
}
