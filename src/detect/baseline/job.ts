/**
 * The baseline job (run by the worker every BASELINE_INTERVAL_MINUTES, never on the ingest path):
 *
 * 1. the network clock is the end of the latest rollup minute (flow time, so an imported capture is judged
 *    on its own time); windows ending at least `graceMinutes` before it are complete;
 * 2. scoring: every device with a baseline has its windows completed since `last_scored_window` scored by
 *    its isolation forest, and every device-type LSTM scores its devices' sequences ending in windows
 *    completed since its own `last_scored_window`; a score above the learned threshold raises an `anomaly`
 *    alert (dedup per device and model);
 * 3. fitting: a device with `minWindows` windows and no baseline gets one; a baseline is refitted when
 *    `refitHours` of flow time passed since its last training window or its history doubled (windows the
 *    old model found anomalous are left out); a device type with `minDevices` devices with baselines gets
 *    an LSTM autoencoder, refitted on the same schedule or when it gains devices.
 *
 * Scoring comes before fitting so a window is judged by the model that did not see it.
 */
import type { Services } from '../../api/context.js';
import { raiseAlert } from '../../alerts/service.js';
import type { Config } from '../../config.js';
import { emptyRollupWindow, type RollupWindow } from '../../ml/features/rollup-window.js';
import type { IsolationForest } from '../../ml/isolation-forest.js';
import type { LstmAutoencoder, SequenceSet } from '../../ml/lstm/autoencoder.js';
import { withChecksum } from '../../ml/serialize.js';
import type { Store } from '../../store/db.js';
import {
  BASELINE_ALGORITHM,
  baselineEvidence,
  DEFAULT_BASELINE_SETTINGS,
  FEATURE_SET_ID,
  fitDeviceBaseline,
  modelFromJson,
  modelJson,
  parseStats,
  scoreWindows,
  severityOf,
  topDeviations,
  type BaselineSettings,
  type FeatureStats,
} from './model.js';
import { lstmThreshold, sequenceEndingAt, slotGrid, trainingSequences, type SlotGrid } from './sequences.js';
import {
  baselineMetas,
  baselineModels,
  deviceLabels,
  devicesReadyForBaseline,
  loadWindows,
  markScored,
  markTypeScored,
  networkClock,
  releaseLease,
  saveBaseline,
  saveTypeBaseline,
  takeLease,
  typeBaselines,
  windowFlows,
  type BaselineMeta,
  type DeviceLabel,
  type TypeBaselineRow,
} from './store.js';

type Deps = Pick<Services, 'store' | 'bus'>;

interface Log {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
}

export interface LstmJobSettings {
  enabled: boolean;
  minDevices: number;
  minSequences: number;
  steps: number;
  epochs: number;
  units: number;
  /** Threshold = training-error quantile × (1 + margin). */
  margin: number;
  /** Percentile (0–100) of training errors. */
  percentile: number;
  maxSequences: number;
  /** Windows of history a type model trains on, at most. */
  historyWindows: number;
}

export interface BaselineJobSettings {
  windowMinutes: number;
  minWindows: number;
  maxWindows: number;
  refitHours: number;
  graceMinutes: number;
  /** Windows older than this many behind the clock are not scored (after a long outage). */
  maxScoreLagWindows: number;
  /** Fits per run at most (the rest wait for the next run). */
  maxFitsPerRun: number;
  forest: BaselineSettings;
  lstm: LstmJobSettings;
}

export const DEFAULT_JOB_SETTINGS: BaselineJobSettings = {
  windowMinutes: 5,
  minWindows: 36,
  maxWindows: 2016,
  refitHours: 6,
  graceMinutes: 2,
  maxScoreLagWindows: 288,
  maxFitsPerRun: 200,
  forest: DEFAULT_BASELINE_SETTINGS,
  lstm: {
    enabled: true,
    minDevices: 2,
    minSequences: 100,
    steps: 6,
    epochs: 8,
    units: 8,
    margin: 0.5,
    percentile: 99.5,
    maxSequences: 3000,
    historyWindows: 864,
  },
};

