/**
 * The alert service: THE way to raise an alert (detectors, model drift, new devices…) and to move one
 * through its lifecycle.
 *
 * raiseAlert(services, candidate):
 * - suppression: an active rule (not expired) whose device, kind and peer each either is unset or equals
 *   the candidate's swallows it: the rule's `hits` grows and nothing is raised;
 * - dedup: an open alert (new or acknowledged) with the same key (device + kind + peer unless the candidate
 *   names one) whose last_seen is within `windowMs` (default 1 h) of the candidate's first_seen absorbs it:
 *   count + 1, last_seen moves on, evidence is merged (community ids united, bounded); else a new row;
 * - `new_alert` or `alert_update` is published after the transaction commits.
 * Times are the candidate's (flow time for detections), so importing an old capture dedups as live would.
 *
 * Lifecycle: new → acknowledged → resolved | false_positive (audited, alert_update event); marking an alert
 * raised by a model (model_version set) false_positive feeds the model server's labelled feedback.
 */
import { and, desc, eq, gte, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Services } from '../api/context.js';
import type { Actor } from '../auth/users.js';
import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import { AppError } from '../errors.js';
import { alerts, suppressions, type ALERT_STATUSES, type SEVERITIES } from '../store/schema.js';

export type AlertRow = typeof alerts.$inferSelect;
export type SuppressionRow = typeof suppressions.$inferSelect;
export type AlertStatus = (typeof ALERT_STATUSES)[number];
export type AlertSeverity = (typeof SEVERITIES)[number];

export const DEFAULT_DEDUP_WINDOW_MS = 3_600_000;
/** Community ids kept in an alert's evidence across repeats. */
export const MAX_ALERT_FLOW_IDS = 200;
const ALERT_LOCK = 727_040;

export interface AlertCandidate {
  deviceId: number | null;
  kind: string;
  severity: AlertSeverity;
  title: string;
  description?: string | null;
  /** The other side (attacker, C&C, target, zone …); part of the dedup key. */
  peer?: string | null;
  evidence?: Record<string, unknown>;
  /** When it happened (flow time for detections); default now. */
  firstSeen?: Date;
  lastSeen?: Date;
  modelVersion?: string | null;
  sourceId?: string | null;
  /** Overrides the default key `<device>|<kind>|<peer>`. */
  dedupKey?: string;
}

export type RaiseResult =
  { outcome: 'created' | 'updated'; alert: AlertRow } | { outcome: 'suppressed'; suppressionId: number };

export interface RaiseOptions {
  windowMs?: number;
  /** Wall clock for suppression expiry (tests). */
  now?: Date;
}

export function dedupKeyOf(c: Pick<AlertCandidate, 'deviceId' | 'kind' | 'peer' | 'dedupKey'>): string {
  return c.dedupKey ?? `${c.deviceId ?? '-'}|${c.kind}|${c.peer ?? '-'}`;
}

type Deps = Pick<Services, 'store' | 'bus'>;

/** Raises (or folds, or suppresses) one alert. */
export async function raiseAlert(
  services: Deps,
  c: AlertCandidate,
  opts: RaiseOptions = {},
): Promise<RaiseResult> {
  const [r] = await raiseAlerts(services, [c], opts);
  if (!r) throw new Error('raiseAlerts returned no result');
  return r;
}

/** An alert as the batch leaves it: a row read, or one to insert at the end (`fresh`). */
interface Pending {
  row: AlertRow;
  fresh: boolean;
  dirty: boolean;
}

type Folded =
  { outcome: 'created' | 'updated'; p: Pending } | { outcome: 'suppressed'; suppressionId: number };

/**
 * Raises several alerts in one transaction, exactly as raising them one by one in order would (each later
 * candidate sees what the earlier ones created or folded), in a fixed number of statements whatever their
 * count: the dedup keys' advisory locks taken in one statement (in lock-id order, so concurrent batches
 * cannot deadlock), the active suppressions and the open alerts of those keys read once, the folding done in
 * memory, then one multi-row insert and one bulk update. One event per alert created or updated, published
 * after the commit with its final state. Results are in the candidates' order.
 */
