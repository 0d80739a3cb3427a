import { loadConfig } from '../../config.js';
import { LabelsError } from '../../devices/labels.js';
import { registerTrained, trainFromLabels } from '../../devices/model-store.js';
import type { DeviceTypeMetrics } from '../../devices/model.js';
import { modelServices } from '../../ml/registry/services.js';
import {
  registerThreatModel,
  ThreatLabelsError,
  trainThreatFromSources,
} from '../../detect/threat/trainer.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { cliActor, withServices } from './with-services.js';

export const train: Command = {
  name: 'train',
  usage: `iotsec train device-type --labels FILE.csv [--promote] [--folds K] [--trees N] [--json]
iotsec train threat --labels FILE… [--sim-seeds 1,2,3] [--promote] [--folds K|loso] [--trees N] [--json]

Trains the device-type Random Forest on labelled captures: the CSV has the header pcap,mac,device_type,
capture paths relative to the CSV, one row per labelled device. Every capture is profiled in memory (the
IoT Sentinel packet fingerprint, flow statistics, port sets, DNS domains and signals of the labelled MAC),
evaluated by cross-validation grouped by capture (StratifiedGroupKFold: no capture is ever in train and
test at once), fitted on everything and registered as a new candidate version (production with --promote).
Prints the version id and its metrics. A malformed row, a missing capture or a MAC absent from its capture
fails naming the line, and nothing is trained.

Options:
  --labels FILE   the labels CSV (required)
  --promote       make the new version production
  --folds K       cross-validation folds (default 10; fewer when a type has fewer captures; 0 skips)
  --trees N       trees in the forest (default 200)
  --json          print the result as one JSON object
  -h, --help      this help

threat: trains the flow threat classifier (gradient-boosted trees, registry algorithm gbt-hist) that
\`iotsec detect\` uses. --labels may be repeated; each FILE is either an IoT-23 labelled Zeek conn log
(conn.log.labeled: detailed labels mapped to benign/scan/c2/ddos/exploit/download/other) or a CSV with
the header path,kind (paths relative to the CSV), kind one of:
  iot23            an IoT-23 conn.log.labeled
  pcap-benign      a capture whose flows are all benign
  btest:<class>    an attack trace: the source with the most flows is the attacker, its flows get <class>
  sim:<seed>       a simulated 70-minute network with one incident of each kind (path left empty)
--sim-seeds adds simulator scenarios without a CSV. Every file or simulator run is one scenario:
evaluation holds whole scenarios out (GroupKFold by scenario, default 5 folds; loso = leave one scenario
out; 0 skips), reports macro-F1 and a per-class table, then fits on everything and registers the version
(task threat; production with --promote).`,
  async run(argv) {
    if (argv[0] === 'threat') return runThreat(argv.slice(1));
    const { values, positionals } = parse(argv, {
      labels: { type: 'string' },
      promote: { type: 'boolean' },
      folds: { type: 'string' },
      trees: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) return help(this);
    const [task, ...extra] = positionals;
    if (task !== 'device-type')
      throw new UsageError(`train: the task must be device-type${task ? ` (got ${task})` : ''}`);
    if (extra.length) throw new UsageError(`train: unexpected argument ${extra[0]}`);
    if (!values.labels) throw new UsageError('train device-type: --labels FILE.csv is required');
    const folds = values.folds === undefined ? 10 : Number(values.folds);
    if (!Number.isInteger(folds) || folds < 0 || folds === 1)
      throw new UsageError('--folds must be 0 or an integer >= 2');
    const trees = values.trees === undefined ? undefined : Number(values.trees);
    if (trees !== undefined && (!Number.isInteger(trees) || trees < 1 || trees > 5000))
      throw new UsageError('--trees must be an integer 1..5000');
    const tty = process.stderr.isTTY && !values.json;
    let out;
    try {
      out = await trainFromLabels(values.labels, {
        cvFolds: folds,
        ...(trees ? { nEstimators: trees } : {}),
        onProgress: tty ? (stage, d, t) => process.stderr.write(`\r${stage} ${d}/${t}   `) : undefined,
      });
    } catch (e) {
      if (e instanceof LabelsError) {
        if (tty) process.stderr.write('\n');
        process.stderr.write(`iotsec train: ${e.message}; nothing was trained\n`);
        return 1;
      }
      throw e;
    }
    if (tty) process.stderr.write('\n');
    const config = loadConfig();
    const row = await withServices(async (services) =>
      registerTrained(modelServices(services, config).registry, out, {
        promote: values.promote ?? false,
        actor: cliActor(),
      }),
    );
    const m = out.metrics as Partial<DeviceTypeMetrics>;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ model_id: row.id, task: row.task, version: row.version, status: row.status, metrics: out.metrics, training: out.trainingSummary })}\n`,
      );
      return 0;
    }
    const pct = (x: number | undefined) => (x === undefined ? 'n/a' : `${(x * 100).toFixed(1)}%`);
    process.stdout.write(
      `model ${row.id} (device_type v${row.version}, ${row.status})\n` +
        `  samples ${String(out.trainingSummary['samples'])}, types ${(out.trainingSummary['class_names'] as string[]).length}\n` +
        (m.accuracy !== undefined
          ? `  cross-validation (${m.folds} folds grouped by capture): accuracy ${pct(m.accuracy)}, macro F1 ${pct(m.macro_f1)}, ` +
            `without packet features ${pct(m.accuracy_without_packets)}\n` +
            (m.top_confusions?.length ? `  confusions: ${m.top_confusions.slice(0, 8).join('; ')}\n` : '')
          : '  cross-validation skipped\n'),
    );
    return 0;
  },
};

async function runThreat(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    labels: { type: 'string', multiple: true },
    'sim-seeds': { type: 'string' },
    promote: { type: 'boolean' },
    folds: { type: 'string' },
    trees: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return help(train);
  if (positionals.length) throw new UsageError(`train threat: unexpected argument ${positionals[0]}`);
  const labels = values.labels ?? [];
  const seeds = (values['sim-seeds'] ?? '')
    .split(',')
    .filter((x) => x.trim() !== '')
    .map(Number);
  if (!seeds.every((x) => Number.isInteger(x) && x >= 0))
    throw new UsageError('--sim-seeds must be a comma-separated list of integers');
  if (labels.length + seeds.length === 0)
    throw new UsageError('train threat: give --labels FILE (and/or --sim-seeds)');
  const folds = values.folds === undefined ? 5 : values.folds === 'loso' ? 'loso' : Number(values.folds);
  if (folds !== 'loso' && (!Number.isInteger(folds) || folds < 0 || folds === 1))
    throw new UsageError('--folds must be loso, 0 or an integer >= 2');
  const trees = values.trees === undefined ? undefined : Number(values.trees);
  if (trees !== undefined && (!Number.isInteger(trees) || trees < 1 || trees > 2000))
    throw new UsageError('--trees must be an integer 1..2000');
  const tty = process.stderr.isTTY && !values.json;
  let out;
  try {
    out = await trainThreatFromSources(labels, seeds, {
      folds,
      ...(trees ? { gbt: { nEstimators: trees } } : {}),
      ...(tty
        ? {
            onProgress: (stage: string, d: number, t: number) =>
              process.stderr.write(`\r${stage} ${d}/${t}   `),
          }
        : {}),
    });
  } catch (e) {
    if (e instanceof ThreatLabelsError) {
      if (tty) process.stderr.write('\n');
      process.stderr.write(`iotsec train: ${e.message}; nothing was trained\n`);
      return 1;
    }
    throw e;
  }
  if (tty) process.stderr.write('\n');
  const config = loadConfig();
  const row = await withServices(async (services) =>
    registerThreatModel(modelServices(services, config).registry, out, {
      promote: values.promote ?? false,
      actor: cliActor(),
    }),
  );
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ model_id: row.id, task: row.task, version: row.version, status: row.status, metrics: out.metrics, training: out.trainingSummary })}\n`,
    );
    return 0;
  }
  const m = out.metrics as {
    macro_f1?: number;
    evaluation?: string;
    folds?: number;
    per_class?: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  let text = `model ${row.id} (threat v${row.version}, ${row.status})\n  samples ${String(out.trainingSummary['samples'])}, scenarios ${(out.trainingSummary['scenarios'] as string[]).length}\n`;
  if (m.macro_f1 !== undefined && m.per_class) {
    text += `  ${m.evaluation ?? ''} (${m.folds ?? 0} folds): macro F1 ${pct(m.macro_f1)}\n  class        precision  recall   f1      support\n`;
    for (const [k, v] of Object.entries(m.per_class))
      text += `  ${k.padEnd(12)} ${pct(v.precision).padStart(8)} ${pct(v.recall).padStart(8)} ${pct(v.f1).padStart(7)} ${String(v.support).padStart(8)}\n`;
  } else text += '  evaluation skipped\n';
  process.stdout.write(text);
  return 0;
}
