/** NVD / KEV synchronisation (worker job `vulns:sync`, `iotsec vulns sync`). */
import type { Config } from '../../config.js';
import type { Db } from '../../store/db.js';
import type { FileSummary } from '../service/importer.js';
import { putSetting } from '../service/repository.js';
import type { HttpDeps } from './http.js';
import { SYNC_LAST_RUN_KEY, runKevSync, runNvdSync } from './sync.js';
import type { NvdSyncSummary } from './sync.js';

export * from './http.js';
export * from './nvd-client.js';
export * from './sync.js';

export interface SyncResult {
  nvd: NvdSyncSummary | null;
  kev: FileSummary | null;
}

/** One sync of the sources asked for, with the URLs and key from the config. */
export async function runSync(
  db: Db,
  config: Pick<Config, 'nvdApiUrl' | 'nvdApiKey' | 'kevUrl'>,
  what: { nvd: boolean; kev: boolean },
  deps: HttpDeps & { minGapMs?: number; resultsPerPage?: number } = {},
): Promise<SyncResult> {
  const result: SyncResult = { nvd: null, kev: null };
  if (what.nvd) {
    result.nvd = await runNvdSync(db, { ...deps, baseUrl: config.nvdApiUrl, apiKey: config.nvdApiKey });
  }
  if (what.kev) result.kev = await runKevSync(db, { ...deps, url: config.kevUrl });
  await putSetting(db, SYNC_LAST_RUN_KEY, { at: new Date().toISOString(), nvd: what.nvd, kev: what.kev });
  return result;
}
