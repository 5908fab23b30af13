// `anycast-dns check-config [--config FILE]`, like nsd-checkconf: reads the file as `serve` and
// `health` would and reports the first bad value naming its key (exit 1), so a unit's ExecStartPre=
// stops a broken config before the running server is replaced by one that cannot start.
import { readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, UsageError } from '../errors.js';
import { healthConfigFrom } from '../health/config.js';
import { readConfigDocument, serverConfigFrom } from '../ops/config.js';

const DEFAULT_CONFIG = '/etc/anycast-dns/anycast-dns.yaml';
const USAGE = `usage: anycast-dns check-config [--config FILE]

Checks the server's settings, the health sidecar's \`health:\` section when there is one, and that the
zones directory can be read. Prints "FILE: ok" and exits 0, or the first error naming its key and exits 1.
Default FILE: ${DEFAULT_CONFIG}.`;

export async function runCheckConfig(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  } catch (err) {
    throw new UsageError(`check-config: ${(err as Error).message}\n${USAGE}`);
  }
  if (args.values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const file = args.values.config ?? DEFAULT_CONFIG;
  const doc = readConfigDocument(file);
  const baseDir = dirname(resolve(file));
  const server = serverConfigFrom(doc, baseDir);
  if (doc['health'] !== undefined) healthConfigFrom(doc, baseDir);
  try {
    readdirSync(server.zones);
  } catch (err) {
    throw new ConfigError('zones', `cannot read the zones directory: ${(err as Error).message}`);
  }
  process.stdout.write(`${file}: ok\n`);
  return 0;
}
