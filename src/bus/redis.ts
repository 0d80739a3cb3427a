import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type {
  Bus,
  BusEvent,
  EventHandler,
  JobEvent,
  JobHandler,
  JobInfo,
  JobOptions,
  JobProgress,
  JobStatus,
  ForwardStats,
  Kv,
  Unsubscribe,
} from './types.js';
import { AppError } from '../errors.js';

function toProgress(p: unknown): JobProgress {
  if (typeof p === 'number') return p;
  if (typeof p === 'object' && p !== null) return p as Record<string, unknown>;
  return Number(p) || 0;
}

/** Events kept per channel for resume (approximately: Redis trims in whole nodes). */
const REPLAY_MAX = 5000;

export interface RedisOptions {
  url: string;
  prefix: string;
  onError?: (err: Error) => void;
  /** RedisBus: events kept for Redis while it is down (default FORWARD_BUFFER_MAX). */
  forwardBufferMax?: number;
  /** RedisBus: longest wait of publish() for Redis, ms (default 1000). */
  forwardWaitMs?: number;
  /** RedisBus: delay between Redis coming back and forwarding the buffered events, ms (default 2500). */
  forwardResumeDelayMs?: number;
}

function connect(opts: RedisOptions, forBlocking: boolean): Redis {
  const r = new Redis(opts.url, {
    // BullMQ workers block on Redis and must never give up on a command; plain commands fail fast.
    maxRetriesPerRequest: forBlocking ? null : 2,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
  r.on('error', (e: Error) => opts.onError?.(e));
  return r;
}

/** Events waiting to be forwarded to Redis while it is unreachable (oldest dropped beyond this). */
export const FORWARD_BUFFER_MAX = 1000;
/** How long publish() waits for Redis before returning (the forward goes on in the background), ms. */
const FORWARD_WAIT_MS = 1000;
/** After Redis comes back, how long buffered events wait before they are forwarded, ms. */
const FORWARD_RESUME_DELAY_MS = 2500;
/** Ids of events delivered locally whose Redis echo must be skipped (bounded; oldest forgotten first). */
const ECHO_MAX = 10_000;

/** An error a caller can show as 503 REDIS_UNAVAILABLE. */
export function redisUnavailable(): AppError {
  return new AppError('REDIS_UNAVAILABLE', undefined, undefined, { 'retry-after': '5' });
}

/**
 * Redis pub/sub for events and BullMQ for jobs, so several processes share one bus.
 *
 * Events are delivered to this process's own subscribers first (the WebSocket hub, its replay window, the
 * SIEM exporters), then forwarded to Redis for the other processes and the shared replay stream; the echo
 * of a forwarded event is not delivered twice. While Redis is unreachable, publish() never fails: events
 * still reach local subscribers and wait in a bounded buffer (FORWARD_BUFFER_MAX, oldest dropped and
 * counted) that is forwarded in order when Redis is back. Enqueueing a job while Redis is known to be down
 * fails at once with REDIS_UNAVAILABLE (503); BullMQ workers reconnect by themselves and resume.
 */
export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly pub: Redis;
  private sub: Redis | undefined;
  private readonly handlers = new Map<string, Set<EventHandler>>();
  private readonly queues = new Map<string, Queue>();
  private readonly closers = new Set<() => Promise<void>>();
  private readonly bullPrefix: string;
  private readonly pending: { channel: string; json: string }[] = [];
  private readonly echoes = new Set<string>();
  private readonly stats: ForwardStats = { pending: 0, forwardedLate: 0, dropped: 0 };
  private readonly flushTimer: NodeJS.Timeout;
  private down = false;
  private resumeAt = 0;
  private flushing = false;
  private closed = false;

  constructor(private readonly opts: RedisOptions) {
    this.pub = connect(opts, false);
    this.bullPrefix = `${opts.prefix}:bull`;
    this.pub.on('close', () => {
      if (!this.closed) this.down = true;
    });
    this.pub.on('ready', () => {
      this.down = false;
      // Give the other processes' subscribers time to reconnect too (ioredis retries at most every 2 s), so
      // the events forwarded late reach them live rather than only through the replay stream.
      this.resumeAt = Date.now() + (this.opts.forwardResumeDelayMs ?? FORWARD_RESUME_DELAY_MS);
    });
    // Forwards what waited once Redis is back; also retries a flush that stopped half way (Redis flapping).
    this.flushTimer = setInterval(() => {
      if (this.pending.length > 0 && !this.down) void this.flush();
    }, 250);
    this.flushTimer.unref();
  }

  private channel(name: string) {
    return `${this.opts.prefix}:ev:${name}`;
  }

  /** Forwarding counters (buffered, forwarded late, dropped). */
  forwardStats(): ForwardStats {
    return { ...this.stats, pending: this.pending.length };
  }

  /** True while the command connection to Redis is known to be lost. */
  get redisDown(): boolean {
    return this.down;
  }

  private deliver(key: string, event: BusEvent): void {
    const set = this.handlers.get(key);
    if (!set) return;
    for (const h of set) {
      try {
        h(event);
      } catch (e) {
        this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** Events also go to a capped Redis stream per channel, so a reconnecting client can resume on any process. */
  private send(channel: string, json: string): Promise<unknown> {
    return this.pub
      .multi()
      .xadd(`${this.channel(channel)}:replay`, 'MAXLEN', '~', String(REPLAY_MAX), '*', 'e', json)
      .publish(this.channel(channel), json)
      .exec();
  }

  private buffer(channel: string, json: string): void {
    this.pending.push({ channel, json });
    while (this.pending.length > (this.opts.forwardBufferMax ?? FORWARD_BUFFER_MAX)) {
      this.pending.shift();
      this.stats.dropped++;
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing || Date.now() < this.resumeAt) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0 && !this.down && !this.closed) {
        const next = this.pending[0] as { channel: string; json: string };
        try {
          await this.send(next.channel, next.json);
        } catch {
          return; // still down: the next 'ready' (or the timer) tries again
        }
        if (this.pending[0] === next) this.pending.shift();
        this.stats.forwardedLate++;
      }
    } finally {
      this.flushing = false;
    }
  }

  async publish(channel: string, event: BusEvent): Promise<void> {
    const key = this.channel(channel);
    if (this.handlers.has(key)) {
      // Local subscribers first (asynchronously, like a message from Redis); skip the echo from Redis.
      this.echoes.add(event.id);
      if (this.echoes.size > ECHO_MAX) {
        const oldest = this.echoes.values().next().value;
        if (oldest !== undefined) this.echoes.delete(oldest);
      }
      queueMicrotask(() => this.deliver(key, event));
    }
    const json = JSON.stringify(event);
    if (this.down || this.pending.length > 0 || this.closed) {
      if (!this.closed) this.buffer(channel, json);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const sent = this.send(channel, json).then(
      () => true,
      () => {
        this.down = this.pub.status !== 'ready';
        this.buffer(channel, json);
        return false;
      },
    );
    await Promise.race([
      sent,
      new Promise((done) => {
        timer = setTimeout(done, this.opts.forwardWaitMs ?? FORWARD_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  async recent(channel: string, limit: number): Promise<BusEvent[]> {
    if (this.down) throw redisUnavailable();
    const entries = await this.pub.xrevrange(
      `${this.channel(channel)}:replay`,
      '+',
      '-',
      'COUNT',
      Math.min(limit, REPLAY_MAX),
    );
    const out: BusEvent[] = [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const fields = entries[i]?.[1] ?? [];
      const json = fields[1];
      if (fields[0] !== 'e' || json === undefined) continue;
      try {
        out.push(JSON.parse(json) as BusEvent);
      } catch {
        // a foreign entry: skip it
      }
    }
    return out;
  }

  private subscriber(): Redis {
    if (!this.sub) {
      const sub = connect(this.opts, true);
      sub.on('message', (ch: string, message: string) => {
        if (!this.handlers.has(ch)) return;
        let event: BusEvent;
        try {
          event = JSON.parse(message) as BusEvent;
        } catch {
          return;
        }
        if (typeof event?.id === 'string' && this.echoes.delete(event.id)) return; // delivered already
        this.deliver(ch, event);
      });
      this.sub = sub;
    }
    return this.sub;
  }

  async subscribe(channel: string, handler: EventHandler): Promise<Unsubscribe> {
    const ch = this.channel(channel);
    let set = this.handlers.get(ch);
    if (!set) {
      set = new Set();
      this.handlers.set(ch, set);
      await this.subscriber().subscribe(ch);
    }
    set.add(handler);
    return async () => {
      const s = this.handlers.get(ch);
      if (!s) return;
      s.delete(handler);
      if (s.size === 0) {
        this.handlers.delete(ch);
        await this.sub?.unsubscribe(ch);
      }
    };
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.pub, prefix: this.bullPrefix });
      // The shared connection reports its errors already (connect → onError); without a listener BullMQ
      // would print every reconnect failure of an outage to stderr.
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  async enqueue(queue: string, name: string, data: unknown, opts: JobOptions = {}): Promise<string> {
    if (this.down) throw redisUnavailable();
    const job = await this.queue(queue).add(name, data, {
      attempts: Math.max(1, opts.attempts ?? 1),
      backoff: { type: 'exponential', delay: opts.backoffMs ?? 1000 },
      ...(opts.jobId ? { jobId: opts.jobId } : {}),
      ...(opts.delayMs ? { delay: opts.delayMs } : {}),
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
    return String(job.id);
  }

  async process(
    queue: string,
    handler: JobHandler,
    opts: { concurrency?: number } = {},
  ): Promise<Unsubscribe> {
    const worker = new Worker(
      queue,
      async (job: Job) =>
        handler({
          id: String(job.id),
          name: job.name,
          data: job.data as unknown,
          attempt: job.attemptsMade + 1,
          progress: (p: JobProgress) => job.updateProgress(p),
        }),
      {
        connection: connect(this.opts, true),
        prefix: this.bullPrefix,
        concurrency: Math.max(1, opts.concurrency ?? 1),
      },
    );
    worker.on('error', (e) => this.opts.onError?.(e));
    const close = async () => {
      this.closers.delete(close);
      await worker.close();
      await (worker.opts.connection as Redis).quit().catch(() => undefined);
    };
    this.closers.add(close);
    await worker.waitUntilReady();
    return close;
  }

  async getJob(queue: string, id: string): Promise<JobInfo | null> {
    const job = await this.queue(queue).getJob(id);
    if (!job) return null;
    const state = await job.getState();
    const status: JobStatus =
      state === 'completed' || state === 'failed' || state === 'active' || state === 'delayed'
        ? state
        : 'waiting';
    return {
      id: String(job.id),
      queue,
      name: job.name,
      data: job.data as unknown,
      status,
      progress: toProgress(job.progress),
      attemptsMade: job.attemptsMade,
      result: (job.returnvalue as unknown) ?? null,
      error: job.failedReason ?? null,
      createdAt: job.timestamp,
      finishedAt: job.finishedOn ?? null,
    };
  }

  async onJobEvent(queue: string, handler: (e: JobEvent) => void): Promise<Unsubscribe> {
    const qe = new QueueEvents(queue, { connection: connect(this.opts, true), prefix: this.bullPrefix });
    qe.on('error', (e) => this.opts.onError?.(e));
    qe.on('progress', ({ jobId, data }) =>
      handler({ queue, jobId, kind: 'progress', progress: toProgress(data) }),
    );
    qe.on('completed', ({ jobId, returnvalue }) =>
      handler({ queue, jobId, kind: 'completed', result: returnvalue as unknown }),
    );
    qe.on('failed', ({ jobId, failedReason }) =>
      handler({ queue, jobId, kind: 'failed', error: failedReason }),
    );
    await qe.waitUntilReady();
    const close = async () => {
      this.closers.delete(close);
      await qe.close();
    };
    this.closers.add(close);
    return close;
  }

  async schedule(queue: string, name: string, everyMs: number, data: unknown = {}): Promise<void> {
    await this.queue(queue).upsertJobScheduler(`${queue}:${name}`, { every: everyMs }, { name, data });
  }

  async ping(): Promise<void> {
    await this.pub.ping();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.flushTimer);
    for (const c of [...this.closers]) await c();
    for (const q of this.queues.values()) await q.close();
    this.queues.clear();
    await this.sub?.quit().catch(() => undefined);
    await this.pub.quit().catch(() => undefined);
  }
}

/** KV on Redis: fixed windows with INCR + PEXPIRE NX (one round trip), values with PX. */
export class RedisKv implements Kv {
  readonly kind = 'redis' as const;
  private readonly r: Redis;
  constructor(private readonly opts: RedisOptions) {
    this.r = connect(opts, false);
  }

  private k(key: string) {
    return `${this.opts.prefix}:kv:${key}`;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const k = this.k(key);
    const res = await this.r.multi().incr(k).pexpire(k, windowMs, 'NX').pttl(k).exec();
    const count = Number(res?.[0]?.[1] ?? 1);
    const ttl = Number(res?.[2]?.[1] ?? windowMs);
    return { count, resetMs: ttl > 0 ? ttl : windowMs };
  }

  async get(key: string): Promise<string | null> {
    return this.r.get(this.k(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.r.set(this.k(key), value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async del(key: string): Promise<void> {
    await this.r.del(this.k(key));
  }

  async close(): Promise<void> {
    await this.r.quit().catch(() => undefined);
  }
}
