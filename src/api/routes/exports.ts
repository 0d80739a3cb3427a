import { Readable } from 'node:stream';
import { and, desc, lt } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { alertConditions } from '../../alerts/filter.js';
import type { Config } from '../../config.js';
import { listDevices, type DeviceView } from '../../devices/repository.js';
import { ALERT_STATUSES, alerts, SEVERITIES } from '../../store/schema.js';
import { listVulnerabilities, SORT_KEYS, type VulnListRow } from '../../vulns/service/queries.js';
import { dateOnly, isoTime, ransomware, score1 } from '../../vulns/service/rows.js';
import type { Services } from '../context.js';
import { actorOf } from './actor.js';
import { deviceFilter, deviceFilterQuery } from './device-filter.js';

/**
 * CSV exports of the inventory, the alerts and the vulnerabilities (viewer and up), with the filters of the
 * matching list endpoints. Rows are read in keyset pages and streamed, so an export of any size holds one
 * page in memory. Output is RFC 4180 (comma, CRLF, fields with a quote, comma, CR or LF quoted, quotes
 * doubled, header row). Every text cell that begins with = + - @ TAB or CR is prefixed with a single quote
 * (OWASP CSV injection), so a hostname such as `=HYPERLINK(…)` opens in a spreadsheet as inert text. Each
 * export is recorded in the audit log with its filters, and counts against the `export` rate limit.
 */

type Cell = string | number | boolean | null | undefined;

