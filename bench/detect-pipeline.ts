import { sql } from 'drizzle-orm';
import { buildServices } from '../src/api/context.js';
import { MemoryBus, MemoryKv } from '../src/bus/memory.js';
import { DEFAULT_JOB_SETTINGS, runBaselineJob } from '../src/detect/baseline/job.js';
import { afterCommit } from '../src/ingest/after-commit.js';
import { IngestWriter } from '../src/ingest/writer.js';
import { openStore, queryRows } from '../src/store/db.js';
import { simulateTraffic } from '../src/test-support/sim-traffic.js';

export interface PipelineFalseAlerts {
  hours: number;
  devices: number;
  flows: number;
  /** Alerts other than new_device, by kind. */
  by_kind: Record<string, number>;
  alerts: number;
  per_device_day: number;
  worst_device_per_day: number;
  /** Devices with any false alert: MAC, type, alerts by kind. */
  noisy: { mac: string | null; device_type: string; kinds: Record<string, number> }[];
}

/**
 * The whole product path on the demo network without incidents: simulated frames → decoders → flow table →
 * ingest writer (embedded PGlite) → after-commit (identification, rule detectors, destination profiles), and
 * the worker's baseline job (per-device isolation forests, per-type LSTM) every simulated hour. Every alert
 * but `new_device` is a false alert here; the learning periods (3 h for baselines, 24 h for destination
 * profiles) are part of the measured time, as they are in a real deployment.
 */
export async function pipelineFalseAlerts(opts: {
  seed: number;
  hours: number;
}): Promise<PipelineFalseAlerts> {
  const startMs = Date.UTC(2026, 2, 2, 0, 0, 0);
  const sim = simulateTraffic({ seed: opts.seed, startMs, hours: opts.hours, batchMinutes: 10 });
  const store = await openStore({ pgliteDir: 'memory://' });
  await store.migrate();
  const services = buildServices(store, new MemoryBus(), new MemoryKv());
  try {
    const writer = new IngestWriter(store);
    const settings = { ...DEFAULT_JOB_SETTINGS, graceMinutes: 0 };
    let flows = 0;
    let nextJob = startMs + 3_600_000;
    for (const b of sim.batches) {
      flows += b.items.filter((i) => i.kind === 'flow').length;
      const res = await writer.write(b.items);
      await afterCommit({ store, bus: services.bus }, b.items, res, { sourceId: 'bench-sim' });
      if (b.untilMs >= nextJob) {
        await runBaselineJob(services, settings);
        nextJob += 3_600_000;
      }
    }
    const rows = await queryRows<{
      device_id: number | null;
      kind: string;
      mac: string | null;
      device_type: string;
    }>(
      store.db,
      sql`SELECT a.device_id::int8 AS device_id, a.kind, d.mac, coalesce(d.device_type, 'unknown') AS device_type
          FROM alerts a LEFT JOIN devices d ON d.id = a.device_id WHERE a.kind <> 'new_device'`,
    );
    // The network's own devices: those seen with a MAC (internet peers have none).
    const [dev] = await queryRows<{ n: number }>(
      store.db,
      sql`SELECT count(*)::int8 AS n FROM devices WHERE merged_into IS NULL AND mac IS NOT NULL`,
    );
    const devices = Number(dev?.n ?? 0);
    const byKind: Record<string, number> = {};
    const byDevice = new Map<number, number>();
    const noisy = new Map<number, PipelineFalseAlerts['noisy'][number]>();
    for (const r of rows) {
      byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
      const d = Number(r.device_id ?? 0);
      byDevice.set(d, (byDevice.get(d) ?? 0) + 1);
      const n = noisy.get(d) ?? { mac: r.mac, device_type: r.device_type, kinds: {} };
      n.kinds[r.kind] = (n.kinds[r.kind] ?? 0) + 1;
      noisy.set(d, n);
    }
    const days = opts.hours / 24;
    const round = (v: number) => Math.round(v * 1000) / 1000;
    return {
      hours: opts.hours,
      devices,
      flows,
      by_kind: byKind,
      alerts: rows.length,
      per_device_day: round(rows.length / Math.max(1, devices) / days),
      worst_device_per_day: round(Math.max(0, ...byDevice.values()) / days),
      noisy: [...noisy.values()],
    };
  } finally {
    await services.close();
  }
}
