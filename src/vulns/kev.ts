/**
 * CISA Known Exploited Vulnerabilities catalog (https://www.cisa.gov/known-exploited-vulnerabilities-catalog,
 * schema `known_exploited_vulnerabilities_schema.json`). `vendorProject` / `product` are free text, not CPE names:
 * join to NVD by `cveId` only.
 *
 * The catalog is one JSON document (~1.3 MB for ~1,400 entries); `readKevCatalog` reads it whole (gzip detected
 * by magic bytes) up to a 64 MiB cap. Bad entries are skipped and reported with their array index and cveID.
 */
import { readBytes, sourceName } from './input.js';
import type { ByteSource } from './input.js';

export interface KevEntry {
  cveId: string;
  vendorProject: string;
  product: string;
  vulnerabilityName: string;
  /** YYYY-MM-DD */
  dateAdded: string;
  shortDescription: string;
  requiredAction: string;
  /** YYYY-MM-DD */
  dueDate: string;
  /** "Known" → true, "Unknown" → false, missing/other → null. */
  knownRansomwareCampaignUse: boolean | null;
  notes: string;
  cwes: string[];
}

export interface KevEntryError {
  index: number;
  cveId: string | null;
  message: string;
}

export interface KevCatalog {
  title: string | null;
  catalogVersion: string | null;
  dateReleased: string | null;
  /** The catalog's own `count` field. */
  count: number | null;
  entries: KevEntry[];
  errors: KevEntryError[];
}

export class KevError extends Error {
  override readonly name = 'KevError';
  constructor(
    readonly code: 'KEV_JSON_SYNTAX' | 'KEV_SCHEMA' | 'KEV_TOO_LARGE',
    message: string,
    readonly source: string,
  ) {
    super(`${source}: ${message}`);
  }
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_BYTES = 64 * 1024 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (o: Obj, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');

function parseEntry(v: unknown): KevEntry {
  if (!isObj(v)) throw new Error('entry is not an object');
  const cveId = v['cveID'];
  if (typeof cveId !== 'string' || !CVE_ID.test(cveId)) throw new Error(`bad cveID ${JSON.stringify(cveId)}`);
  for (const k of ['dateAdded', 'dueDate']) {
    const d = v[k];
    if (typeof d !== 'string' || !DATE.test(d)) throw new Error(`bad ${k} ${JSON.stringify(d)}`);
  }
  const r = v['knownRansomwareCampaignUse'];
  return {
    cveId,
    vendorProject: str(v, 'vendorProject'),
    product: str(v, 'product'),
    vulnerabilityName: str(v, 'vulnerabilityName'),
    dateAdded: str(v, 'dateAdded'),
    shortDescription: str(v, 'shortDescription'),
    requiredAction: str(v, 'requiredAction'),
    dueDate: str(v, 'dueDate'),
    knownRansomwareCampaignUse: r === 'Known' ? true : r === 'Unknown' ? false : null,
    notes: str(v, 'notes'),
    cwes: Array.isArray(v['cwes']) ? v['cwes'].filter((c): c is string => typeof c === 'string') : [],
  };
}

/** Validates an already-parsed catalog object. */
export function parseKevCatalog(doc: unknown, source = '<kev>'): KevCatalog {
  if (!isObj(doc) || !Array.isArray(doc['vulnerabilities'])) {
    throw new KevError('KEV_SCHEMA', 'not a KEV catalog: no "vulnerabilities" array', source);
  }
  const out: KevCatalog = {
    title: typeof doc['title'] === 'string' ? doc['title'] : null,
    catalogVersion: typeof doc['catalogVersion'] === 'string' ? doc['catalogVersion'] : null,
    dateReleased: typeof doc['dateReleased'] === 'string' ? doc['dateReleased'] : null,
    count: typeof doc['count'] === 'number' ? doc['count'] : null,
    entries: [],
    errors: [],
  };
  doc['vulnerabilities'].forEach((v: unknown, index) => {
    try {
      out.entries.push(parseEntry(v));
    } catch (e) {
      const cveId = isObj(v) && typeof v['cveID'] === 'string' ? v['cveID'] : null;
      out.errors.push({ index, cveId, message: e instanceof Error ? e.message : String(e) });
    }
  });
  return out;
}

/** Reads and validates a KEV catalog file or stream. */
export async function readKevCatalog(src: ByteSource): Promise<KevCatalog> {
  const name = sourceName(src);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of readBytes(src)) {
    size += c.length;
    if (size > MAX_BYTES) throw new KevError('KEV_TOO_LARGE', `catalog larger than ${MAX_BYTES} bytes`, name);
    chunks.push(c);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new KevError('KEV_JSON_SYNTAX', e instanceof Error ? e.message : String(e), name);
  }
  return parseKevCatalog(doc, name);
}

/** Index by CVE id (last entry wins on duplicates). */
export function kevById(catalog: KevCatalog): Map<string, KevEntry> {
  return new Map(catalog.entries.map((e) => [e.cveId, e]));
}
