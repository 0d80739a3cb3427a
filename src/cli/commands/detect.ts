import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../config.js';
import { detectFile } from '../../detect/offline.js';
import {
  classifyFlows,
  combineVerdicts,
  loadThreatModel,
  type ThreatModel,
} from '../../detect/threat/model.js';
import { modelServices } from '../../ml/registry/services.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { withServices } from './with-services.js';

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6', 132: 'sctp' };

export const detect: Command = {
  name: 'detect',
  usage: `iotsec detect <pcap|conn.log…> [--model ID] [--json]

Reads each capture (pcap/pcapng, gzipped or not) or Zeek conn log on its own, runs the detectors (port
scans, telnet scanning, brute force, C&C beaconing and re-dialling, floods, DNS tunnelling and DGA-like
lookups, cleartext logins, new listening services) over its flows in flow-time order, and labels every flow:
a flow cited by a detector's finding gets that finding's threat class (scan, c2, ddos, dos, bruteforce,
exploit, download, other) and its confidence as score; every other flow is benign. Nothing is stored.

With a threat classifier (--model ID, or by default the production threat model when the registry has
one; see \`iotsec train threat\`) every flow is labelled by the classifier (score = the probability of its
class, model = the version id), and the rule verdicts stay in force: a flow the classifier calls benign
but a rule flagged keeps the rule's class and confidence, with model "rules+<id>". Without a production
threat model (or with --model rules) the model is "rules".

Output with --json, one line per flow:
  {"ts","uid"?,"community_id","src","sport","dst","dport","proto","label","score","model"}
(uid only for Zeek input). Without --json: the findings, one per line, then a per-label count.

Options:
  --model ID   a threat classifier version id, or "rules" for the rules alone
  --json       one JSON object per flow
  -h, --help   this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, { model: { type: 'string' }, json: { type: 'boolean' } });
    if (values.help) return help(this);
    if (positionals.length === 0) throw new UsageError('detect: give at least one capture or conn.log');
    if (
      values.model !== undefined &&
      values.model !== 'rules' &&
      !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.model)
    )
      throw new UsageError('--model must be a model version id (uuid) or rules');
    let threat: ThreatModel | null = null;
    if (values.model !== 'rules') {
      const config = loadConfig();
      // The default looks for a production model only where a registry exists (no database is created).
      const hasDb = config.databaseUrl !== undefined || existsSync(join(config.dataDir, 'pglite'));
      if (values.model !== undefined || hasDb) {
        try {
          threat = await withServices((services) =>
            loadThreatModel(modelServices(services, config).registry, values.model),
          );
        } catch (e) {
          if (values.model !== undefined) throw e;
          process.stderr.write(
            `iotsec detect: no threat model (${e instanceof Error ? e.message : String(e)}); using the rules\n`,
          );
        }
      }
    }
    let failed = false;
    for (const file of positionals) {
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) {
        failed = true;
        process.stderr.write(`iotsec detect: ${file}: no such file\n`);
        continue;
      }
      let r;
      try {
        r = await detectFile(file);
      } catch (e) {
        failed = true;
        process.stderr.write(`iotsec detect: ${e instanceof Error ? e.message : String(e)}\n`);
        continue;
      }
      const verdicts = threat
        ? combineVerdicts(threat.id, classifyFlows(threat.model, r.flows), r.labels)
        : r.labels.map((l) => ({ ...l, model: 'rules' }));
      if (values.json) {
        const out: string[] = [];
        r.flows.forEach((f, i) => {
          const l = verdicts[i] ?? { label: 'benign', score: 0, model: 'rules' };
          out.push(
            JSON.stringify({
              ts: f.tsStart / 1e6,
              ...(r.format === 'zeek' ? { uid: f.uid ?? null } : {}),
              community_id: f.communityId,
              src: f.srcIp,
              sport: f.srcPort,
              dst: f.dstIp,
              dport: f.dstPort,
              proto: PROTO[f.proto] ?? String(f.proto),
              label: l.label,
              score: Math.round(l.score * 1000) / 1000,
              model: l.model,
            }),
          );
          if (out.length >= 1000) process.stdout.write(`${out.splice(0).join('\n')}\n`);
        });
        if (out.length) process.stdout.write(`${out.join('\n')}\n`);
      } else {
        const seen = new Set<string>();
        for (const f of r.findings) {
          const k = `${f.kind}|${f.device?.ip ?? '-'}|${f.peer ?? '-'}`;
          if (seen.has(k)) continue;
          seen.add(k);
          process.stdout.write(`${file}\t${f.severity}\t${f.kind}\t${f.title}\n`);
        }
        const counts = new Map<string, number>();
        for (const l of verdicts) counts.set(l.label, (counts.get(l.label) ?? 0) + 1);
        process.stdout.write(
          `${file}: ${r.flows.length} flows (${threat ? `model ${threat.id}` : 'rules'}); ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}\n`,
        );
      }
      if (r.error) {
        failed = true;
        process.stderr.write(
          `iotsec detect: ${file}: ${r.error.message} at byte ${r.error.offset} (flows before it were judged)\n`,
        );
      }
    }
    return failed ? 1 : 0;
  },
};
