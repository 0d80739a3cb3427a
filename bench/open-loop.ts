import { Agent, get } from 'node:http';

/**
 * An open-loop (fixed-rate) HTTP load generator, in the spirit of wrk2: request i is due at
 * start + i / rate whatever happened to the earlier ones, and its latency is measured from that due time
 * to the end of its response. A server that stalls therefore shows the stall in every request queued behind
 * it (no coordinated omission), which a closed-loop tool like wrk hides by sending less while it waits.
 */

export interface LoadPoint {
  /** Offered load, requests per second. */
  rate: number;
  achieved_rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  requests: number;
  /** Non-2xx answers, socket errors, timeouts and requests refused because too many were in flight. */
  errors: number;
}

export interface OpenLoopOptions {
  rate: number;
  seconds: number;
  headers?: Record<string, string>;
  /** Requests allowed in flight at once; beyond it a due request counts as an error (overload). */
  maxInFlight?: number;
  timeoutMs?: number;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export async function openLoop(url: string, opts: OpenLoopOptions): Promise<LoadPoint> {
  const maxInFlight = opts.maxInFlight ?? 512;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const agent = new Agent({ keepAlive: true, maxSockets: maxInFlight });
  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const latencies = new Float64Array(total);
  let done = 0;
  let ok = 0;
  let errors = 0;
  let inFlight = 0;
  const interval = 1000 / opts.rate;
  const start = performance.now();

  await new Promise<void>((resolve) => {
    let next = 0;
    const finish = (due: number, good: boolean) => {
      inFlight--;
      if (good) latencies[ok++] = performance.now() - due;
      else errors++;
      if (++done === total) resolve();
    };
    const fire = (due: number) => {
      if (inFlight >= maxInFlight) {
        errors++;
        if (++done === total) resolve();
        return;
      }
      inFlight++;
      let settled = false;
      const settle = (good: boolean) => {
        if (settled) return;
        settled = true;
        finish(due, good);
      };
      const req = get(url, { agent, headers: opts.headers ?? {} }, (res) => {
        const good = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
        res.on('data', () => undefined);
        res.on('end', () => settle(good));
        res.on('error', () => settle(false));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', () => settle(false));
    };
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        fire(start + next * interval);
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(interval, start + next * interval - now)));
    };
    tick();
  });
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = latencies.subarray(0, ok).sort();
  return {
    rate: opts.rate,
    achieved_rps: Math.round(ok / elapsed),
    p50_ms: round2(percentile(sorted, 50)),
    p90_ms: round2(percentile(sorted, 90)),
    p99_ms: round2(percentile(sorted, 99)),
    max_ms: round2(sorted.length ? (sorted[sorted.length - 1] as number) : 0),
    requests: total,
    errors,
  };
}
