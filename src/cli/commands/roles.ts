import { loadConfig } from '../../config.js';
import { help, parse, type Command } from '../args.js';
import { runRoles, startApiRole, startCollectorRole, startWorkerRole } from '../runtime.js';
import { UsageError } from '../errors.js';

export const start: Command = {
  name: 'start',
  usage: `iotsec start [--demo | --no-demo]

Runs the api, worker and collector roles in one process. Without DATABASE_URL the database is embedded
(PGlite under DATA_DIR); without REDIS_URL jobs and events stay in-process. On first start an admin account
is created and its password printed once (or taken from ADMIN_PASSWORD).

Options:
  --demo       run the simulated demo network even when real sources exist
  --no-demo    never run the demo network (DEMO=off)
  -h, --help   this help`,
  async run(argv) {
    const { values } = parse(argv, { demo: { type: 'boolean' }, 'no-demo': { type: 'boolean' } }, false);
    if (values.help) return help(this);
    if (values.demo && values['no-demo']) throw new UsageError('--demo and --no-demo exclude each other');
    const config = loadConfig();
    if (values.demo) config.demo = 'on';
    if (values['no-demo']) config.demo = 'off';
    return runRoles(
      config,
      [
        (s, log) => startWorkerRole(config, s, log),
        (s, log) => startCollectorRole(config, s, log, [], config.demo),
        (s, log) => startApiRole(config, s, log),
      ],
      { bootstrap: true },
    );
  },
};

export const serve: Command = {
  name: 'serve',
  usage: `iotsec serve

Runs only the api role: stateless, so several can run behind a load balancer on one PostgreSQL
(DATABASE_URL) and one Redis (REDIS_URL). Creates the first admin when the database has no user.

Options:
  -h, --help   this help`,
  async run(argv) {
    const { values } = parse(argv, {}, false);
    if (values.help) return help(this);
    const config = loadConfig();
    return runRoles(config, [(s, log) => startApiRole(config, s, log)], { bootstrap: true });
  },
};

export const worker: Command = {
  name: 'worker',
  usage: `iotsec worker

Runs background jobs from the queue (BullMQ on REDIS_URL; in-process without it): flow partition
maintenance and retention, and the jobs later features add. Run several against one Redis to scale out.

Options:
  -h, --help   this help`,
  async run(argv) {
    const { values } = parse(argv, {}, false);
    if (values.help) return help(this);
    const config = loadConfig();
    return runRoles(config, [(s, log) => startWorkerRole(config, s, log)], {
      bootstrap: false,
      healthServer: true,
    });
  },
};
