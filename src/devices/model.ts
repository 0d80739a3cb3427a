/**
 * The device-type model: a Random Forest on DEVICE_TYPE_FEATURES. Training sees every labelled profile
 * twice, as the capture shows it and as the database would (no packet-level columns), so one model serves
 * `iotsec classify` (captures) and identification after ingest (stored signals and flows). Evaluation is
 * cross-validation grouped by capture (StratifiedGroupKFold): both views of a capture always sit in the same
 * fold, and no capture is ever in train and test at once.
 */
import { extractMatrix } from '../ml/features/feature-set.js';
import { classificationReport } from '../ml/eval/metrics.js';
import { stratifiedGroupKFold } from '../ml/eval/split.js';
import type { Matrix } from '../ml/matrix.js';
import { takeInt32, takeRows } from '../ml/matrix.js';
import { RandomForestClassifier, type RandomForestOptions } from '../ml/random-forest.js';
import { DEVICE_TYPE_FEATURES, DEVICE_TYPE_SIGNATURE, tokensOfColumns, withoutPackets } from './features.js';
import type { DeviceProfile } from './profile.js';
import { kindLabel } from './rules.js';

export const DEFAULT_RF: RandomForestOptions = { nEstimators: 200, maxFeatures: 0.3, seed: 7 };

export interface TrainingSample {
  profile: DeviceProfile;
  label: string;
  /** CV group: the capture the sample comes from. */
  group: string;
}

export interface DeviceTypeMetrics {
  /** Out-of-fold accuracy on the captures as captured (packet features present). */
  accuracy: number;
  /** The same captures seen as the database sees them (no packet features). */
  accuracy_without_packets: number;
  macro_f1: number;
  folds: number;
  fold_accuracy: number[];
  per_class: { label: string; precision: number; recall: number; f1: number; support: number }[];
  confusion: { labels: string[]; counts: number[][] };
  /** The most frequent confusions: "true → predicted: n". */
  top_confusions: string[];
}

function stack(a: Matrix, b: Matrix): Matrix {
  const data = new Float64Array(a.data.length + b.data.length);
  data.set(a.data);
  data.set(b.data, a.data.length);
  return { data, nRows: a.nRows + b.nRows, nCols: a.nCols };
}

function augmented(
  X: Matrix,
  Xn: Matrix,
  y: Int32Array,
  rows: ArrayLike<number>,
): { X: Matrix; y: Int32Array } {
  const yr = takeInt32(y, rows);
  const yy = new Int32Array(yr.length * 2);
  yy.set(yr);
  yy.set(yr, yr.length);
  return { X: stack(takeRows(X, rows), takeRows(Xn, rows)), y: yy };
}

export interface TrainedDeviceType {
  model: RandomForestClassifier;
  classes: string[];
  metrics: DeviceTypeMetrics | null;
  /** The augmented training matrix (for the drift reference). */
  trainingData: Matrix;
}

/** Fits the model on every sample; with `cvFolds` > 1 evaluates first by grouped cross-validation. */
export function trainDeviceType(
  samples: readonly TrainingSample[],
  opts: { cvFolds?: number; rf?: RandomForestOptions; onFold?: (fold: number, total: number) => void } = {},
): TrainedDeviceType {
  const classes = [...new Set(samples.map((s) => s.label))].sort();
  const y = Int32Array.from(samples.map((s) => classes.indexOf(s.label)));
  const X = extractMatrix(
    DEVICE_TYPE_FEATURES,
    samples.map((s) => s.profile),
  );
  const Xn = extractMatrix(
    DEVICE_TYPE_FEATURES,
    samples.map((s) => withoutPackets(s.profile)),
  );
  const rf = { ...DEFAULT_RF, ...opts.rf };
  let metrics: DeviceTypeMetrics | null = null;
  const groupsPerClass = classes.map(
    (_, k) => new Set(samples.filter((_s, i) => y[i] === k).map((s) => s.group)).size,
  );
  const folds = Math.min(opts.cvFolds ?? 10, ...groupsPerClass);
  if ((opts.cvFolds ?? 10) > 1 && folds >= 2) {
    const splits = stratifiedGroupKFold(
      y,
      samples.map((s) => s.group),
      folds,
      { shuffle: true, seed: 1 },
    );
    const oof = new Int32Array(y.length).fill(-1);
    const oofN = new Int32Array(y.length).fill(-1);
    const foldAcc: number[] = [];
    splits.forEach((s, f) => {
      const tr = augmented(X, Xn, y, s.train);
      const m = new RandomForestClassifier(rf).fit(tr.X, tr.y, { classes: Int32Array.from(classes.keys()) });
      const p = m.predict(takeRows(X, s.test));
      const pn = m.predict(takeRows(Xn, s.test));
      let ok = 0;
      s.test.forEach((r, i) => {
        oof[r] = p[i] as number;
        oofN[r] = pn[i] as number;
        if (p[i] === y[r]) ok++;
      });
      foldAcc.push(ok / s.test.length);
      opts.onFold?.(f + 1, splits.length);
    });
    const labelsK = Int32Array.from(classes.keys());
    const rep = classificationReport(y, oof, labelsK);
    const repN = classificationReport(y, oofN, labelsK);
    const K = classes.length;
    const counts: number[][] = [];
    const conf: { n: number; text: string }[] = [];
    for (let i = 0; i < K; i++) {
      counts.push(Array.from(rep.confusion.counts.subarray(i * K, i * K + K)));
      for (let j = 0; j < K; j++) {
        const n = rep.confusion.counts[i * K + j] as number;
        if (i !== j && n > 0) conf.push({ n, text: `${classes[i]} → ${classes[j]}: ${n}` });
      }
    }
    metrics = {
      accuracy: rep.accuracy,
      accuracy_without_packets: repN.accuracy,
      macro_f1: rep.macroF1,
      folds,
      fold_accuracy: foldAcc,
      per_class: rep.perClass.map((c) => ({
        label: classes[c.label] as string,
        precision: c.precision,
        recall: c.recall,
        f1: c.f1,
        support: c.support,
      })),
      confusion: { labels: classes, counts },
      top_confusions: conf.sort((a, b) => b.n - a.n).map((c) => c.text),
    };
  }
  const all = augmented(X, Xn, y, Int32Array.from(y.keys()));
  const model = new RandomForestClassifier(rf).fit(all.X, all.y, { featureSet: DEVICE_TYPE_SIGNATURE });
  return { model, classes, metrics, trainingData: all.X };
}