export async function raiseAlerts(
  services: Deps,
  candidates: readonly AlertCandidate[],
  opts: RaiseOptions = {},
): Promise<RaiseResult[]> {
  if (candidates.length === 0) return [];
  const windowMs = opts.windowMs ?? DEFAULT_DEDUP_WINDOW_MS;
  const now = opts.now ?? new Date();
  const keys = candidates.map(dedupKeyOf);
  const distinctKeys = [...new Set(keys)];
  let minFirst = Infinity;
  for (const c of candidates) minFirst = Math.min(minFirst, (c.firstSeen ?? c.lastSeen ?? now).getTime());

  const { results, touched } = await services.store.db.transaction(async (tx) => {
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(${ALERT_LOCK}, h) FROM (
            SELECT DISTINCT hashtext(k) AS h FROM unnest(${sql.param(distinctKeys)}::text[]) k ORDER BY 1) s`,
    );
    const sups = await tx
      .select({
        id: suppressions.id,
        deviceId: suppressions.deviceId,
        kind: suppressions.kind,
        peer: suppressions.peer,
      })
      .from(suppressions)
      .where(or(isNull(suppressions.expiresAt), sql`${suppressions.expiresAt} > ${now}`))
      .orderBy(suppressions.id);
    const open = await tx
      .selectDistinctOn([alerts.dedupKey])
      .from(alerts)
      .where(
        and(
          inArray(alerts.dedupKey, distinctKeys),
          inArray(alerts.status, ['new', 'acknowledged']),
          gte(alerts.lastSeen, new Date(minFirst - windowMs)),
        ),
      )
      .orderBy(alerts.dedupKey, desc(alerts.lastSeen));
    const current = new Map<string, Pending>(
      open.map((r) => [r.dedupKey, { row: r, fresh: false, dirty: false }]),
    );
    const hits = new Map<number, number>();
    const out: Folded[] = [];
    candidates.forEach((c, i) => {
      const key = keys[i] as string;
      const peer = c.peer ?? null;
      // The rule's device, kind and peer each either unset or equal to the candidate's; the oldest rule wins.
      const sup = sups.find(
        (s) =>
          (s.deviceId === null || s.deviceId === c.deviceId) &&
          (s.kind === null || s.kind === c.kind) &&
          (s.peer === null || s.peer === peer),
      );
      if (sup) {
        hits.set(sup.id, (hits.get(sup.id) ?? 0) + 1);
        out.push({ outcome: 'suppressed', suppressionId: sup.id });
        return;
      }
      const firstSeen = c.firstSeen ?? c.lastSeen ?? now;
      const lastSeen = c.lastSeen ?? firstSeen;
      const cur = current.get(key);
      if (cur && cur.row.lastSeen.getTime() >= firstSeen.getTime() - windowMs) {
        const r = cur.row;
        cur.row = {
          ...r,
          count: r.count + 1,
          lastSeen: lastSeen > r.lastSeen ? lastSeen : r.lastSeen,
          firstSeen: firstSeen < r.firstSeen ? firstSeen : r.firstSeen,
          evidence: mergeEvidence(r.evidence, c.evidence ?? {}),
          severity: moreSevere(r.severity, c.severity),
          updatedAt: now,
        };
        cur.dirty = true;
        out.push({ outcome: 'updated', p: cur });
        return;
      }
      const p: Pending = {
        row: {
          id: 0,
          deviceId: c.deviceId,
          kind: c.kind,
          severity: c.severity,
          status: 'new',
          title: c.title.slice(0, 500),
          description: c.description ?? null,
          peer,
          evidence: c.evidence ?? {},
          dedupKey: key,
          count: 1,
          firstSeen,
          lastSeen,
          modelVersion: c.modelVersion ?? null,
          sourceId: c.sourceId ?? null,
          statusChangedBy: null,
          createdAt: now,
          updatedAt: now,
        },
        fresh: true,
        dirty: true,
      };
      current.set(key, p);
      out.push({ outcome: 'created', p });
    });
    for (const [id, n] of hits)
      await tx
        .update(suppressions)
        .set({ hits: sql`${suppressions.hits} + ${n}` })
        .where(eq(suppressions.id, id));
    const touched = [...new Set(out.flatMap((o) => (o.outcome === 'suppressed' ? [] : [o.p])))];
    const inserts = touched.filter((p) => p.fresh);
    if (inserts.length > 0) {
      const rows = await tx
        .insert(alerts)
        .values(inserts.map(({ row: { id: _id, createdAt: _c, updatedAt: _u, ...r } }) => r))
        .returning();
      if (rows.length !== inserts.length) throw new Error('insert into alerts returned fewer rows');
      // INSERT … VALUES … RETURNING gives the rows in the order of the VALUES list.
      inserts.forEach((p, i) => (p.row = rows[i] as AlertRow));
    }
    const updates = touched.filter((p) => !p.fresh && p.dirty);
    if (updates.length > 0) {
      const data = updates.map(({ row: r }) => ({
        id: r.id,
        count: r.count,
        last_seen: r.lastSeen.toISOString(),
        first_seen: r.firstSeen.toISOString(),
        evidence: r.evidence,
        severity: r.severity,
      }));
      await tx.execute(
        sql`UPDATE alerts a SET count = v.count, last_seen = v.last_seen, first_seen = v.first_seen,
                   evidence = v.evidence, severity = v.severity, updated_at = ${now}
              FROM jsonb_to_recordset(${JSON.stringify(data)}::jsonb)
                AS v(id int8, count int4, last_seen timestamptz, first_seen timestamptz, evidence jsonb, severity text)
             WHERE a.id = v.id`,
      );
    }
    return { results: out, touched };
  });
  for (const p of touched)
    await services.bus.publish(
      EVENTS_CHANNEL,
      makeEvent(p.fresh ? 'new_alert' : 'alert_update', presentAlertEvent(p.row)),
    );
  return results.map((o) => (o.outcome === 'suppressed' ? o : { outcome: o.outcome, alert: o.p.row }));
}

const RANK: Record<AlertSeverity, number> = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
export const severityRank = (s: AlertSeverity): number => RANK[s];
function moreSevere(a: AlertSeverity, b: AlertSeverity): AlertSeverity {
  return RANK[b] > RANK[a] ? b : a;
}

function ids(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The newer evidence wins field by field; community ids are united (bounded). */
export function mergeEvidence(
  old: Record<string, unknown>,
  next: Record<string, unknown>,
): Record<string, unknown> {
  const merged = [...new Set([...ids(old['community_ids']), ...ids(next['community_ids'])])].slice(
    0,
    MAX_ALERT_FLOW_IDS,
  );
  return { ...old, ...next, community_ids: merged };
}

// ---------------------------------------------------------------------------------------------------------
// Lifecycle

/** The transitions an analyst may make; an alert never goes back to `new`. */
const TRANSITIONS: Record<AlertStatus, readonly AlertStatus[]> = {
  new: ['acknowledged', 'resolved', 'false_positive'],
  acknowledged: ['resolved', 'false_positive'],
  resolved: ['acknowledged', 'false_positive'],
  false_positive: ['acknowledged', 'resolved'],
};

export interface AuditContext {
  actor: Actor;
}

export interface StatusOptions {
  /** Labelled feedback to the model that raised the alert: (model id, predicted kind, actual). */
  feedback?: (modelVersion: string, predicted: string, actual: string) => void;
}

type LifecycleDeps = Pick<Services, 'store' | 'bus' | 'audit'>;

/** Sets the status of several alerts in one transaction (audited each); all or nothing. */
export async function setAlertStatus(
  services: LifecycleDeps,
  actor: Actor,
  alertIds: readonly number[],
  status: Exclude<AlertStatus, 'new'>,
  opts: StatusOptions = {},
): Promise<AlertRow[]> {
  const unique = [...new Set(alertIds)];
  const { changed, rows } = await services.store.db.transaction(async (tx) => {
    const found = await tx.select().from(alerts).where(inArray(alerts.id, unique)).for('update');
    if (found.length !== unique.length) {
      const have = new Set(found.map((r) => r.id));
      throw new AppError('ALERT_NOT_FOUND', undefined, { missing: unique.filter((i) => !have.has(i)) });
    }
    const out: AlertRow[] = [];
    const changedRows: { row: AlertRow; from: AlertStatus }[] = [];
    for (const a of found) {
      if (a.status === status) {
        out.push(a);
        continue;
      }
      if (!TRANSITIONS[a.status].includes(status))
        throw new AppError('VALIDATION_FAILED', `alert ${a.id}: cannot go from ${a.status} to ${status}`);
      const [u] = await tx
        .update(alerts)
        .set({ status, statusChangedBy: actor.id, updatedAt: new Date() })
        .where(eq(alerts.id, a.id))
        .returning();
      if (!u) throw new Error('update returned nothing');
      await services.audit.record(
        {
          actorId: actor.id,
          actor: actor.name,
          action: 'alert.status',
          target: `alert:${a.id}`,
          ip: actor.ip ?? null,
          requestId: actor.requestId ?? null,
          details: { from: a.status, to: status, kind: a.kind, device_id: a.deviceId },
        },
        tx,
      );
      out.push(u);
      changedRows.push({ row: u, from: a.status });
    }
    return { changed: changedRows, rows: out };
  });
  for (const { row } of changed) {
    await services.bus.publish(EVENTS_CHANNEL, makeEvent('alert_update', presentAlertEvent(row)));
    if (status === 'false_positive' && row.modelVersion) {
      try {
        opts.feedback?.(row.modelVersion, row.kind, 'benign');
      } catch {
        // feedback is best effort: the status change is committed
      }
    }
  }
  const order = new Map(unique.map((id, i) => [id, i]));
  return rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

export async function getAlert(services: Pick<Services, 'store'>, id: number): Promise<AlertRow> {
  const [row] = await services.store.db.select().from(alerts).where(eq(alerts.id, id));
  if (!row) throw new AppError('ALERT_NOT_FOUND');
  return row;
}

// ---------------------------------------------------------------------------------------------------------
// Suppressions

export interface SuppressionInput {
  deviceId?: number | null;
  kind?: string | null;
  peer?: string | null;
  reason: string;
  expiresAt?: Date | null;
}

export async function createSuppression(
  services: Pick<Services, 'store' | 'audit'>,
  actor: Actor,
  input: SuppressionInput & { alertId?: number },
): Promise<SuppressionRow> {
  return services.store.db.transaction(async (tx) => {
    let { deviceId = null, kind = null, peer = null } = input;
    if (input.alertId !== undefined) {
      const [a] = await tx.select().from(alerts).where(eq(alerts.id, input.alertId));
      if (!a) throw new AppError('ALERT_NOT_FOUND');
      deviceId = a.deviceId;
      kind = a.kind;
      peer = a.peer;
    }
    if (deviceId === null && kind === null && peer === null)
      throw new AppError('VALIDATION_FAILED', 'a suppression needs at least one of device_id, kind, peer');
    const [row] = await tx
      .insert(suppressions)
      .values({
        deviceId,
        kind,
        peer,
        reason: input.reason,
        expiresAt: input.expiresAt ?? null,
        createdBy: actor.id,
      })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    await services.audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: 'suppression.create',
        target: `suppression:${row.id}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: {
          device_id: deviceId,
          kind,
          peer,
          reason: input.reason,
          expires_at: row.expiresAt?.toISOString() ?? null,
          ...(input.alertId !== undefined ? { alert_id: input.alertId } : {}),
        },
      },
      tx,
    );
    return row;
  });
}

