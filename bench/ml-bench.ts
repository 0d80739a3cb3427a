/**
 * Timings of the src/ml learners on synthetic data (single thread).
 *   node bin/run-ts.js bench/ml-bench.ts [--full] [--lstm]
 * --full adds the 100k × 40, 100-tree random forest; --lstm adds the 2,000 × 24 × 8 LSTM autoencoder.
 * Anchors (scikit-learn, same machine class, from docs/DEPENDENCIES.md and the brief): RF 5,000 × 30 with
 * 50 trees ≈ 1.1 s; RF 100 trees on 100k × 40 ≈ 60–90 s.
 */
import { accuracy, rocAuc } from '../src/ml/eval/metrics.js';
import { stratifiedSplit } from '../src/ml/eval/split.js';
import { GradientBoostingClassifier } from '../src/ml/gradient-boosting.js';
import { IsolationForest } from '../src/ml/isolation-forest.js';
import { takeInt32, takeRows } from '../src/ml/matrix.js';
import { RandomForestClassifier } from '../src/ml/random-forest.js';
import { blobs, plantedOutliers } from '../src/ml/test-support/synthetic.js';

const args = new Set(process.argv.slice(2));

function time<T>(label: string, f: () => T): T {
  const t0 = performance.now();
  const r = f();
  console.log(`${label}: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  return r;
}

function split(nRows: number, nCols: number, nClasses: number, seed: number) {
  const d = blobs({ nRows, nClasses, nFeatures: nCols, nInformative: Math.ceil(nCols / 3), sep: 1, seed });
  const s = stratifiedSplit(d.y, { testSize: 0.2, seed: 1 });
  return {
    Xtr: takeRows(d.X, s.train),
    ytr: takeInt32(d.y, s.train),
    Xte: takeRows(d.X, s.test),
    yte: takeInt32(d.y, s.test),
    all: d,
  };
}

{
  const d = blobs({ nRows: 5000, nClasses: 3, nFeatures: 30, nInformative: 10, sep: 1, seed: 2 });
  const rf = time('RF fit 5,000 × 30, 50 trees', () =>
    new RandomForestClassifier({ nEstimators: 50, seed: 1 }).fit(d.X, d.y),
  );
  const big = blobs({ nRows: 200_000, nClasses: 3, nFeatures: 30, nInformative: 10, sep: 1, seed: 2 });
  const t0 = performance.now();
  rf.predictProba(big.X);
  const s = (performance.now() - t0) / 1000;
  console.log(`RF predict (50 trees): ${Math.round(200_000 / s).toLocaleString('en')} rows/s`);
}

{
  const d = split(20_000, 40, 3, 3);
  const rf = time('RF fit 16,000 × 40, 100 trees', () =>
    new RandomForestClassifier({ nEstimators: 100, seed: 1 }).fit(d.Xtr, d.ytr),
  );
  console.log(`  RF test accuracy ${accuracy(d.yte, rf.predict(d.Xte)).toFixed(4)}`);
  const gb = time('GBT fit 16,000 × 40, 3 classes, 100 rounds, depth 6', () =>
    new GradientBoostingClassifier({ nEstimators: 100, learningRate: 0.1, seed: 1 }).fit(d.Xtr, d.ytr),
  );
  console.log(`  GBT test accuracy ${accuracy(d.yte, gb.predict(d.Xte)).toFixed(4)}`);
}

{
  const d = plantedOutliers(99_000, 1_000, 40, 4);
  const f = time('IF fit 100k × 40, 100 trees', () => new IsolationForest({ seed: 1 }).fit(d.X));
  const s = time('IF score 100k × 40', () => f.scoreSamples(d.X));
  console.log(`  IF AUC on planted outliers ${rocAuc(d.y, s).toFixed(4)}`);
}

if (args.has('--full')) {
  const d = blobs({ nRows: 100_000, nClasses: 3, nFeatures: 40, nInformative: 12, sep: 1, seed: 5 });
  time('RF fit 100k × 40, 100 trees', () =>
    new RandomForestClassifier({ nEstimators: 100, seed: 1 }).fit(d.X, d.y),
  );
  time('GBT fit 100k × 40, 3 classes, 100 rounds', () =>
    new GradientBoostingClassifier({ nEstimators: 100, learningRate: 0.1, seed: 1 }).fit(d.X, d.y),
  );
}

if (args.has('--lstm')) {
  const { LstmAutoencoder } = await import('../src/ml/lstm/index.js');
  const { Rng } = await import('../src/ml/random.js');
  const rng = new Rng(1);
  const n = 2000;
  const steps = 24;
  const features = 8;
  const data = new Float32Array(n * steps * features);
  for (let s = 0; s < n; s++) {
    const phase = rng.uniform(0, 2 * Math.PI);
    for (let t = 0; t < steps; t++)
      for (let f = 0; f < features; f++)
        data[(s * steps + t) * features + f] =
          Math.sin(phase + (2 * Math.PI * t) / steps + f) + 0.05 * rng.normal();
  }
  const ae = new LstmAutoencoder({ seed: 1 });
  const rep = await ae.fit({ data, nSeq: n, steps, features });
  console.log(
    `LSTM AE fit 2,000 × 24 × 8 (${ae.params.epochs} epochs, ${ae.params.units} units, batch ${ae.params.batchSize}) on ${rep.backend}: ${(rep.ms / 1000).toFixed(1)} s, final loss ${rep.loss.at(-1)?.toFixed(4)}`,
  );
  ae.dispose();
}
