import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from '@fastify/websocket';
import fastifyWebsocket from '@fastify/websocket';
import { EVENTS_CHANNEL } from '../../bus/events.js';
import type { BusEvent } from '../../bus/types.js';
import type { TokenService } from '../../auth/tokens.js';
import { AppError } from '../../errors.js';
import { allows, type Principal } from '../access.js';
import type { Services } from '../context.js';
import { identify } from '../plugins/auth.js';
import { ReplayBuffer } from './replay-buffer.js';

/**
 * The WebSocket feed at /ws. Protocol:
 * - The browser connects (Origin must be this site or one of CORS_ORIGINS) and, within 5 s, sends
 *   `{"type":"auth","token":"…","last_event_id":"…"?}` — the token never goes in the URL.
 * - The server answers `{"type":"hello","role":…}`, then replays what the client missed after
 *   last_event_id (from this process's window, else from the bounded stream every process shares in Redis),
 *   or sends `{"type":"resync"}` when that id is older than the replay window.
 * - Then every product event: `{"type":"new_alert"|"alert_update"|"new_device"|"device_update"|
 *   "traffic_tick"|"model_update"|"job_update","id","at","data"}`.
 * A client that cannot keep up (more than 1 MiB unsent) is closed with 4008 and never slows the others;
 * idle connections are pinged every 30 s and dropped when they do not answer. Close codes: 4001 auth
 * failed or token expired, 4003 forbidden, 4008 too slow, 4029 too many connections for this user.
 */

export const WS_CLOSE = { auth: 4001, forbidden: 4003, slow: 4008, tooMany: 4029 } as const;

export interface HubOptions {
  services: Services;
  tokens: TokenService;
  corsOrigins: string[];
  maxBufferedBytes?: number;
  maxConnectionsPerUser?: number;
  heartbeatMs?: number;
  authTimeoutMs?: number;
}

interface Client {
  socket: WebSocket;
  principal: Principal;
  alive: boolean;
  /** Ids the client was just sent in its replay: the next broadcast skips them (sent once). */
  replayed: Set<string> | null;
}

/** A broadcast event: its id, and its message encoded once for every client. */
interface Outgoing {
  id: string;
  payload: Buffer;
}

