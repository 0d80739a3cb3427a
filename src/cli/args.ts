import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with `--help` built in and usage errors as UsageError (exit 2). */
export function parse<O extends Options>(argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

export interface Command {
  name: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** `iotsec <command> --help`: the command's usage text. */
export function help(cmd: Pick<Command, 'usage'>): number {
  process.stdout.write(`${cmd.usage}\n`);
  return 0;
}
