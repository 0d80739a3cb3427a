import { createInterface } from 'node:readline/promises';
import { USER_ROLES, type UserRole } from '../../store/schema.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { cliActor, withServices } from './with-services.js';

function role(value: string | undefined): UserRole {
  if (!value || !(USER_ROLES as readonly string[]).includes(value)) {
    throw new UsageError(`--role must be one of ${USER_ROLES.join(', ')}`);
  }
  return value as UserRole;
}

/** The password from --password-stdin (first line of stdin) or IOTSEC_PASSWORD; never from argv. */
async function readPassword(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) {
    const rl = createInterface({ input: process.stdin });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    throw new UsageError('--password-stdin: no line on standard input');
  }
  const env = process.env.IOTSEC_PASSWORD;
  if (env) return env;
  throw new UsageError('give the password on standard input with --password-stdin, or in IOTSEC_PASSWORD');
}

export const users: Command = {
  name: 'users',
  usage: `iotsec users add USERNAME --role admin|analyst|viewer --password-stdin
iotsec users passwd USERNAME --password-stdin
iotsec users role USERNAME admin|analyst|viewer
iotsec users list [--json]

Passwords are read from standard input (--password-stdin) or IOTSEC_PASSWORD, never from the command
line (it would show in the process list). Every change is written to the audit log.

Options:
  --role ROLE         role of the new user
  --password-stdin    read the password from the first line of standard input
  --json              one JSON object per line
  -h, --help          this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      role: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.help) return help(this);
    const [sub, name, arg] = positionals;
    switch (sub) {
      case 'add': {
        if (!name) throw new UsageError('users add: USERNAME is required');
        const r = role(values.role);
        const password = await readPassword(values['password-stdin']);
        await withServices(async (s) => {
          const u = await s.users.create(cliActor(), { username: name, password, role: r });
          process.stdout.write(`created ${u.username} (${u.role})\n`);
        });
        return 0;
      }
      case 'passwd': {
        if (!name) throw new UsageError('users passwd: USERNAME is required');
        const password = await readPassword(values['password-stdin']);
        await withServices(async (s) => {
          const u = await s.users.findByUsername(name);
          if (!u) throw new UsageError(`no user ${name}`);
          await s.users.update(cliActor(), u.id, { password });
          process.stdout.write(`password of ${u.username} changed; their sessions were ended\n`);
        });
        return 0;
      }
      case 'role': {
        if (!name) throw new UsageError('users role: USERNAME is required');
        const r = role(arg ?? values.role);
        await withServices(async (s) => {
          const u = await s.users.findByUsername(name);
          if (!u) throw new UsageError(`no user ${name}`);
          await s.users.update(cliActor(), u.id, { role: r });
          process.stdout.write(`${u.username} is now ${r}\n`);
        });
        return 0;
      }
      case 'list': {
        await withServices(async (s) => {
          for (const u of await s.users.list({ limit: 10_000 })) {
            process.stdout.write(
              values.json
                ? `${JSON.stringify({ id: u.id, username: u.username, role: u.role, disabled: u.disabled })}\n`
                : `${u.username}\t${u.role}${u.disabled ? '\tdisabled' : ''}\n`,
            );
          }
        });
        return 0;
      }
      default:
        throw new UsageError(`users: unknown subcommand ${sub ?? '(none)'}; see iotsec users --help`);
    }
  },
};
