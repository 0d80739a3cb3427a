/**
 * HTTP for the feeds: a request-rate limiter (N requests per window plus a minimum gap) and GET with retries.
 * Clock, sleep and fetch are injectable so tests run against a local server without waiting.
 */

export interface HttpDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Tries per request including the first (default 6). */
  maxAttempts?: number;
  /** Backoff base: base, 2×base, 4×base … capped at 5 min; Retry-After wins when longer (default 2000). */
  backoffMs?: number;
  /** Per-request timeout (default 120 s). */
  timeoutMs?: number;
  /** Called before each retry (logging). */
  onRetry?: (info: {
    url: string;
    attempt: number;
    status: number | null;
    error: string;
    delayMs: number;
  }) => void;
}

export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Statuses NVD and CISA answer when overloaded or rate-limiting (NVD: 403 for rate limits, 503 when busy). */
export const RETRY_STATUSES = new Set([403, 429, 500, 502, 503, 504]);

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly url: string,
    readonly status: number | null,
    message: string,
  ) {
    super(`${redactUrl(url)}: ${message}`);
  }
}

/** A failure while reading a response body that is worth another try (cut connection, truncated JSON). */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
}

/** URL for messages: query parameters other than the NVD window/paging ones are dropped (keys never leak). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const k of [...u.searchParams.keys()]) {
      if (!/^(startIndex|resultsPerPage|lastModStartDate|lastModEndDate)$/.test(k)) u.searchParams.delete(k);
    }
    return u.toString();
  } catch {
    return '<url>';
  }
}

/**
 * At most `requests` requests in any `windowMs`, and at least `minGapMs` between two requests
 * (NVD: 5 per 30 s without a key, 50 per 30 s with one, and it recommends sleeping 6 s between requests).
 */
export class RateLimiter {
  private readonly times: number[] = [];
  constructor(
    private readonly requests: number,
    private readonly windowMs: number,
    private readonly minGapMs: number,
    private readonly sleep: (ms: number) => Promise<void> = realSleep,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(): Promise<void> {
    for (;;) {
      const t = this.now();
      while (this.times.length > 0 && (this.times[0] as number) <= t - this.windowMs) this.times.shift();
      let wait = 0;
      const last = this.times[this.times.length - 1];
      if (last !== undefined) wait = Math.max(wait, last + this.minGapMs - t);
      const first = this.times[0];
      if (this.times.length >= this.requests && first !== undefined)
        wait = Math.max(wait, first + this.windowMs - t);
      if (wait <= 0) {
        this.times.push(t);
        return;
      }
      await this.sleep(wait);
    }
  }
}

function retryAfterMs(res: Response): number | null {
  const h = res.headers.get('retry-after');
  if (!h) return null;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(h);
  return Number.isNaN(d) ? null : Math.max(0, d - Date.now());
}

/**
 * GET `url` and hand the response to `consume`. Retries (with backoff) on RETRY_STATUSES, network errors and
 * RetryableError from `consume`; other statuses throw HttpError at once.
 */
export async function getWithRetry<T>(
  url: string,
  headers: Record<string, string>,
  deps: HttpDeps,
  limiter: RateLimiter | null,
  consume: (res: Response) => Promise<T>,
): Promise<T> {
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? realSleep;
  const maxAttempts = deps.maxAttempts ?? 6;
  const base = deps.backoffMs ?? 2000;
  for (let attempt = 1; ; attempt++) {
    await limiter?.acquire();
    let status: number | null = null;
    let error: string;
    let hinted: number | null = null;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), deps.timeoutMs ?? 120_000);
    try {
      const res = await doFetch(url, { headers, signal: ac.signal });
      status = res.status;
      if (res.status === 200) return await consume(res);
      const msg = res.headers.get('message');
      await res.body?.cancel().catch(() => undefined);
      if (!RETRY_STATUSES.has(res.status)) {
        throw new HttpError(url, res.status, `HTTP ${res.status}${msg ? ` (${msg})` : ''}`);
      }
      hinted = retryAfterMs(res);
      error = `HTTP ${res.status}`;
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (!(e instanceof RetryableError) && !(e instanceof TypeError) && !isAbort(e)) throw e;
      error = e instanceof Error ? e.message : String(e);
    } finally {
      clearTimeout(timer);
    }
    if (attempt >= maxAttempts) {
      throw new HttpError(url, status, `giving up after ${attempt} attempts: ${error}`);
    }
    const delayMs = Math.max(Math.min(base * 2 ** (attempt - 1), 300_000), hinted ?? 0);
    deps.onRetry?.({ url: redactUrl(url), attempt, status, error, delayMs });
    await sleep(delayMs);
  }
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

/** A response body as an async iterable of bytes (Node's web ReadableStream is async-iterable). */
export async function* bodyBytes(res: Response): AsyncGenerator<Uint8Array, void, undefined> {
  if (!res.body) return;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) yield chunk;
  } catch (e) {
    throw new RetryableError(`response body: ${e instanceof Error ? e.message : String(e)}`);
  }
}
