import type { SourceSpec } from '../../collector/collector.js';
import { loadConfig } from '../../config.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { runRoles, startCollectorRole } from '../runtime.js';

const IFACE = /^[A-Za-z0-9._:@-]{1,32}$/;

export const collect: Command = {
  name: 'collect',
  usage: `iotsec collect [--netflow PORT]… [--live IFACE [--filter BPF]]… [--watch DIR]…

Runs traffic sources and writes what they see (flows, devices, signals) to the database. Sources given here
are recorded in the sources table (visible on the Sources page); sources configured through the API
(POST /api/v1/sources) start and stop without a restart. Live capture runs "tcpdump -i IFACE -U -w -" and
needs tcpdump and the capture permission (root or CAP_NET_RAW).

Options:
  --netflow PORT   listen for NetFlow v5/v9/IPFIX on this UDP port (repeatable)
  --live IFACE     capture on this interface (repeatable)
  --filter BPF     capture filter for --live (e.g. "not port 22")
  --watch DIR      ingest capture and log files dropped into this folder (repeatable)
  -h, --help       this help`,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        netflow: { type: 'string', multiple: true },
        live: { type: 'string', multiple: true },
        filter: { type: 'string' },
        watch: { type: 'string', multiple: true },
      },
      false,
    );
    if (values.help) return help(this);
    const specs: SourceSpec[] = [];
    for (const p of values.netflow ?? []) {
      const port = Number(p);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new UsageError(`--netflow: ${p} is not a UDP port`);
      specs.push({ kind: 'netflow', name: `NetFlow/IPFIX :${port}`, config: { port } });
    }
    for (const i of values.live ?? []) {
      if (!IFACE.test(i)) throw new UsageError(`--live: ${i} is not an interface name`);
      specs.push({
        kind: 'live',
        name: `live ${i}`,
        config: { interface: i, ...(values.filter ? { filter: values.filter } : {}) },
      });
    }
    if (values.filter && !values.live) throw new UsageError('--filter goes with --live');
    for (const d of values.watch ?? [])
      specs.push({ kind: 'watch', name: `folder ${d}`, config: { directory: d } });
    const config = loadConfig();
    return runRoles(
      config,
      [(s, log) => startCollectorRole(config, s, log, specs, config.demo === 'on' ? 'on' : 'off')],
      {
        bootstrap: false,
        healthServer: true,
      },
    );
  },
};
