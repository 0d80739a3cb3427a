/**
 * NVD CVE API 2.0 client (https://nvd.nist.gov/developers/vulnerabilities): one page per call, paged with
 * startIndex/resultsPerPage (at most 2000), optionally limited to a lastModStartDate/lastModEndDate window
 * (NVD refuses windows longer than 120 days). Requests are rate limited (5 per 30 s without an API key, 50 per
 * 30 s with one, plus a 6 s gap between requests as NVD recommends) and retried with backoff on 403/429/5xx,
 * network errors and bodies cut short. Each page body is parsed by the streaming importer, so a page is held
 * in memory only as its normalised records.
 */
import { NvdImportError, importNvd } from '../nvd/import.js';
import type { NvdImportItem } from '../nvd/import.js';
import type { CveRecord } from '../nvd/types.js';
import { RateLimiter, RetryableError, bodyBytes, getWithRetry, realSleep } from './http.js';
import type { HttpDeps } from './http.js';

export const NVD_MAX_WINDOW_DAYS = 120;
export const NVD_MAX_PAGE = 2000;

export interface NvdClientOptions extends HttpDeps {
  baseUrl: string;
  apiKey?: string | undefined;
  /** Default 2000 (NVD's maximum). */
  resultsPerPage?: number;
  /** Gap between requests (default 6000 ms). */
  minGapMs?: number;
  /** Override the request budget (default 5 or 50 per 30 s, depending on the key). */
  rateLimit?: { requests: number; windowMs: number };
}

export interface TimeWindow {
  start: Date;
  end: Date;
}

export interface NvdPage {
  startIndex: number;
  totalResults: number;
  /** Items in this page, good or bad (the next page starts at startIndex + items). */
  items: number;
  records: CveRecord[];
  bad: Extract<NvdImportItem, { kind: 'error' }>[];
}

/** NVD date parameter: `2021-08-04T13:00:00.000+00:00` (the documented form, with an explicit offset). */
export function nvdDate(d: Date): string {
  return d.toISOString().replace('Z', '+00:00');
}

export class NvdClient {
  private readonly limiter: RateLimiter;
  readonly resultsPerPage: number;

  constructor(private readonly opts: NvdClientOptions) {
    const withKey = opts.apiKey !== undefined && opts.apiKey !== '';
    const rl = opts.rateLimit ?? { requests: withKey ? 50 : 5, windowMs: 30_000 };
    this.limiter = new RateLimiter(
      rl.requests,
      rl.windowMs,
      opts.minGapMs ?? 6000,
      opts.sleep ?? realSleep,
      opts.now ?? Date.now,
    );
    this.resultsPerPage = Math.min(NVD_MAX_PAGE, Math.max(1, opts.resultsPerPage ?? NVD_MAX_PAGE));
  }

  url(startIndex: number, window: TimeWindow | null): string {
    const u = new URL(this.opts.baseUrl);
    u.searchParams.set('resultsPerPage', String(this.resultsPerPage));
    u.searchParams.set('startIndex', String(startIndex));
    if (window) {
      const days = (window.end.getTime() - window.start.getTime()) / 86_400_000;
      if (days > NVD_MAX_WINDOW_DAYS) throw new Error(`window of ${days} days exceeds NVD's 120-day limit`);
      u.searchParams.set('lastModStartDate', nvdDate(window.start));
      u.searchParams.set('lastModEndDate', nvdDate(window.end));
    }
    return u.toString();
  }

  async page(startIndex: number, window: TimeWindow | null): Promise<NvdPage> {
    const url = this.url(startIndex, window);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.apiKey) headers['apiKey'] = this.opts.apiKey;
    return getWithRetry(url, headers, this.opts, this.limiter, async (res) => {
      const records: CveRecord[] = [];
      const bad: NvdPage['bad'] = [];
      const gen = importNvd(bodyBytes(res), { sourceName: `NVD page startIndex=${startIndex}` });
      let items = 0;
      try {
        for (;;) {
          const r = await gen.next();
          if (r.done) {
            const total = r.value.totalResults;
            if (r.value.shape !== 'envelope' || total === null) {
              throw new Error(`NVD answered something other than a CVE API 2.0 page (${r.value.shape})`);
            }
            return { startIndex, totalResults: total, items, records, bad };
          }
          items++;
          if (r.value.kind === 'cve') records.push(r.value.record);
          else bad.push(r.value);
        }
      } catch (e) {
        if (e instanceof RetryableError) throw e;
        if (e instanceof NvdImportError && (e.code === 'NVD_TRUNCATED' || e.code === 'NVD_INPUT')) {
          throw new RetryableError(e.message);
        }
        throw e;
      }
    });
  }
}
