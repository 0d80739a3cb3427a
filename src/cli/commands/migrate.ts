import { loadConfig } from '../../config.js';
import { openServices } from '../../api/context.js';
import { PartitionManager } from '../../store/partitions.js';
import { help, parse, type Command } from '../args.js';

export const migrate: Command = {
  name: 'migrate',
  usage: `iotsec migrate

Applies every pending migration (drizzle/) to the database named by DATABASE_URL, or the embedded one
under DATA_DIR, and creates the flow partitions for the next PARTITION_PREMAKE_DAYS days. Safe to run
repeatedly and from several processes at once (an advisory lock serialises them). Every role also
migrates at start.

Options:
  -h, --help   this help`,
  async run(argv) {
    const { values } = parse(argv, {}, false);
    if (values.help) return help(this);
    const config = loadConfig();
    const services = await openServices(config);
    try {
      await new PartitionManager(services.store.db).premake(new Date(), config.partitionPremakeDays);
      process.stdout.write(`database is up to date (${services.store.engine})\n`);
    } finally {
      await services.close();
    }
    return 0;
  },
};
