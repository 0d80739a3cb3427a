/**
 * The model registry: every trained model version of a task, its artifact on disk and its life cycle.
 *
 * - register: writes the envelope to DATA_DIR/models/<task>/<id>.json (temp file + rename, so a reader never
 *   sees half a file), records its sha256, takes the task's next version under a per-task advisory lock and
 *   inserts the row as `candidate`. The training summary keeps the quantiles of every training feature, the
 *   reference drift is measured against.
 * - load: re-hashes the file (MODEL_CHECKSUM_MISMATCH), checks the envelope's own checksum and the feature set
 *   the caller scores with (FEATURE_SET_MISMATCH), then builds the model (MODEL_ARTIFACT_MISSING/INVALID).
 * - promote, rollback, ab: one state change per transaction, under the task lock, audited in the same
 *   transaction and announced as a `model_update` event after commit.
 *
 * `promoted_at` is when a version last became production. Rolling back clears it on the version rolled back
 * from, so repeated rollbacks walk further back and never return to a withdrawn version.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { and, asc, desc, eq, gt, isNotNull, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Actor } from '../../auth/users.js';
import { EVENTS_CHANNEL, makeEvent } from '../../bus/events.js';
import type { Bus } from '../../bus/types.js';
import { AppError } from '../../errors.js';
import type { Db, Tx } from '../../store/db.js';
import type { MODEL_STATUSES } from '../../store/schema.js';
import { ML_TASKS, mlModels } from '../../store/schema.js';
import { isMlError } from '../errors.js';
import { assertFeatureSetMatches, type FeatureSetSignature } from '../features/feature-set.js';
import type { Matrix } from '../matrix.js';
import {
  canonicalJson,
  isRecord,
  sha256Hex,
  verifyChecksum,
  withChecksum,
  type ModelEnvelope,
} from '../serialize.js';
import { buildReference } from '../monitor/drift.js';
import { modelLoader, type ServableModel } from './loaders.js';

export type MlTask = (typeof ML_TASKS)[number];
export type ModelStatus = (typeof MODEL_STATUSES)[number];
export type ModelRow = typeof mlModels.$inferSelect;

export const SYSTEM_ACTOR: Actor = { id: null, name: 'system' };

/** pg_advisory_xact_lock key base: one registry writer per task at a time, across processes. */
const TASK_LOCK = 727_020;

export interface RegisterInput {
  task: MlTask;
  /** Defaults to the envelope's algorithm. */
  algorithm?: string;
  envelope: ModelEnvelope;
  /** The feature set the model was trained on (must equal the envelope's when it records one). */
  featureSet: FeatureSetSignature;
  metrics?: Record<string, unknown>;
  trainingSummary?: Record<string, unknown>;
  params?: Record<string, unknown>;
  /** The training matrix: its feature quantiles become the drift reference. */
  trainingData?: Matrix;
}

export interface LoadedModel {
  row: ModelRow;
  envelope: ModelEnvelope;
  model: ServableModel;
}

export interface ListFilter {
  task?: MlTask | undefined;
  status?: ModelStatus | undefined;
  limit: number;
  /** Keyset cursor: rows after this (task ascending, version descending). */
  after?: { task: string; version: number } | undefined;
}

export interface AbInput {
  task: MlTask;
  candidateId: string;
  /** Fraction of devices (0..1) the candidate serves (or shadows). 0 ends the experiment. */
  share: number;
  shadow?: boolean;
}

export interface RegistryDeps {
  db: Db;
  audit: AuditLog;
  /** Where `model_update` events go; optional for offline tools. */
  bus?: Bus | undefined;
  dataDir: string;
}

export class ModelRegistry {
  constructor(private readonly deps: RegistryDeps) {}

  get dataDir(): string {
    return this.deps.dataDir;
  }

  artifactFile(row: Pick<ModelRow, 'artifactPath'>): string {
    return isAbsolute(row.artifactPath) ? row.artifactPath : join(this.deps.dataDir, row.artifactPath);
  }

