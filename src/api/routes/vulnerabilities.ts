import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../errors.js';
import { VULN_STATUSES } from '../../store/schema.js';
import {
  SORT_KEYS,
  affectedDevices,
  deviceExists,
  deviceVulnerabilities,
  getVulnerability,
  listVulnerabilities,
  setDeviceVulnStatus,
} from '../../vulns/service/queries.js';
import type { DeviceVulnRow, VulnListRow } from '../../vulns/service/queries.js';
import { matcherFor } from '../../vulns/service/matching.js';
import { dateOnly, isoTime, ransomware, score1 } from '../../vulns/service/rows.js';
import type { Services } from '../context.js';
import { decodeCursor, encodeCursor, listQuery, page } from '../pagination.js';
import { actorOf } from './actor.js';

/**
 * Vulnerabilities (imported NVD/KEV/EPSS data) and the device ↔ CVE matches. Registered under /api/v1; the
 * device sub-resources live here rather than in the devices routes because they are this module's data.
 */

const SEVERITY_VALUES = ['critical', 'high', 'medium', 'low', 'none'] as const;
const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
const cveId = z
  .string()
  .regex(/^CVE-\d{4}-\d{4,}$/i, 'a CVE id such as CVE-2023-1389')
  .transform((s) => s.toUpperCase());
const deviceId = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const vulnSchema = z.object({
  cve_id: z.string(),
  description: z.string().nullable(),
  severity: z.string().nullable(),
  cvss_score: z.number().nullable().describe('CVSS v3.x base score, else v2'),
  cvss_v3_score: z.number().nullable(),
  cvss_v3_vector: z.string().nullable(),
  cvss_v2_score: z.number().nullable(),
  cvss_v2_vector: z.string().nullable(),
  published: z.string().nullable(),
  modified: z.string().nullable(),
  kev: z.boolean(),
  kev_date_added: z.string().nullable(),
  kev_due_date: z.string().nullable(),
  kev_ransomware: z.boolean().nullable().describe('KEV knownRansomwareCampaignUse: Known → true'),
  epss: z.number().nullable(),
  epss_percentile: z.number().nullable(),
  affected_devices: z.number(),
});

const criterionSchema = z.object({
  path: z.string(),
  criteria: z.string(),
  match_criteria_id: z.string().nullable(),
  vulnerable: z.boolean(),
  version_start_including: z.string().optional(),
  version_start_excluding: z.string().optional(),
  version_end_including: z.string().optional(),
  version_end_excluding: z.string().optional(),
  device_cpe: z.string().nullable(),
  result: z.enum(['match', 'possible']),
  reason: z.string().nullable(),
});

const matchSchema = z.object({
  matched_cpe: z.string(),
  possible: z.boolean(),
  status: z.enum(VULN_STATUSES),
  status_note: z.string().nullable(),
  status_changed_by: z.string().nullable(),
  status_changed_at: z.string().nullable(),
  still_matches: z
    .boolean()
    .describe('false when the CVE no longer matches but a user-set status keeps the row'),
  configurations: z.array(z.number()),
  criteria: z.array(criterionSchema),
  explanation: z.string().nullable(),
  first_seen: z.string(),
  updated_at: z.string(),
});

const affectedSchema = matchSchema.extend({
  device_id: z.number(),
  mac: z.string().nullable(),
  hostname: z.string().nullable(),
  vendor: z.string().nullable(),
  model: z.string().nullable(),
});

const detailSchema = vulnSchema.extend({
  configurations: z.array(z.unknown()),
  references: z.array(z.string()),
  affected: z.array(affectedSchema).describe('Devices matched to this CVE (first 500, by device id)'),
});

const deviceVulnSchema = vulnSchema.omit({ affected_devices: true }).extend(matchSchema.shape);

