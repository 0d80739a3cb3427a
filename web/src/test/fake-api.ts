import { ApiClient, type ClientOptions, type Role, type TokenPair } from '../api/client';
import type { Job } from '../api/types';

export interface Call {
  method: string;
  path: string;
  auth: string | null;
  body: unknown;
}

type Handler = (call: Call) => { status: number; body?: unknown } | undefined;

export const json = (status: number, body?: unknown) => ({ status, body });

/** A fetch double routed by "METHOD /path"; records every call. Unknown routes answer the API's 404. */
export function fakeFetch(handler: Handler) {
  const calls: Call[] = [];
  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input), 'http://localhost');
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const call: Call = {
      method: init?.method ?? 'GET',
      path: url.pathname.replace(/^\/api\/v1/, '') + url.search,
      auth: headers.authorization ?? null,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const r =
      handler(call) ?? json(404, { error: { code: 'NOT_FOUND', message: `No route ${call.method}` } });
    return new Response(r.status === 204 || r.body === undefined ? null : JSON.stringify(r.body), {
      status: r.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: fetchImpl as typeof fetch, calls };
}

/**
 * The answers to polls of one background job: active (with `active`) at the first poll, completed (with
 * `completed`) from the second on.
 */
export function jobPolls(
  job: Pick<Job, 'id' | 'queue' | 'name'>,
  active: Partial<Job>,
  completed: Partial<Job>,
) {
  let polls = 0;
  return () => {
    polls++;
    const answer: Job = {
      ...job,
      status: 'active',
      progress: 0,
      stage: null,
      attempts_made: 0,
      result: null,
      error: null,
      created_at: '2026-11-20T10:00:00.000Z',
      finished_at: null,
      ...(polls === 1 ? active : { status: 'completed', progress: 100, ...completed }),
    };
    return json(200, answer);
  };
}

export function pair(n: number, role: Role = 'admin', expiresIn = 900): TokenPair {
  return {
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    token_type: 'Bearer',
    expires_in: expiresIn,
    user: { id: `u-${role}`, username: role === 'admin' ? 'admin' : `a-${role}`, role },
  };
}

export class MemoryStorage {
  private m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

/** A client already logged in as `role`, answering other requests with `handler`. */
export async function loggedInClient(role: Role, handler: Handler, opts: Partial<ClientOptions> = {}) {
  const f = fakeFetch((c) => (c.path === '/auth/login' ? json(200, pair(1, role)) : handler(c)));
  const client = new ApiClient({ fetch: f.fetch, storage: new MemoryStorage(), ...opts });
  await client.login('someone', 'password-password');
  return { client, calls: f.calls };
}

/** A stand-in for the browser's XMLHttpRequest (uploads): the test drives progress and the answer. */
export class FakeXhr {
  static sent: FakeXhr[] = [];
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown = null;
  status = 0;
  responseText = '';
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } =
    {
      onprogress: null,
    };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k.toLowerCase()] = v;
  }
  send(body: Blob) {
    this.body = body;
    FakeXhr.sent.push(this);
  }
  abort() {
    this.onabort?.();
  }
  progress(loaded: number, total: number) {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true });
  }
  respond(status: number, body: unknown) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }
}

export const fakeXhrFactory = () => new FakeXhr();