export function baselineSettingsFrom(config: Config): BaselineJobSettings {
  const d = DEFAULT_JOB_SETTINGS;
  return {
    ...d,
    minWindows: config.baselineMinWindows,
    maxWindows: Math.max(config.baselineMaxWindows, config.baselineMinWindows),
    refitHours: config.baselineRefitHours,
    forest: {
      ...d.forest,
      trees: config.baselineTrees,
      quantile: config.baselineThresholdQuantile,
      margin: config.baselineThresholdMargin,
    },
    lstm: {
      ...d.lstm,
      enabled: config.baselineLstm,
      minDevices: config.baselineLstmMinDevices,
      minSequences: config.baselineLstmMinSequences,
      steps: config.baselineLstmSteps,
      epochs: config.baselineLstmEpochs,
      margin: config.baselineLstmMargin,
    },
  };
}

export interface BaselineRunSummary {
  clock: string | null;
  complete_before: string | null;
  windows_scored: number;
  anomalies: number;
  fitted: number;
  lstm_fitted: string[];
  lstm_sequences_scored: number;
  lstm_anomalies: number;
  alerts: number;
  /** Another process was running the job: this run did nothing. */
  skipped: boolean;
  ms: number;
}

/** A run holds the lease at most this long (then another process may take over). */
const LEASE_MS = 30 * 60_000;

/** Deserialised models, per store, keyed by device and fit time (models are large: load each once). */
const forestCache = new WeakMap<Store, Map<number, { fittedAt: number; model: IsolationForest }>>();
const lstmCache = new WeakMap<Store, Map<string, { fittedAt: number; model: LstmAutoencoder }>>();

function cacheOf<K, V>(m: WeakMap<Store, Map<K, V>>, store: Store): Map<K, V> {
  let c = m.get(store);
  if (!c) m.set(store, (c = new Map()));
  return c;
}

export async function runBaselineJob(
  deps: Deps,
  settings: BaselineJobSettings = DEFAULT_JOB_SETTINGS,
  log?: Log,
): Promise<BaselineRunSummary> {
  const lease = await takeLease(deps.store.db, LEASE_MS);
  if (lease === null) return { ...emptySummary(), skipped: true };
  try {
    return await run(deps, settings, log);
  } finally {
    await releaseLease(deps.store.db, lease).catch(() => undefined);
  }
}

function emptySummary(): BaselineRunSummary {
  return {
    clock: null,
    complete_before: null,
    windows_scored: 0,
    anomalies: 0,
    fitted: 0,
    lstm_fitted: [],
    lstm_sequences_scored: 0,
    lstm_anomalies: 0,
    alerts: 0,
    skipped: false,
    ms: 0,
  };
}

