import { eq, gte, type SQL } from 'drizzle-orm';
import { alerts, type ALERT_STATUSES, type SEVERITIES } from '../store/schema.js';

/** The alert filters of the list and the CSV export (`/api/v1/alerts`, `/api/v1/export/alerts.csv`). */
export interface AlertFilter {
  status?: (typeof ALERT_STATUSES)[number] | undefined;
  severity?: (typeof SEVERITIES)[number] | undefined;
  kind?: string | undefined;
  device_id?: number | undefined;
  /** ISO time: alerts last seen at or after it. */
  since?: string | undefined;
}

export function alertConditions(f: AlertFilter): SQL[] {
  const conds: SQL[] = [];
  if (f.status) conds.push(eq(alerts.status, f.status));
  if (f.severity) conds.push(eq(alerts.severity, f.severity));
  if (f.kind) conds.push(eq(alerts.kind, f.kind));
  if (f.device_id !== undefined) conds.push(eq(alerts.deviceId, f.device_id));
  if (f.since) conds.push(gte(alerts.lastSeen, new Date(f.since)));
  return conds;
}
