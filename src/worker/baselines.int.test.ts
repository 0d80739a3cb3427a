import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent } from '../bus/types.js';
import { insertRollups } from '../ml/registry/test-support.js';
import { deviceBaselines, deviceTypeBaselines } from '../store/schema.js';
import { makeStack, stackKinds, type Stack } from '../test-support/api.js';
import { BASELINE_QUEUE, startBaselines } from './baselines.js';

const kinds = await stackKinds();

/** The worker wiring: the baseline job runs at start and on its schedule, on either bus. */
describe.each(kinds)('baseline worker job on %s stack', (kind) => {
  let s: Stack;
  beforeAll(async () => {
    s = await makeStack(kind, { BASELINE_LSTM_EPOCHS: '2' });
  });
  afterAll(async () => s?.close());

  it('fits baselines when the worker starts', async () => {
    await s.services.store.db.execute(
      sql`INSERT INTO devices (mac, device_type) VALUES ('00:11:22:00:00:01', 'camera'), ('00:11:22:00:00:02', 'camera')`,
    );
    await insertRollups(s.services, 2, 300);
    const done: JobEvent[] = [];
    await s.services.bus.onJobEvent(BASELINE_QUEUE, (e) => done.push(e));
    const stop = await startBaselines(s.services, s.config, pino({ level: 'silent' }));
    try {
      const end = Date.now() + 60_000;
      while (!done.some((e) => e.kind === 'completed' || e.kind === 'failed') && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
    } finally {
      await stop();
    }
    const ev = done.find((e) => e.kind === 'completed' || e.kind === 'failed');
    expect(ev?.kind).toBe('completed');
    expect(ev?.result).toMatchObject({ fitted: 2, lstm_fitted: ['camera'] });
    expect(await s.services.store.db.select().from(deviceBaselines)).toHaveLength(2);
    expect(await s.services.store.db.select().from(deviceTypeBaselines)).toHaveLength(1);
  });

  it('does nothing when BASELINE_INTERVAL_MINUTES is 0', async () => {
    const stop = await startBaselines(
      s.services,
      { ...s.config, baselineIntervalMinutes: 0 },
      pino({ level: 'silent' }),
    );
    await stop();
  });
});
