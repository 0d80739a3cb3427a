/**
 * Turns a verified model envelope into something that scores: one loader per algorithm. The LSTM
 * autoencoder (TensorFlow.js) is not registered here so that serving does not load TensorFlow; its owner
 * registers a loader with `registerModelLoader` where it is needed.
 */
import { GRADIENT_BOOSTING_ALGORITHM, GradientBoostingClassifier } from '../gradient-boosting.js';
import { ISOLATION_FOREST_ALGORITHM, IsolationForest } from '../isolation-forest.js';
import type { Matrix } from '../matrix.js';
import { RANDOM_FOREST_ALGORITHM, RandomForestClassifier } from '../random-forest.js';

export interface ServableModel {
  /** Integer labels per row (classifiers: the class; anomaly detectors: 1 anomalous, 0 normal). */
  predict(X: Matrix): Int32Array;
  /** A score per row: the anomaly score, or a classifier's top-class probability. */
  score(X: Matrix): Float64Array;
}

export type ModelLoader = (envelope: unknown) => ServableModel;

function topProbability(proba: Float32Array, nRows: number): Float64Array {
  const k = nRows > 0 ? proba.length / nRows : 0;
  const out = new Float64Array(nRows);
  for (let r = 0; r < nRows; r++) {
    let best = 0;
    for (let j = 0; j < k; j++) best = Math.max(best, proba[r * k + j] as number);
    out[r] = best;
  }
  return out;
}

const LOADERS = new Map<string, ModelLoader>([
  [
    ISOLATION_FOREST_ALGORITHM,
    (env) => {
      const m = IsolationForest.fromJSON(env);
      return { predict: (X) => m.predict(X), score: (X) => m.scoreSamples(X) };
    },
  ],
  [
    RANDOM_FOREST_ALGORITHM,
    (env) => {
      const m = RandomForestClassifier.fromJSON(env);
      return { predict: (X) => m.predict(X), score: (X) => topProbability(m.predictProba(X), X.nRows) };
    },
  ],
  [
    GRADIENT_BOOSTING_ALGORITHM,
    (env) => {
      const m = GradientBoostingClassifier.fromJSON(env);
      return { predict: (X) => m.predict(X), score: (X) => topProbability(m.predictProba(X), X.nRows) };
    },
  ],
]);

export function registerModelLoader(algorithm: string, loader: ModelLoader): void {
  LOADERS.set(algorithm, loader);
}

export function modelLoader(algorithm: string): ModelLoader | undefined {
  return LOADERS.get(algorithm);
}
