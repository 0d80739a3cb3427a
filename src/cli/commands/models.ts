import { presentModel } from '../../api/routes/models.js';
import { loadConfig } from '../../config.js';
import { modelServices } from '../../ml/registry/services.js';
import type { MlTask, ModelStatus } from '../../ml/registry/registry.js';
import { ML_TASKS, MODEL_STATUSES } from '../../store/schema.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { cliActor, withServices } from './with-services.js';

function task(value: string | undefined, what = 'TASK'): MlTask {
  if (!value || !(ML_TASKS as readonly string[]).includes(value)) {
    throw new UsageError(`${what} must be one of ${ML_TASKS.join(', ')}`);
  }
  return value as MlTask;
}

function status(value: string | undefined): ModelStatus | undefined {
  if (value === undefined) return undefined;
  if (!(MODEL_STATUSES as readonly string[]).includes(value)) {
    throw new UsageError(`--status must be one of ${MODEL_STATUSES.join(', ')}`);
  }
  return value as ModelStatus;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function modelId(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`${what} is required`);
  if (!UUID.test(value)) throw new UsageError(`${what} must be a model id (UUID), got ${value}`);
  return value;
}

function line(json: boolean | undefined, m: ReturnType<typeof presentModel>): string {
  if (json) return `${JSON.stringify(m)}\n`;
  const share = m.traffic_share > 0 && m.traffic_share < 1 ? ` share=${m.traffic_share}` : '';
  return `${m.id}\t${m.task}\tv${m.version}\t${m.algorithm}\t${m.status}${share}${m.shadow ? ' shadow' : ''}\t${m.created_at}\n`;
}

export const models: Command = {
  name: 'models',
  usage: `iotsec models list [--task TASK] [--status STATUS] [--json]
iotsec models promote ID
iotsec models rollback TASK
iotsec models ab TASK CANDIDATE_ID --share 0.1 [--shadow]

TASK is one of ${ML_TASKS.join(', ')}; ID is a model id from \`models list\`.
promote makes a version production (the current one is archived); rollback brings back the version that
was production before; ab lets a candidate serve a share of the devices (sticky per device; --share 0
ends the split), or with --shadow only score beside production without ever deciding. Every change is
written to the audit log and announced to running processes.

Options:
  --task TASK        list: only this task
  --status STATUS    list: only candidate, production or archived versions
  --share FRACTION   ab: share of devices for the candidate, 0..1
  --shadow           ab: the candidate is scored and recorded but never decides
  --json             one JSON object per line
  -h, --help         this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      task: { type: 'string' },
      status: { type: 'string' },
      share: { type: 'string' },
      shadow: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.help) return help(this);
    const [sub, a, b, ...extra] = positionals;
    const config = () => loadConfig();
    switch (sub) {
      case 'list': {
        if (a) throw new UsageError(`models list: unexpected argument ${a}`);
        const t = values.task === undefined ? undefined : task(values.task, '--task');
        const s = status(values.status);
        await withServices(async (services) => {
          const { registry } = modelServices(services, config());
          for (const m of await registry.list({ task: t, status: s, limit: 100_000 })) {
            process.stdout.write(line(values.json, presentModel(m)));
          }
        });
        return 0;
      }
      case 'promote': {
        const id = modelId(a, 'models promote: ID');
        if (b) throw new UsageError(`models promote: unexpected argument ${b}`);
        await withServices(async (services) => {
          const m = await modelServices(services, config()).registry.promote(id, cliActor());
          process.stdout.write(
            values.json ? line(true, presentModel(m)) : `${m.task} v${m.version} (${m.id}) is production\n`,
          );
        });
        return 0;
      }
      case 'rollback': {
        const t = task(a, 'models rollback: TASK');
        if (b) throw new UsageError(`models rollback: unexpected argument ${b}`);
        await withServices(async (services) => {
          const m = await modelServices(services, config()).registry.rollback(t, cliActor());
          process.stdout.write(
            values.json
              ? line(true, presentModel(m))
              : `${m.task} rolled back: v${m.version} (${m.id}) is production again\n`,
          );
        });
        return 0;
      }
      case 'ab': {
        const t = task(a, 'models ab: TASK');
        const id = modelId(b, 'models ab: CANDIDATE_ID');
        if (extra.length) throw new UsageError(`models ab: unexpected argument ${extra[0] ?? ''}`);
        if (values.share === undefined) throw new UsageError('models ab: --share is required (0..1)');
        const share = Number(values.share);
        if (values.share.trim() === '' || !Number.isFinite(share) || share < 0 || share > 1) {
          throw new UsageError(`--share must be a number between 0 and 1, got ${values.share}`);
        }
        await withServices(async (services) => {
          const r = await modelServices(services, config()).registry.ab(
            { task: t, candidateId: id, share, shadow: values.shadow ?? false },
            cliActor(),
          );
          if (values.json) {
            process.stdout.write(
              `${JSON.stringify({ candidate: presentModel(r.candidate), production: presentModel(r.production) })}\n`,
            );
          } else if (share === 0) {
            process.stdout.write(`${t}: split ended; v${r.production.version} serves every device\n`);
          } else {
            process.stdout.write(
              `${t}: candidate v${r.candidate.version} ${r.candidate.shadow ? 'shadows' : 'serves'} ` +
                `${share * 100}% of devices; production v${r.production.version} decides for ` +
                `${r.candidate.shadow ? 'all' : `${Math.round((1 - share) * 10000) / 100}%`}\n`,
            );
          }
        });
        return 0;
      }
      default:
        throw new UsageError(`models: unknown subcommand ${sub ?? '(none)'}; see iotsec models --help`);
    }
  },
};
