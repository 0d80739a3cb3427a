/**
 * Serving statistics of one model version in one process: predictions and latency of the current window,
 * labelled feedback, and the recent inputs drift is measured on. Pure (no I/O); ModelMonitor flushes it.
 */
import type { Matrix } from '../matrix.js';
import { RecentRows, Reservoir } from './reservoir.js';

export interface WindowSnapshot {
  readonly windowStart: Date;
  readonly windowEnd: Date;
  readonly predictions: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly labelled: number;
  readonly accuracy: number | null;
}

export class ModelStats {
  private windowStart: Date;
  private predictions = 0;
  private labelled = 0;
  private correct = 0;
  private readonly latency: Reservoir;
  private recent: RecentRows | null = null;

  constructor(
    readonly modelId: string,
    now: Date = new Date(),
    private readonly opts: { latencySamples?: number; recentRows?: number } = {},
  ) {
    this.windowStart = now;
    this.latency = new Reservoir(opts.latencySamples ?? 1024);
  }

  /** One call that scored `rows` rows in `ms` milliseconds (the inputs are kept for drift). */
  recordPrediction(X: Matrix, ms: number): void {
    this.predictions += X.nRows;
    this.latency.add(ms);
    if (X.nCols > 0) {
      if (!this.recent || this.recent.nCols !== X.nCols) {
        this.recent = new RecentRows(X.nCols, this.opts.recentRows ?? 2000);
      }
      this.recent.addMatrix(X);
    }
  }

  recordFeedback(predicted: string | number, actual: string | number): void {
    this.labelled++;
    if (String(predicted) === String(actual)) this.correct++;
  }

  get recentRows(): RecentRows | null {
    return this.recent;
  }

  get hasActivity(): boolean {
    return this.predictions > 0 || this.labelled > 0;
  }

  /** The current window's figures; `reset` starts the next window at `now` (recent inputs are kept). */
  snapshot(now: Date = new Date(), reset = true): WindowSnapshot {
    const s: WindowSnapshot = {
      windowStart: this.windowStart,
      windowEnd: now,
      predictions: this.predictions,
      latencyP50Ms: this.latency.quantile(0.5),
      latencyP99Ms: this.latency.quantile(0.99),
      labelled: this.labelled,
      accuracy: this.labelled > 0 ? this.correct / this.labelled : null,
    };
    if (reset) {
      this.windowStart = now;
      this.predictions = 0;
      this.labelled = 0;
      this.correct = 0;
      this.latency.reset();
    }
    return s;
  }
}
