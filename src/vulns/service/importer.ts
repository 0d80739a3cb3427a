/**
 * `iotsec vulns import`: NVD 2.0 JSON (single record, API page, yearly feed, array; gzip or not), CISA KEV JSON
 * and FIRST EPSS CSV files, or folders of them, into the `vulnerabilities` table. The kind of each file is
 * detected from its (decompressed) first 64 KiB, not from its name.
 *
 * Records stream through bounded batches (BATCH rows per multi-row upsert, one transaction each); a bad record is
 * skipped and reported with its index/CVE id (NVD, KEV) or line (EPSS). A file that cannot be read to the end
 * (truncated or malformed JSON, missing EPSS header) keeps every record committed before the problem and is
 * reported with its path and byte position or line; the other files are still imported.
 *
 * Files named on the command line must be one of the three kinds; inside folders (walked recursively, sorted,
 * hidden entries skipped) only *.json, *.csv and their .gz forms are read, and files of another kind (a JSON
 * schema, a README) are listed as skipped.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { readBytes } from '../input.js';
import type { ByteSource } from '../input.js';
import { EpssError, readEpss } from '../epss.js';
import { KevError, readKevCatalog } from '../kev.js';
import type { KevEntry } from '../kev.js';
import { NvdImportError, importNvd } from '../nvd/import.js';
import type { CveRecord } from '../nvd/types.js';
import type { Db } from '../../store/db.js';
import { bumpIndexVersion, upsertCves, upsertEpss, upsertKev } from './repository.js';
import type { EpssScore } from './repository.js';

export type FileKind = 'nvd' | 'kev' | 'epss';

export const BATCH = 500;
const PEEK = 64 * 1024;
const MAX_REPORTED = 100;

export interface BadRecord {
  /** NVD/KEV: index of the record in the file; EPSS: null. */
  index: number | null;
  /** EPSS: 1-based line; otherwise null. */
  line: number | null;
  cve_id: string | null;
  message: string;
}

export interface FileSummary {
  path: string;
  kind: FileKind | null;
  status: 'ok' | 'failed' | 'skipped';
  /** Records read and written (NVD: CVEs; KEV: entries; EPSS: scores). */
  records: number;
  /** Rows written (NVD rows older than what is stored are not rewritten). */
  written: number;
  /** Rows created by KEV/EPSS for CVEs not yet imported. */
  created: number;
  bad: number;
  /** The first bad records (up to 100). */
  bad_records: BadRecord[];
  /** Whole-file problem: names the file and the byte position or line. */
  error: string | null;
}

export interface ImportSummary {
  files: FileSummary[];
  records: number;
  written: number;
  bad: number;
  failed: number;
  skipped: number;
}

/** Detects the kind of data from the first bytes (decompressed); null when it is none of them. */
export function detectKind(head: string): FileKind | null {
  const t = head.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    if (/"\$schema"\s*:/.test(t) && /"properties"\s*:/.test(t)) return null;
    if (/"catalogVersion"\s*:/.test(t) || /"cveID"\s*:/.test(t)) return 'kev';
    if (
      t.startsWith('[') ||
      /"format"\s*:\s*"NVD_CVE"/.test(t) ||
      /"vulnerabilities"\s*:/.test(t) ||
      /"CVE_Items"\s*:/.test(t) ||
      /"id"\s*:\s*"CVE-/.test(t) ||
      /"cve"\s*:\s*\{/.test(t)
    ) {
      return 'nvd';
    }
    return null;
  }
  const first = t.split(/\r?\n/, 3);
  if (first.some((l) => /^#\s*model_version/i.test(l) || /^cve\s*,\s*epss\s*,\s*percentile/i.test(l)))
    return 'epss';
  return null;
}

async function peek(file: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Only the first 64 KiB of the file are opened, so the stream ends (and closes) on its own; a gzip cut there
  // ends with an error after yielding what it decompressed, which is all detection needs.
  try {
    for await (const c of readBytes(createReadStream(file, { start: 0, end: PEEK - 1 }))) {
      chunks.push(c);
      size += c.length;
      if (size >= PEEK) break;
    }
  } catch {
    // a broken gzip stream is reported by the real import; detect from what was read
  }
  return Buffer.concat(chunks).subarray(0, PEEK).toString('utf8');
}

const DATA_FILE = /\.(json|csv)(\.gz)?$|\.gz$/i;

/** Expands the arguments into files: a file as is, a folder walked recursively (sorted; hidden entries skipped). */
export async function expandPaths(args: readonly string[]): Promise<{ file: string; explicit: boolean }[]> {
  const out: { file: string; explicit: boolean }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && DATA_FILE.test(e.name)) out.push({ file: p, explicit: false });
    }
  };
  for (const a of args) {
    const st = await stat(a);
    if (st.isDirectory()) await walk(a);
    else out.push({ file: a, explicit: true });
  }
  return out;
}

