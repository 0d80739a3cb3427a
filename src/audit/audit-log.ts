import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { Db, Tx } from '../store/db.js';
import { auditLog, settings } from '../store/schema.js';
import { canonicalJson } from './canonical.js';

/**
 * The audit log: append-only (this module has no update or delete), each row chained to the previous one by
 * a SHA-256 hash over its content, so `iotsec audit verify` detects any edited, deleted or inserted row.
 */

export interface AuditEntry {
  actorId?: string | null;
  /** Username, "system", or "api-key:<name>". */
  actor: string;
  action: string;
  target?: string | null;
  outcome?: 'success' | 'failure' | 'denied';
  ip?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditRow {
  id: number;
  at: Date;
  actorId: string | null;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);
const AUDIT_LOCK = 727_003;

export function rowHash(prevHash: string, r: Omit<AuditRow, 'id' | 'hash' | 'prevHash'>): string {
  const content = canonicalJson({
    prev: prevHash,
    at: r.at.toISOString(),
    actor_id: r.actorId,
    actor: r.actor,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    ip: r.ip,
    request_id: r.requestId,
    details: r.details,
  });
  return createHash('sha256').update(content).digest('hex');
}

export interface AuditFilter {
  action?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Rows with id below this (cursor, newest first). */
  beforeId?: number | undefined;
  limit: number;
}

export class AuditLog {
  constructor(private readonly db: Db) {}

  /** Appends one row; inside `tx` when given, so the audit row commits with the change it records. */
  async record(entry: AuditEntry, tx?: Tx): Promise<void> {
    const write = async (t: Tx) => {
      // One writer at a time keeps the chain linear across processes.
      await t.execute(sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`);
      const last = await t.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
      let prevHash = last[0]?.hash;
      if (prevHash === undefined) {
        // Empty table: the first row chains to the anchor left by retention pruning, if any.
        const [anchor] = await t.select().from(settings).where(eq(settings.key, 'audit_anchor'));
        prevHash = (anchor?.value as { hash?: string } | undefined)?.hash ?? GENESIS;
      }
      const row = {
        at: new Date(),
        actorId: entry.actorId ?? null,
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        outcome: entry.outcome ?? 'success',
        ip: entry.ip ?? null,
        requestId: entry.requestId ?? null,
        details: entry.details ?? {},
      };
      await t.insert(auditLog).values({ ...row, prevHash, hash: rowHash(prevHash, row) });
    };
    if (tx) await write(tx);
    else await this.db.transaction(write);
  }

  async list(f: AuditFilter): Promise<AuditRow[]> {
    const conds: SQL[] = [];
    if (f.action) conds.push(eq(auditLog.action, f.action));
    if (f.actor) conds.push(eq(auditLog.actor, f.actor));
    if (f.target) conds.push(eq(auditLog.target, f.target));
    if (f.since) conds.push(gte(auditLog.at, f.since));
    if (f.until) conds.push(lte(auditLog.at, f.until));
    if (f.beforeId !== undefined) conds.push(lt(auditLog.id, f.beforeId));
    return (await this.db
      .select()
      .from(auditLog)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(auditLog.id))
      .limit(f.limit)) as AuditRow[];
  }

  /**
   * Retention: deletes rows older than `before`, keeping the chain verifiable. The hash of the last pruned
   * row is kept as the anchor (settings key audit_anchor) that the first remaining row must chain to.
   */
  async prune(before: Date): Promise<number> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`);
      const [last] = await tx
        .select({ id: auditLog.id, hash: auditLog.hash })
        .from(auditLog)
        .where(lt(auditLog.at, before))
        .orderBy(desc(auditLog.id))
        .limit(1);
      if (!last) return 0;
      const deleted = await tx
        .delete(auditLog)
        .where(lte(auditLog.id, last.id))
        .returning({ id: auditLog.id });
      const anchor = { after_id: last.id, hash: last.hash };
      await tx
        .insert(settings)
        .values({ key: 'audit_anchor', value: anchor })
        .onConflictDoUpdate({ target: settings.key, set: { value: anchor, updatedAt: new Date() } });
      return deleted.length;
    });
  }

  /**
   * Walks the whole chain in id order. Returns the first broken row, or null when every row's hash
   * matches its content and its predecessor.
   */
  async verify(): Promise<{ checked: number; broken: { id: number; reason: string } | null }> {
    const [anchorRow] = await this.db.select().from(settings).where(eq(settings.key, 'audit_anchor'));
    const anchor = anchorRow?.value as { after_id: number; hash: string } | undefined;
    let prev = anchor?.hash ?? GENESIS;
    let lastId = anchor?.after_id ?? 0;
    let checked = 0;
    for (;;) {
      const rows = (await this.db
        .select()
        .from(auditLog)
        .where(sql`${auditLog.id} > ${lastId}`)
        .orderBy(asc(auditLog.id))
        .limit(1000)) as AuditRow[];
      if (rows.length === 0) return { checked, broken: null };
      for (const r of rows) {
        if (r.prevHash !== prev)
          return {
            checked,
            broken: { id: r.id, reason: 'chain broken (row missing or reordered before it)' },
          };
        if (rowHash(r.prevHash, r) !== r.hash)
          return { checked, broken: { id: r.id, reason: 'content does not match its hash' } };
        prev = r.hash;
        lastId = r.id;
        checked++;
      }
    }
  }
}
