import { loadConfig } from '../../config.js';
import { LabelsError } from '../../devices/labels.js';
import { registerTrained, trainFromLabels } from '../../devices/model-store.js';
import type { DeviceTypeMetrics } from '../../devices/model.js';
import { modelServices } from '../../ml/registry/services.js';
import { parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { help } from './roles.js';
import { cliActor, withServices } from './with-services.js';

export const train: Command = {
  name: 'train',
  summary: 'Train a model version from labelled data (device-type)',
  usage: `iotsec train device-type --labels FILE.csv [--promote] [--folds K] [--trees N] [--json]

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
  -h, --help      this help`,
  async run(argv) {
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