/** Cells a spreadsheet would evaluate as a formula (OWASP: = + - @ tab carriage return). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: formula-neutralised text, RFC 4180 quoting; numbers and booleans as written. */
export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const s = FORMULA_START.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** One CSV record, CRLF-terminated. */
export function csvRow(cells: readonly Cell[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

const PAGE = 500;

/**
 * Streams header + rows. The first page is read before anything is sent, so a bad filter or a database
 * outage still gets a JSON error with its code; a failure after that ends the response early.
 */
async function sendCsv<T>(
  reply: FastifyReply,
  filename: string,
  header: readonly string[],
  pages: AsyncGenerator<T[]>,
  toRow: (item: T) => Cell[],
) {
  const first = await pages.next();
  async function* body(): AsyncGenerator<string> {
    yield csvRow(header);
    if (first.done) return;
    yield first.value.map((x) => csvRow(toRow(x))).join('');
    for await (const page of pages) yield page.map((x) => csvRow(toRow(x))).join('');
  }
  const day = new Date().toISOString().slice(0, 10);
  return reply
    .type('text/csv; charset=utf-8; header=present')
    .header('content-disposition', `attachment; filename="${filename}-${day}.csv"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(body()));
}

async function audit(services: Services, request: FastifyRequest, what: string, filters: unknown) {
  const a = actorOf(request);
  await services.audit.record({
    actorId: a.actorId,
    actor: a.actor,
    action: 'export.csv',
    target: `export:${what}`,
    ip: a.ip,
    requestId: a.requestId,
    details: { filters: filters as Record<string, unknown> },
  });
}

const boolQuery = z.enum(['true', 'false']);
const summary = (what: string) =>
  `Export ${what} as CSV (text/csv, streamed; same filters as the list; formula cells neutralised; audited)`;

export const exportRoutes: FastifyPluginAsyncZod<{
  services: Services;
  config: Pick<Config, 'deviceOfflineMinutes'>;
}> = async (app, { services, config }) => {
  const db = () => services.store.readDb;

  app.get(
    '/devices.csv',
    {
      config: { access: 'viewer', rateLimit: 'export' },
      schema: {
        tags: ['devices', 'export'],
        summary: summary('the device inventory'),
        querystring: z.strictObject({
          ...deviceFilterQuery,
          order: z.enum(['asc', 'desc']).default('asc').describe('by device id'),
        }),
      },
    },
    async (request, reply) => {
      const q = request.query;
      await audit(services, request, 'devices', q);
      const offlineMinutes = config.deviceOfflineMinutes;
      async function* pages(): AsyncGenerator<DeviceView[]> {
        // Keyset on the id alone: exact at any timestamp precision, and stable while devices change.
        let after: { v: number; id: number } | undefined;
        for (;;) {
          const rows = await listDevices(db(), {
            ...deviceFilter(q),
            sort: 'id',
            order: q.order,
            limit: PAGE,
            after,
            offlineMinutes,
          });
          if (rows.length > 0) yield rows;
          const last = rows[rows.length - 1];
          if (rows.length < PAGE || !last) return;
          after = { v: last.id, id: last.id };
        }
      }
      return sendCsv(
        reply,
        'devices',
        [
          'id',
          'mac',
          'ip',
          'hostname',
          'vendor',
          'device_type',
          'type_source',
          'confidence',
          'model',
          'firmware',
          'os',
          'cpe23',
          'tags',
          'risk_score',
          'status',
          'first_seen',
          'last_seen',
        ],
        pages(),
        (d) => [
          d.id,
          d.mac,
          d.ip,
          d.hostname,
          d.vendor,
          d.device_type,
          d.type_source,
          d.confidence,
          d.model,
          d.firmware,
          d.os,
          d.cpe23.join(' '),
          d.tags.join(';'),
          d.risk_score,
          d.online ? 'online' : 'offline',
          d.first_seen,
          d.last_seen,
        ],
      );
    },
  );

  app.get(
    '/alerts.csv',
    {
      config: { access: 'viewer', rateLimit: 'export' },
      schema: {
        tags: ['alerts', 'export'],
        summary: summary('alerts (newest first)'),
        querystring: z.strictObject({
          status: z.enum(ALERT_STATUSES).optional(),
          severity: z.enum(SEVERITIES).optional(),
          kind: z.string().max(64).optional(),
          device_id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
          since: z.iso
            .datetime({ offset: true })
            .optional()
            .describe('Alerts last seen at or after this time'),
        }),
      },
    },
    async (request, reply) => {
      const q = request.query;
      await audit(services, request, 'alerts', q);
      const conds = alertConditions(q);
      type Row = typeof alerts.$inferSelect;
      async function* pages(): AsyncGenerator<Row[]> {
        let before: number | undefined;
        for (;;) {
          const where = before === undefined ? conds : [...conds, lt(alerts.id, before)];
          const rows = await db()
            .select()
            .from(alerts)
            .where(where.length ? and(...where) : undefined)
            .orderBy(desc(alerts.id))
            .limit(PAGE);
          if (rows.length > 0) yield rows;
          const last = rows[rows.length - 1];
          if (rows.length < PAGE || !last) return;
          before = last.id;
        }
      }
      return sendCsv(
        reply,
        'alerts',
        [
          'id',
          'device_id',
          'kind',
          'severity',
          'status',
          'title',
          'description',
          'peer',
          'count',
          'first_seen',
          'last_seen',
          'model_version',
          'source_id',
          'created_at',
          'updated_at',
        ],
        pages(),
        (a) => [
          a.id,
          a.deviceId,
          a.kind,
          a.severity,
          a.status,
          a.title,
          a.description,
          a.peer,
          a.count,
          a.firstSeen.toISOString(),
          a.lastSeen.toISOString(),
          a.modelVersion,
          a.sourceId,
          a.createdAt.toISOString(),
          a.updatedAt.toISOString(),
        ],
      );
    },
  );

  app.get(
    '/vulnerabilities.csv',
    {
      config: { access: 'viewer', rateLimit: 'export' },
      schema: {
        tags: ['vulnerabilities', 'export'],
        summary: summary('vulnerabilities'),
        querystring: z.strictObject({
          severity: z.enum(['critical', 'high', 'medium', 'low', 'none']).optional(),
          kev: boolQuery.optional(),
          epss_min: z.coerce.number().min(0).max(1).optional(),
          device_id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
          affected: boolQuery
            .optional()
            .describe('only CVEs matched (true) or not matched (false) to a device'),
          q: z.string().min(1).max(200).optional().describe('text search in the CVE id and description'),
          sort: z.enum(SORT_KEYS).default('cvss'),
          order: z.enum(['asc', 'desc']).default('desc'),
        }),
      },
    },
    async (request, reply) => {
      const q = request.query;
      await audit(services, request, 'vulnerabilities', q);
      async function* pages(): AsyncGenerator<VulnListRow[]> {
        let after: { k: number | null; id: string } | undefined;
        for (;;) {
          const rows = await listVulnerabilities(db(), {
            severity: q.severity,
            kev: q.kev === undefined ? undefined : q.kev === 'true',
            epssMin: q.epss_min,
            deviceId: q.device_id,
            affected: q.affected === undefined ? undefined : q.affected === 'true',
            q: q.q,
            sort: q.sort,
            order: q.order,
            after,
            limit: PAGE,
          });
          if (rows.length > 0) yield rows;
          const last = rows[rows.length - 1];
          if (rows.length < PAGE || !last) return;
          after = { k: last.sort_key === null ? null : Number(last.sort_key), id: last.cve_id };
        }
      }
      return sendCsv(
        reply,
        'vulnerabilities',
        [
          'cve_id',
          'severity',
          'cvss_score',
          'cvss_v3_vector',
          'cvss_v2_vector',
          'published',
          'modified',
          'kev',
          'kev_date_added',
          'kev_due_date',
          'kev_ransomware',
          'epss',
          'epss_percentile',
          'affected_devices',
          'description',
        ],
        pages(),
        (r) => [
          r.cve_id,
          r.severity,
          score1(r.cvss_v31_score) ?? score1(r.cvss_v2_score),
          r.cvss_v31_vector,
          r.cvss_v2_vector,
          isoTime(r.published),
          isoTime(r.modified),
          r.kev,
          dateOnly(r.kev_date_added),
          dateOnly(r.kev_due_date),
          ransomware(r.kev_ransomware),
          r.epss === null ? null : Number(r.epss),
          r.epss_percentile === null ? null : Number(r.epss_percentile),
          Number(r.affected_devices),
          r.description,
        ],
      );
    },
  );
};
