/**
 * Typed client for the IoTSec REST API (/api/v1).
 * - The access token lives only in memory; the refresh token in sessionStorage (this tab only, gone when the
 *   tab closes), so a reload keeps the session without exposing a long-lived token to other tabs.
 * - The access token is refreshed in the background before it expires, and just before a request when it is
 *   about to expire. Refreshes are single-flight: refresh tokens rotate and a reused one revokes the session.
 * - A 401 on a request triggers one refresh and one retry; when that fails the session ends and listeners are
 *   told (the app goes back to the login page).
 * - Errors are ApiError with the server's stable code (`{"error":{"code","message"}}`).
 */

import { REFRESH_TOKEN_KEY } from './session-key';

export type Role = 'admin' | 'analyst' | 'viewer' | 'sensor';

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  user: SessionUser;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

function isErrorBody(v: unknown): v is ErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

export function toApiError(status: number, body: unknown): ApiError {
  if (isErrorBody(body)) return new ApiError(status, body.error.code, body.error.message, body.error.details);
  return new ApiError(
    status,
    status >= 500 ? 'INTERNAL' : `HTTP_${status}`,
    `The server answered ${status} without an error description.`,
  );
}

/** Any thrown value as an ApiError (network failures become code NETWORK). */
export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof DOMException && e.name === 'AbortError') return new ApiError(0, 'ABORTED', 'Cancelled.');
  return new ApiError(0, 'NETWORK', 'Cannot reach the server. Check the connection and try again.');
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
}

type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface ClientOptions {
  /** Prefix of every path; default /api/v1. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Where the refresh token is kept; default sessionStorage, null for nowhere. */
  storage?: KeyValueStorage | null;
  /** Refresh when less than this share of the token's life is left (capped at 60 s); default 0.2. */
  refreshShare?: number;
  /** Retry delay after a refresh failed for a transient reason (network, 5xx, 429). */
  retryMs?: number;
  /** Makes the XMLHttpRequest of an upload (upload progress needs XHR; a fake in tests). */
  createXhr?: () => XhrLike;
}

/** The part of XMLHttpRequest an upload uses. */
export interface XhrLike {
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: Blob): void;
  abort(): void;
}

const browserXhr = (): XhrLike =>
  new (globalThis as unknown as { XMLHttpRequest: new () => XhrLike }).XMLHttpRequest();

export interface UploadOptions {
  query?: Query;
  /** Default application/octet-stream. */
  contentType?: string;
  /** Bytes sent so far and in all, as the browser reports them. */
  onProgress?(loaded: number, total: number): void;
  signal?: AbortSignal;
}

type SessionListener = (user: SessionUser | null) => void;

export { REFRESH_TOKEN_KEY };

