import { isMainThread } from 'node:worker_threads';
import { ConfigError } from '../config.js';
import { AppError } from '../errors.js';
import { StoreLockedError } from '../store/errors.js';
import type { Command } from './args.js';
import { EXIT, UsageError } from './errors.js';
import { runIsolated } from './isolated.js';

/**
 * A command as `iotsec --help` lists it. Its module is imported only when it runs: loading every command's
 * dependencies (the API server, the job queue, TensorFlow) would cost each run most of a second.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
  /** Runs in a worker thread with a capped heap (./isolated.ts). */
  isolated?: true;
}

/** Every command, in the order `iotsec --help` lists them. */
export const COMMANDS: CommandEntry[] = [
  {
    name: 'start',
    summary: 'Run everything in one process: API and dashboard, worker, collector',
    load: async () => (await import('./commands/roles.js')).start,
  },
  {
    name: 'serve',
    summary: 'Run the API role (REST, WebSocket, dashboard, docs, probes)',
    load: async () => (await import('./commands/roles.js')).serve,
  },
  {
    name: 'worker',
    summary: 'Run the worker role (training, sync, matching, rollups, retention jobs)',
    load: async () => (await import('./commands/roles.js')).worker,
  },
  {
    name: 'collect',
    summary: 'Run the collector role: NetFlow/IPFIX listener, live capture, watched folders',
    load: async () => (await import('./commands/collect.js')).collect,
  },
  {
    name: 'migrate',
    summary: 'Apply database migrations and create upcoming flow partitions',
    load: async () => (await import('./commands/migrate.js')).migrate,
  },
  {
    name: 'ingest',
    summary: 'Ingest pcap/pcapng (also gzipped), Zeek logs or Suricata EVE files into the database',
    load: async () => (await import('./commands/ingest.js')).ingest,
    isolated: true,
  },
  {
    name: 'detect',
    summary: 'Label every flow of captures or Zeek conn logs as benign or a threat class (in memory)',
    load: async () => (await import('./commands/detect.js')).detect,
  },
  {
    name: 'simulate',
    summary: 'The demo IoT network: into the database live, or written to a pcap',
    load: async () => (await import('./commands/simulate.js')).simulate,
  },
  {
    name: 'classify',
    summary: 'Identify the devices in captures (in memory, nothing stored)',
    load: async () => (await import('./commands/classify.js')).classify,
  },
  {
    name: 'train',
    summary: 'Train a model version from labelled data (device-type, threat)',
    load: async () => (await import('./commands/train.js')).train,
  },
  {
    name: 'users',
    summary: 'Manage users: add, passwd, role, list',
    load: async () => (await import('./commands/users.js')).users,
  },
  {
    name: 'keys',
    summary: 'Manage API keys: create, revoke, list',
    load: async () => (await import('./commands/keys.js')).keys,
  },
  {
    name: 'models',
    summary: 'Model versions: list, promote, rollback, A/B split',
    load: async () => (await import('./commands/models.js')).models,
  },
  {
    name: 'vulns',
    summary: 'Vulnerability data: import NVD/KEV/EPSS files, match CPEs, sync NVD and KEV',
    load: async () => (await import('./commands/vulns.js')).vulns,
  },
  {
    name: 'audit',
    summary: 'Check the audit log hash chain: audit verify',
    load: async () => (await import('./commands/audit.js')).audit,
  },
  {
    name: 'backup',
    summary: 'Back up the database and model artifacts into a new folder',
    load: async () => (await import('./commands/backup.js')).backup,
  },
  {
    name: 'restore',
    summary: 'Restore a backup made by iotsec backup (replaces the current data)',
    load: async () => (await import('./commands/backup.js')).restore,
  },
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
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`iotsec: unknown command "${name}"\n\n${usage()}`);
    return EXIT.usage;
  }
  try {
    if (entry.isolated && isMainThread) return await runIsolated(argv);
    return await (await entry.load()).run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`iotsec ${entry.name}: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`iotsec: configuration error: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof AppError) {
      process.stderr.write(`iotsec ${entry.name}: error ${e.code}: ${e.message}\n`);
      return EXIT.runtime;
    }
    if (e instanceof StoreLockedError) {
      process.stderr.write(`iotsec ${entry.name}: ${e.message}\n`);
      return EXIT.runtime;
    }
    process.stderr.write(
      `iotsec ${entry.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return EXIT.runtime;
  }
}
