// The Node.js lines anycast-dns runs on: 22.12 or later (package.json's engines). Started by an
// older node (a machine whose own is 20, say), the bin runs itself again on the one scripts/node.sh
// picks: the machine's if supported, else the checkout's own from the npm registry's `node` package.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { constants } from 'node:os';

export const MIN_NODE = { major: 22, minor: 12 } as const;

export function supportedNode(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > MIN_NODE.major || (major === MIN_NODE.major && minor >= MIN_NODE.minor);
}

/** scripts/node.sh beside this file's dist/src/ (the checkout, or the installed package). */
const NODE_SH = fileURLToPath(new URL('../../scripts/node.sh', import.meta.url));

/**
 * Runs this process's script again, with its Node.js flags and arguments, on the Node.js
 * scripts/node.sh picks; resolves with the exit status to end with (scripts/node.sh prints one line
 * and exits 1 when there is none).
 */
export function runOnSupportedNode(): Promise<number> {
  if (!existsSync(NODE_SH)) {
    process.stderr.write(`anycast-dns: Node.js ${MIN_NODE.major}.${MIN_NODE.minor} or later is needed (this is ${process.version}), and ${NODE_SH} is missing\n`);
    return Promise.resolve(1);
  }
  const child = spawn('sh', [NODE_SH, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], { stdio: 'inherit' });
  // A terminal's Ctrl-C reaches the whole process group, the child too: this process only waits.
  const ignore = (): void => {};
  const forward = (sig: NodeJS.Signals): void => {
    child.kill(sig);
  };
  process.on('SIGINT', ignore);
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`anycast-dns: cannot run ${NODE_SH}: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
  });
}
