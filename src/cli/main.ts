#!/usr/bin/env node
/**
 * The `account-shield` command. Each command lives in its own file under cli/ and is one
 * line in the table below; adding `lock`, `unlock`, `status` means adding src/cli/locks.ts
 * exporting `CliCommand`s and their lines here.
 *
 * Exit codes: 0 success (for `check`: found), 1 `check` found nothing, 2 any error.
 */
import { readFileSync } from 'node:fs';
import { type CliCommand, EXIT_ERROR, EXIT_OK } from './common.js';
import { leaksCommand } from './leaks.js';
import { lockCommand, statusCommand, unlockCommand } from './locks.js';
import { passwordsCommand } from './passwords.js';

const commands: Record<string, CliCommand> = {
  leaks: leaksCommand,
  passwords: passwordsCommand,
  lock: lockCommand,
  unlock: unlockCommand,
  status: statusCommand,
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length)) + 2;
  const lines = Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}${command.summary}`);
  return [
    'usage: account-shield COMMAND ...',
    '       account-shield --version',
    '',
    'commands:',
    ...lines,
    '',
    "run 'account-shield COMMAND --help' (or 'account-shield leaks build --help') for details",
    '',
    'exit codes: 0 done (check: found), 1 check: not found, 2 any error (bad arguments,',
    'unreadable or empty input, a secret the shield would refuse or that is not the servers\',',
    'unreachable Redis)',
  ].join('\n');
}

/** The package's version, from the package.json above dist/ (or src/ when run from source). */
function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return EXIT_OK;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return EXIT_OK;
  }
  const command = name === undefined ? undefined : commands[name];
  if (command === undefined) {
    if (name !== undefined) process.stderr.write(`error: unknown command '${name}'\n`);
    process.stderr.write(`${usage()}\n`);
    return EXIT_ERROR;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    // A bug, not an input problem: say so without a stack full of paths, still exit 2.
    process.stderr.write(`error: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env['ACCOUNT_SHIELD_DEBUG']) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    return EXIT_ERROR;
  }
}

process.exitCode = await main(process.argv.slice(2));
