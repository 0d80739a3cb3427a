import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelSimFlows, loadScenario, simulateFlows } from './dataset.js';
import { classifyFlows, trainThreat } from './model.js';
import { GradientBoostingClassifier } from '../../ml/gradient-boosting.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const BIN = join(ROOT, 'bin', 'iotsec.js');
const SHARED = resolve(ROOT, '..', 'shared', 'data');
const IOT23_42 = join(SHARED, 'iot23-dev', 'CTU-IoT-Malware-Capture-42-1', 'bro', 'conn.log.labeled');
const FTP = join(SHARED, 'zeek-btest-traces', 'Traces', 'ftp', 'bruteforce.pcap');

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', DATABASE_URL: '', REDIS_URL: '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('threat classifier', () => {
  it('trained on simulator seed 1 + IoT-23 42-1 flags the scan and beacon of a held-out simulation', async () => {
    const scenarios = [
      await loadScenario({ kind: 'sim:1', path: '' }),
      await loadScenario({ kind: 'iot23', path: IOT23_42 }),
    ];
    const out = trainThreat(scenarios, { folds: 0, gbt: { nEstimators: 30 } });
    const model = GradientBoostingClassifier.fromJSON(out.envelope);
    const held = await simulateFlows(9, 30, [
      { kind: 'port_scan', afterMin: 5 },
      { kind: 'c2_beacon', afterMin: 8, durationMin: 20 },
    ]);
    const truth = labelSimFlows(held.flows, held.truth);
    const pred = classifyFlows(model, held.flows);
    for (const cls of ['scan', 'c2'] as const) {
      const idx = truth.flatMap((l, i) => (l === cls ? [i] : []));
      expect(idx.length).toBeGreaterThan(5);
      const hit = idx.filter((i) => pred[i]?.label === cls).length;
      expect(hit / idx.length, cls).toBeGreaterThan(0.8);
    }
    const benign = truth.flatMap((l, i) => (l === 'benign' ? [i] : []));
    const fp = benign.filter((i) => pred[i]?.label !== 'benign').length;
    expect(fp / benign.length).toBeLessThan(0.05);
  }, 60_000);

  it('train threat registers a model and detect --model keeps the JSON line contract', () => {
    const env = { DATA_DIR: mkdtempSync(join(tmpdir(), 'iotsec-threat-')) };
    expect(run(['train', 'threat'], env).code).toBe(2);
    expect(run(['detect', FTP, '--model', 'nope'], env).code).toBe(2);
    const t = run(
      [
        'train',
        'threat',
        '--labels',
        IOT23_42,
        '--sim-seeds',
        '1',
        '--folds',
        '0',
        '--trees',
        '20',
        '--json',
      ],
      env,
    );
    expect(t.code, t.err).toBe(0);
    const res = JSON.parse(t.out) as { model_id: string; task: string; status: string };
    expect(res.task).toBe('threat');
    const d = run(['detect', FTP, '--model', res.model_id, '--json'], env);
    expect(d.code, d.err).toBe(0);
    const lines = d.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(Object.keys(l)).toEqual([
        'ts',
        'community_id',
        'src',
        'sport',
        'dst',
        'dport',
        'proto',
        'label',
        'score',
        'model',
      ]);
      expect(['benign', 'scan', 'c2', 'ddos', 'dos', 'bruteforce', 'exploit', 'download', 'other']).toContain(
        l['label'],
      );
      expect([res.model_id, `rules+${res.model_id}`]).toContain(l['model']);
      expect(typeof l['score']).toBe('number');
    }
    // Not promoted: the default stays the rules.
    const r = run(['detect', FTP, '--json'], env);
    expect(r.code, r.err).toBe(0);
    expect(r.out.includes('"model":"rules"')).toBe(true);
  }, 120_000);
});