  async register(input: RegisterInput, actor: Actor = SYSTEM_ACTOR): Promise<ModelRow> {
    const algorithm = input.algorithm ?? input.envelope.algorithm;
    if (input.envelope.featureSet) {
      try {
        assertFeatureSetMatches(input.envelope.featureSet, input.featureSet);
      } catch (e) {
        throw toAppError(e);
      }
    }
    const envelope = withChecksum({ ...input.envelope, featureSet: input.featureSet });
    const text = canonicalJson(envelope);
    const checksum = sha256Hex(text);
    const id = randomUUID();
    const artifactPath = `models/${input.task}/${id}.json`;
    const file = join(this.deps.dataDir, artifactPath);
    await writeAtomic(file, text);

    const summary: Record<string, unknown> = {
      ...(input.trainingSummary ?? {}),
      feature_set: input.featureSet,
    };
    if (input.trainingData) {
      summary['reference'] = buildReference(input.featureSet.featureNames, input.trainingData);
    }
    try {
      const row = await this.deps.db.transaction(async (tx) => {
        await lockTask(tx, input.task);
        const [max] = await tx
          .select({ v: sql<number | null>`max(${mlModels.version})` })
          .from(mlModels)
          .where(eq(mlModels.task, input.task));
        const version = Number(max?.v ?? 0) + 1;
        const [inserted] = await tx
          .insert(mlModels)
          .values({
            id,
            task: input.task,
            algorithm,
            version,
            status: 'candidate',
            trafficShare: 0,
            shadow: false,
            params: input.params ?? (isRecord(input.envelope.params) ? input.envelope.params : {}),
            featureSet: input.featureSet.name,
            featureSetVersion: input.featureSet.version,
            trainingSummary: summary,
            metrics: input.metrics ?? {},
            artifactPath,
            checksum,
          })
          .returning();
        if (!inserted) throw new Error('insert into ml_models returned nothing');
        await this.deps.audit.record(
          {
            ...auditBase(actor, id),
            action: 'model.register',
            details: { task: input.task, algorithm, version, checksum },
          },
          tx,
        );
        return inserted;
      });
      await this.announce('register', row.task, [row]);
      return row;
    } catch (e) {
      await rm(file, { force: true });
      throw e;
    }
  }

  async get(id: string): Promise<ModelRow> {
    const [row] = await this.deps.db.select().from(mlModels).where(eq(mlModels.id, id));
    if (!row) throw new AppError('MODEL_NOT_FOUND', `No model ${id}.`);
    return row;
  }

  async list(f: ListFilter): Promise<ModelRow[]> {
    const conds: SQL[] = [];
    if (f.task) conds.push(eq(mlModels.task, f.task));
    if (f.status) conds.push(eq(mlModels.status, f.status));
    if (f.after) {
      const c = or(
        gt(mlModels.task, f.after.task as MlTask),
        and(eq(mlModels.task, f.after.task as MlTask), lt(mlModels.version, f.after.version)),
      );
      if (c) conds.push(c);
    }
    return this.deps.db
      .select()
      .from(mlModels)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(asc(mlModels.task), desc(mlModels.version))
      .limit(f.limit);
  }

  /** The production version of a task, if any. */
  async production(task: MlTask, db: Db | Tx = this.deps.db): Promise<ModelRow | null> {
    const [row] = await db
      .select()
      .from(mlModels)
      .where(and(eq(mlModels.task, task), eq(mlModels.status, 'production')))
      .orderBy(desc(mlModels.version))
      .limit(1);
    return row ?? null;
  }

  /** The candidate serving an A/B split (or a shadow) for the task, if any. */
  async experiment(task: MlTask): Promise<ModelRow | null> {
    const [row] = await this.deps.db
      .select()
      .from(mlModels)
      .where(and(eq(mlModels.task, task), eq(mlModels.status, 'candidate'), gt(mlModels.trafficShare, 0)))
      .orderBy(desc(mlModels.version))
      .limit(1);
    return row ?? null;
  }

  /**
   * Reads and verifies a model's artifact and builds it. `expected` is the feature set the caller will
   * score with; without it the feature set is not checked.
   */
  async load(id: string, expected?: FeatureSetSignature): Promise<LoadedModel> {
    return this.loadRow(await this.get(id), expected);
  }

