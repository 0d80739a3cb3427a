/**
 * The bus: publish/subscribe for events and a job queue for background work. Two implementations with one
 * contract (bus.contract.ts runs the same tests on both): in-process (memory.ts) for `iotsec start` without
 * Redis, and Redis pub/sub + BullMQ (redis.ts) for several processes.
 */

/** An event as the WebSocket sends it: `{"type","id","at","data"}`. */
export interface BusEvent {
  type: string;
  id: string;
  at: string;
  data: unknown;
}

export type EventHandler = (event: BusEvent) => void;
export type Unsubscribe = () => Promise<void>;

export interface JobOptions {
  /** Total tries including the first (default 1). */
  attempts?: number;
  /** Base of the exponential backoff between tries, ms (default 1000): base, 2×base, 4×base… */
  backoffMs?: number;
  /** Idempotency: a job with the same id is not queued twice. */
  jobId?: string;
  delayMs?: number;
}

export type JobStatus = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

export type JobProgress = number | Record<string, unknown>;

export interface JobInfo {
  id: string;
  queue: string;
  name: string;
  data: unknown;
  status: JobStatus;
  progress: JobProgress;
  attemptsMade: number;
  result: unknown;
  error: string | null;
  createdAt: number;
  finishedAt: number | null;
}

export interface JobContext {
  id: string;
  name: string;
  data: unknown;
  /** 1 for the first try. */
  attempt: number;
  progress(p: JobProgress): Promise<void>;
}

export type JobHandler = (job: JobContext) => Promise<unknown>;

export interface JobEvent {
  queue: string;
  jobId: string;
  kind: 'progress' | 'completed' | 'failed';
  progress?: JobProgress;
  result?: unknown;
  error?: string;
}

export interface Bus {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, event: BusEvent): Promise<void>;
  subscribe(channel: string, handler: EventHandler): Promise<Unsubscribe>;
  /**
   * The last `limit` events published on a channel, oldest first, from a bounded buffer shared by every
   * process (Redis); undefined where the bus keeps none (in-process: each subscriber keeps its own).
   */
  recent?(channel: string, limit: number): Promise<BusEvent[]>;
  enqueue(queue: string, name: string, data: unknown, opts?: JobOptions): Promise<string>;
  /** Runs jobs of a queue in this process until the returned function is called. */
  process(queue: string, handler: JobHandler, opts?: { concurrency?: number }): Promise<Unsubscribe>;
  getJob(queue: string, id: string): Promise<JobInfo | null>;
  /** Progress, completion and final failure of jobs of a queue, wherever they run. */
  onJobEvent(queue: string, handler: (e: JobEvent) => void): Promise<Unsubscribe>;
  /** A repeating job (one schedule per queue+name across all processes). */
  schedule(queue: string, name: string, everyMs: number, data?: unknown): Promise<void>;
  /** Where events are also forwarded to a shared server: how that forwarding is doing (Redis only). */
  forwardStats?(): ForwardStats;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Counters of the forwarding of events to Redis (exported as Prometheus metrics). */
export interface ForwardStats {
  /** Events waiting for Redis to come back (they reached this process's subscribers already). */
  pending: number;
  /** Events forwarded to Redis after waiting in the buffer. */
  forwardedLate: number;
  /** Events never forwarded because the buffer was full (they reached this process's subscribers only). */
  dropped: number;
}

/** Fixed-window counters and small values with a TTL: rate limits, token revocation, caches. */
export interface Kv {
  readonly kind: 'memory' | 'redis';
  /** Counts one hit on `key` in the current window; returns the count and ms until the window resets. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetMs: number }>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  close(): Promise<void>;
}

export function backoffDelay(baseMs: number, attemptsMade: number): number {
  return baseMs * 2 ** Math.max(0, attemptsMade - 1);
}
