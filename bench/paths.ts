// Where the benchmarks find the repository, the shared root zone and their generated data.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The real root zone of 2018-03-12, shared beside the repository. */
export const ROOT_ZONE_SOURCE = join(REPO_ROOT, '..', 'shared', 'data', 'root-2018-03-12.zone');

/** Our own binary, as built by `npm run build`. */
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli.js');

/** Generated zones and query files live outside the repository (tens of MB); override with ANYCAST_DNS_BENCH_DIR. */
export function benchDataDir(): string {
  return process.env['ANYCAST_DNS_BENCH_DIR'] ?? join(tmpdir(), 'anycast-dns-bench');
}