function defaultStorage(): KeyValueStorage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly storage: KeyValueStorage | null;
  private readonly refreshShare: number;
  private readonly retryMs: number;
  private readonly createXhr: () => XhrLike;
  private accessToken: string | null = null;
  private expiresAt = 0;
  private user: SessionUser | null = null;
  private refreshing: Promise<boolean> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<SessionListener>();

  constructor(opts: ClientOptions = {}) {
    this.baseUrl = opts.baseUrl ?? '/api/v1';
    const f = opts.fetch ?? globalThis.fetch;
    this.fetchImpl = (input, init) => f(input, init);
    this.storage = opts.storage === undefined ? defaultStorage() : opts.storage;
    this.refreshShare = opts.refreshShare ?? 0.2;
    this.retryMs = opts.retryMs ?? 15_000;
    this.createXhr = opts.createXhr ?? browserXhr;
  }

  get currentUser(): SessionUser | null {
    return this.user;
  }

  /** The current access token (for the WebSocket's auth message); refreshed first when about to expire. */
  async freshAccessToken(): Promise<string | null> {
    if (this.accessToken && Date.now() >= this.expiresAt - 5_000) await this.refresh();
    return this.accessToken;
  }

  hasStoredSession(): boolean {
    return this.storage?.getItem(REFRESH_TOKEN_KEY) != null;
  }

  onSessionChange(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async login(username: string, password: string): Promise<SessionUser> {
    const pair = await this.request<TokenPair>('POST', '/auth/login', { body: { username, password } });
    this.accept(pair);
    return pair.user;
  }

  /** Resumes a session kept in storage (after a reload); null when there is none or it has ended. */
  async restore(): Promise<SessionUser | null> {
    if (this.user) return this.user;
    if (!this.hasStoredSession()) return null;
    await this.refresh();
    return this.user;
  }

  /** Ends the session on the server (best effort) and here. */
  async logout(): Promise<void> {
    const refreshToken = this.storage?.getItem(REFRESH_TOKEN_KEY) ?? undefined;
    const token = this.accessToken;
    this.endSession();
    if (!token) return;
    try {
      await this.fetchImpl(this.url('/auth/logout'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(refreshToken ? { refresh_token: refreshToken } : {}),
      });
    } catch {
      // the tokens are forgotten here; the server expires them on its own
    }
  }

  /** Trades the refresh token for a new pair; concurrent callers share one request. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, { query, signal });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body });
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const isAuthCall = path.startsWith('/auth/login') || path.startsWith('/auth/refresh');
    if (!isAuthCall) await this.freshAccessToken();
    const sentWith = this.accessToken;
    let res = await this.send(method, path, opts);
    if (res.status === 401 && !isAuthCall && sentWith !== null) {
      // Another request may already have rotated the token; otherwise refresh once and retry once.
      const ok = this.accessToken !== sentWith || (await this.refresh());
      if (ok && this.accessToken) {
        res = await this.send(method, path, opts);
        if (res.status === 401) this.endSession();
      } else {
        this.endSession();
      }
    }
    return this.parse<T>(res);
  }

  /**
   * POSTs a file as the raw request body with upload progress (fetch cannot report it). Same session rules
   * as `request`: the token is refreshed first when about to expire, and a 401 refreshes and retries once.
   */
  async upload<T>(path: string, body: Blob, opts: UploadOptions = {}): Promise<T> {
    await this.freshAccessToken();
    const sentWith = this.accessToken;
    let res = await this.sendXhr(path, body, opts);
    if (res.status === 401 && sentWith !== null) {
      const ok = this.accessToken !== sentWith || (await this.refresh());
      if (ok && this.accessToken) {
        res = await this.sendXhr(path, body, opts);
        if (res.status === 401) this.endSession();
      } else {
        this.endSession();
      }
    }
    let parsed: unknown = null;
    try {
      parsed = res.text ? JSON.parse(res.text) : null;
    } catch {
      parsed = null;
    }
    if (res.status < 200 || res.status >= 300) throw toApiError(res.status, parsed);
    return parsed as T;
  }

  private sendXhr(path: string, body: Blob, opts: UploadOptions): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new ApiError(0, 'ABORTED', 'Cancelled.'));
        return;
      }
      const xhr = this.createXhr();
      xhr.open('POST', this.url(path, opts.query));
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('content-type', opts.contentType ?? 'application/octet-stream');
      if (this.accessToken) xhr.setRequestHeader('authorization', `Bearer ${this.accessToken}`);
      xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : body.size);
      const abort = () => xhr.abort();
      opts.signal?.addEventListener('abort', abort, { once: true });
      const done = () => opts.signal?.removeEventListener('abort', abort);
      xhr.onload = () => {
        done();
        resolve({ status: xhr.status, text: xhr.responseText });
      };
      xhr.onerror = () => {
        done();
        reject(asApiError(new TypeError('network')));
      };
      xhr.onabort = () => {
        done();
        reject(new ApiError(0, 'ABORTED', 'Cancelled.'));
      };
      xhr.send(body);
    });
  }

  private url(path: string, query?: Query): string {
    let u = this.baseUrl + path;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
      }
      const s = qs.toString();
      if (s) u += `?${s}`;
    }
    return u;
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    const init: RequestInit = { method, headers, signal: opts.signal };
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    try {
      return await this.fetchImpl(this.url(path, opts.query), init);
    } catch (e) {
      throw asApiError(e);
    }
  }

  private async parse<T>(res: Response): Promise<T> {
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (!res.ok) throw toApiError(res.status, body);
    return body as T;
  }

  private async doRefresh(): Promise<boolean> {
    const refreshToken = this.storage?.getItem(REFRESH_TOKEN_KEY);
    if (!refreshToken) {
      this.endSession();
      return false;
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.url('/auth/refresh'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
    } catch {
      this.schedule(this.retryMs); // offline: keep the session and try again
      return false;
    }
    if (!res.ok) {
      if (res.status >= 500 || res.status === 429) this.schedule(this.retryMs);
      else this.endSession(); // 401 (expired, revoked, reused) or 403 (disabled): log in again
      return false;
    }
    this.accept((await res.json()) as TokenPair);
    return true;
  }

  private accept(pair: TokenPair): void {
    const ttlMs = Math.max(1, pair.expires_in) * 1000;
    this.accessToken = pair.access_token;
    this.expiresAt = Date.now() + ttlMs;
    this.user = pair.user;
    this.storage?.setItem(REFRESH_TOKEN_KEY, pair.refresh_token);
    this.schedule(Math.max(1_000, ttlMs - Math.min(60_000, ttlMs * this.refreshShare)));
    this.emit();
  }

  private schedule(ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, ms);
  }

  private endSession(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const had = this.user !== null || this.accessToken !== null;
    this.accessToken = null;
    this.expiresAt = 0;
    this.user = null;
    this.storage?.removeItem(REFRESH_TOKEN_KEY);
    if (had) this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l(this.user);
  }
}
