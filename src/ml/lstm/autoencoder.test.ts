import { describe, expect, it } from 'vitest';
import { isMlError } from '../errors.js';
import { Rng } from '../random.js';
import { LstmAutoencoder, type SequenceSet } from './autoencoder.js';

/** Smooth periodic sequences (normal) or white noise with a different scale (anomalous). */
function sequences(n: number, steps: number, features: number, seed: number, anomalous = false): SequenceSet {
  const rng = new Rng(seed);
  const data = new Float32Array(n * steps * features);
  for (let s = 0; s < n; s++) {
    const phase = rng.uniform(0, 2 * Math.PI);
    for (let t = 0; t < steps; t++) {
      for (let f = 0; f < features; f++) {
        data[(s * steps + t) * features + f] = anomalous
          ? 2 * rng.normal()
          : Math.sin(phase + (2 * Math.PI * t) / steps + f) + 0.05 * rng.normal();
      }
    }
  }
  return { data, nSeq: n, steps, features };
}

describe('LstmAutoencoder', () => {
  it('reconstructs normal sequences better than anomalous ones, and round-trips its weights', async () => {
    const train = sequences(192, 10, 3, 1);
    const ae = new LstmAutoencoder({ units: 8, epochs: 12, batchSize: 32, learningRate: 0.02, seed: 3 });
    const report = await ae.fit(train);
    expect(['wasm', 'cpu']).toContain(report.backend);
    expect(report.loss.length).toBe(12);
    expect(report.loss[11]!).toBeLessThan(report.loss[0]!);

    const normal = ae.reconstructionError(sequences(40, 10, 3, 2));
    const anomalous = ae.reconstructionError(sequences(40, 10, 3, 3, true));
    const mean = (a: Float64Array): number => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(anomalous)).toBeGreaterThan(3 * mean(normal));
    const flagged = ae.predict(sequences(40, 10, 3, 3, true)).reduce((a, b) => a + b, 0);
    expect(flagged).toBeGreaterThanOrEqual(36);
    expect(ae.threshold).toBeGreaterThan(0);

    const json = JSON.parse(JSON.stringify(ae.toJSON())) as unknown;
    const back = await LstmAutoencoder.fromJSON(json);
    const again = back.reconstructionError(sequences(40, 10, 3, 2));
    for (let i = 0; i < again.length; i++) expect(again[i]).toBeCloseTo(normal[i]!, 5);
    expect(back.threshold).toBe(ae.threshold);
    back.dispose();
    ae.dispose();
  });

  it('validates sequences and parameters', async () => {
    const ae = new LstmAutoencoder({ epochs: 1 });
    const bad = sequences(2, 4, 2, 1);
    bad.data[5] = NaN;
    await expect(ae.fit(bad)).rejects.toSatisfy((e) => isMlError(e) && e.code === 'ML_INVALID_INPUT');
    await expect(ae.fit({ data: new Float32Array(0), nSeq: 0, steps: 4, features: 2 })).rejects.toSatisfy(
      (e) => isMlError(e) && e.code === 'ML_EMPTY_DATA',
    );
    expect(() => ae.reconstructionError(sequences(1, 4, 2, 1))).toThrow(/not been fitted/);
    expect(() => new LstmAutoencoder({ units: 0 })).toThrow(/units/);
  });
});
