// `npm install` step: builds the native UDP path (native/udp.c, Node-API) with the machine's
// compiler and the running Node.js's own headers, never downloading anything. It never fails the
// install: without a compiler, headers or Linux, it says in one line why, and `serve` uses node:dgram.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function unavailable(why, log) {
  const more = log === undefined ? '' : ` (build output: ${log})`;
  console.log(`anycast-dns: the native UDP path is unavailable: ${why}; serve will use node:dgram${more}`);
  process.exit(0);
}

if (process.platform !== 'linux') unavailable(`it needs Linux (recvmmsg, sendmmsg), this is ${process.platform}`);

// Official Node.js builds (and the npm registry's `node` package) carry their headers beside the
// binary: <prefix>/bin/node and <prefix>/include/node; so do distribution packages under /usr.
const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')].filter((d) => d);
const nodedir = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
if (nodedir === undefined) unavailable(`no Node.js headers (include/node/node_api.h) under ${candidates.join(' or ')}`);

const npmGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = [process.env.npm_config_node_gyp, npmGyp].find((p) => p && existsSync(p));
if (gyp === undefined) unavailable('node-gyp (which npm carries) was not found');

const run = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`], { cwd: root, encoding: 'utf8' });
if (run.status !== 0) {
  const log = join(mkdtempSync(join(tmpdir(), 'anycast-dns-native-')), 'build.log');
  writeFileSync(log, `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? String(run.error) : ''}`);
  // The first line that says what is missing or wrong: a compiler, make, Python, a header.
  const cause = `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n').find((l) => /not found|No such file|Could not find|error:/i.test(l));
  unavailable(cause === undefined ? 'the build failed' : `the build failed: ${cause.trim().slice(0, 200)}`, log);
}
console.log('anycast-dns: the native UDP path is built (build/Release/anycast_udp.node)');
