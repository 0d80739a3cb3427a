#!/usr/bin/env node
// Entry point of the `iotsec` command (bin/iotsec.js loads it).
import { exitOnUnhandledRejection } from './errors.js';
import { main } from './program.js';

exitOnUnhandledRejection();

process.exit(await main(process.argv.slice(2)));
