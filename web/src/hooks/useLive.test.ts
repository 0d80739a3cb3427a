import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveConnection, liveUrl, type LiveStatus, type SocketLike } from './useLive';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  constructor(readonly url: string) {}
  send(d: string) {
    this.sent.push(d);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  message(data: unknown) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(data) }));
  }
  drop(code = 1006) {
    this.readyState = 3;
    if (code === 1006) this.onerror?.(new Event('error'));
    this.onclose?.(new CloseEvent('close', { code }));
  }
  welcome() {
    this.open();
    this.message({ type: 'hello', role: 'viewer', name: 'vera' });
  }
}

afterEach(() => {
  vi.useRealTimers();
});

function setup(token: string | null = 'tok-1') {
  const sockets: FakeSocket[] = [];
  const statuses: LiveStatus[] = [];
  const events: string[] = [];
  let resyncs = 0;
  const conn = new LiveConnection({
    url: 'ws://example.test/ws',
    getToken: () => Promise.resolve(token),
    createSocket: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    onStatus: (s) => statuses.push(s),
    onEvent: (e) => events.push(`${e.type}:${e.id}`),
    onResync: () => resyncs++,
    random: () => 1,
  });
  return { conn, sockets, statuses, events, resyncs: () => resyncs };
}

describe('LiveConnection', () => {
  it('authenticates with its first message, never in the URL', async () => {
    vi.useFakeTimers();
    const { conn, sockets, statuses } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets[0]?.url).toBe('ws://example.test/ws');
    sockets[0]?.open();
    expect(sockets[0]?.sent.map((m) => JSON.parse(m) as unknown)).toEqual([{ type: 'auth', token: 'tok-1' }]);
    expect(statuses).toEqual([]); // open is not enough: live once the server says hello
    sockets[0]?.message({ type: 'hello', role: 'viewer', name: 'vera' });
    expect(statuses).toEqual(['live']);
    conn.stop();
  });

  it('reconnects with backoff and resumes from the last event id', async () => {
    vi.useFakeTimers();
    const { conn, sockets, statuses, events } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]?.welcome();
    sockets[0]?.message({ type: 'new_alert', id: '41', at: '2026-11-24T10:00:00Z', data: {} });
    sockets[0]?.message({ type: 'traffic_tick', id: '42', at: '2026-11-24T10:00:01Z', data: {} });
    sockets[0]?.message({ type: 'bogus', id: '43', at: 'x' });
    sockets[0]?.message('not json');
    expect(events).toEqual(['new_alert:41', 'traffic_tick:42']);
    sockets[0]?.drop();
    expect(statuses.at(-1)).toBe('offline');
    await vi.advanceTimersByTimeAsync(999);
    expect(sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets).toHaveLength(2);
    sockets[1]?.welcome();
    expect(JSON.parse(sockets[1]?.sent[0] ?? '{}')).toEqual({
      type: 'auth',
      token: 'tok-1',
      last_event_id: '42',
    });
    expect(statuses.at(-1)).toBe('live');
    conn.stop();
  });

  it('asks the pages to reload when the server cannot replay (resync)', async () => {
    vi.useFakeTimers();
    const { conn, sockets, resyncs } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]?.welcome();
    sockets[0]?.message({ type: 'resync' });
    expect(resyncs()).toBe(1);
    conn.stop();
  });

  it('reconnects at once when its token expires (4001 after hello), and gives up on 4003', async () => {
    vi.useFakeTimers();
    const { conn, sockets, statuses } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    sockets[0]?.welcome();
    sockets[0]?.drop(4001);
    expect(statuses.at(-1)).toBe('connecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets).toHaveLength(2);
    sockets[1]?.welcome();
    expect(statuses).toEqual(['live', 'connecting', 'live']);
    sockets[1]?.drop(4003);
    expect(statuses.at(-1)).toBe('offline');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sockets).toHaveLength(2);
    conn.stop();
  });

  it('stays offline, backing off up to 30 s, while the server refuses', async () => {
    vi.useFakeTimers();
    const { conn, sockets, statuses } = setup();
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    const delays: number[] = [];
    let last = Date.now();
    for (let i = 0; i < 8; i++) {
      sockets.at(-1)?.drop();
      const before = sockets.length;
      while (sockets.length === before) await vi.advanceTimersByTimeAsync(100);
      delays.push(Math.round((Date.now() - last) / 1000));
      last = Date.now();
    }
    expect(delays).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
    expect(statuses).toEqual(['offline']);
    conn.stop();
    sockets.at(-1)?.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sockets).toHaveLength(9);
  });

  it('does not connect without a token', async () => {
    vi.useFakeTimers();
    const { conn, sockets, statuses } = setup(null);
    conn.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets).toHaveLength(0);
    expect(statuses).toEqual(['offline']);
    conn.stop();
  });

  it('builds ws: or wss: URLs from the page location', () => {
    expect(liveUrl({ protocol: 'https:', host: 'iot.example:8443' })).toBe('wss://iot.example:8443/ws');
    expect(liveUrl({ protocol: 'http:', host: '127.0.0.1:8080' })).toBe('ws://127.0.0.1:8080/ws');
  });
});