export async function deleteSuppression(
  services: Pick<Services, 'store' | 'audit'>,
  actor: Actor,
  id: number,
): Promise<void> {
  await services.store.db.transaction(async (tx) => {
    const [row] = await tx.delete(suppressions).where(eq(suppressions.id, id)).returning();
    if (!row) throw new AppError('SUPPRESSION_NOT_FOUND');
    await services.audit.record(
      {
        actorId: actor.id,
        actor: actor.name,
        action: 'suppression.delete',
        target: `suppression:${id}`,
        ip: actor.ip ?? null,
        requestId: actor.requestId ?? null,
        details: {
          device_id: row.deviceId,
          kind: row.kind,
          peer: row.peer,
          reason: row.reason,
          hits: row.hits,
        },
      },
      tx,
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// Presenters (snake_case, whitelisted fields)

export function presentAlert(a: AlertRow) {
  return {
    id: a.id,
    device_id: a.deviceId,
    kind: a.kind,
    severity: a.severity,
    status: a.status,
    title: a.title,
    description: a.description,
    peer: a.peer,
    evidence: a.evidence,
    dedup_key: a.dedupKey,
    count: a.count,
    first_seen: a.firstSeen.toISOString(),
    last_seen: a.lastSeen.toISOString(),
    model_version: a.modelVersion,
    source_id: a.sourceId,
    created_at: a.createdAt.toISOString(),
    updated_at: a.updatedAt.toISOString(),
  };
}

export type PresentedAlert = ReturnType<typeof presentAlert>;

/** The `data` of new_alert / alert_update events (the WebSocket and the SIEM exporters read it). */
export function presentAlertEvent(a: AlertRow): PresentedAlert {
  return presentAlert(a);
}

export function presentSuppression(s: SuppressionRow) {
  return {
    id: s.id,
    device_id: s.deviceId,
    kind: s.kind,
    peer: s.peer,
    reason: s.reason,
    expires_at: s.expiresAt?.toISOString() ?? null,
    created_by: s.createdBy,
    created_at: s.createdAt.toISOString(),
    hits: s.hits,
    active: s.expiresAt === null || s.expiresAt.getTime() > Date.now(),
  };
}
