import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../audit/audit-log.js';
import { ModelRegistry } from '../ml/registry/registry.js';
import { registerTestModel } from '../ml/registry/test-support.js';
import { openStore } from '../store/db.js';

const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'iotsec.js');

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent', DATABASE_URL: '', REDIS_URL: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('iotsec models', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'iotsec-models-cli-'));
  const env = { DATA_DIR: dataDir };
  const ids: string[] = [];

  beforeAll(async () => {
    const store = await openStore({ pgliteDir: join(dataDir, 'pglite') });
    try {
      await store.migrate();
      const registry = new ModelRegistry({ db: store.db, audit: new AuditLog(store.db), dataDir });
      for (const seed of [1, 2]) ids.push((await registerTestModel(registry, 'anomaly', seed)).id);
    } finally {
      await store.close();
    }
  });

  it('has --help and exits 2 on usage errors', () => {
    const h = run(['models', '--help'], env);
    expect(h.code).toBe(0);
    expect(h.out).toContain('iotsec models ab TASK CANDIDATE_ID --share');
    expect(run(['models'], env).code).toBe(2);
    expect(run(['models', 'list', '--task', 'bogus'], env).code).toBe(2);
    expect(run(['models', 'promote', 'not-a-uuid'], env).code).toBe(2);
    const share = run(['models', 'ab', 'anomaly', ids[1] ?? '', '--share', '1.5'], env);
    expect(share.code).toBe(2);
    expect(share.err).toContain('--share');
    expect(run(['models', 'ab', 'anomaly', ids[1] ?? ''], env).code).toBe(2);
  }, 240_000);

  it('lists, promotes, splits and rolls back on an embedded database, exit 1 on refused changes', () => {
    const list = run(['models', 'list', '--task', 'anomaly', '--json'], env);
    expect(list.code, list.err).toBe(0);
    const rows = list.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; version: number; status: string });
    expect(rows.map((r) => [r.version, r.status])).toEqual([
      [2, 'candidate'],
      [1, 'candidate'],
    ]);

    const noProd = run(['models', 'ab', 'anomaly', ids[1] ?? '', '--share', '0.1'], env);
    expect(noProd.code).toBe(1);
    expect(noProd.err).toContain('MODEL_NO_PRODUCTION');

    const p = run(['models', 'promote', ids[0] ?? ''], env);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toContain('anomaly v1');
    const ab = run(['models', 'ab', 'anomaly', ids[1] ?? '', '--share', '0.1', '--shadow'], env);
    expect(ab.code, ab.err).toBe(0);
    expect(ab.out).toContain('shadows 10% of devices');
    expect(run(['models', 'promote', ids[1] ?? ''], env).code).toBe(0);
    const rb = run(['models', 'rollback', 'anomaly'], env);
    expect(rb.code, rb.err).toBe(0);
    expect(rb.out).toContain('v1');
    const again = run(['models', 'rollback', 'anomaly'], env);
    expect(again.code).toBe(1);
    expect(again.err).toContain('MODEL_NO_PREVIOUS');
    const text = run(['models', 'list'], env);
    expect(text.out).toMatch(/anomaly\tv1\tisolation-forest\tproduction/);
  }, 240_000);
});
