import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { and, eq, sql } from 'drizzle-orm';
import type { Bus } from '../bus/types.js';
import type { SourceItem } from '../sources/types.js';
import type { Store } from '../store/db.js';
import { sources } from '../store/schema.js';
import { AnalysisQueue, analyseAfterCommit, identifyAfterCommit } from './after-commit.js';
import { fileBatches, isGzip, type FileBatch, type FileDecodeOptions } from './file-batches.js';
import { IngestInputError } from './input-error.js';
import { ReadAheadNow } from './read-ahead.js';
import { workerBatches } from './worker-batches.js';
import { trafficTicker } from './traffic-tick.js';
import { IngestWriter } from './writer.js';

export { IngestInputError } from './input-error.js';

/**
 * Ingests one file (pcap, pcapng, either gzipped) into the database. The file is a `sources` row (kind
 * 'file', keyed by absolute path, size and mtime). Its checkpoint counts the flows and observations already
 * committed; because decoding is deterministic, a restart after a crash re-reads the file and skips exactly
 * those, so an interrupted ingest ends with the same rows as an uninterrupted one. A finished file is not
 * ingested twice unless `force` is set.
 */

export type FileFormat = 'pcap' | 'pcapng' | 'zeek' | 'eve';

export interface FileIngestOptions {
  format?: FileFormat | 'auto';
  force?: boolean;
  /** Yield a database batch every this many items (default 10 000; with two batches decoded ahead, this bounds the memory of an ingest). */
  batchItems?: number;
  /** Refuse gzip input that inflates beyond this many bytes (gzip bombs). Default: no cap. */
  maxInflatedBytes?: number;
  /**
   * Decode packets in a worker thread while this one writes (worker-batches.ts), or here, one batch ahead of
   * the writes. Default: a thread when the machine has 4 cores or more. On two, this thread and the database
   * server already keep both busy: measured on the bench capture, a third busy thread only added its hand-over
   * cost (same or slower wall time, 50 MB more resident).
   */
  decodeInWorker?: boolean;
  onProgress?: (p: IngestProgress) => void;
  /** Called after each committed batch (crash tests stop the process here). */
  afterCommit?: (committedFlows: number) => void;
}

export interface IngestProgress {
  file: string;
  bytesRead: number;
  totalBytes: number;
  packets: number;
  flows: number;
}

export interface FileIngestSummary {
  file: string;
  format: FileFormat;
  source_id: string;
  packets: number;
  bytes: number;
  flows: number;
  observations: number;
  new_devices: number;
  errors: Record<string, number>;
  /** Set when the file is corrupt or truncated: everything before the offset was ingested. */
  error: { message: string; offset: number } | null;
  resumed: boolean;
  skipped: boolean;
}

export interface FileCheckpoint {
  flows_committed: number;
  observations_committed: number;
  offset: number;
  done: boolean;
}

async function head(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The format of a file from its first bytes (after gunzip when gzipped). */
export function sniffFormat(first: Uint8Array): FileFormat | null {
  let b = first;
  if (isGzip(b)) {
    try {
      b = gunzipSync(b, { finishFlush: 2 /* Z_SYNC_FLUSH: tolerate a cut-off stream */ });
    } catch {
      return null;
    }
  }
  const m = (b[0] ?? 0) * 0x1000000 + (b[1] ?? 0) * 0x10000 + (b[2] ?? 0) * 0x100 + (b[3] ?? 0);
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(m)) return 'pcap';
  if (m === 0x0a0d0d0a) return 'pcapng';
  const text = Buffer.from(b.subarray(0, 4096)).toString('utf8').trimStart();
  if (text.startsWith('#separator') || text.startsWith('#fields')) return 'zeek';
  if (text.startsWith('{')) {
    const line = text.split('\n', 1)[0] ?? '';
    if (/"event_type"\s*:/.test(line)) return 'eve';
    if (/"(uid|id\.orig_h)"\s*:/.test(line)) return 'zeek';
  }
  return null;
}

/** A file ready to ingest: its format known and, for a capture, its first batch already being decoded. */
export type OpenedFile = {
  /** As the user named it. */
  path: string;
  /** Absolute. */
  file: string;
  size: number;
  mtimeMs: number;
} & (
  | { format: 'zeek' | 'eve'; batches: null }
  /** A capture's batches, decoding from the moment the file was opened. */
  | { format: 'pcap' | 'pcapng'; batches: ReadAheadNow<FileBatch> }
);

