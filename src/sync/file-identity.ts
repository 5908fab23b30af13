// A zone file's identity, as zone sync compares it between scans: a file whose identity is unchanged
// is not read again.

/** What identifies one version of a file (as fs.Stats has it). */
interface FileStat {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** Device, inode, size, mtime and ctime, as one string (joined, not concatenated: a string built with `+=` is a tree of pieces, kept as long as the zone is). */
export function fileIdentity(s: FileStat): string {
  return [s.dev, s.ino, s.size, s.mtimeMs, s.ctimeMs].join(':');
}

/** The identity of a file that could not be stat'ed. */
export const MISSING_FILE = 'missing';
