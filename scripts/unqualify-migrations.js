#!/usr/bin/env node
// drizzle-kit writes REFERENCES "public"."table"; IoTSec may run in another schema (DATABASE_SCHEMA, and
// one schema per test file), so migrations must name tables without a schema and rely on search_path.
// Run after `drizzle-kit generate` (npm run db:generate does).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = new URL('../drizzle/', import.meta.url).pathname;
for (const f of readdirSync(dir).filter((n) => n.endsWith('.sql'))) {
  const p = join(dir, f);
  const s = readFileSync(p, 'utf8');
  const t = s.replaceAll('"public".', '');
  if (t !== s) {
    writeFileSync(p, t);
    console.log(`unqualified ${f}`);
  }
}
