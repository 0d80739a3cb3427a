import { sql, type AnyColumn, type SQL } from 'drizzle-orm';

/**
 * A timestamptz as ISO 8601 text in UTC with its full microseconds ("2026-11-25T08:00:00.000173Z"). Keyset
 * cursors need it: a JS Date keeps milliseconds, and a cursor rounded to the millisecond skips the rows
 * that share that millisecond.
 */
export function exactIso(column: AnyColumn | SQL): SQL<string> {
  return sql<string>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
