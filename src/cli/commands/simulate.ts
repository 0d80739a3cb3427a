import { INCIDENT_KINDS, type IncidentKind } from '../../sim/network.js';
import { simulateToPcap } from '../../sim/pcap-writer.js';
import { loadConfig } from '../../config.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { runRoles, startCollectorRole } from '../runtime.js';

function duration(s: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(s.trim());
  if (!m) throw new UsageError(`--duration: ${s} is not a duration like 90s, 30m or 2h`);
  return Number(m[1]) * ({ s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 's' | 'm' | 'h'] ?? 1000);
}

export const simulate: Command = {
  name: 'simulate',
  usage: `iotsec simulate [--seed N]
iotsec simulate --out FILE.pcap [--duration 1h] [--start ISO-TIME] [--seed N] [--inject KIND@OFFSET]…

About 25 simulated IoT devices (cameras, plugs, bulbs, hubs, speakers, TVs, printers, thermostats, a PLC,
a phone with a rotating MAC) speaking DHCP, ARP, mDNS, SSDP, DNS, NTP, TLS, MQTT, Modbus and S7 as real
packets, with diurnal traffic and occasional incidents. Without --out it runs live into the database through
the same pipeline as real traffic (what iotsec start does when no real source exists). With --out it writes
a capture you can ingest, replay or open in Wireshark.

Incident kinds: ${INCIDENT_KINDS.join(', ')}

Options:
  --out FILE          write a pcap instead of running live
  --duration D        simulated time for --out (default 1h; 90s, 30m, 2h)
  --start T           simulated start time for --out (default: now minus the duration)
  --seed N            random seed (default 1): the same seed gives the same bytes
  --inject K@OFFSET   add an incident at an offset into the capture, e.g. port_scan@10m (repeatable)
  -h, --help          this help`,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        out: { type: 'string' },
        duration: { type: 'string' },
        start: { type: 'string' },
        seed: { type: 'string' },
        inject: { type: 'string', multiple: true },
      },
      false,
    );
    if (values.help) return help(this);
    const seed = values.seed === undefined ? 1 : Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError('--seed must be a whole number');
    if (!values.out) {
      if (values.duration || values.start || values.inject)
        throw new UsageError('--duration, --start and --inject go with --out');
      const config = loadConfig();
      return runRoles(
        config,
        [
          (s, log) =>
            startCollectorRole(
              config,
              s,
              log,
              [{ kind: 'demo', name: `Demo network (seed ${seed})`, config: { seed } }],
              'off',
            ),
        ],
        {
          bootstrap: false,
          healthServer: true,
        },
      );
    }
    const durationMs = duration(values.duration ?? '1h');
    const startMs = values.start ? Date.parse(values.start) : Date.now() - durationMs;
    if (!Number.isFinite(startMs)) throw new UsageError(`--start: ${values.start} is not a time`);
    const inject = (values.inject ?? []).map((x) => {
      const [kind, at] = x.split('@');
      if (!kind || !(INCIDENT_KINDS as readonly string[]).includes(kind))
        throw new UsageError(`--inject: unknown incident ${kind ?? x}`);
      return { kind: kind as IncidentKind, afterMs: duration(at ?? '0') };
    });
    const r = await simulateToPcap(values.out, { seed, startMs, durationMs, inject });
    process.stdout.write(
      `${values.out}: ${r.frames} frames, ${r.bytes} bytes, ${r.groundTruth.length} incidents\n`,
    );
    for (const g of r.groundTruth)
      process.stdout.write(`  ${new Date(g.startMs).toISOString()} ${g.kind} ${g.mac} → ${g.peer ?? '-'}\n`);
    return 0;
  },
};
