/**
 * Serving models: which version answers for a device (sticky A/B split from the registry's state), loaded
 * models cached per id (dropped and reloaded when a `model_update` event names them), and per-version
 * statistics (predictions, a bounded latency reservoir, recent inputs for drift, labelled feedback) flushed
 * to `model_metrics` every window (default one minute) or on demand.
 *
 * Typical use (detection, device typing):
 *   const r = await server.predict('anomaly', deviceId, X, featureSetSignature(ROLLUP_WINDOW_FEATURES));
 *   if (r.labels[0] === 1) raiseAlert({ modelVersion: r.modelId, ... });   // r.shadow never decides
 *   server.recordFeedback(r.modelId, predicted, actual);                   // when a label is known
 */
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import { EVENTS_CHANNEL } from '../../bus/events.js';
import type { Bus, BusEvent, Unsubscribe } from '../../bus/types.js';
import { AppError } from '../../errors.js';
import { assertFeatureSetMatches, type FeatureSetSignature } from '../features/feature-set.js';
import { isMlError } from '../errors.js';
import type { Matrix } from '../matrix.js';
import type { FlushedWindow, ModelMonitor } from '../monitor/monitor.js';
import { ModelStats } from '../monitor/stats.js';
import type { LoadedModel, MlTask, ModelRegistry, ModelRow } from '../registry/registry.js';
import { assign, type Assignment, type SplitState } from './assign.js';

export interface Scored {
  readonly modelId: string;
  readonly version: number;
  readonly labels: Int32Array;
  readonly scores: Float64Array;
}

export interface ServeResult extends Scored {
  readonly arm: 'production' | 'candidate';
  /** The shadowed candidate's answer: recorded, never to be acted on. */
  readonly shadow: Scored | null;
}

export interface ModelServerOptions {
  registry: ModelRegistry;
  monitor: ModelMonitor;
  bus?: Bus | undefined;
  /** Metrics window; 0 disables the timer (flush() by hand). Default 60 s. */
  windowMs?: number;
  /** Loaded models kept in memory. */
  cacheSize?: number;
  /** How long a task's split state is trusted without a model_update event (safety net across processes). */
  stateTtlMs?: number;
}

export class ModelServer {
  private readonly models: LRUCache<string, Promise<LoadedModel>>;
  private readonly states = new Map<MlTask, { at: number; state: Promise<SplitState<ModelRow>> }>();
  private readonly stats = new Map<string, { stats: ModelStats; row: ModelRow | null }>();
  private readonly checkedFeatureSets = new Set<string>();
  private unsubscribe: Unsubscribe | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<FlushedWindow[]> | null = null;

  constructor(private readonly opts: ModelServerOptions) {
    this.models = new LRUCache({ max: opts.cacheSize ?? 16 });
  }

  /** Listens for model_update events and starts the window timer. */
  async start(): Promise<void> {
    if (this.opts.bus && !this.unsubscribe) {
      this.unsubscribe = await this.opts.bus.subscribe(EVENTS_CHANNEL, (e) => this.onEvent(e));
    }
    const windowMs = this.opts.windowMs ?? 60_000;
    if (windowMs > 0 && !this.timer) {
      this.timer = setInterval(() => void this.flush().catch(() => undefined), windowMs);
      this.timer.unref();
    }
  }

  /** Stops listening and writes the last window. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.unsubscribe?.();
    this.unsubscribe = null;
    await this.flush();
  }

  private onEvent(e: BusEvent): void {
    if (e.type !== 'model_update') return;
    const data = (e.data ?? {}) as { task?: unknown; models?: unknown };
    if (typeof data.task === 'string') this.states.delete(data.task as MlTask);
    else this.states.clear();
    if (Array.isArray(data.models)) {
      for (const m of data.models) {
        const id = (m as { id?: unknown }).id;
        if (typeof id === 'string') {
          this.models.delete(id);
          const s = this.stats.get(id);
          if (s) s.row = null;
        }
      }
    }
  }

  /** Forgets the cached split state (all tasks, or one). */
  invalidate(task?: MlTask): void {
    if (task) this.states.delete(task);
    else this.states.clear();
  }

