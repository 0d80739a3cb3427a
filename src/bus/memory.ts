import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { LRUCache } from 'lru-cache';
import {
  backoffDelay,
  type Bus,
  type BusEvent,
  type EventHandler,
  type JobEvent,
  type JobHandler,
  type JobInfo,
  type JobOptions,
  type Kv,
  type Unsubscribe,
} from './types.js';

interface QueuedJob {
  info: JobInfo;
  attempts: number;
  backoffMs: number;
}

interface QueueState {
  ready: QueuedJob[];
  processors: { handler: JobHandler; concurrency: number; running: number; stopped: boolean }[];
}

const KEEP_FINISHED = 1000;

/** In-process bus: the same contract as the Redis bus, for a single process. */
export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly events = new EventEmitter();
  private readonly jobEvents = new EventEmitter();
  private readonly queues = new Map<string, QueueState>();
  private readonly jobs = new Map<string, QueuedJob>();
  private readonly finished: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor() {
    this.events.setMaxListeners(0);
    this.jobEvents.setMaxListeners(0);
  }

  async publish(channel: string, event: BusEvent): Promise<void> {
    // Deliver asynchronously, like Redis: a publisher never runs subscriber code on its own stack.
    queueMicrotask(() => this.events.emit(channel, event));
  }

  async subscribe(channel: string, handler: EventHandler): Promise<Unsubscribe> {
    this.events.on(channel, handler);
    return async () => {
      this.events.off(channel, handler);
    };
  }

  private queue(name: string): QueueState {
    let q = this.queues.get(name);
    if (!q) {
      q = { ready: [], processors: [] };
      this.queues.set(name, q);
    }
    return q;
  }

  private key(queue: string, id: string) {
    return `${queue}\u0000${id}`;
  }

  async enqueue(queue: string, name: string, data: unknown, opts: JobOptions = {}): Promise<string> {
    const id = opts.jobId ?? randomUUID();
    const existing = this.jobs.get(this.key(queue, id));
    if (existing) return id;
    const job: QueuedJob = {
      info: {
        id,
        queue,
        name,
        data,
        status: opts.delayMs ? 'delayed' : 'waiting',
        progress: 0,
        attemptsMade: 0,
        result: null,
        error: null,
        createdAt: Date.now(),
        finishedAt: null,
      },
      attempts: Math.max(1, opts.attempts ?? 1),
      backoffMs: opts.backoffMs ?? 1000,
    };
    this.jobs.set(this.key(queue, id), job);
    if (opts.delayMs) this.later(opts.delayMs, () => this.makeReady(queue, job));
    else this.makeReady(queue, job);
    return id;
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  private makeReady(queue: string, job: QueuedJob) {
    if (this.closed) return;
    job.info.status = 'waiting';
    this.queue(queue).ready.push(job);
    this.pump(queue);
  }

  private pump(queueName: string) {
    const q = this.queue(queueName);
    for (const p of q.processors) {
      while (!p.stopped && p.running < p.concurrency && q.ready.length > 0) {
        const job = q.ready.shift() as QueuedJob;
        p.running++;
        void this.run(queueName, job, p.handler).finally(() => {
          p.running--;
          this.pump(queueName);
        });
      }
    }
  }

  private emitJob(e: JobEvent) {
    this.jobEvents.emit(e.queue, e);
  }

  private async run(queue: string, job: QueuedJob, handler: JobHandler): Promise<void> {
    job.info.status = 'active';
    job.info.attemptsMade++;
    try {
      const result = await handler({
        id: job.info.id,
        name: job.info.name,
        data: job.info.data,
        attempt: job.info.attemptsMade,
        progress: async (p) => {
          job.info.progress = p;
          this.emitJob({ queue, jobId: job.info.id, kind: 'progress', progress: p });
        },
      });
      job.info.status = 'completed';
      job.info.result = result ?? null;
      job.info.finishedAt = Date.now();
      this.retire(queue, job);
      this.emitJob({ queue, jobId: job.info.id, kind: 'completed', result: result ?? null });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      job.info.error = message;
      if (job.info.attemptsMade < job.attempts) {
        job.info.status = 'delayed';
        this.later(backoffDelay(job.backoffMs, job.info.attemptsMade), () => this.makeReady(queue, job));
      } else {
        job.info.status = 'failed';
        job.info.finishedAt = Date.now();
        this.retire(queue, job);
        this.emitJob({ queue, jobId: job.info.id, kind: 'failed', error: message });
      }
    }
  }

  private retire(queue: string, job: QueuedJob) {
    this.finished.push(this.key(queue, job.info.id));
    while (this.finished.length > KEEP_FINISHED) {
      const k = this.finished.shift();
      if (k !== undefined) this.jobs.delete(k);
    }
  }

  async process(
    queue: string,
    handler: JobHandler,
    opts: { concurrency?: number } = {},
  ): Promise<Unsubscribe> {
    const p = { handler, concurrency: Math.max(1, opts.concurrency ?? 1), running: 0, stopped: false };
    this.queue(queue).processors.push(p);
    this.pump(queue);
    return async () => {
      p.stopped = true;
      const q = this.queue(queue);
      q.processors = q.processors.filter((x) => x !== p);
    };
  }

  async getJob(queue: string, id: string): Promise<JobInfo | null> {
    const j = this.jobs.get(this.key(queue, id));
    return j ? { ...j.info } : null;
  }

  async onJobEvent(queue: string, handler: (e: JobEvent) => void): Promise<Unsubscribe> {
    this.jobEvents.on(queue, handler);
    return async () => {
      this.jobEvents.off(queue, handler);
    };
  }

  async schedule(queue: string, name: string, everyMs: number, data: unknown = {}): Promise<void> {
    const t = setInterval(() => {
      void this.enqueue(queue, name, data);
    }, everyMs);
    t.unref();
    this.timers.add(t);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.events.removeAllListeners();
    this.jobEvents.removeAllListeners();
  }
}

/** In-process KV with expiry (bounded: least recently used keys go first past 100k keys). */
export class MemoryKv implements Kv {
  readonly kind = 'memory' as const;
  private readonly counters = new LRUCache<string, { count: number; resetAt: number }>({ max: 100_000 });
  private readonly values = new LRUCache<string, string>({ max: 100_000, ttlAutopurge: false });

  async hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }> {
    const now = Date.now();
    let c = this.counters.get(key);
    if (!c || c.resetAt <= now) {
      c = { count: 0, resetAt: now + windowMs };
      this.counters.set(key, c);
    }
    c.count++;
    return { count: c.count, resetMs: c.resetAt - now };
  }

  async get(key: string): Promise<string | null> {
    return this.values.get(key) ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, value, { ttl: ttlMs });
  }

  async del(key: string): Promise<void> {
    this.values.delete(key);
    this.counters.delete(key);
  }

  async close(): Promise<void> {
    this.values.clear();
    this.counters.clear();
  }
}
