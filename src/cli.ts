#!/usr/bin/env -S node --max-semi-space-size=1 --no-memory-reducer
// The one `anycast-dns` binary. Each subcommand lives in its own module, loaded on demand so
// `anycast-dns health` never pays for the server's start-up and vice versa.
import { AnycastDnsError } from './errors.js';
import { runOnSupportedNode, supportedNode } from './runtime.js';

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  check: { summary: 'validate zone files like named-checkzone', load: async () => (await import('./commands/check.js')).runCheck },
  serve: {
    summary: 'run the authoritative server',
    load: async () => {
      // Its zone loader threads start first: they come up while the server's modules are read.
      (await import('./sync/loader.js')).ZoneLoader.startEarly();
      return (await import('./server/main.js')).runServe;
    },
  },
  'check-config': { summary: 'validate the config file like nsd-checkconf', load: async () => (await import('./commands/check-config.js')).runCheckConfig },
  ctl: { summary: 'show zone status, reload zones (talks to a running server)', load: async () => (await import('./commands/ctl.js')).runCtl },
  health: { summary: 'run the health sidecar under ExaBGP', load: async () => (await import('./health/main.js')).runHealth },
};

function usage(): string {
  const lines = ['usage: anycast-dns <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(13)} ${c.summary}`);
  lines.push('', "run 'anycast-dns <command> --help' for a command's options");
  return lines.join('\n');
}

async function main(): Promise<number> {
  if (!supportedNode()) return runOnSupportedNode();
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const { VERSION } = await import('./version.js');
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`anycast-dns: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  return (await cmd.load())(rest);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof AnycastDnsError) {
      process.stderr.write(`anycast-dns: ${err.message}\n`);
      process.exitCode = err.code === 'USAGE' ? 2 : 1;
    } else {
      process.stderr.write(`anycast-dns: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
