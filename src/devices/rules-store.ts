/**
 * User identification rules, kept in the `settings` row `device_rules` as a JSON array (validated on the
 * way in and out; an invalid stored rule is skipped rather than breaking identification).
 */
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../store/db.js';
import { settings } from '../store/schema.js';
import { ruleSchema, type Rule } from './rules.js';

export const RULES_SETTING = 'device_rules';

export async function loadUserRules(db: Db | Tx): Promise<Rule[]> {
  const [row] = await db.select().from(settings).where(eq(settings.key, RULES_SETTING));
  if (!row || !Array.isArray(row.value)) return [];
  const out: Rule[] = [];
  for (const r of row.value as unknown[]) {
    const p = ruleSchema.safeParse(r);
    if (p.success) out.push(p.data);
  }
  return out;
}

export async function saveUserRules(tx: Tx, rules: readonly Rule[]): Promise<void> {
  const value = z.array(ruleSchema).parse(rules);
  await tx
    .insert(settings)
    .values({ key: RULES_SETTING, value })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: sql`now()` } });
}