  async loadRow(row: ModelRow, expected?: FeatureSetSignature): Promise<LoadedModel> {
    const file = this.artifactFile(row);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AppError(
          'MODEL_ARTIFACT_MISSING',
          `The artifact of model ${row.id} (${file}) is missing.`,
          {
            model_id: row.id,
          },
        );
      }
      throw e;
    }
    const actual = sha256Hex(bytes);
    if (actual !== row.checksum) {
      throw new AppError(
        'MODEL_CHECKSUM_MISMATCH',
        `The artifact of model ${row.id} (${file}) has sha256 ${actual}, the registry recorded ${row.checksum}.`,
        { model_id: row.id, recorded: row.checksum, actual },
      );
    }
    let envelope: ModelEnvelope;
    try {
      envelope = JSON.parse(bytes.toString('utf8')) as ModelEnvelope;
      verifyChecksum(envelope);
    } catch (e) {
      throw new AppError(
        'MODEL_CHECKSUM_MISMATCH',
        `The artifact of model ${row.id} does not verify: ${e instanceof Error ? e.message : String(e)}`,
        { model_id: row.id },
      );
    }
    if (expected) {
      try {
        assertFeatureSetMatches(envelope.featureSet, expected);
      } catch (e) {
        throw toAppError(e);
      }
    }
    const loader = modelLoader(envelope.algorithm);
    if (!loader) {
      throw new AppError(
        'MODEL_ARTIFACT_INVALID',
        `No loader for algorithm ${envelope.algorithm} (model ${row.id}).`,
        { model_id: row.id },
      );
    }
    try {
      return { row, envelope, model: loader(envelope) };
    } catch (e) {
      throw new AppError(
        'MODEL_ARTIFACT_INVALID',
        `Model ${row.id} cannot be loaded: ${e instanceof Error ? e.message : String(e)}`,
        { model_id: row.id },
      );
    }
  }

  /** Makes `id` the production version of its task; the previous production is archived. */
  async promote(id: string, actor: Actor = SYSTEM_ACTOR): Promise<ModelRow> {
    const target = await this.get(id);
    await this.loadRow(target); // never promote an artifact that does not load
    const changed = await this.deps.db.transaction(async (tx) => {
      await lockTask(tx, target.task);
      const [row] = await tx.select().from(mlModels).where(eq(mlModels.id, id));
      if (!row) throw new AppError('MODEL_NOT_FOUND', `No model ${id}.`);
      if (row.status === 'production') return null;
      const previous = await this.production(row.task, tx);
      const out: ModelRow[] = [];
      if (previous) {
        out.push(...(await archive(tx, previous.id, previous.promotedAt)));
      }
      out.push(...(await endExperiments(tx, row.task, row.id)));
      const [promoted] = await tx
        .update(mlModels)
        .set({ status: 'production', trafficShare: 1, shadow: false, promotedAt: new Date() })
        .where(eq(mlModels.id, id))
        .returning();
      if (!promoted) throw new AppError('MODEL_NOT_FOUND', `No model ${id}.`);
      out.push(promoted);
      await this.deps.audit.record(
        {
          ...auditBase(actor, id),
          action: 'model.promote',
          details: {
            task: row.task,
            version: row.version,
            previous: previous ? { id: previous.id, version: previous.version } : null,
          },
        },
        tx,
      );
      return { promoted, out };
    });
    if (!changed) return this.get(id);
    await this.announce('promote', changed.promoted.task, changed.out);
    return changed.promoted;
  }

  /** Brings back the version that was production before the current one. */
  async rollback(task: MlTask, actor: Actor = SYSTEM_ACTOR): Promise<ModelRow> {
    const result = await this.deps.db.transaction(async (tx) => {
      await lockTask(tx, task);
      const current = await this.production(task, tx);
      if (!current) throw new AppError('MODEL_NO_PRODUCTION', `Task ${task} has no production model.`);
      const before = current.promotedAt ?? new Date();
      const [previous] = await tx
        .select()
        .from(mlModels)
        .where(
          and(
            eq(mlModels.task, task),
            eq(mlModels.status, 'archived'),
            isNotNull(mlModels.promotedAt),
            lt(mlModels.promotedAt, before),
            ne(mlModels.id, current.id),
          ),
        )
        .orderBy(desc(mlModels.promotedAt))
        .limit(1);
      if (!previous) {
        throw new AppError(
          'MODEL_NO_PREVIOUS',
          `Task ${task} has no earlier production model than version ${current.version}.`,
        );
      }
      await this.loadRow(previous);
      const out = await archive(tx, current.id, null);
      out.push(...(await endExperiments(tx, task, previous.id)));
      const [restored] = await tx
        .update(mlModels)
        .set({ status: 'production', trafficShare: 1, shadow: false, promotedAt: new Date() })
        .where(eq(mlModels.id, previous.id))
        .returning();
      if (!restored) throw new AppError('MODEL_NOT_FOUND', `No model ${previous.id}.`);
      out.push(restored);
      await this.deps.audit.record(
        {
          ...auditBase(actor, restored.id),
          action: 'model.rollback',
          details: {
            task,
            from: { id: current.id, version: current.version },
            to: { id: restored.id, version: restored.version },
          },
        },
        tx,
      );
      return { restored, out };
    });
    await this.announce('rollback', task, result.out);
    return result.restored;
  }

  /**
   * Splits the task's traffic: the candidate serves `share` of the devices (sticky by device), production the
   * rest; with `shadow` the candidate only shadows that share and production decides for everyone.
   */
  async ab(
    input: AbInput,
    actor: Actor = SYSTEM_ACTOR,
  ): Promise<{ candidate: ModelRow; production: ModelRow }> {
    if (!(input.share >= 0 && input.share <= 1)) {
      throw new AppError('VALIDATION_FAILED', `share must be between 0 and 1, got ${input.share}.`);
    }
    const shadow = input.share > 0 && (input.shadow ?? false);
    const cand = await this.get(input.candidateId);
    if (cand.task !== input.task) {
      throw new AppError(
        'MODEL_INVALID_STATE',
        `Model ${cand.id} belongs to task ${cand.task}, not ${input.task}.`,
      );
    }
    if (cand.status !== 'candidate') {
      throw new AppError(
        'MODEL_INVALID_STATE',
        `Model ${cand.id} is ${cand.status}; only a candidate can take part in an A/B split.`,
      );
    }
    if (input.share > 0) await this.loadRow(cand);
    const result = await this.deps.db.transaction(async (tx) => {
      await lockTask(tx, input.task);
      const production = await this.production(input.task, tx);
      if (!production) {
        throw new AppError(
          'MODEL_NO_PRODUCTION',
          `Task ${input.task} has no production model to split with.`,
        );
      }
      const [fresh] = await tx.select().from(mlModels).where(eq(mlModels.id, cand.id));
      if (!fresh || fresh.status !== 'candidate') {
        throw new AppError('MODEL_INVALID_STATE', `Model ${cand.id} is no longer a candidate.`);
      }
      const out = await endExperiments(tx, input.task, cand.id);
      const [candidate] = await tx
        .update(mlModels)
        .set({ trafficShare: input.share, shadow })
        .where(eq(mlModels.id, cand.id))
        .returning();
      const [prod] = await tx
        .update(mlModels)
        .set({ trafficShare: shadow ? 1 : 1 - input.share })
        .where(eq(mlModels.id, production.id))
        .returning();
      if (!candidate || !prod) throw new AppError('CONFLICT');
      out.push(candidate, prod);
      await this.deps.audit.record(
        {
          ...auditBase(actor, candidate.id),
          action: 'model.ab',
          details: {
            task: input.task,
            candidate: { id: candidate.id, version: candidate.version },
            production: { id: prod.id, version: prod.version },
            share: input.share,
            shadow,
          },
        },
        tx,
      );
      return { candidate, production: prod, out };
    });
    await this.announce('ab', input.task, result.out);
    return { candidate: result.candidate, production: result.production };
  }

  private async announce(action: string, task: string, rows: ModelRow[]): Promise<void> {
    if (!this.deps.bus) return;
    const first = rows[rows.length - 1];
    await this.deps.bus.publish(
      EVENTS_CHANNEL,
      makeEvent('model_update', {
        action,
        task,
        model_id: first?.id ?? null,
        version: first?.version ?? null,
        models: rows.map((r) => ({
          id: r.id,
          version: r.version,
          status: r.status,
          traffic_share: r.trafficShare,
          shadow: r.shadow,
        })),
      }),
    );
  }
}