export interface DeviceTypePrediction {
  deviceType: string;
  confidence: number;
  /** Runner-up, when close: for explanations. */
  runnerUp: { deviceType: string; confidence: number } | null;
  /** The type-level evidence the features saw: "DNS tplinkcloud.com", "open port 9999/tcp". */
  evidence: string[];
}

/** A trained model with its class names, as loaded from the registry or just trained. */
export interface DeviceTypeModel {
  id: string;
  version: number | null;
  model: RandomForestClassifier;
  classes: readonly string[];
}

const FAMILY_LABEL: Record<string, string> = {
  dns_domain: 'DNS',
  sni_domain: 'TLS SNI',
  dhcp_fp: 'DHCP fingerprint',
  dhcp_vendor: 'DHCP vendor class word',
  mdns_service: 'mDNS service',
  ssdp_server: 'SSDP SERVER word',
  user_agent: 'User-Agent word',
  ja3: 'JA3',
  host_word: 'host name word',
  oui: 'OUI',
  dport: 'contacts',
  open_port: 'open port',
};

/** Evidence for a prediction: the profile's type-level tokens behind the most important features set. */
export function explainProfile(
  m: RandomForestClassifier,
  p: DeviceProfile,
  row: ArrayLike<number>,
  max = 5,
): string[] {
  const imp = m.featureImportances;
  const names = DEVICE_TYPE_FEATURES.features.map((f) => f.name);
  const tokens = tokensOfColumns(p);
  const order = Array.from(imp.keys()).sort((a, b) => (imp[b] as number) - (imp[a] as number));
  const out: string[] = [];
  let packetNoted = false;
  for (const c of order) {
    if (out.length >= max) break;
    const name = names[c] as string;
    const v = row[c] as number;
    if (v <= 0) continue;
    const toks = tokens.get(name);
    if (toks) {
      const fam = name.replace(/_h\d+$/, '');
      for (const t of toks) {
        const text = `${FAMILY_LABEL[fam] ?? fam} ${t}`;
        if (!out.includes(text)) out.push(text);
      }
    } else if (name.startsWith('pkt_t')) {
      const text = `timing of its first ${p.packetOffsets.length + 1} packets`;
      if (!out.includes(text)) out.push(text);
    } else if (name.startsWith('pkt') && !packetNoted) {
      packetNoted = true;
      out.push(`IoT Sentinel fingerprint of the first ${p.packets.length} packets`);
    } else if (name.startsWith('has_')) {
      const text = `${kindLabel(name.slice(4))} present`;
      if (!out.includes(text)) out.push(text);
    } else if (name.startsWith('answers_port_')) out.push(`answers on port ${name.slice(13)}`);
    else if (name.startsWith('contacts_port_')) out.push(`contacts port ${name.slice(14)}`);
  }
  return out.slice(0, max);
}

/** Predicts the type of each profile. */
export function predictDeviceTypes(
  m: DeviceTypeModel,
  profiles: readonly DeviceProfile[],
): DeviceTypePrediction[] {
  if (profiles.length === 0) return [];
  const X = extractMatrix(DEVICE_TYPE_FEATURES, profiles);
  const proba = m.model.predictProba(X);
  const cls = m.model.classes;
  const K = cls.length;
  return profiles.map((p, r) => {
    let best = 0;
    let second = -1;
    for (let k = 1; k < K; k++) {
      const v = proba[r * K + k] as number;
      if (v > (proba[r * K + best] as number)) {
        second = best;
        best = k;
      } else if (second < 0 || v > (proba[r * K + second] as number)) second = k;
    }
    const name = (k: number) => m.classes[cls[k] as number] ?? String(cls[k]);
    const row = X.data.subarray(r * X.nCols, (r + 1) * X.nCols);
    return {
      deviceType: name(best),
      confidence: proba[r * K + best] as number,
      runnerUp:
        second >= 0 && (proba[r * K + second] as number) > 0.05
          ? { deviceType: name(second), confidence: proba[r * K + second] as number }
          : null,
      evidence: explainProfile(m.model, p, row),
    };
  });
}
