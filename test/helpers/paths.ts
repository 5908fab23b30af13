// Where the repository and its neighbours are, from a test compiled into dist/.
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/** The repository root (this file runs as dist/test/helpers/paths.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The anycast-dns CLI as built by `tsc -p .`. */
export const CLI_JS = join(REPO_ROOT, 'dist', 'src', 'cli.js');

/** The bundled example zones. */
export const BUNDLED_ZONES_DIR = join(REPO_ROOT, 'zones');

/** The real root zone of 2018-03-12 (the repository is cloned beside `shared/`). */
export const ROOT_ZONE_2018 = join(REPO_ROOT, '..', 'shared', 'data', 'root-2018-03-12.zone');

/** Source-tree fixtures of the differential tests (not copied into dist/). */
export const DIFF_FIXTURES_DIR = join(REPO_ROOT, 'test', 'diff', 'zones');