async function lockTask(tx: Tx, task: MlTask): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${TASK_LOCK + ML_TASKS.indexOf(task)})`);
}

async function archive(tx: Tx, id: string, promotedAt: Date | null): Promise<ModelRow[]> {
  return tx
    .update(mlModels)
    .set({ status: 'archived', trafficShare: 0, shadow: false, promotedAt })
    .where(eq(mlModels.id, id))
    .returning();
}

/** Ends any A/B split or shadow of the task's candidates other than `keepId`. */
async function endExperiments(tx: Tx, task: MlTask, keepId: string): Promise<ModelRow[]> {
  return tx
    .update(mlModels)
    .set({ trafficShare: 0, shadow: false })
    .where(
      and(
        eq(mlModels.task, task),
        eq(mlModels.status, 'candidate'),
        ne(mlModels.id, keepId),
        or(gt(mlModels.trafficShare, 0), eq(mlModels.shadow, true)),
      ),
    )
    .returning();
}

function auditBase(actor: Actor, id: string) {
  return {
    actorId: actor.id,
    actor: actor.name,
    target: `model:${id}`,
    ip: actor.ip ?? null,
    requestId: actor.requestId ?? null,
  };
}

function toAppError(e: unknown): unknown {
  if (isMlError(e) && e.code === 'FEATURE_SET_MISMATCH') {
    return new AppError('FEATURE_SET_MISMATCH', e.message.replace(/^FEATURE_SET_MISMATCH: /, ''), {
      ...(e.details ?? {}),
    });
  }
  return e;
}

/** Writes a file so that readers see either nothing or all of it: temp file in the same directory, fsync, rename. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  const fh = await open(tmp, 'w', 0o640);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
