import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServices, type Services } from '../../api/context.js';
import { MemoryBus, MemoryKv } from '../../bus/memory.js';
import { IngestWriter } from '../../ingest/writer.js';
import type { GroundTruth } from '../../sim/network.js';
import { queryRows } from '../../store/db.js';
import { alerts, deviceBaselines, deviceTypeBaselines } from '../../store/schema.js';
import { dropSchema, storeEngines } from '../../test-support/services.js';
import { simulateTraffic } from '../../test-support/sim-traffic.js';
import { DEFAULT_JOB_SETTINGS, runBaselineJob, type BaselineJobSettings } from './job.js';

/**
 * Three smart plugs of the demo network, 30 hours of simulated traffic through the real decoders, flow table
 * and ingest writer, the baseline job run after every simulated hour as the worker would: each plug gets an
 * isolation-forest baseline after 3 h (refitted as history doubles), the plug type gets an LSTM, a benign day
 * stays at about one alert per device at most, and a DDoS burst from one plug raises `anomaly` alerts from
 * both models with their evidence.
 */
const T0 = Date.UTC(2026, 2, 2, 0, 0, 0);
const HOURS = 30;
const PLUGS = ['plug-kasa', 'plug-meross', 'plug-shelly'];
let ddos: GroundTruth | undefined;
const sim = simulateTraffic({
  seed: 11,
  startMs: T0,
  hours: HOURS,
  keep: PLUGS,
  setup: (net) => {
    ddos = net.inject('ddos', T0 + 29 * 3_600_000 + 17 * 60_000, {
      deviceId: 'plug-kasa',
      durationMs: 60_000,
    });
  },
});
const macOf = new Map(sim.net.devices().map((d) => [d.id, d.mac]));

const settings: BaselineJobSettings = {
  ...DEFAULT_JOB_SETTINGS,
  graceMinutes: 0,
  lstm: { ...DEFAULT_JOB_SETTINGS.lstm, epochs: 6 },
};

const engines = await storeEngines();

