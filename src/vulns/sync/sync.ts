/**
 * NVD and KEV synchronisation into the `vulnerabilities` table.
 *
 * NVD: the first run pages through the whole CVE list (no date filter); later runs fetch what was modified
 * since the last completed run, in lastModStartDate/lastModEndDate windows of at most 120 days. Each page is
 * written in one transaction together with the checkpoint `settings['vulns.nvd_sync']`
 * {last_sync_end, current: {mode, start, end, target_end, start_index}}: a run that crashes resumes at the
 * page after the last committed one. Records are upserts, so a page fetched twice changes nothing.
 *
 * KEV: the catalog is fetched whole and upserted like `vulns import` does.
 */
import { KevError, readKevCatalog } from '../kev.js';
import type { Db } from '../../store/db.js';
import { emptyFileSummary, importKevEntries } from '../service/importer.js';
import type { FileSummary } from '../service/importer.js';
import { bumpIndexVersion, getSetting, putSetting, upsertCves } from '../service/repository.js';
import { RetryableError, bodyBytes, getWithRetry } from './http.js';
import type { HttpDeps } from './http.js';
import { NVD_MAX_WINDOW_DAYS, NvdClient } from './nvd-client.js';
import type { NvdClientOptions, TimeWindow } from './nvd-client.js';

export const NVD_SYNC_KEY = 'vulns.nvd_sync';
export const SYNC_LAST_RUN_KEY = 'vulns.sync_last_run';
const DAY = 86_400_000;

export interface NvdSyncState {
  /** Every CVE modified before this instant has been fetched. */
  last_sync_end: string | null;
  current: {
    mode: 'full' | 'window';
    /** Window start (null in full mode). */
    start: string | null;
    end: string;
    /** Where this run stops (windows advance up to it). */
    target_end: string;
    start_index: number;
  } | null;
}

export interface NvdSyncSummary {
  pages: number;
  records: number;
  written: number;
  bad: number;
  windows: number;
  resumed_from: { mode: string; start: string | null; end: string; start_index: number } | null;
  last_sync_end: string | null;
}

export interface NvdSyncOptions extends NvdClientOptions {
  /** "Now" for the end of the last window (default: the clock). */
  until?: Date;
  /** Test hook: runs after each page's transaction committed (throw to simulate a crash). */
  afterPage?: (info: { startIndex: number; items: number; state: NvdSyncState }) => void | Promise<void>;
  onProgress?: (info: {
    pages: number;
    records: number;
    totalResults: number;
    window: TimeWindow | null;
  }) => void;
}

export async function readSyncState(db: Db): Promise<NvdSyncState> {
  return (await getSetting<NvdSyncState>(db, NVD_SYNC_KEY)) ?? { last_sync_end: null, current: null };
}

function nextWindow(start: Date, target: Date): { start: string; end: string } {
  const end = new Date(Math.min(start.getTime() + NVD_MAX_WINDOW_DAYS * DAY, target.getTime()));
  return { start: start.toISOString(), end: end.toISOString() };
}

/** Runs (or resumes) one NVD sync to completion. */
export async function runNvdSync(db: Db, opts: NvdSyncOptions): Promise<NvdSyncSummary> {
  const client = new NvdClient(opts);
  let state = await readSyncState(db);
  const summary: NvdSyncSummary = {
    pages: 0,
    records: 0,
    written: 0,
    bad: 0,
    windows: 0,
    resumed_from: state.current
      ? {
          mode: state.current.mode,
          start: state.current.start,
          end: state.current.end,
          start_index: state.current.start_index,
        }
      : null,
    last_sync_end: state.last_sync_end,
  };
  if (!state.current) {
    const target = (opts.until ?? new Date(opts.now?.() ?? Date.now())).toISOString();
    if (state.last_sync_end === null) {
      state = {
        ...state,
        current: { mode: 'full', start: null, end: target, target_end: target, start_index: 0 },
      };
    } else if (new Date(state.last_sync_end).getTime() < new Date(target).getTime()) {
      const w = nextWindow(new Date(state.last_sync_end), new Date(target));
      state = { ...state, current: { mode: 'window', ...w, target_end: target, start_index: 0 } };
    } else {
      return summary;
    }
    await putSetting(db, NVD_SYNC_KEY, state);
  }
  for (;;) {
    const cur = state.current;
    if (!cur) break;
    const window: TimeWindow | null =
      cur.mode === 'window' && cur.start !== null
        ? { start: new Date(cur.start), end: new Date(cur.end) }
        : null;
    const page = await client.page(cur.start_index, window);
    const next = cur.start_index + page.items;
    const windowDone = page.items === 0 || next >= page.totalResults;
    let nextState: NvdSyncState;
    if (!windowDone) {
      nextState = { ...state, current: { ...cur, start_index: next } };
    } else if (cur.mode === 'window' && new Date(cur.end).getTime() < new Date(cur.target_end).getTime()) {
      nextState = {
        last_sync_end: cur.end,
        current: {
          mode: 'window',
          ...nextWindow(new Date(cur.end), new Date(cur.target_end)),
          target_end: cur.target_end,
          start_index: 0,
        },
      };
    } else {
      nextState = { last_sync_end: cur.end, current: null };
    }
    await db.transaction(async (tx) => {
      if (page.records.length > 0) {
        summary.written += await upsertCves(tx, page.records);
        await bumpIndexVersion(tx);
      }
      await putSetting(tx, NVD_SYNC_KEY, nextState);
    });
    state = nextState;
    summary.pages++;
    summary.records += page.records.length;
    summary.bad += page.bad.length;
    if (windowDone) summary.windows++;
    summary.last_sync_end = state.last_sync_end;
    opts.onProgress?.({
      pages: summary.pages,
      records: summary.records,
      totalResults: page.totalResults,
      window,
    });
    await opts.afterPage?.({ startIndex: cur.start_index, items: page.items, state });
  }
  return summary;
}

export interface KevSyncOptions extends HttpDeps {
  url: string;
}

/** Fetches the KEV catalog and upserts it. */
export async function runKevSync(db: Db, opts: KevSyncOptions): Promise<FileSummary> {
  const catalog = await getWithRetry(opts.url, { accept: 'application/json' }, opts, null, async (res) => {
    try {
      return await readKevCatalog(bodyBytes(res));
    } catch (e) {
      // A body cut short reads as bad JSON: fetch again.
      if (e instanceof KevError && e.code === 'KEV_JSON_SYNTAX') throw new RetryableError(e.message);
      throw e;
    }
  });
  const s = emptyFileSummary(opts.url, 'kev');
  for (const err of catalog.errors) {
    s.bad++;
    if (s.bad_records.length < 100) {
      s.bad_records.push({ index: err.index, line: null, cve_id: err.cveId, message: err.message });
    }
  }
  await importKevEntries(db, catalog.entries, s);
  return s;
}