async function run(deps: Deps, settings: BaselineJobSettings, log?: Log): Promise<BaselineRunSummary> {
  const t0 = Date.now();
  const summary = emptySummary();
  const db = deps.store.db;
  const clock = await networkClock(db);
  if (!clock) return { ...summary, ms: Date.now() - t0 };
  const W = settings.windowMinutes * 60_000;
  const completeBefore = new Date(Math.floor((clock.getTime() - settings.graceMinutes * 60_000) / W) * W);
  summary.clock = clock.toISOString();
  summary.complete_before = completeBefore.toISOString();
  const lastComplete = new Date(completeBefore.getTime() - W);
  const oldestScored = completeBefore.getTime() - settings.maxScoreLagWindows * W;

  // ---- scoring -------------------------------------------------------------------------------------------
  const metas = await baselineMetas(db);
  const forests = await forestsFor(deps.store, metas);
  const types = settings.lstm.enabled ? await typeBaselines(db) : [];
  const labels = await deviceLabels(
    db,
    metas.map((m) => m.deviceId),
  );
  const steps = settings.lstm.steps;
  let scoreFrom = completeBefore.getTime();
  for (const m of metas) scoreFrom = Math.min(scoreFrom, (m.lastScoredWindow ?? m.trainedTo).getTime() + W);
  for (const t of types)
    if (t.steps === steps)
      scoreFrom = Math.min(scoreFrom, (t.lastScoredWindow ?? t.trainedTo).getTime() + W - (steps - 1) * W);
  scoreFrom = Math.max(scoreFrom, oldestScored - steps * W);
  const recent = await loadWindows(
    db,
    metas.map((m) => m.deviceId),
    new Date(scoreFrom),
    completeBefore,
    settings.windowMinutes,
  );

  const statsOf = new Map<number, FeatureStats>();
  const flaggedWindows = new Map<number, Set<number>>();
  const scoredUpdates: { deviceId: number; lastScored: Date; scored: number; anomalies: number }[] = [];
  for (const m of metas) {
    const stats = parseStats(m.stats);
    const label = labels.get(m.deviceId);
    if (!stats || !label) continue;
    statsOf.set(m.deviceId, stats);
    const forest = forests.get(m.deviceId);
    const after = Math.max((m.lastScoredWindow ?? m.trainedTo).getTime(), oldestScored - W);
    const fresh = (recent.get(m.deviceId) ?? []).filter((w) => w.windowStart.getTime() > after);
    let anomalies = 0;
    if (forest && fresh.length > 0) {
      const scores = scoreWindows(forest, stats, fresh);
      for (let i = 0; i < fresh.length; i++) {
        const score = scores[i] as number;
        if (score <= m.threshold) continue;
        const w = fresh[i] as RollupWindow;
        anomalies++;
        let set = flaggedWindows.get(m.deviceId);
        if (!set) flaggedWindows.set(m.deviceId, (set = new Set()));
        set.add(w.windowStart.getTime());
        await raiseBaselineAlert(deps, settings, {
          label,
          model: 'isolation-forest',
          window: w,
          windowEnd: new Date(w.windowStart.getTime() + W),
          score,
          threshold: m.threshold,
          fittedAt: m.fittedAt,
          stats,
          extra: { windows_used: m.windowsUsed, trained_to: m.trainedTo.toISOString() },
        });
        summary.alerts++;
      }
    }
    summary.windows_scored += fresh.length;
    summary.anomalies += anomalies;
    if (lastComplete.getTime() > (m.lastScoredWindow?.getTime() ?? -Infinity))
      scoredUpdates.push({ deviceId: m.deviceId, lastScored: lastComplete, scored: fresh.length, anomalies });
  }
  await markScored(db, scoredUpdates);

  if (settings.lstm.enabled) {
    for (const t of types) {
      if (t.steps !== steps || t.windowMinutes !== settings.windowMinutes) continue;
      const r = await scoreType(deps, settings, t, metas, labels, statsOf, recent, completeBefore).catch(
        (err: unknown) => {
          log?.warn({ err, device_type: t.deviceType }, 'LSTM scoring failed for a device type');
          return null;
        },
      );
      if (!r) continue;
      summary.lstm_sequences_scored += r.sequences;
      summary.lstm_anomalies += r.anomalies;
      summary.alerts += r.anomalies;
    }
  }

  // ---- fitting -------------------------------------------------------------------------------------------
  const historyFrom = new Date(completeBefore.getTime() - settings.maxWindows * W);
  const ready = await devicesReadyForBaseline(
    db,
    historyFrom,
    completeBefore,
    settings.windowMinutes,
    settings.minWindows,
  );
  const due = new Map<number, BaselineMeta | null>();
  for (const id of ready.keys()) due.set(id, null);
  for (const m of metas) {
    const stale = completeBefore.getTime() - m.trainedTo.getTime() - W >= settings.refitHours * 3_600_000;
    const doubled = m.windowsUsed < settings.maxWindows && m.windowsScored >= m.windowsUsed;
    const unreadable = !forests.has(m.deviceId) || !statsOf.has(m.deviceId);
    if (labels.has(m.deviceId) && (stale || doubled || unreadable)) due.set(m.deviceId, m);
  }
  const fitIds = [...due.keys()].slice(0, settings.maxFitsPerRun);
  for (let i = 0; i < fitIds.length; i += 50) {
    const chunk = fitIds.slice(i, i + 50);
    const history = await loadWindows(db, chunk, historyFrom, completeBefore, settings.windowMinutes);
    for (const id of chunk) {
      const old = due.get(id) ?? null;
      const flagged = flaggedWindows.get(id);
      let windows = (history.get(id) ?? []).slice(-settings.maxWindows);
      // Leave out what the previous model found anomalous, so an attack does not become normal.
      const oldForest = forests.get(id);
      const oldStats = statsOf.get(id);
      if (old && oldForest && oldStats && windows.length > 0) {
        const s = scoreWindows(oldForest, oldStats, windows);
        windows = windows.filter((w, k) => (s[k] as number) <= old.threshold);
      } else if (flagged) windows = windows.filter((w) => !flagged.has(w.windowStart.getTime()));
      if (windows.length < settings.minWindows) continue;
      const fit = fitDeviceBaseline(id, windows, settings.forest);
      const fittedAt = new Date();
      await saveBaseline(db, {
        deviceId: id,
        algorithm: BASELINE_ALGORITHM,
        model: modelJson(fit.model) as unknown as Record<string, unknown>,
        featureSet: FEATURE_SET_ID,
        windowMinutes: settings.windowMinutes,
        windowsUsed: fit.windowsUsed,
        trainedFrom: fit.trainedFrom,
        trainedTo: fit.trainedTo,
        threshold: fit.threshold,
        stats: { ...fit.stats, scores: fit.scores },
        fittedAt,
        lastScoredWindow: new Date(
          Math.max(old?.lastScoredWindow?.getTime() ?? -Infinity, lastComplete.getTime()),
        ),
        windowsScored: 0,
        anomalies: 0,
      });
      cacheOf(forestCache, deps.store).set(id, { fittedAt: fittedAt.getTime(), model: fit.model });
      summary.fitted++;
    }
  }

  if (settings.lstm.enabled) {
    summary.lstm_fitted = await fitTypes(deps, settings, completeBefore, types, log);
  }
  summary.ms = Date.now() - t0;
  return summary;
}