describe.each(engines)('behaviour baselines on $name', (engine) => {
  let services: Services;
  const runs: Awaited<ReturnType<typeof runBaselineJob>>[] = [];
  const ids = new Map<string, number>();

  beforeAll(async () => {
    const store = await engine.open();
    await store.migrate();
    services = buildServices(store, new MemoryBus(), new MemoryKv());
  });
  afterAll(async () => {
    if (!services) return;
    await dropSchema(services.store);
    await services.close();
  });

  async function deviceId(simId: string): Promise<number> {
    const have = ids.get(simId);
    if (have) return have;
    const [row] = await queryRows<{ id: number }>(
      services.store.db,
      sql`SELECT id FROM devices WHERE mac = ${macOf.get(simId) ?? ''}`,
    );
    if (!row) throw new Error(`no device for ${simId}`);
    ids.set(simId, Number(row.id));
    return Number(row.id);
  }

  async function ingestUntil(hour: number, from: number): Promise<void> {
    const writer = new IngestWriter(services.store);
    for (const b of sim.batches) {
      if (b.untilMs <= T0 + from * 3_600_000 || b.untilMs > T0 + hour * 3_600_000) continue;
      await writer.write(b.items);
      if (b.untilMs === T0 + 3_600_000) {
        // The plugs are smart plugs, as identification (or a user) would say.
        for (const p of PLUGS)
          await services.store.db.execute(
            sql`UPDATE devices SET device_type = 'smart_plug' WHERE id = ${await deviceId(p)}`,
          );
      }
    }
  }

  const anomalyAlerts = () => services.store.db.select().from(alerts).where(eq(alerts.kind, 'anomaly'));

  it('fits per-device baselines and a per-type LSTM, and a benign day stays quiet', async () => {
    for (let h = 1; h <= 28; h++) {
      await ingestUntil(h, h - 1);
      runs.push(await runBaselineJob(services, settings));
    }
    // No baseline before 36 windows (3 h); every plug (and the router they talk to) has one after.
    expect(runs[1]?.fitted).toBe(0);
    expect(runs.slice(0, 4).reduce((n, r) => n + r.fitted, 0)).toBeGreaterThanOrEqual(3);
    const rows = await services.store.db.select().from(deviceBaselines);
    const plugIds = await Promise.all(PLUGS.map(deviceId));
    expect(rows.map((r) => r.deviceId)).toEqual(expect.arrayContaining(plugIds));
    for (const r of rows.filter((x) => plugIds.includes(x.deviceId))) {
      expect(r).toMatchObject({
        algorithm: 'isolation-forest',
        featureSet: 'rollup-window@1',
        windowMinutes: 5,
      });
      // Refitted as history grew: a day's windows at least.
      expect(r.windowsUsed).toBeGreaterThanOrEqual(200);
      expect(r.threshold).toBeGreaterThan(0.5);
      expect(r.threshold).toBeLessThan(1);
      expect(r.lastScoredWindow?.getTime()).toBe(T0 + 28 * 3_600_000 - 5 * 60_000);
    }
    const [lstm] = await services.store.db
      .select()
      .from(deviceTypeBaselines)
      .where(eq(deviceTypeBaselines.deviceType, 'smart_plug'));
    expect(lstm).toMatchObject({ algorithm: 'lstm-autoencoder', steps: 6 });
    expect([...(lstm?.devices ?? [])].sort()).toEqual(plugIds.sort());
    expect(runs.flatMap((r) => r.lstm_fitted)).toContain('smart_plug');

    // A benign day (hours 4–28): at most about one anomaly alert per device and model.
    const benign = await anomalyAlerts();
    const perDevice = new Map<string, number>();
    for (const a of benign) {
      const k = `${a.deviceId}|${String(a.evidence['model'])}`;
      perDevice.set(k, (perDevice.get(k) ?? 0) + a.count);
    }
    for (const [, n] of perDevice) expect(n).toBeLessThanOrEqual(2);
    expect(benign.length).toBeLessThanOrEqual(rows.length);
    const scored = runs.slice(3).reduce((n, r) => n + r.windows_scored, 0);
    expect(scored).toBeGreaterThan(PLUGS.length * 250);
  });

  it('raises anomaly alerts from both models for a DDoS burst, with evidence', async () => {
    const before = new Set((await anomalyAlerts()).map((a) => a.id));
    await ingestUntil(HOURS, 28);
    const r = await runBaselineJob(services, settings);
    expect(r.anomalies).toBeGreaterThanOrEqual(1);
    const kasa = await deviceId('plug-kasa');
    const fresh = (
      await services.store.db
        .select()
        .from(alerts)
        .where(and(eq(alerts.kind, 'anomaly'), eq(alerts.deviceId, kasa)))
    ).filter((a) => !before.has(a.id) || a.lastSeen.getTime() > T0 + 29 * 3_600_000);
    const start = ddos?.startMs ?? 0;
    const iforest = fresh.find((a) => a.evidence['model'] === 'isolation-forest');
    expect(iforest).toBeDefined();
    const ev = iforest?.evidence ?? {};
    expect(new Date(String(ev['window_start'])).getTime()).toBeLessThanOrEqual(start + 60_000);
    expect(new Date(String(ev['window_end'])).getTime()).toBeGreaterThan(start);
    expect(Number(ev['score'])).toBeGreaterThan(Number(ev['threshold']));
    expect(ev).toMatchObject({
      model_kind: 'isolation forest per device',
      scope: 'device',
      window_minutes: 5,
      fitted_at: expect.any(String),
    });
    const features = ev['features'] as { feature: string; value: number; median: number; p95: number }[];
    expect(features.length).toBeGreaterThan(0);
    expect(features[0]!.value).toBeGreaterThan(features[0]!.p95);
    expect(features.map((f) => f.feature)).toEqual(
      expect.arrayContaining([expect.stringMatching(/packets_out|bytes_out|flows/)]),
    );
    expect((ev['community_ids'] as string[]).length).toBeGreaterThan(0);
    expect(iforest?.severity).toBe('medium');
    expect(iforest?.dedupKey).toBe(`${kasa}|anomaly|iforest`);

    const lstm = fresh.find((a) => a.evidence['model'] === 'lstm-autoencoder');
    expect(lstm?.evidence).toMatchObject({
      model_kind: 'LSTM autoencoder per device type',
      scope: 'device_type',
      device_type: 'smart_plug',
      steps: 6,
    });
    expect(Number(lstm?.evidence['score'])).toBeGreaterThan(Number(lstm?.evidence['threshold']));
    // The other plugs stay quiet through the burst.
    const others = (await anomalyAlerts()).filter(
      (a) => a.deviceId !== kasa && a.lastSeen.getTime() > T0 + 29 * 3_600_000,
    );
    expect(others).toEqual([]);
  });
});
