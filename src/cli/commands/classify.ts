import { stat } from 'node:fs/promises';
import { loadConfig } from '../../config.js';
import { classifyCapture, type ClassifyLine } from '../../devices/classify.js';
import { loadDeviceTypeModel } from '../../devices/model-store.js';
import type { DeviceTypeModel } from '../../devices/model.js';
import { loadUserRules } from '../../devices/rules-store.js';
import type { Rule } from '../../devices/rules.js';
import { modelServices } from '../../ml/registry/services.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { withServices } from './with-services.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function human(l: ClassifyLine): string {
  const who = l.mac ?? l.ip ?? '?';
  return `${l.pcap}\t${who}\t${l.ip ?? '-'}\t${l.vendor ?? '-'}\t${l.device_type}\t${l.confidence.toFixed(2)}\n    ${l.evidence.join('\n    ')}\n`;
}

export const classify: Command = {
  name: 'classify',
  usage: `iotsec classify <pcap…> [--model ID] [--no-model] [--json]

Classifies each capture on its own: every device in it (by MAC; by IP when the capture has no layer 2) is
profiled in memory and identified by the rules and the device-type model (the production version unless
--model names one), with the evidence for each answer. Nothing is written to the database.

Output with --json, one line per device per file:
  {"pcap","mac","ip","vendor","device_type","confidence","model","evidence":[…]}

Options:
  --model ID   use this model version instead of production
  --no-model   rules only
  --json       one JSON object per line
  -h, --help   this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      model: { type: 'string' },
      'no-model': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.help) return help(this);
    if (positionals.length === 0) throw new UsageError('classify: give at least one capture');
    if (values.model !== undefined && !UUID.test(values.model))
      throw new UsageError(`--model must be a model id (UUID), got ${values.model}`);
    let model: DeviceTypeModel | null = null;
    let userRules: Rule[] = [];
    await withServices(async (services) => {
      if (!values['no-model'])
        model = await loadDeviceTypeModel(modelServices(services, loadConfig()).registry, values.model);
      userRules = await loadUserRules(services.store.db);
    });
    if (!model && !values['no-model'] && !values.json)
      process.stderr.write('iotsec classify: no production device-type model; rules only\n');
    let failed = false;
    for (const pcap of positionals) {
      const st = await stat(pcap).catch(() => null);
      if (!st?.isFile()) {
        failed = true;
        process.stderr.write(`iotsec classify: ${pcap}: no such file\n`);
        continue;
      }
      const { lines, error } = await classifyCapture(pcap, { model, userRules });
      for (const l of lines) process.stdout.write(values.json ? `${JSON.stringify(l)}\n` : human(l));
      if (error) {
        failed = true;
        process.stderr.write(`iotsec classify: ${pcap}: ${error} (devices before it were classified)\n`);
      }
      if (lines.length === 0) process.stderr.write(`iotsec classify: ${pcap}: no devices found\n`);
    }
    return failed ? 1 : 0;
  },
};
