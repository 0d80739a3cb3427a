import { sql } from 'drizzle-orm';
import { queryRows, type Db } from './db.js';

/**
 * Daily partitions of network_traffic: `network_traffic_pYYYYMMDD` holds flows whose ts_start falls on
 * that UTC day. Partitions are made ahead of time (premake) and on demand for the days an ingest batch
 * touches (old captures), and dropped whole when retention says so (no row-by-row DELETE).
 */

const DAY_MS = 86_400_000;
const PARTITION_LOCK = 727_002;

export function dayStart(t: Date | number): number {
  const ms = typeof t === 'number' ? t : t.getTime();
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

export function partitionName(dayMs: number): string {
  return `network_traffic_p${new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Remembers partitions this process already made, so the hot ingest path asks the database once per day. */
export class PartitionManager {
  private readonly known = new Set<number>();
  constructor(private readonly db: Db) {}

  /** Makes sure a partition exists for every day touched by the given timestamps (ms). */
  async ensureFor(timestampsMs: readonly number[]): Promise<void> {
    const missing = new Set<number>();
    // Indexed: runs once per batch over every flow, too rarely to be optimised (an iterator step object each).
    for (let i = 0; i < timestampsMs.length; i++) {
      const d = dayStart(timestampsMs[i] as number);
      if (!this.known.has(d)) missing.add(d);
    }
    if (missing.size === 0) return;
    await this.db.transaction(async (tx) => {
      // Serialise creation across processes: two collectors may meet the same new day at once.
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${PARTITION_LOCK})`);
      for (const d of missing) {
        const name = partitionName(d);
        await tx.execute(
          sql.raw(
            `CREATE TABLE IF NOT EXISTS "${name}" PARTITION OF network_traffic ` +
              `FOR VALUES FROM ('${isoDay(d)}T00:00:00Z') TO ('${isoDay(d + DAY_MS)}T00:00:00Z')`,
          ),
        );
      }
    });
    for (const d of missing) this.known.add(d);
  }

  /** Creates today's partition and the next `days` ones. */
  async premake(now: Date, days: number): Promise<void> {
    const start = dayStart(now);
    const all: number[] = [];
    for (let i = 0; i <= days; i++) all.push(start + i * DAY_MS);
    await this.ensureFor(all);
  }

  /** Lists existing partitions with their day. */
  async list(): Promise<{ name: string; dayMs: number }[]> {
    const rows = await queryRows<{ name: string }>(
      this.db,
      sql`SELECT c.relname AS name FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
          JOIN pg_class p ON p.oid = i.inhparent
          WHERE p.oid = 'network_traffic'::regclass ORDER BY c.relname`,
    );
    const out: { name: string; dayMs: number }[] = [];
    for (const r of rows) {
      const m = /^network_traffic_p(\d{4})(\d{2})(\d{2})$/.exec(r.name);
      if (m) out.push({ name: r.name, dayMs: Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) });
    }
    return out;
  }

  /** Drops partitions whose whole day is older than `retentionDays` before `now`. 0 keeps everything. */
  async dropExpired(now: Date, retentionDays: number): Promise<string[]> {
    if (retentionDays <= 0) return [];
    const cutoff = dayStart(now) - retentionDays * DAY_MS;
    const dropped: string[] = [];
    for (const p of await this.list()) {
      if (p.dayMs + DAY_MS <= cutoff) {
        await this.db.execute(sql.raw(`DROP TABLE IF EXISTS "${p.name}"`));
        this.known.delete(p.dayMs);
        dropped.push(p.name);
      }
    }
    return dropped;
  }
}
