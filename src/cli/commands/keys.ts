import { ROLES, type Role } from '../../store/schema.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { cliActor, withServices } from './with-services.js';

export const keys: Command = {
  name: 'keys',
  usage: `iotsec keys create NAME [--role sensor|viewer|analyst|admin] [--expires-days N]
iotsec keys revoke ID_OR_PREFIX
iotsec keys list [--json]

A key is printed once at creation; only its hash is stored. The default role, sensor, may only push data
(captures, flows). Send it as "Authorization: Bearer KEY" or "X-API-Key: KEY".

Options:
  --role ROLE          role of the key (default sensor)
  --expires-days N     the key stops working after N days
  --json               one JSON object per line
  -h, --help           this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      role: { type: 'string' },
      'expires-days': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) return help(this);
    const [sub, arg] = positionals;
    switch (sub) {
      case 'create': {
        if (!arg) throw new UsageError('keys create: NAME is required');
        if (values.role !== undefined && !(ROLES as readonly string[]).includes(values.role)) {
          throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        }
        const days = values['expires-days'] === undefined ? undefined : Number(values['expires-days']);
        if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > 3650)) {
          throw new UsageError('--expires-days must be a whole number from 1 to 3650');
        }
        await withServices(async (s) => {
          const { key, apiKey } = await s.apiKeys.create(cliActor(), {
            name: arg,
            role: values.role as Role | undefined,
            expiresInDays: days,
          });
          process.stdout.write(
            values.json
              ? `${JSON.stringify({ id: apiKey.id, prefix: apiKey.prefix, role: apiKey.role, key })}\n`
              : `${key}\n(id ${apiKey.id}, role ${apiKey.role}; shown once: store it now)\n`,
          );
        });
        return 0;
      }
      case 'revoke': {
        if (!arg) throw new UsageError('keys revoke: ID_OR_PREFIX is required');
        await withServices(async (s) => {
          const k = await s.apiKeys.revoke(cliActor(), arg);
          process.stdout.write(`revoked ${k.prefix} (${k.name})\n`);
        });
        return 0;
      }
      case 'list': {
        await withServices(async (s) => {
          for (const k of await s.apiKeys.list()) {
            const state = k.revokedAt ? 'revoked' : 'active';
            process.stdout.write(
              values.json
                ? `${JSON.stringify({ id: k.id, prefix: k.prefix, name: k.name, role: k.role, state })}\n`
                : `${k.prefix}\t${k.name}\t${k.role}\t${state}\n`,
            );
          }
        });
        return 0;
      }
      default:
        throw new UsageError(`keys: unknown subcommand ${sub ?? '(none)'}; see iotsec keys --help`);
    }
  },
};