  async serving(task: MlTask): Promise<SplitState<ModelRow>> {
    const ttl = this.opts.stateTtlMs ?? 30_000;
    const cached = this.states.get(task);
    if (cached && Date.now() - cached.at < ttl) return cached.state;
    const state = (async (): Promise<SplitState<ModelRow>> => {
      const [production, candidate] = await Promise.all([
        this.opts.registry.production(task),
        this.opts.registry.experiment(task),
      ]);
      return {
        production,
        candidate: candidate
          ? { model: candidate, share: candidate.trafficShare, shadow: candidate.shadow }
          : null,
      };
    })();
    this.states.set(task, { at: Date.now(), state });
    state.catch(() => this.states.delete(task));
    return state;
  }

  /** Which version decides for this device (and which one shadows it). Sticky per device. */
  async chooseModel(task: MlTask, deviceId: string | number): Promise<Assignment<ModelRow>> {
    return assign(await this.serving(task), deviceId);
  }

  /** A loaded, verified model (cached by id). */
  async model(id: string, expected?: FeatureSetSignature): Promise<LoadedModel> {
    let p = this.models.get(id);
    if (!p) {
      p = this.opts.registry.load(id);
      this.models.set(id, p);
      p.catch(() => this.models.delete(id));
    }
    const loaded = await p;
    if (expected) {
      const key = `${id}:${expected.hash}:${expected.name}:${expected.version}`;
      if (!this.checkedFeatureSets.has(key)) {
        try {
          assertFeatureSetMatches(loaded.envelope.featureSet, expected);
        } catch (e) {
          if (isMlError(e)) throw new AppError('FEATURE_SET_MISMATCH', e.message, { model_id: id });
          throw e;
        }
        this.checkedFeatureSets.add(key);
      }
    }
    return loaded;
  }

  /**
   * Scores X (rows of one device) with the version chosen for the device; a shadowing candidate scores
   * the same rows and is recorded, but only `labels`/`scores` of the deciding version are to be used.
   */
  async predict(
    task: MlTask,
    deviceId: string | number,
    X: Matrix,
    featureSet: FeatureSetSignature,
  ): Promise<ServeResult> {
    const a = await this.chooseModel(task, deviceId);
    if (!a.decide || a.arm === 'none') {
      throw new AppError('MODEL_NO_PRODUCTION', `Task ${task} has no production model.`);
    }
    const decided = await this.run(a.decide, X, featureSet);
    let shadow: Scored | null = null;
    if (a.shadow) {
      try {
        shadow = await this.run(a.shadow, X, featureSet);
      } catch {
        shadow = null; // a broken shadow must never disturb serving
      }
    }
    return { ...decided, arm: a.arm, shadow };
  }

  private async run(row: ModelRow, X: Matrix, featureSet: FeatureSetSignature): Promise<Scored> {
    const loaded = await this.model(row.id, featureSet);
    const t0 = performance.now();
    const labels = loaded.model.predict(X);
    const scores = loaded.model.score(X);
    const ms = performance.now() - t0;
    this.statsOf(row.id, loaded.row).recordPrediction(X, ms);
    return { modelId: row.id, version: row.version, labels, scores };
  }

  private statsOf(modelId: string, row: ModelRow | null = null): ModelStats {
    let s = this.stats.get(modelId);
    if (!s) {
      s = { stats: new ModelStats(modelId), row };
      this.stats.set(modelId, s);
    } else if (row && !s.row) s.row = row;
    return s.stats;
  }

  /** Labelled feedback on one prediction of a model (device type corrected, alert marked false positive). */
  recordFeedback(modelId: string, predicted: string | number, actual: string | number): void {
    this.statsOf(modelId).recordFeedback(predicted, actual);
  }

  /** Current in-memory statistics of a model (for tests and diagnostics). */
  statsFor(modelId: string): ModelStats | undefined {
    return this.stats.get(modelId)?.stats;
  }

  /** Writes a model_metrics row for every model with activity since the last flush. */
  async flush(now: Date = new Date()): Promise<FlushedWindow[]> {
    while (this.flushing) await this.flushing.catch(() => undefined);
    const run = (async () => {
      const out: FlushedWindow[] = [];
      for (const [id, entry] of this.stats) {
        if (!entry.stats.hasActivity) continue;
        let row = entry.row;
        if (!row) {
          try {
            row = await this.opts.registry.get(id);
          } catch {
            this.stats.delete(id); // the model was deleted
            continue;
          }
          entry.row = row;
        }
        out.push(await this.opts.monitor.flush(row, entry.stats, now));
      }
      return out;
    })();
    this.flushing = run;
    try {
      return await run;
    } finally {
      this.flushing = null;
    }
  }
}
