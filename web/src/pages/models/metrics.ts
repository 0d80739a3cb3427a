/**
 * A model's evaluation metrics (ml_models.metrics) as the pages show them. Each trainer stores its own
 * shape: the device-type trainer a per-class array and a square `counts[][]`, the threat trainer a per-class
 * record and a flat row-major `counts[]`, the anomaly trainer (unsupervised) neither. These read all of them.
 */

export interface Confusion {
  /** Class names; rows are the true class, columns the predicted one, in this order. */
  labels: string[];
  counts: number[][];
}

export interface ClassRow {
  label: string;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function confusionOf(metrics: Record<string, unknown>): Confusion | null {
  const c = metrics.confusion ?? metrics.confusion_matrix;
  if (!isRecord(c) || !Array.isArray(c.labels) || !Array.isArray(c.counts)) return null;
  const labels = c.labels.map((l) => String(l));
  const k = labels.length;
  if (k === 0 || k > 100) return null;
  let counts: number[][];
  if (c.counts.every((r) => Array.isArray(r))) {
    counts = (c.counts as unknown[][]).map((r) => r.map((x) => finite(x) ?? 0));
  } else {
    const flat = c.counts.map((x) => finite(x) ?? 0);
    if (flat.length !== k * k) return null;
    counts = labels.map((_, i) => flat.slice(i * k, i * k + k));
  }
  if (counts.length !== k || counts.some((r) => r.length !== k)) return null;
  return { labels, counts };
}

export function perClassOf(metrics: Record<string, unknown>): ClassRow[] {
  const p = metrics.per_class;
  const row = (label: string, r: Record<string, unknown>): ClassRow => ({
    label,
    precision: finite(r.precision),
    recall: finite(r.recall),
    f1: finite(r.f1),
    support: finite(r.support),
  });
  if (Array.isArray(p)) return p.filter(isRecord).map((r) => row(String(r.label ?? r.class ?? '?'), r));
  if (isRecord(p)) return Object.entries(p).flatMap(([label, r]) => (isRecord(r) ? [row(label, r)] : []));
  return [];
}

/** The headline numbers of the list: accuracy and macro-F1 when the task has them. */
export function headline(metrics: Record<string, unknown>): {
  accuracy: number | null;
  macroF1: number | null;
} {
  return { accuracy: finite(metrics.accuracy), macroF1: finite(metrics.macro_f1) };
}

export const formatScore = (v: number | null): string => (v === null ? '—' : v.toFixed(3));
export const formatPercent = (v: number | null, digits = 1): string =>
  v === null ? '—' : `${(v * 100).toFixed(digits)}%`;

/** Other scalar metrics worth a line (folds, evaluation kind, threshold…), in their stored order. */
export function otherScalars(metrics: Record<string, unknown>): [string, string][] {
  const skip = new Set(['accuracy', 'macro_f1', 'per_class', 'confusion', 'confusion_matrix']);
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(metrics)) {
    if (skip.has(k)) continue;
    if (typeof v === 'number' && Number.isFinite(v))
      out.push([k, Number.isInteger(v) ? String(v) : v.toFixed(4)]);
    else if (typeof v === 'string' || typeof v === 'boolean') out.push([k, String(v)]);
    else if (Array.isArray(v) && v.length > 0 && v.length <= 20 && v.every((x) => typeof x === 'number'))
      out.push([k, v.map((x) => (Number.isInteger(x) ? String(x) : (x as number).toFixed(3))).join(', ')]);
  }
  return out;
}

/** PSI rule of thumb: below 0.1 stable, 0.1–0.25 moderate shift, above 0.25 significant. */
export const PSI_MODERATE = 0.1;
export const PSI_SIGNIFICANT = 0.25;

export const psiLevel = (psi: number): 'stable' | 'moderate' | 'significant' =>
  psi >= PSI_SIGNIFICANT ? 'significant' : psi >= PSI_MODERATE ? 'moderate' : 'stable';