async function forestsFor(
  store: Store,
  metas: readonly BaselineMeta[],
): Promise<Map<number, IsolationForest>> {
  const cache = cacheOf(forestCache, store);
  const out = new Map<number, IsolationForest>();
  const missing: number[] = [];
  for (const m of metas) {
    const c = cache.get(m.deviceId);
    if (c && c.fittedAt === m.fittedAt.getTime()) out.set(m.deviceId, c.model);
    else missing.push(m.deviceId);
  }
  const live = new Set(metas.map((m) => m.deviceId));
  for (const id of cache.keys()) if (!live.has(id)) cache.delete(id);
  const byId = new Map(metas.map((m) => [m.deviceId, m]));
  for (let i = 0; i < missing.length; i += 50) {
    const json = await baselineModels(store.db, missing.slice(i, i + 50));
    for (const [id, j] of json) {
      const m = byId.get(id);
      if (!m) continue;
      try {
        const model = modelFromJson(j);
        cache.set(id, { fittedAt: m.fittedAt.getTime(), model });
        out.set(id, model);
      } catch {
        // A model that no longer loads is refitted by the fitting pass of this run.
      }
    }
  }
  return out;
}

interface AlertInput {
  label: DeviceLabel;
  model: 'isolation-forest' | 'lstm-autoencoder';
  window: RollupWindow;
  windowEnd: Date;
  score: number;
  threshold: number;
  fittedAt: Date;
  stats: FeatureStats;
  extra: Record<string, unknown>;
  /** LSTM: start of the sequence; severity by the error ratio instead of the score margin. */
  sequenceStart?: Date;
}

async function raiseBaselineAlert(deps: Deps, settings: BaselineJobSettings, a: AlertInput): Promise<void> {
  const features = topDeviations(a.window, a.stats);
  const scope = a.model === 'isolation-forest' ? 'device' : 'device_type';
  const from = a.sequenceStart ?? a.window.windowStart;
  const flows = await windowFlows(deps.store.db, a.label.id, a.window.windowStart, a.windowEnd).catch(
    () => [] as string[],
  );
  const severity =
    a.model === 'isolation-forest'
      ? severityOf(a.score, a.threshold)
      : a.score >= 2 * a.threshold
        ? 'medium'
        : 'low';
  const what = features.length
    ? features.map((f) => `${f.feature} ${f.value} (usually ${f.median}, p95 ${f.p95})`).join(', ')
    : 'an unusual combination of traffic features';
  const modelText =
    a.model === 'isolation-forest'
      ? 'its own isolation-forest baseline'
      : `the LSTM sequence model of its device type (${a.label.deviceType})`;
  await raiseAlert(deps, {
    deviceId: a.label.id,
    kind: 'anomaly',
    severity,
    title: `Unusual traffic from ${a.label.label}`,
    description:
      `The ${settings.windowMinutes}-minute window from ${a.window.windowStart.toISOString()} scored ` +
      `${a.score.toFixed(3)} against ${modelText} (threshold ${a.threshold.toFixed(3)}): ${what}.`,
    peer: null,
    dedupKey: `${a.label.id}|anomaly|${a.model === 'isolation-forest' ? 'iforest' : 'lstm'}`,
    evidence: {
      ...baselineEvidence({
        model: a.model,
        scope,
        windowStart: a.window.windowStart,
        windowEnd: a.windowEnd,
        windowMinutes: settings.windowMinutes,
        score: a.score,
        threshold: a.threshold,
        fittedAt: a.fittedAt,
        features,
        extra: {
          ...a.extra,
          ...(a.sequenceStart ? { sequence_start: a.sequenceStart.toISOString() } : {}),
        },
      }),
      community_ids: flows,
    },
    firstSeen: from,
    lastSeen: a.windowEnd,
  });
}

