import { loadConfig } from '../../config.js';
import { backup as runBackup, BackupError, restore as runRestore } from '../../store/backup.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';

async function guarded(f: () => Promise<string>): Promise<number> {
  try {
    process.stdout.write(`${await f()}\n`);
    return 0;
  } catch (e) {
    if (e instanceof BackupError) {
      process.stderr.write(`iotsec: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export const backup: Command = {
  name: 'backup',
  usage: `iotsec backup DIR

Writes DIR/manifest.json, the database (embedded: a snapshot of DATA_DIR/pglite; PostgreSQL: a pg_dump
custom-format archive of the IoTSec schema) and DIR/models (model artifacts). DIR must be new or empty.
The embedded database must not be in use (stop iotsec start first); PostgreSQL is backed up online.

Options:
  -h, --help   this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {});
    if (values.help) return help(this);
    const [dir] = positionals;
    if (!dir || positionals.length > 1) throw new UsageError('backup: give one folder');
    return guarded(async () => {
      const m = await runBackup(loadConfig(), dir);
      return `backup of the ${m.engine} database written to ${dir}${m.models ? ' (with model artifacts)' : ''}`;
    });
  },
};

export const restore: Command = {
  name: 'restore',
  usage: `iotsec restore DIR --yes

Restores the database and model artifacts from DIR into the configured database (DATABASE_URL or the
embedded one under DATA_DIR; the previous embedded database is kept as DATA_DIR/pglite.before-restore-*).
Stop every IoTSec process using the database first.

Options:
  --yes        confirm that the current data is to be replaced
  -h, --help   this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, { yes: { type: 'boolean' } });
    if (values.help) return help(this);
    const [dir] = positionals;
    if (!dir || positionals.length > 1) throw new UsageError('restore: give one folder');
    if (!values.yes) throw new UsageError('restore replaces the current data: add --yes to confirm');
    return guarded(async () => {
      const m = await runRestore(loadConfig(), dir);
      return `restored the ${m.engine} backup of ${m.created_at} from ${dir}`;
    });
  },
};
