#!/usr/bin/env node
// Entry point of the `iotsec` command (bin/iotsec.js loads it).
import { EXIT } from './errors.js';
import { main } from './program.js';

process.on('unhandledRejection', (reason) => {
  process.stderr.write(
    `iotsec: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`,
  );
  process.exit(EXIT.runtime);
});

process.exit(await main(process.argv.slice(2)));
