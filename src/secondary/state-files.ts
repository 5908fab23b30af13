// Each secondary zone's version on disk, as a master file in the state directory, so a restart
// serves it at once. A new version is written aside and renamed into place (a reader never sees half
// of one); the version it replaces is kept as a hard link until the new one has passed zone sync's
// checks, and put back if it did not, so the file always holds the last good version.
import { createHash } from 'node:crypto';
import { existsSync, linkSync, renameSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';

/** `<state dir>/<origin>.zone` (`root.zone` for the root), as zone sync names zone files. */
export function stateFile(stateDir: string, origin: string): string {
  return join(stateDir, origin === '.' ? 'root.zone' : `${origin.slice(0, -1)}.zone`);
}

/** The last good version while a new one is judged. */
function goodFile(file: string): string {
  return join(dirname(file), `.${basename(file)}.good`);
}

/** How a version is written: whether to stop (checked between chunks), and whether to take turns with the rest of the machine. */
export interface WriteOptions {
  stopped?: () => boolean;
  /**
   * Rest after each chunk as long as it took, so the write takes at most half a core: a version
   * already served is written while the primary, the other secondaries and the query threads need
   * the cores, and its write may take longer.
   */
  paced?: boolean;
}

/**
 * Writes a new version into `file`, keeping the one there aside; resolves with the SHA-256 of what
 * was written, or null when `stopped()` says so between two chunks (nothing is replaced then).
 */
export async function writeVersion(file: string, chunks: Iterable<string>, opts: WriteOptions = {}): Promise<string | null> {
  const stopped = opts.stopped ?? ((): boolean => false);
  const tmp = join(dirname(file), `.${basename(file)}.tmp`);
  const hash = createHash('sha256');
  const fh = await open(tmp, 'w');
  let complete: boolean;
  try {
    let since = performance.now();
    for (const chunk of chunks) {
      if (stopped()) break;
      const bytes = Buffer.from(chunk, 'utf8');
      hash.update(bytes);
      await fh.write(bytes);
      if (opts.paced === true) {
        await sleep(performance.now() - since);
        since = performance.now();
      }
    }
    complete = !stopped();
    if (complete) await fh.sync();
  } finally {
    await fh.close();
  }
  if (!complete) {
    unlinkSync(tmp);
    return null;
  }
  const good = goodFile(file);
  if (existsSync(good)) unlinkSync(good);
  if (existsSync(file)) linkSync(file, good);
  renameSync(tmp, file);
  await syncDir(dirname(file));
  return hash.digest('hex');
}

/** The new version was taken: the old one is let go. */
export function keepVersion(file: string): void {
  const good = goodFile(file);
  if (existsSync(good)) unlinkSync(good);
}

/** The new version was not taken: the last good one goes back in place (none: no file, so a restart serves nothing rather than a refused version). */
export function restoreVersion(file: string): void {
  const good = goodFile(file);
  if (existsSync(good)) renameSync(good, file);
  else if (existsSync(file)) unlinkSync(file);
}

/** At start-up: a version stopped mid-judgement is not served; the last good one is. */
export function recoverVersion(file: string): void {
  if (existsSync(goodFile(file))) restoreVersion(file);
}

/** A rename is durable once its directory is synced. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
