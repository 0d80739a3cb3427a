import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError, REFRESH_TOKEN_KEY } from './client';
import { FakeXhr, fakeFetch, json, MemoryStorage, pair } from '../test/fake-api';

afterEach(() => {
  vi.useRealTimers();
});

function setup(handler: Parameters<typeof fakeFetch>[0], storage = new MemoryStorage()) {
  const f = fakeFetch(handler);
  const client = new ApiClient({ fetch: f.fetch, storage });
  return { client, calls: f.calls, storage };
}

describe('ApiClient', () => {
  it('keeps the access token in memory only and the refresh token in session storage', async () => {
    const { client, calls, storage } = setup((c) => {
      if (c.path === '/auth/login') return json(200, pair(1));
      if (c.path === '/users?limit=5') return json(200, { items: [], next_cursor: null });
    });
    const user = await client.login('admin', 'pw');
    expect(user).toEqual({ id: 'u-admin', username: 'admin', role: 'admin' });
    expect(storage.getItem(REFRESH_TOKEN_KEY)).toBe('refresh-1');
    expect(JSON.stringify([...Object.values(storage)])).not.toContain('access-1');
    await client.get('/users', { limit: 5, cursor: '' });
    expect(calls.at(-1)).toMatchObject({ method: 'GET', path: '/users?limit=5', auth: 'Bearer access-1' });
  });

  it('turns {"error":{code,message}} into ApiError, and a network failure into NETWORK', async () => {
    const { client } = setup(() => json(409, { error: { code: 'USER_EXISTS', message: 'taken' } }));
    const err = await client.post('/users', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'USER_EXISTS', message: 'taken' });

    const down = new ApiClient({ fetch: () => Promise.reject(new TypeError('fetch failed')), storage: null });
    await expect(down.get('/users')).rejects.toMatchObject({ code: 'NETWORK', status: 0 });

    const html = setup(() => ({ status: 502, body: undefined }));
    await expect(html.client.get('/x')).rejects.toMatchObject({ code: 'INTERNAL', status: 502 });
  });

  it('on 401 refreshes once, retries once with the new token, and concurrent requests share the refresh', async () => {
    let refreshes = 0;
    const { client, calls, storage } = setup((c) => {
      if (c.path === '/auth/login') return json(200, pair(1));
      if (c.path === '/auth/refresh') {
        refreshes++;
        expect(c.body).toEqual({ refresh_token: 'refresh-1' });
        return json(200, pair(2));
      }
      if (c.auth === 'Bearer access-1') return json(401, { error: { code: 'TOKEN_REVOKED', message: 'x' } });
      if (c.auth === 'Bearer access-2') return json(200, { ok: c.path });
    });
    await client.login('admin', 'pw');
    const results = await Promise.all([client.get('/a'), client.get('/b'), client.get('/c')]);
    expect(results).toEqual([{ ok: '/a' }, { ok: '/b' }, { ok: '/c' }]);
    expect(refreshes).toBe(1);
    expect(storage.getItem(REFRESH_TOKEN_KEY)).toBe('refresh-2');
    expect(calls.filter((c) => c.path === '/a').map((c) => c.auth)).toEqual([
      'Bearer access-1',
      'Bearer access-2',
    ]);
  });

  it('ends the session when the refresh is refused, and tells its listeners (back to the login page)', async () => {
    const { client, storage } = setup((c) => {
      if (c.path === '/auth/login') return json(200, pair(1));
      if (c.path === '/auth/refresh')
        return json(401, { error: { code: 'REFRESH_TOKEN_REUSED', message: 'revoked' } });
      return json(401, { error: { code: 'TOKEN_EXPIRED', message: 'expired' } });
    });
    const seen: (string | null)[] = [];
    client.onSessionChange((u) => seen.push(u?.username ?? null));
    await client.login('admin', 'pw');
    await expect(client.get('/users')).rejects.toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
    expect(seen).toEqual(['admin', null]);
    expect(client.currentUser).toBeNull();
    expect(storage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
  });

  it('does not retry a 401 from the login itself', async () => {
    const { client, calls } = setup(() =>
      json(401, { error: { code: 'INVALID_CREDENTIALS', message: 'Wrong username or password.' } }),
    );
    await expect(client.login('admin', 'nope')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(calls).toHaveLength(1);
  });

  it('refreshes in the background before the access token expires', async () => {
    vi.useFakeTimers();
    let n = 1;
    const { client, calls } = setup((c) => {
      if (c.path === '/auth/login') return json(200, pair(1, 'admin', 900));
      if (c.path === '/auth/refresh') return json(200, pair(++n, 'admin', 900));
    });
    await client.login('admin', 'pw');
    await vi.advanceTimersByTimeAsync(839_000); // 900 s token: refreshed 60 s before expiry
    expect(calls.filter((c) => c.path === '/auth/refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls.filter((c) => c.path === '/auth/refresh')).toHaveLength(1);
    expect(await client.freshAccessToken()).toBe('access-2');
    await vi.advanceTimersByTimeAsync(841_000);
    expect(await client.freshAccessToken()).toBe('access-3');
  });

  it('keeps the session through a network failure during a background refresh and retries', async () => {
    vi.useFakeTimers();
    let offline = true;
    const f = fakeFetch((c) => {
      if (c.path === '/auth/login') return json(200, pair(1, 'admin', 100));
      if (c.path === '/auth/refresh') return json(200, pair(2, 'admin', 100));
    });
    const client = new ApiClient({
      fetch: (i, init) =>
        offline && String(i).endsWith('/auth/refresh')
          ? Promise.reject(new TypeError('offline'))
          : f.fetch(i, init),
      storage: new MemoryStorage(),
      retryMs: 5_000,
    });
    await client.login('admin', 'pw');
    await vi.advanceTimersByTimeAsync(81_000);
    expect(client.currentUser?.username).toBe('admin');
    offline = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await client.freshAccessToken()).toBe('access-2');
  });

  it('restores a session from the stored refresh token after a reload, and logs out', async () => {
    const storage = new MemoryStorage();
    storage.setItem(REFRESH_TOKEN_KEY, 'refresh-7');
    const { client, calls } = setup((c) => {
      if (c.path === '/auth/refresh') return json(200, pair(8, 'viewer'));
      if (c.path === '/auth/logout') return json(204);
    }, storage);
    // Two restores at once (React StrictMode runs effects twice) must not reuse the rotating token.
    const [a, b] = await Promise.all([client.restore(), client.restore()]);
    expect(a?.role).toBe('viewer');
    expect(b?.role).toBe('viewer');
    expect(calls.filter((c) => c.path === '/auth/refresh')).toHaveLength(1);
    await client.logout();
    expect(calls.at(-1)).toMatchObject({
      path: '/auth/logout',
      auth: 'Bearer access-8',
      body: { refresh_token: 'refresh-8' },
    });
    expect(storage.getItem(REFRESH_TOKEN_KEY)).toBeNull();
    expect(client.currentUser).toBeNull();
  });

  it('uploads with XHR progress; a 401 refreshes the token and sends the file once more; errors keep their code', async () => {
    const sent: FakeXhr[] = [];
    const f = fakeFetch((c) => {
      if (c.path === '/auth/login') return json(200, pair(1));
      if (c.path === '/auth/refresh') return json(200, pair(2));
    });
    const client = new ApiClient({
      fetch: f.fetch,
      storage: new MemoryStorage(),
      createXhr: () => {
        const x = new FakeXhr();
        const send = x.send.bind(x);
        x.send = (b) => {
          send(b);
          sent.push(x);
          queueMicrotask(() => {
            if (sent.length === 1) x.respond(401, { error: { code: 'TOKEN_EXPIRED', message: 'expired' } });
            else {
              x.progress(5, 10);
              x.respond(202, { job_id: '7', queue: 'ingest', name: 'a.pcap', bytes: 10, format: 'pcap' });
            }
          });
        };
        return x;
      },
    });
    await client.login('admin', 'pw');
    const progress: number[] = [];
    const file = new Blob([new Uint8Array(10)]);
    const r = await client.upload<{ job_id: string }>('/sources/upload', file, {
      query: { name: 'a.pcap' },
      onProgress: (l, t) => progress.push(l / t),
    });
    expect(r.job_id).toBe('7');
    expect(sent.map((x) => x.headers.authorization)).toEqual(['Bearer access-1', 'Bearer access-2']);
    expect(sent[1]?.url).toBe('/api/v1/sources/upload?name=a.pcap');
    expect(progress).toEqual([0.5]);

    const refused = new ApiClient({
      fetch: f.fetch,
      storage: new MemoryStorage(),
      createXhr: () => {
        const x = new FakeXhr();
        x.send = () =>
          queueMicrotask(() => x.respond(413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'big' } }));
        return x;
      },
    });
    await refused.login('admin', 'pw');
    await expect(refused.upload('/sources/upload', file)).rejects.toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
  });
});