// ---- LSTM per device type --------------------------------------------------------------------------------

async function loadLstm(store: Store, t: TypeBaselineRow): Promise<LstmAutoencoder> {
  const cache = cacheOf(lstmCache, store);
  const c = cache.get(t.deviceType);
  if (c && c.fittedAt === t.fittedAt.getTime()) return c.model;
  const { LstmAutoencoder } = await import('../../ml/lstm/autoencoder.js');
  const model = await LstmAutoencoder.fromJSON(t.model);
  c?.model.dispose();
  cache.set(t.deviceType, { fittedAt: t.fittedAt.getTime(), model });
  return model;
}

async function scoreType(
  deps: Deps,
  settings: BaselineJobSettings,
  t: TypeBaselineRow,
  metas: readonly BaselineMeta[],
  labels: Map<number, DeviceLabel>,
  statsOf: Map<number, FeatureStats>,
  recent: Map<number, RollupWindow[]>,
  completeBefore: Date,
): Promise<{ sequences: number; anomalies: number }> {
  const W = settings.windowMinutes * 60_000;
  const steps = t.steps;
  const after = Math.max(
    (t.lastScoredWindow ?? t.trainedTo).getTime(),
    completeBefore.getTime() - (settings.maxScoreLagWindows + 1) * W,
  );
  const firstNew = after + W;
  if (firstNew >= completeBefore.getTime()) return { sequences: 0, anomalies: 0 };
  const model = await loadLstm(deps.store, t);
  const gridFrom = firstNew - (steps - 1) * W;
  let sequences = 0;
  let anomalies = 0;
  for (const m of metas) {
    const label = labels.get(m.deviceId);
    const stats = statsOf.get(m.deviceId);
    if (!label || !stats || label.deviceType !== t.deviceType) continue;
    const windows = recent.get(m.deviceId) ?? [];
    const g = slotGrid(
      m.deviceId,
      windows,
      stats.median,
      gridFrom,
      completeBefore.getTime(),
      settings.windowMinutes,
    );
    const ends: number[] = [];
    for (let last = steps - 1; last < g.nSlots; last++) ends.push(last);
    if (ends.length === 0) continue;
    const set = sequenceSet(g, ends, steps);
    const errors = model.reconstructionError(set);
    sequences += ends.length;
    let best = -1;
    for (let i = 0; i < errors.length; i++)
      if (
        (errors[i] as number) > t.threshold &&
        (best < 0 || (errors[i] as number) > (errors[best] as number))
      )
        best = i;
    if (best < 0) continue;
    const lastSlot = ends[best] as number;
    const windowStart = new Date(g.fromMs + lastSlot * W);
    // The window of the sequence that rose most (for the feature evidence): the busiest by excess.
    const window = busiestWindow(
      windows,
      g.fromMs + (lastSlot - steps + 1) * W,
      windowStart.getTime() + W,
    ) ?? {
      ...emptyRollupWindow(m.deviceId, windowStart),
    };
    anomalies++;
    await raiseBaselineAlert(deps, settings, {
      label,
      model: 'lstm-autoencoder',
      window,
      windowEnd: new Date(window.windowStart.getTime() + W),
      score: errors[best] as number,
      threshold: t.threshold,
      fittedAt: t.fittedAt,
      stats,
      sequenceStart: new Date(g.fromMs + (lastSlot - steps + 1) * W),
      extra: {
        device_type: t.deviceType,
        steps,
        sequence_end: new Date(windowStart.getTime() + W).toISOString(),
        reconstruction_error: Math.round((errors[best] as number) * 1e6) / 1e6,
        type_devices: t.devices.length,
        type_sequences: t.sequences,
      },
    });
  }
  await markTypeScored(deps.store.db, t.deviceType, new Date(completeBefore.getTime() - W));
  return { sequences, anomalies };
}

function sequenceSet(g: SlotGrid, ends: readonly number[], steps: number): SequenceSet {
  const per = steps * (g.rows.length / Math.max(g.nSlots, 1));
  const data = new Float32Array(ends.length * per);
  ends.forEach((last, i) => {
    const s = sequenceEndingAt(g, last, steps);
    if (s) data.set(s, i * per);
  });
  return { data, nSeq: ends.length, steps, features: per / steps };
}