/**
 * Checks a file and detects its format; a capture starts decoding at once, so its first batch is under way
 * while the caller opens the database (`iotsec ingest` opens its first file before its services). Pass the
 * result to ingestOpened, or close its batches.
 */
export async function openFile(
  path: string,
  opts: Pick<FileIngestOptions, 'format' | 'batchItems' | 'maxInflatedBytes' | 'decodeInWorker'> = {},
): Promise<OpenedFile> {
  const file = resolve(path);
  const st = await stat(file).catch(() => {
    throw new IngestInputError(path, 'no such file');
  });
  if (!st.isFile()) throw new IngestInputError(path, 'not a regular file');
  const first = await head(file, 64 * 1024);
  const detected = sniffFormat(first);
  const format = opts.format && opts.format !== 'auto' ? opts.format : detected;
  if (!format)
    throw new IngestInputError(path, 'not a pcap, pcapng, Zeek log or Suricata EVE file (unknown content)');
  const opened = { path, file, size: st.size, mtimeMs: st.mtimeMs };
  if (format === 'zeek' || format === 'eve') return { ...opened, format, batches: null };
  const decode: FileDecodeOptions = {
    file,
    name: path,
    gzip: isGzip(first),
    maxInflatedBytes: opts.maxInflatedBytes,
    batchItems: opts.batchItems ?? 10_000,
  };
  // In this thread the next batch is decoded while the database commits this one (readAhead); the decode
  // worker runs ahead by itself.
  const batches =
    (opts.decodeInWorker ?? availableParallelism() >= 4) ? workerBatches(decode) : fileBatches(decode);
  return { ...opened, format, batches: new ReadAheadNow(batches) };
}

export async function ingestFile(
  deps: { store: Store; bus: Bus },
  path: string,
  opts: FileIngestOptions = {},
): Promise<FileIngestSummary> {
  return ingestOpened(deps, await openFile(path, opts), opts);
}

/** Ingests a file opened by openFile (its batches are consumed or closed, whatever happens). */
export async function ingestOpened(
  deps: { store: Store; bus: Bus },
  opened: OpenedFile,
  opts: FileIngestOptions = {},
): Promise<FileIngestSummary> {
  const { path, file } = opened;
  const st = { size: opened.size, mtimeMs: opened.mtimeMs };
  let started = false;
  try {
    const claim = await claimFileSource(deps.store, file, opened.format, st, opts.force);
    if (opened.batches === null) {
      const { ingestLogFile } = await import('./log-ingest.js');
      return await ingestLogFile(deps, file, opened.format, st, claim, opts);
    }
    const summary = emptySummary(path, opened.format, claim.sourceId, claim.resumed, claim.skipped);
    if (claim.skipped) return summary;
    started = true;
    return await ingestBatches(deps, opened.batches, summary, claim.checkpoint, st.size, opts);
  } finally {
    if (!started) await opened.batches?.close();
  }
}

