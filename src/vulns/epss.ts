/**
 * FIRST EPSS daily scores CSV (https://www.first.org/epss/data_stats), as published
 * (`epss_scores-YYYY-MM-DD.csv.gz`, gzip detected by magic bytes):
 *
 *     #model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
 *     cve,epss,percentile
 *     CVE-1999-0001,0.01141,0.77886
 *
 * Read line by line (memory: one line). Blank lines are ignored; other `#` lines before the header are parsed as
 * `key:value` metadata pairs. Bad lines (wrong field count, bad CVE id, score outside [0,1]) are reported with
 * their 1-based line number and the import continues; a missing/odd header is a fatal EpssError.
 */
import { readLines, sourceName } from './input.js';
import type { ByteSource } from './input.js';

export interface EpssMeta {
  modelVersion: string | null;
  scoreDate: string | null;
  /** All `key:value` pairs of the comment line(s). */
  raw: Record<string, string>;
}

export type EpssItem =
  | { kind: 'meta'; meta: EpssMeta }
  | { kind: 'score'; lineNo: number; cveId: string; epss: number; percentile: number }
  | { kind: 'error'; lineNo: number; message: string; line: string };

export class EpssError extends Error {
  override readonly name = 'EpssError';
  constructor(
    readonly code: 'EPSS_HEADER' | 'EPSS_LINE_TOO_LONG',
    message: string,
    readonly source: string,
    readonly lineNo: number,
  ) {
    super(`${source}:${lineNo}: ${message}`);
  }
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
const NUM = /^(?:0|[1-9]\d*)?(?:\.\d+)?(?:[eE][-+]?\d+)?$/;
const MAX_LINE = 4096;

function parseMeta(line: string, meta: EpssMeta): void {
  for (const part of line.replace(/^#+/, '').split(',')) {
    const i = part.indexOf(':');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    meta.raw[k] = v;
    if (k === 'model_version') meta.modelVersion = v;
    if (k === 'score_date') meta.scoreDate = v;
  }
}

function parseScore(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  if (t === '' || !NUM.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
}

/** Streams an EPSS CSV: one 'meta' item (after the header), then 'score' and 'error' items. */
export async function* readEpss(src: ByteSource): AsyncGenerator<EpssItem, void, undefined> {
  const name = sourceName(src);
  const meta: EpssMeta = { modelVersion: null, scoreDate: null, raw: {} };
  let cols: { cve: number; epss: number; percentile: number } | null = null;
  for await (const { line, lineNo } of readLines(src)) {
    if (line.length > MAX_LINE) {
      if (!cols)
        throw new EpssError('EPSS_LINE_TOO_LONG', `line longer than ${MAX_LINE} characters`, name, lineNo);
      yield {
        kind: 'error',
        lineNo,
        message: `line longer than ${MAX_LINE} characters`,
        line: line.slice(0, 80),
      };
      continue;
    }
    const l = lineNo === 1 ? line.replace(/^\uFEFF/, '') : line;
    if (l.trim() === '') continue;
    if (!cols) {
      if (l.startsWith('#')) {
        parseMeta(l, meta);
        continue;
      }
      const header = l.split(',').map((h) => h.trim().toLowerCase());
      const cve = header.indexOf('cve');
      const epss = header.indexOf('epss');
      const percentile = header.indexOf('percentile');
      if (cve < 0 || epss < 0 || percentile < 0) {
        throw new EpssError(
          'EPSS_HEADER',
          `expected header "cve,epss,percentile", got ${JSON.stringify(l.slice(0, 80))}`,
          name,
          lineNo,
        );
      }
      cols = { cve, epss, percentile };
      yield { kind: 'meta', meta };
      continue;
    }
    const f = l.split(',');
    const cveId = f[cols.cve]?.trim() ?? '';
    const epss = parseScore(f[cols.epss]);
    const percentile = parseScore(f[cols.percentile]);
    let message: string | null = null;
    if (f.length < 3) message = `expected 3 fields, got ${f.length}`;
    else if (!CVE_ID.test(cveId)) message = `bad CVE id ${JSON.stringify(cveId)}`;
    else if (epss === null) message = `bad epss score ${JSON.stringify(f[cols.epss])}`;
    else if (percentile === null) message = `bad percentile ${JSON.stringify(f[cols.percentile])}`;
    if (message !== null || epss === null || percentile === null) {
      yield { kind: 'error', lineNo, message: message ?? 'bad line', line: l.slice(0, 200) };
      continue;
    }
    yield { kind: 'score', lineNo, cveId, epss, percentile };
  }
  if (!cols) throw new EpssError('EPSS_HEADER', 'no "cve,epss,percentile" header found', name, 0);
}

export interface EpssTable {
  meta: EpssMeta | null;
  scores: Map<string, { epss: number; percentile: number }>;
  errors: { lineNo: number; message: string }[];
}

/** Loads a whole EPSS file into a Map (≈300k entries for the full daily file). */
export async function loadEpss(src: ByteSource): Promise<EpssTable> {
  const t: EpssTable = { meta: null, scores: new Map(), errors: [] };
  for await (const it of readEpss(src)) {
    if (it.kind === 'meta') t.meta = it.meta;
    else if (it.kind === 'score') t.scores.set(it.cveId, { epss: it.epss, percentile: it.percentile });
    else t.errors.push({ lineNo: it.lineNo, message: it.message });
  }
  return t;
}
