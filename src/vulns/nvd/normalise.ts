/**
 * Validation and normalisation of one NVD CVE API 2.0 `cve` object into a CveRecord.
 * Throws NvdRecordError naming the field when the record is unusable.
 */
import { CpeError } from '../cpe/types.js';
import { parseCpe } from '../cpe/fs.js';
import type {
  ConfigNode,
  Configuration,
  CpeMatch,
  CveRecord,
  CvssSummary,
  NvdOperator,
  Severity,
} from './types.js';

export class NvdRecordError extends Error {
  override readonly name = 'NvdRecordError';
  constructor(
    message: string,
    readonly cveId: string | null,
  ) {
    super(cveId ? `${cveId}: ${message}` : message);
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(o: Obj, key: string, id: string | null): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new NvdRecordError(`"${key}" must be a string`, id);
  return v;
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const SEVERITIES = new Set(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE']);

function pickMetric(list: unknown, id: string, field: string): CvssSummary | null {
  if (list === undefined) return null;
  if (!Array.isArray(list)) throw new NvdRecordError(`metrics.${field} must be an array`, id);
  const metrics = list.filter(isObj);
  const chosen = metrics.find((m) => m['type'] === 'Primary') ?? metrics[0];
  if (!chosen) return null;
  const data = chosen['cvssData'];
  if (!isObj(data) || typeof data['baseScore'] !== 'number' || typeof data['vectorString'] !== 'string') {
    throw new NvdRecordError(`metrics.${field}[].cvssData needs baseScore and vectorString`, id);
  }
  const score = data['baseScore'];
  if (!(score >= 0 && score <= 10)) throw new NvdRecordError(`metrics.${field} baseScore out of range`, id);
  const sevRaw = data['baseSeverity'] ?? chosen['baseSeverity'];
  const sev =
    typeof sevRaw === 'string' && SEVERITIES.has(sevRaw.toUpperCase()) ? sevRaw.toUpperCase() : null;
  return {
    version:
      typeof data['version'] === 'string'
        ? data['version']
        : field.replace(/^cvssMetricV(\d)(\d)?$/, '$1.$2'),
    baseScore: score,
    severity: (sev as Severity | null) ?? null,
    vector: data['vectorString'],
    source: typeof chosen['source'] === 'string' ? chosen['source'] : null,
  };
}

function operator(v: unknown, where: string, id: string, dflt: NvdOperator | null): NvdOperator {
  if (v === undefined && dflt) return dflt;
  if (v === 'AND' || v === 'OR') return v;
  throw new NvdRecordError(`${where}.operator must be "AND" or "OR" (got ${JSON.stringify(v)})`, id);
}

const RANGE_KEYS = [
  'versionStartIncluding',
  'versionStartExcluding',
  'versionEndIncluding',
  'versionEndExcluding',
] as const;

function cpeMatch(m: unknown, where: string, id: string): CpeMatch {
  if (!isObj(m)) throw new NvdRecordError(`${where} must be an object`, id);
  const criteria = m['criteria'] ?? m['cpe23Uri'];
  if (typeof criteria !== 'string') throw new NvdRecordError(`${where}.criteria must be a string`, id);
  try {
    parseCpe(criteria);
  } catch (e) {
    if (e instanceof CpeError) throw new NvdRecordError(`${where}.criteria: ${e.message}`, id);
    throw e;
  }
  if (typeof m['vulnerable'] !== 'boolean')
    throw new NvdRecordError(`${where}.vulnerable must be a boolean`, id);
  const out: CpeMatch = { vulnerable: m['vulnerable'], criteria };
  if (typeof m['matchCriteriaId'] === 'string') out.matchCriteriaId = m['matchCriteriaId'];
  for (const k of RANGE_KEYS) {
    const v = m[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v === '')
      throw new NvdRecordError(`${where}.${k} must be a non-empty string`, id);
    out[k] = v;
  }
  return out;
}

function configurations(list: unknown, id: string): Configuration[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new NvdRecordError('configurations must be an array', id);
  return list.map((c: unknown, ci): Configuration => {
    const where = `configurations[${ci}]`;
    if (!isObj(c) || !Array.isArray(c['nodes']))
      throw new NvdRecordError(`${where}.nodes must be an array`, id);
    const nodes = c['nodes'].map((n: unknown, ni): ConfigNode => {
      const nw = `${where}.nodes[${ni}]`;
      if (!isObj(n) || !Array.isArray(n['cpeMatch'])) {
        throw new NvdRecordError(`${nw}.cpeMatch must be an array`, id);
      }
      return {
        operator: operator(n['operator'], nw, id, 'OR'),
        negate: n['negate'] === true,
        cpeMatch: n['cpeMatch'].map((m: unknown, mi) => cpeMatch(m, `${nw}.cpeMatch[${mi}]`, id)),
      };
    });
    return { operator: operator(c['operator'], where, id, 'OR'), negate: c['negate'] === true, nodes };
  });
}

/** Normalises one `cve` object (or a `{cve: …}` wrapper). */
export function normaliseCve(raw: unknown): CveRecord {
  const obj = isObj(raw) && isObj(raw['cve']) ? raw['cve'] : raw;
  if (!isObj(obj)) throw new NvdRecordError('record is not an object', null);
  const idRaw = obj['id'];
  if (typeof idRaw !== 'string' || !CVE_ID.test(idRaw)) {
    throw new NvdRecordError(`missing or malformed "id" (${JSON.stringify(idRaw)})`, null);
  }
  const id = idRaw;
  const descs = Array.isArray(obj['descriptions']) ? obj['descriptions'].filter(isObj) : [];
  const en = descs.find((d) => d['lang'] === 'en') ?? descs[0];
  const metrics = obj['metrics'];
  if (metrics !== undefined && !isObj(metrics)) throw new NvdRecordError('metrics must be an object', id);
  const m = metrics ?? {};
  const cvssV40 = pickMetric(m['cvssMetricV40'], id, 'cvssMetricV40');
  const cvssV31 = pickMetric(m['cvssMetricV31'], id, 'cvssMetricV31');
  const cvssV30 = pickMetric(m['cvssMetricV30'], id, 'cvssMetricV30');
  const cvssV2 = pickMetric(m['cvssMetricV2'], id, 'cvssMetricV2');
  const cwes = new Set<string>();
  if (Array.isArray(obj['weaknesses'])) {
    for (const w of obj['weaknesses']) {
      if (!isObj(w) || !Array.isArray(w['description'])) continue;
      for (const d of w['description']) if (isObj(d) && typeof d['value'] === 'string') cwes.add(d['value']);
    }
  }
  const refs: string[] = [];
  if (Array.isArray(obj['references'])) {
    for (const r of obj['references']) if (isObj(r) && typeof r['url'] === 'string') refs.push(r['url']);
  }
  return {
    id,
    sourceIdentifier: optString(obj, 'sourceIdentifier', id),
    published: optString(obj, 'published', id),
    lastModified: optString(obj, 'lastModified', id),
    vulnStatus: optString(obj, 'vulnStatus', id),
    description: en && typeof en['value'] === 'string' ? en['value'] : '',
    cvss: cvssV31 ?? cvssV30 ?? cvssV2,
    cvssV40,
    cvssV31,
    cvssV30,
    cvssV2,
    cwes: [...cwes],
    cisaExploitAdd: optString(obj, 'cisaExploitAdd', id),
    cisaActionDue: optString(obj, 'cisaActionDue', id),
    configurations: configurations(obj['configurations'], id),
    references: refs,
  };
}
