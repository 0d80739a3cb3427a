import { useCallback, useEffect, useRef, useState } from 'react';
import { asApiError } from '../api/client';
import type { Job, JobStatus } from '../api/types';
import { useApi } from '../auth';
import { useLiveEvents } from '../live';

/** What the pages show of a background job (an upload's ingest, a training run). */
export interface JobView {
  id: string;
  queue: string;
  status: JobStatus | 'unknown';
  /** Percent done, 0..100. */
  progress: number;
  stage: string | null;
  /** The last error: final when status is failed, otherwise an attempt that will be retried. */
  error: string | null;
  result: unknown;
}

const STATUSES: readonly string[] = ['waiting', 'delayed', 'active', 'completed', 'failed'];
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? Math.max(0, Math.min(100, v)) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const isFinished = (j: Pick<JobView, 'status'> | null | undefined): boolean =>
  j?.status === 'completed' || j?.status === 'failed';

/**
 * A `job_update` event's data as a partial JobView. The ingest worker sends `progress` as an object
 * (`{pct, bytes_read, …}`, `{pct: 100, summary}` or `{error}`); training sends a number with `stage`.
 */
export function jobFromEvent(data: unknown): (Partial<JobView> & { id: string; queue: string }) | null {
  if (!isRecord(data)) return null;
  const id = data.job_id;
  const queue = str(data.queue);
  if ((typeof id !== 'string' && typeof id !== 'number') || !queue) return null;
  const p = data.progress;
  const out: Partial<JobView> & { id: string; queue: string } = { id: String(id), queue };
  const status = str(data.status);
  if (status && STATUSES.includes(status)) out.status = status as JobStatus;
  const progress = num(p) ?? (isRecord(p) ? (num(p.pct) ?? num(p.percent)) : undefined);
  if (progress !== undefined) out.progress = progress;
  const stage = str(data.stage) ?? (isRecord(p) ? str(p.stage) : undefined);
  if (stage !== undefined) out.stage = stage;
  const error = str(data.error) ?? (isRecord(p) ? str(p.error) : undefined);
  if (error !== undefined) out.error = error;
  if ('result' in data) out.result = data.result;
  else if (isRecord(p) && 'summary' in p) out.result = p.summary;
  return out;
}

function merge(prev: JobView | null, next: Partial<JobView> & { id: string; queue: string }): JobView {
  const base: JobView = prev ?? {
    id: next.id,
    queue: next.queue,
    status: 'waiting',
    progress: 0,
    stage: null,
    error: null,
    result: null,
  };
  if (isFinished(base) && base.status === 'completed') return base; // nothing comes after success
  const status = next.status ?? base.status;
  const progress =
    status === 'completed'
      ? 100
      : status === 'active'
        ? Math.max(base.progress, next.progress ?? 0) // polls and events interleave: never go back
        : (next.progress ?? base.progress);
  return {
    ...base,
    ...next,
    status,
    progress,
    stage: next.stage !== undefined ? next.stage : base.stage,
    error: next.error !== undefined ? next.error : status === 'completed' ? null : base.error,
    result: next.result !== undefined ? next.result : base.result,
  };
}

/**
 * Follows a background job: `job_update` events from the live feed as they come, and GET /jobs/:queue/:id
 * every `pollMs` as the source of truth (the feed may be offline, and an ingest attempt that failed is
 * retried by the queue: only the jobs API says when a failure is final). Stops once the job has finished.
 */
export function useJob(queue: string, id: string | null, pollMs = 2_000): JobView | null {
  const client = useApi();
  const [job, setJob] = useState<JobView | null>(null);
  const current = useRef<JobView | null>(null);
  useEffect(() => {
    current.current = job;
  });
  const update = useCallback(
    (next: Partial<JobView> & { id: string; queue: string }) =>
      setJob((prev) => merge(prev && prev.id === next.id ? prev : null, next)),
    [],
  );

  useLiveEvents(['job_update'], (e) => {
    if (e.type !== 'job_update' || id === null) return;
    const j = jobFromEvent(e.data);
    if (j && j.id === id && j.queue === queue) {
      // A failed event from the ingest worker may be retried: the poll decides whether it is final.
      update(j.status === 'failed' && queue !== 'training' ? { ...j, status: 'active' } : j);
    }
  });

  useEffect(() => {
    if (id === null) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const ctl = new AbortController();
    const poll = async () => {
      if (stopped) return;
      if (current.current?.id === id && isFinished(current.current)) return;
      try {
        const j = await client.get<Job>(
          `/jobs/${encodeURIComponent(queue)}/${encodeURIComponent(id)}`,
          undefined,
          ctl.signal,
        );
        if (stopped) return;
        update({
          id,
          queue,
          status: j.status,
          progress: j.progress,
          ...(j.stage !== null ? { stage: j.stage } : {}),
          ...(j.error !== null ? { error: j.error } : {}),
          ...(j.result !== null && j.result !== undefined ? { result: j.result } : {}),
        });
        if (j.status === 'completed' || j.status === 'failed') return;
      } catch (e) {
        if (stopped) return;
        const err = asApiError(e);
        if (err.code === 'JOB_NOT_FOUND' || err.code === 'FORBIDDEN') {
          update({ id, queue, status: 'unknown', error: `${err.message} (${err.code})` });
          return;
        }
        // a transient failure: keep polling
      }
      timer = setTimeout(() => void poll(), pollMs);
    };
    void poll();
    return () => {
      stopped = true;
      ctl.abort();
      if (timer !== null) clearTimeout(timer);
    };
  }, [client, queue, id, pollMs, update]);

  return job && job.id === id ? job : null;
}