function originAllowed(request: FastifyRequest, corsOrigins: string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true; // not a browser: the token decides
  if (corsOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

export async function registerWsHub(app: FastifyInstance, opts: HubOptions): Promise<void> {
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  const maxPerUser = opts.maxConnectionsPerUser ?? 20;
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  const authTimeoutMs = opts.authTimeoutMs ?? 5_000;
  const replay = new ReplayBuffer();
  const clients = new Set<Client>();
  /**
   * Clients being sent what they missed (the shared window in Redis is read asynchronously): the events
   * broadcast meanwhile wait here and follow the replay, so none falls between the two.
   */
  const joining = new Map<Client, Outgoing[]>();
  const perUser = new Map<string, number>();

  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  /** Sends one text message; a broadcast passes the UTF-8 bytes, encoded once for every client. */
  const send = (c: Client, payload: string | Buffer) => {
    if (c.socket.readyState !== c.socket.OPEN) return;
    if (c.socket.bufferedAmount > maxBuffered) {
      c.socket.close(WS_CLOSE.slow, 'too slow: events were not read fast enough');
      return;
    }
    c.socket.send(payload, { binary: false });
  };

  // A burst of events (many arrive in one read from Redis) goes out once per event-loop turn: each client's
  // frames are written while its TCP socket is corked, so a burst costs one write per client, not one per
  // event per client.
  let pending: Outgoing[] = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    for (const c of clients) {
      const raw = (c.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
      const skip = c.replayed;
      c.replayed = null;
      raw?.cork();
      for (const e of batch) if (!skip?.has(e.id)) send(c, e.payload);
      raw?.uncork();
    }
    for (const queue of joining.values()) for (const e of batch) queue.push(e);
  };
  const unsubscribe = await opts.services.bus.subscribe(EVENTS_CHANNEL, (event: BusEvent) => {
    replay.append(event);
    if (pending.length === 0) setImmediate(flush);
    pending.push({ id: event.id, payload: Buffer.from(JSON.stringify(event), 'utf8') });
  });

  const heartbeat = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    await unsubscribe();
    for (const c of clients) c.socket.close(1001, 'server shutting down');
  });

  /** What a client missed after `lastId`: this process's window first, then the shared one in Redis. */
  const missedSince = async (lastId: string | null): Promise<BusEvent[] | null> => {
    if (lastId === null) return [];
    const local = replay.since(lastId);
    if (local !== null) return local;
    const bus = opts.services.bus;
    if (!bus.recent) return null;
    try {
      const shared = await bus.recent(EVENTS_CHANNEL, 5000);
      const at = shared.findIndex((e) => e.id === lastId);
      return at < 0 ? null : shared.slice(at + 1);
    } catch {
      return null;
    }
  };

  app.get(
    '/ws',
    {
      websocket: true,
      config: { access: 'public' },
      schema: { hide: true },
      preValidation: async (request) => {
        if (!originAllowed(request, opts.corsOrigins)) throw new AppError('ORIGIN_NOT_ALLOWED');
      },
    },
    (socket: WebSocket, request: FastifyRequest) => {
      let client: Client | null = null;
      const timer = setTimeout(() => socket.close(WS_CLOSE.auth, 'no auth message'), authTimeoutMs);
      socket.on('message', (raw: Buffer) => {
        if (client) return; // after auth the feed is one-way
        clearTimeout(timer);
        let msg: { type?: unknown; token?: unknown; last_event_id?: unknown };
        try {
          msg = JSON.parse(raw.toString('utf8')) as typeof msg;
        } catch {
          socket.close(WS_CLOSE.auth, 'the first message must be {"type":"auth","token":…}');
          return;
        }
        if (msg.type !== 'auth' || typeof msg.token !== 'string') {
          socket.close(WS_CLOSE.auth, 'the first message must be {"type":"auth","token":…}');
          return;
        }
        identify(app, opts.services, opts.tokens, msg.token).then(
          (principal) => {
            if (!allows('viewer', principal.role)) {
              socket.close(WS_CLOSE.forbidden, 'this role may not read the feed');
              return;
            }
            const n = perUser.get(principal.id) ?? 0;
            if (n >= maxPerUser) {
              socket.close(WS_CLOSE.tooMany, 'too many connections for this user');
              return;
            }
            perUser.set(principal.id, n + 1);
            const c: Client = { socket, principal, alive: true, replayed: null };
            client = c;
            socket.on('pong', () => (c.alive = true));
            if (principal.exp) {
              const ms = principal.exp * 1000 - Date.now();
              const t = setTimeout(() => socket.close(WS_CLOSE.auth, 'token expired'), Math.max(0, ms));
              t.unref();
              socket.once('close', () => clearTimeout(t));
            }
            send(c, JSON.stringify({ type: 'hello', role: principal.role, name: principal.name }));
            const lastId =
              typeof msg.last_event_id === 'string' && msg.last_event_id.length > 0
                ? msg.last_event_id
                : null;
            // Joins the live feed only after the replay, so nothing is sent twice or out of order: events
            // broadcast while the replay is read follow it, and events it already held (appended to the
            // window but not yet broadcast) are skipped by the next broadcast.
            joining.set(c, []);
            void missedSince(lastId).then((missed) => {
              const queued = joining.get(c) ?? [];
              joining.delete(c);
              if (c.socket.readyState !== c.socket.OPEN) return; // closed meanwhile
              const sent = new Set<string>();
              if (missed === null) send(c, JSON.stringify({ type: 'resync' }));
              else
                for (const e of missed) {
                  send(c, JSON.stringify(e));
                  sent.add(e.id);
                }
              for (const e of queued) if (!sent.has(e.id)) send(c, e.payload);
              c.replayed = sent.size > 0 ? sent : null;
              clients.add(c);
            });
          },
          (e: unknown) => {
            request.log.info({ err: e }, 'websocket auth refused');
            socket.close(WS_CLOSE.auth, e instanceof AppError ? e.code : 'TOKEN_INVALID');
          },
        );
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (client) {
          clients.delete(client);
          joining.delete(client);
          const n = (perUser.get(client.principal.id) ?? 1) - 1;
          if (n <= 0) perUser.delete(client.principal.id);
          else perUser.set(client.principal.id, n);
        }
      });
      socket.on('error', () => socket.terminate());
    },
  );
}
