import { ConfigError } from '../config.js';
import { AppError } from '../errors.js';
import { StoreLockedError } from '../store/db.js';
import type { Command } from './args.js';
import { audit } from './commands/audit.js';
import { simulate } from './commands/simulate.js';
import { backup, restore } from './commands/backup.js';
import { classify } from './commands/classify.js';
import { collect } from './commands/collect.js';
import { ingest } from './commands/ingest.js';
import { detect } from './commands/detect.js';
import { keys } from './commands/keys.js';
import { migrate } from './commands/migrate.js';
import { models } from './commands/models.js';
import { serve, start, worker } from './commands/roles.js';
import { train } from './commands/train.js';
import { users } from './commands/users.js';
import { vulns } from './commands/vulns.js';
import { EXIT, UsageError } from './errors.js';

/** Every command, in the order `iotsec --help` lists them. */
export const COMMANDS: Command[] = [
  start,
  serve,
  worker,
  collect,
  migrate,
  ingest,
  detect,
  simulate,
  classify,
  train,
  users,
  keys,
  models,
  vulns,
  audit,
  backup,
  restore,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return (
    `iotsec: IoT network security platform\n\nUsage: iotsec <command> [options]   (iotsec <command> --help for more)\n\nCommands:\n` +
    COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n') +
    `\n\nExit codes: 0 ok, 1 runtime error, 2 usage or configuration error.\n`
  );
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('iotsec 0.1.0\n');
    return EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`iotsec: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`iotsec ${cmd.name}: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`iotsec: configuration error: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof AppError) {
      process.stderr.write(`iotsec ${cmd.name}: error ${e.code}: ${e.message}\n`);
      return EXIT.runtime;
    }
    if (e instanceof StoreLockedError) {
      process.stderr.write(`iotsec ${cmd.name}: ${e.message}\n`);
      return EXIT.runtime;
    }
    process.stderr.write(`iotsec ${cmd.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT.runtime;
  }
}
