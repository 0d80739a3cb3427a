import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { withServices } from './with-services.js';

export const audit: Command = {
  name: 'audit',
  usage: `iotsec audit verify

Recomputes the hash chain of the audit log. Exit 0 when intact; exit 1 naming the first row that was
edited, deleted or inserted out of order.

Options:
  -h, --help   this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {});
    if (values.help) return help(this);
    if (positionals[0] !== 'verify') throw new UsageError('audit: the subcommand is verify');
    return withServices(async (s) => {
      const r = await s.audit.verify();
      if (r.broken) {
        process.stderr.write(
          `audit log TAMPERED at row ${r.broken.id}: ${r.broken.reason} (${r.checked} rows intact before it)\n`,
        );
        return 1;
      }
      process.stdout.write(`audit log intact: ${r.checked} rows verified\n`);
      return 0;
    });
  },
};
