import { useEffect, useRef, useState } from 'react';

/**
 * The live feed (ARCHITECTURE section 6; server side in src/api/ws/hub.ts): WebSocket /ws.
 * - Authentication: the first message the client sends is `{"type":"auth","token":…}`; the token is never put
 *   in the URL (URLs end up in logs and proxies). The server answers `{"type":"hello"}`: only then is the
 *   feed "live".
 * - Resume: after a reconnect the auth message carries `"last_event_id"`, so the server replays what was
 *   missed, or answers `{"type":"resync"}` when that is too old (the pages then reload their data).
 * - Events: `{"type":"new_alert"|"alert_update"|"new_device"|"device_update"|"traffic_tick"|"model_update"|
 *   "job_update","id","at","data"}`.
 * - Reconnect with exponential backoff (1 s doubling to 30 s, with jitter); while refused or dropped the status
 *   is "offline". Close 4001 after a live session (the access token expired) reconnects at once with a fresh
 *   token; 4003 (this role may not read the feed) stops trying.
 */

export const LIVE_EVENT_TYPES = [
  'new_alert',
  'alert_update',
  'new_device',
  'device_update',
  'traffic_tick',
  'model_update',
  'job_update',
] as const;
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];

export interface LiveEvent {
  type: LiveEventType;
  id: string;
  at: string;
  data: unknown;
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

export const WS_CLOSE_AUTH = 4001;
export const WS_CLOSE_FORBIDDEN = 4003;

/** The part of the browser's WebSocket the connection uses (a fake in tests). */
export interface SocketLike {
  readyState: number;
  onopen: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onerror: ((ev: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveOptions {
  url: string;
  /** The current access token (refreshed when needed); null ends the attempt (logged out). */
  getToken(): Promise<string | null>;
  onEvent?(event: LiveEvent): void;
  /** The server could not replay what was missed: reload whatever the events would have updated. */
  onResync?(): void;
  onStatus?(status: LiveStatus): void;
  createSocket?(url: string): SocketLike;
  minDelayMs?: number;
  maxDelayMs?: number;
  random?(): number;
}

type Message = LiveEvent | { type: 'hello' } | { type: 'resync' };

function parseMessage(raw: unknown): Message | null {
  if (typeof raw !== 'string' || raw.length > 1_000_000) return null;
  let m: unknown;
  try {
    m = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof m !== 'object' || m === null) return null;
  const { type, id, at, data } = m as Record<string, unknown>;
  if (type === 'hello' || type === 'resync') return { type };
  if (typeof type !== 'string' || !(LIVE_EVENT_TYPES as readonly string[]).includes(type)) return null;
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof at !== 'string') return null;
  return { type: type as LiveEventType, id: String(id), at, data };
}

export class LiveConnection {
  private socket: SocketLike | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private stopped = true;
  private status: LiveStatus = 'connecting';
  lastEventId: string | null = null;

  constructor(private readonly opts: LiveOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.setStatus('connecting');
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onmessage = s.onerror = s.onclose = null;
      s.close(1000, 'bye');
    }
  }

  /** Reconnect now (the browser came back online). */
  retryNow(): void {
    if (this.stopped || this.socket) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.attempt = 0;
    void this.connect();
  }

  private setStatus(s: LiveStatus): void {
    if (s === this.status) return;
    this.status = s;
    this.opts.onStatus?.(s);
  }

  private async connect(): Promise<void> {
    const token = await this.opts.getToken().catch(() => null);
    if (this.stopped) return;
    if (!token) {
      this.setStatus('offline');
      this.scheduleReconnect();
      return;
    }
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket
        ? this.opts.createSocket(this.opts.url)
        : (new WebSocket(this.opts.url) as unknown as SocketLike);
    } catch {
      this.setStatus('offline');
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let welcomed = false;
    socket.onopen = () => {
      const auth: Record<string, string> = { type: 'auth', token };
      if (this.lastEventId !== null) auth.last_event_id = this.lastEventId;
      socket.send(JSON.stringify(auth));
    };
    socket.onmessage = (ev) => {
      const m = parseMessage(ev.data);
      if (!m) return;
      if (m.type === 'hello') {
        welcomed = true;
        this.attempt = 0;
        this.setStatus('live');
      } else if (m.type === 'resync') {
        this.opts.onResync?.();
      } else {
        this.lastEventId = m.id;
        this.opts.onEvent?.(m);
      }
    };
    socket.onerror = () => {
      // a close event always follows; it decides what to do
    };
    socket.onclose = (ev) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (ev.code === WS_CLOSE_FORBIDDEN) {
        this.setStatus('offline');
        return; // this role may not read the feed: retrying will not help
      }
      if (welcomed && ev.code === WS_CLOSE_AUTH) {
        // The access token this connection was opened with has expired: reconnect with a fresh one.
        this.setStatus('connecting');
        this.timer = setTimeout(() => {
          this.timer = null;
          void this.connect();
        }, 0);
        return;
      }
      this.setStatus('offline');
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const min = this.opts.minDelayMs ?? 1_000;
    const max = this.opts.maxDelayMs ?? 30_000;
    const base = Math.min(max, min * 2 ** this.attempt);
    const jitter = 0.5 + (this.opts.random ?? Math.random)() / 2;
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, base * jitter);
  }
}

export function liveUrl(loc: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

export interface UseLiveOptions {
  /** Connect only while true (logged in). */
  enabled: boolean;
  getToken(): Promise<string | null>;
  onEvent?(event: LiveEvent): void;
  onResync?(): void;
  url?: string;
}

/** The live feed as React state: the connection status and the last event id seen. */
export function useLive({ enabled, getToken, onEvent, onResync, url }: UseLiveOptions): {
  status: LiveStatus;
} {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const handlers = useRef({ getToken, onEvent, onResync });
  useEffect(() => {
    handlers.current = { getToken, onEvent, onResync };
  });

  useEffect(() => {
    if (!enabled) return;
    const conn = new LiveConnection({
      url: url ?? liveUrl(),
      getToken: () => handlers.current.getToken(),
      onEvent: (e) => handlers.current.onEvent?.(e),
      onResync: () => handlers.current.onResync?.(),
      onStatus: setStatus,
    });
    conn.start();
    const online = () => conn.retryNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      conn.stop();
    };
  }, [enabled, url]);

  return { status: enabled ? status : 'offline' };
}