function presentVuln(r: VulnListRow): z.infer<typeof vulnSchema> {
  const v3 = score1(r.cvss_v31_score);
  const v2 = score1(r.cvss_v2_score);
  return {
    cve_id: r.cve_id,
    description: r.description,
    severity: r.severity,
    cvss_score: v3 ?? v2,
    cvss_v3_score: v3,
    cvss_v3_vector: r.cvss_v31_vector,
    cvss_v2_score: v2,
    cvss_v2_vector: r.cvss_v2_vector,
    published: isoTime(r.published),
    modified: isoTime(r.modified),
    kev: r.kev,
    kev_date_added: dateOnly(r.kev_date_added),
    kev_due_date: dateOnly(r.kev_due_date),
    kev_ransomware: ransomware(r.kev_ransomware),
    epss: r.epss === null ? null : Number(r.epss),
    epss_percentile: r.epss_percentile === null ? null : Number(r.epss_percentile),
    affected_devices: Number(r.affected_devices),
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function presentMatch(r: DeviceVulnRow): z.infer<typeof matchSchema> {
  const mb = r.matched_by;
  const user =
    typeof mb['user'] === 'object' && mb['user'] !== null ? (mb['user'] as Record<string, unknown>) : {};
  const configurations = Array.isArray(mb['configurations'])
    ? mb['configurations'].filter((x): x is number => typeof x === 'number')
    : [];
  const criteria = Array.isArray(mb['criteria'])
    ? mb['criteria'].flatMap((c) => {
        const p = criterionSchema.safeParse(c);
        return p.success ? [p.data] : [];
      })
    : [];
  return {
    matched_cpe: r.matched_cpe,
    possible: r.possible,
    status: r.status,
    status_note: str(user['note']),
    status_changed_by: str(user['by']),
    status_changed_at: str(user['at']),
    still_matches: !('unmatched_at' in mb),
    configurations,
    criteria,
    explanation: str(mb['explanation']),
    first_seen: isoTime(r.first_seen) ?? '',
    updated_at: isoTime(r.updated_at) ?? '',
  };
}

function presentAffected(r: DeviceVulnRow): z.infer<typeof affectedSchema> {
  return {
    ...presentMatch(r),
    device_id: Number(r.device_id),
    mac: r.mac,
    hostname: r.hostname,
    vendor: r.vendor,
    model: r.model,
  };
}

function presentDeviceVuln(r: DeviceVulnRow): z.infer<typeof deviceVulnSchema> {
  const { affected_devices: _ignored, ...v } = presentVuln(r);
  return { ...v, ...presentMatch(r) };
}

export const vulnerabilityRoutes: FastifyPluginAsyncZod<{ services: Services }> = async (
  app,
  { services },
) => {
  const db = services.store.db;
  const matcher = matcherFor(db, services.bus);

  app.get(
    '/vulnerabilities',
    {
      config: { access: 'viewer', rateLimit: { budget: 'search', whenQuery: 'q' } },
      schema: {
        tags: ['vulnerabilities'],
        summary: 'List vulnerabilities (imported NVD/KEV/EPSS data)',
        querystring: z.object({
          ...listQuery,
          severity: z.enum(SEVERITY_VALUES).optional(),
          kev: boolQuery.optional(),
          epss_min: z.coerce.number().min(0).max(1).optional(),
          device_id: deviceId.optional(),
          affected: boolQuery
            .optional()
            .describe('only CVEs matched (true) or not matched (false) to a device'),
          q: z.string().min(1).max(200).optional().describe('text search in the CVE id and description'),
          sort: z.enum(SORT_KEYS).default('cvss'),
          order: z.enum(['asc', 'desc']).default('desc'),
        }),
        response: { 200: page(vulnSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      const cur = decodeCursor(
        q.cursor,
        z.object({ s: z.string(), o: z.string(), k: z.number().nullable(), id: z.string() }),
      );
      if (cur && (cur.s !== q.sort || cur.o !== q.order)) {
        throw new AppError('INVALID_CURSOR', 'The cursor belongs to another sort order.');
      }
      const rows = await listVulnerabilities(db, {
        severity: q.severity,
        kev: q.kev,
        epssMin: q.epss_min,
        deviceId: q.device_id,
        affected: q.affected,
        q: q.q,
        sort: q.sort,
        order: q.order,
        after: cur ? { k: cur.k, id: cur.id } : undefined,
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(presentVuln),
        next_cursor:
          rows.length > q.limit && last
            ? encodeCursor({
                s: q.sort,
                o: q.order,
                k: last.sort_key === null ? null : Number(last.sort_key),
                id: last.cve_id,
              })
            : null,
      };
    },
  );

  app.get(
    '/vulnerabilities/:cve_id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['vulnerabilities'],
        summary: 'One vulnerability with its configurations and the devices it affects',
        params: z.object({ cve_id: cveId }),
        response: { 200: detailSchema },
      },
    },
    async (request) => {
      const row = await getVulnerability(db, request.params.cve_id);
      if (!row) throw new AppError('VULNERABILITY_NOT_FOUND', `No vulnerability ${request.params.cve_id}.`);
      const affected = await affectedDevices(db, row.cve_id, 500);
      return {
        ...presentVuln(row),
        configurations: Array.isArray(row.configurations) ? (row.configurations as unknown[]) : [],
        references: Array.isArray(row.references)
          ? row.references.filter((x): x is string => typeof x === 'string')
          : [],
        affected: affected.map(presentAffected),
      };
    },
  );

  app.get(
    '/devices/:id/vulnerabilities',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['vulnerabilities', 'devices'],
        summary: "A device's vulnerabilities, most severe first, with the criteria that matched",
        params: z.object({ id: deviceId }),
        querystring: z.object({
          ...listQuery,
          status: z.enum(VULN_STATUSES).optional(),
          possible: boolQuery.optional(),
        }),
        response: { 200: page(deviceVulnSchema) },
      },
    },
    async (request) => {
      const q = request.query;
      const id = request.params.id;
      if (!(await deviceExists(db, id))) throw new AppError('DEVICE_NOT_FOUND', `No device with id ${id}.`);
      const cur = decodeCursor(q.cursor, z.object({ k: z.number(), id: z.string() }));
      const rows = await deviceVulnerabilities(db, id, {
        status: q.status,
        possible: q.possible,
        after: cur,
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return {
        items: items.map(presentDeviceVuln),
        next_cursor:
          rows.length > q.limit && last
            ? encodeCursor({ k: Number(last.sort_key ?? -1), id: last.cve_id })
            : null,
      };
    },
  );

  app.patch(
    '/devices/:id/vulnerabilities/:cve_id',
    {
      config: { access: 'analyst' },
      schema: {
        tags: ['vulnerabilities', 'devices'],
        summary:
          "Set the status of a device's vulnerability (audited; the device's risk score is recomputed)",
        params: z.object({ id: deviceId, cve_id: cveId }),
        body: z.strictObject({
          status: z.enum(VULN_STATUSES),
          note: z.string().max(2000).optional(),
        }),
        response: { 200: deviceVulnSchema },
      },
    },
    async (request) => {
      const { row, riskScore } = await setDeviceVulnStatus(
        db,
        services.audit,
        actorOf(request).actorRef,
        request.params.id,
        request.params.cve_id,
        request.body,
      );
      // After commit: the status and possibly the risk score of the device changed.
      await matcher.publishUpdate(request.params.id, riskScore).catch((err: unknown) => {
        request.log.warn({ err }, 'device_update event not published');
      });
      return presentDeviceVuln(row);
    },
  );
};
