import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import { EVENTS_CHANNEL, makeEvent } from '../bus/events.js';
import type { JobContext, Unsubscribe } from '../bus/types.js';
import { ingestFile } from '../ingest/file-ingest.js';

export const INGEST_QUEUE = 'ingest';

export interface IngestJobData {
  path: string;
  name: string;
  /** Delete the file afterwards (uploads). */
  delete_after: boolean;
  /** Who asked, for the audit trail. */
  requested_by: string;
  /** Refuse gzip input inflating beyond this (uploads: a gzip bomb must not burn the worker's CPU). */
  max_inflated_bytes?: number;
}

/** Real captures compress 2–10×; a ratio past this is a decompression bomb. */
export const MAX_GZIP_RATIO = 64;

/** Publishes a job's progress for the WebSocket (`job_update`), from whichever process runs the job. */
export async function publishJobUpdate(
  services: Services,
  job: Pick<JobContext, 'id'>,
  queue: string,
  status: 'active' | 'completed' | 'failed',
  progress: Record<string, unknown>,
): Promise<void> {
  await services.bus.publish(
    EVENTS_CHANNEL,
    makeEvent('job_update', { job_id: job.id, queue, status, progress }),
  );
}

/** Ingest jobs (pcap uploads, watched folders): the same file ingest as `iotsec ingest`, with progress events. */
export async function startIngestJobs(services: Services, log: Logger): Promise<Unsubscribe> {
  return services.bus.process(
    INGEST_QUEUE,
    async (job) => {
      const data = job.data as IngestJobData;
      let lastReport = 0;
      try {
        const summary = await ingestFile(services, data.path, {
          ...(data.max_inflated_bytes ? { maxInflatedBytes: data.max_inflated_bytes } : {}),
          onProgress: (p) => {
            const now = Date.now();
            if (now - lastReport < 250 && p.bytesRead < p.totalBytes) return;
            lastReport = now;
            const progress = {
              file: data.name,
              bytes_read: p.bytesRead,
              total_bytes: p.totalBytes,
              packets: p.packets,
              flows: p.flows,
              pct: p.totalBytes > 0 ? Math.round((100 * p.bytesRead) / p.totalBytes) : 100,
            };
            void job.progress(progress).catch(() => undefined);
            void publishJobUpdate(services, job, INGEST_QUEUE, 'active', progress).catch(() => undefined);
          },
        });
        const result = { ...summary, file: data.name };
        await publishJobUpdate(services, job, INGEST_QUEUE, 'completed', { pct: 100, summary: result });
        log.info({ job: job.id, file: data.name, flows: summary.flows }, 'ingest job done');
        if (data.delete_after) await rm(data.path, { force: true });
        return result;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        await publishJobUpdate(services, job, INGEST_QUEUE, 'failed', {
          error: message.replace(data.path, data.name),
        });
        // The file stays for the queue's retries; the maintenance job removes uploads older than a day.
        throw new Error(message.replace(data.path, data.name));
      }
    },
    { concurrency: 1 },
  );
}