function busiestWindow(windows: readonly RollupWindow[], fromMs: number, toMs: number): RollupWindow | null {
  let best: RollupWindow | null = null;
  for (const w of windows) {
    const t = w.windowStart.getTime();
    if (t < fromMs || t >= toMs) continue;
    if (!best || w.packetsOut + w.packetsIn > best.packetsOut + best.packetsIn) best = w;
  }
  return best;
}

async function fitTypes(
  deps: Deps,
  settings: BaselineJobSettings,
  completeBefore: Date,
  existing: readonly TypeBaselineRow[],
  log?: Log,
): Promise<string[]> {
  const db = deps.store.db;
  const s = settings.lstm;
  const W = settings.windowMinutes * 60_000;
  const metas = await baselineMetas(db);
  const labels = await deviceLabels(
    db,
    metas.map((m) => m.deviceId),
  );
  const byType = new Map<string, BaselineMeta[]>();
  for (const m of metas) {
    const t = labels.get(m.deviceId)?.deviceType;
    if (!t || t === 'unknown') continue;
    let list = byType.get(t);
    if (!list) byType.set(t, (list = []));
    list.push(m);
  }
  const fitted: string[] = [];
  for (const [type, members] of byType) {
    if (members.length < s.minDevices) continue;
    const have = existing.find((e) => e.deviceType === type);
    const ids = members.map((m) => m.deviceId).sort((a, b) => a - b);
    const grew = have ? ids.some((id) => !have.devices.includes(id)) : true;
    const stale = have
      ? completeBefore.getTime() - have.trainedTo.getTime() >= settings.refitHours * 3_600_000
      : true;
    const shapeChanged = have
      ? have.steps !== s.steps || have.windowMinutes !== settings.windowMinutes
      : true;
    if (have && !grew && !stale && !shapeChanged) continue;
    const from = new Date(completeBefore.getTime() - s.historyWindows * W);
    const history = await loadWindows(db, ids, from, completeBefore, settings.windowMinutes);
    const grids: SlotGrid[] = [];
    for (const m of members) {
      const stats = parseStats(m.stats);
      const windows = history.get(m.deviceId) ?? [];
      const first = windows[0];
      if (!stats || !first) continue;
      grids.push(
        slotGrid(
          m.deviceId,
          windows,
          stats.median,
          first.windowStart.getTime(),
          completeBefore.getTime(),
          settings.windowMinutes,
        ),
      );
    }
    const seqs = trainingSequences(grids, s.steps, s.maxSequences);
    if (grids.length < s.minDevices || seqs.nSeq < s.minSequences) continue;
    try {
      const { LstmAutoencoder } = await import('../../ml/lstm/autoencoder.js');
      const model = new LstmAutoencoder({
        units: s.units,
        epochs: s.epochs,
        batchSize: 64,
        learningRate: 0.01,
        thresholdPercentile: s.percentile,
        seed: hashType(type),
      });
      const report = await model.fit(seqs);
      const fittedAt = new Date();
      const envelope = withChecksum(model.toJSON());
      await saveTypeBaseline(db, {
        deviceType: type,
        algorithm: envelope.algorithm,
        model: envelope as unknown as Record<string, unknown>,
        featureSet: FEATURE_SET_ID,
        windowMinutes: settings.windowMinutes,
        steps: s.steps,
        devices: grids.map((g) => g.deviceId),
        sequences: seqs.nSeq,
        trainedTo: new Date(completeBefore.getTime() - W),
        threshold: lstmThreshold(report.threshold, s.margin),
        stats: {
          train_errors: envelope.data.trainErrors,
          percentile: s.percentile,
          margin: s.margin,
          backend: report.backend,
          epochs: report.epochs,
          loss: report.loss.map((l) => Math.round(l * 1e6) / 1e6),
          ms: Math.round(report.ms),
        },
        fittedAt,
        lastScoredWindow: new Date(
          Math.max(have?.lastScoredWindow?.getTime() ?? -Infinity, completeBefore.getTime() - W),
        ),
      });
      const cache = cacheOf(lstmCache, deps.store);
      cache.get(type)?.model.dispose();
      cache.set(type, { fittedAt: fittedAt.getTime(), model });
      fitted.push(type);
    } catch (err) {
      log?.warn({ err, device_type: type }, 'LSTM fit failed for a device type');
    }
  }
  return fitted;
}

function hashType(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) % 2147483647;
}