async function ingestBatches(
  deps: { store: Store; bus: Bus },
  batches: AsyncIterable<FileBatch>,
  summary: FileIngestSummary,
  checkpoint: FileCheckpoint,
  totalBytes: number,
  opts: FileIngestOptions,
): Promise<FileIngestSummary> {
  const { file: path, source_id: sourceId } = summary;
  const writer = new IngestWriter(deps.store);
  const analyses = new AnalysisQueue();
  let analysisFailure: unknown = null;
  let flowIdx = 0;
  let obsIdx = 0;
  const skipFlows = checkpoint.flows_committed;
  const skipObs = checkpoint.observations_committed;
  try {
    for await (const { batch, bytesRead } of batches) {
      const keep: SourceItem[] = [];
      const items = batch.items;
      for (let i = 0; i < items.length; i++) {
        const it = items[i] as SourceItem;
        if (it.kind === 'flow') {
          if (flowIdx++ >= skipFlows) keep.push(it);
        } else if (it.kind === 'observation') {
          if (obsIdx++ >= skipObs) keep.push(it);
        } else keep.push(it);
      }
      const cp: FileCheckpoint = {
        flows_committed: flowIdx,
        observations_committed: obsIdx,
        offset: batch.offset,
        done: batch.done,
      };
      summary.packets = batch.stats.records;
      summary.bytes = batch.stats.bytes;
      summary.errors = batch.stats.errors;
      summary.error = batch.error;
      // The previous batch's analysis starts once this batch's rows are with the database.
      const res = await analyses.beside((hooks) =>
        writer.write(
          keep,
          {
            sourceId,
            checkpoint: cp as unknown as Record<string, unknown>,
            stats: { packets: summary.packets, bytes: summary.bytes, flows: flowIdx, errors: summary.errors },
            status: batch.done ? (batch.error ? 'error' : 'done') : 'running',
            lastError: batch.error?.message ?? null,
          },
          hooks,
        ),
      );
      summary.flows += res.flows;
      summary.observations += res.observations;
      summary.new_devices += (await identifyAfterCommit(deps, keep, res, { sourceId })).length;
      // The batch is analysed (detectors, destination profiles) beside the next batch's write: this
      // thread's analysis while the database works on the other core. In order, at most one beside a write;
      // a failure fails the ingest when it is next awaited (here or at the end).
      await analyses.done();
      if (analysisFailure !== null) throw analysisFailure;
      analyses.defer(() =>
        analyseAfterCommit(deps, keep, { sourceId }).catch((e: unknown) => {
          analysisFailure ??= e;
        }),
      );
      opts.afterCommit?.(flowIdx);
      opts.onProgress?.({
        file: path,
        bytesRead,
        totalBytes,
        packets: summary.packets,
        flows: flowIdx,
      });
    }
    await analyses.settled();
    if (analysisFailure !== null) throw analysisFailure;
    await trafficTicker(deps.bus).flush(); // the command may end before the next tick
  } catch (e) {
    await analyses.settled(); // let the analysis under way finish before the source is marked
    const message = e instanceof Error ? e.message : String(e);
    await deps.store.db
      .update(sources)
      .set({ status: 'error', lastError: message, updatedAt: new Date() })
      .where(eq(sources.id, sourceId));
    throw e;
  }
  return summary;
}

/** The summary of a file ingest before anything is read. */
export function emptySummary(
  file: string,
  format: FileFormat,
  sourceId: string,
  resumed: boolean,
  skipped: boolean,
): FileIngestSummary {
  return {
    file,
    format,
    source_id: sourceId,
    packets: 0,
    bytes: 0,
    flows: 0,
    observations: 0,
    new_devices: 0,
    errors: {},
    error: null,
    resumed,
    skipped,
  };
}

/** Finds or creates the sources row for a file; says whether to resume or skip. */
export interface FileClaim {
  sourceId: string;
  checkpoint: FileCheckpoint;
  resumed: boolean;
  skipped: boolean;
}

export async function claimFileSource(
  store: Store,
  file: string,
  format: FileFormat,
  st: { size: number; mtimeMs: number },
  force: boolean | undefined,
): Promise<FileClaim> {
  const fresh: FileCheckpoint = { flows_committed: 0, observations_committed: 0, offset: 0, done: false };
  const [existing] = await store.db
    .select()
    .from(sources)
    .where(
      and(
        eq(sources.kind, 'file'),
        sql`${sources.config}->>'path' = ${file}`,
        sql`(${sources.config}->>'size')::bigint = ${st.size}`,
        sql`(${sources.config}->>'mtime_ms')::float8 = ${Math.floor(st.mtimeMs)}`,
      ),
    )
    .orderBy(sql`${sources.createdAt} DESC`)
    .limit(1);
  if (existing && !force) {
    const cp = existing.checkpoint as Partial<FileCheckpoint>;
    if (cp.done) return { sourceId: existing.id, checkpoint: fresh, resumed: false, skipped: true };
    return {
      sourceId: existing.id,
      checkpoint: {
        flows_committed: Number(cp.flows_committed ?? 0),
        observations_committed: Number(cp.observations_committed ?? 0),
        offset: Number(cp.offset ?? 0),
        done: false,
      },
      resumed: Number(cp.flows_committed ?? 0) + Number(cp.observations_committed ?? 0) > 0,
      skipped: false,
    };
  }
  const [row] = await store.db
    .insert(sources)
    .values({
      kind: 'file',
      name: basename(file),
      config: { path: file, size: st.size, mtime_ms: Math.floor(st.mtimeMs), format },
      checkpoint: fresh as unknown as Record<string, unknown>,
      status: 'running',
    })
    .returning({ id: sources.id });
  if (!row) throw new Error('insert returned nothing');
  return { sourceId: row.id, checkpoint: fresh, resumed: false, skipped: false };
}