export interface ImportOptions {
  /** Called after each file. */
  onFile?: (f: FileSummary) => void;
  batchSize?: number;
}

export function emptyFileSummary(file: string, kind: FileKind | null): FileSummary {
  return {
    path: file,
    kind,
    status: 'ok',
    records: 0,
    written: 0,
    created: 0,
    bad: 0,
    bad_records: [],
    error: null,
  };
}

function addBad(s: FileSummary, b: BadRecord): void {
  s.bad++;
  if (s.bad_records.length < MAX_REPORTED) s.bad_records.push(b);
}

/** Streams NVD records into the table in batches; the index version is bumped in each batch's transaction. */
export async function importNvdSource(
  db: Db,
  src: ByteSource,
  s: FileSummary,
  batchSize = BATCH,
): Promise<void> {
  let batch: CveRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    await db.transaction(async (tx) => {
      s.written += await upsertCves(tx, b);
      await bumpIndexVersion(tx);
    });
  };
  try {
    for await (const item of importNvd(src, { sourceName: s.path })) {
      if (item.kind === 'cve') {
        s.records++;
        batch.push(item.record);
        if (batch.length >= batchSize) await flush();
      } else {
        addBad(s, { index: item.index, line: null, cve_id: item.cveId, message: item.message });
      }
    }
    await flush();
  } catch (e) {
    await flush();
    if (e instanceof NvdImportError) {
      s.status = 'failed';
      s.error = `${e.message} (${e.code}; ${e.recordsBefore} records before it were read)`;
      return;
    }
    throw e;
  }
}

async function importKevFile(db: Db, file: string, s: FileSummary, batchSize: number): Promise<void> {
  let catalog;
  try {
    catalog = await readKevCatalog(file);
  } catch (e) {
    if (e instanceof KevError) {
      s.status = 'failed';
      s.error = `${e.message} (${e.code})`;
      return;
    }
    throw e;
  }
  for (const err of catalog.errors) {
    addBad(s, { index: err.index, line: null, cve_id: err.cveId, message: err.message });
  }
  await importKevEntries(db, catalog.entries, s, batchSize);
}

export async function importKevEntries(
  db: Db,
  entries: readonly KevEntry[],
  s: FileSummary,
  batchSize = BATCH,
): Promise<void> {
  for (let i = 0; i < entries.length; i += batchSize) {
    const part = entries.slice(i, i + batchSize);
    const r = await upsertKev(db, part);
    s.records += part.length;
    s.written += r.written;
    s.created += r.created;
  }
}

async function importEpssFile(db: Db, file: string, s: FileSummary, batchSize: number): Promise<void> {
  let batch: EpssScore[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const b = batch;
    batch = [];
    const r = await upsertEpss(db, b);
    s.written += r.written;
    s.created += r.created;
  };
  try {
    for await (const it of readEpss(file)) {
      if (it.kind === 'score') {
        s.records++;
        batch.push({ cveId: it.cveId, epss: it.epss, percentile: it.percentile });
        if (batch.length >= batchSize) await flush();
      } else if (it.kind === 'error') {
        addBad(s, { index: null, line: it.lineNo, cve_id: null, message: it.message });
      }
    }
    await flush();
  } catch (e) {
    await flush();
    if (e instanceof EpssError) {
      s.status = 'failed';
      s.error = `${e.message} (${e.code})`;
      return;
    }
    s.status = 'failed';
    s.error = `${file}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Imports every file; never throws for bad data (see the summary), only for database errors. */
export async function importPaths(
  db: Db,
  args: readonly string[],
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  const batchSize = opts.batchSize ?? BATCH;
  const files = await expandPaths(args);
  const summary: ImportSummary = { files: [], records: 0, written: 0, bad: 0, failed: 0, skipped: 0 };
  for (const { file, explicit } of files) {
    const kind = detectKind(await peek(file));
    const s = emptyFileSummary(file, kind);
    if (kind === null) {
      s.status = explicit ? 'failed' : 'skipped';
      s.error = `${file}: not an NVD 2.0 JSON, CISA KEV JSON or FIRST EPSS CSV file`;
    } else if (kind === 'nvd') {
      await importNvdSource(db, file, s, batchSize);
    } else if (kind === 'kev') {
      await importKevFile(db, file, s, batchSize);
    } else {
      await importEpssFile(db, file, s, batchSize);
    }
    summary.files.push(s);
    summary.records += s.records;
    summary.written += s.written;
    summary.bad += s.bad;
    if (s.status === 'failed') summary.failed++;
    if (s.status === 'skipped') summary.skipped++;
    opts.onFile?.(s);
  }
  return summary;
}
