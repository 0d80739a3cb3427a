import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { eq } from 'drizzle-orm';
import { createGunzip } from 'node:zlib';
import type { Bus } from '../bus/types.js';
import { readSuricataEve } from '../sources/suricata/eve.js';
import type { SourceItem } from '../sources/types.js';
import { readZeekLog } from '../sources/zeek/read.js';
import type { Store } from '../store/db.js';
import { sources } from '../store/schema.js';
import {
  emptySummary,
  type FileClaim,
  type FileIngestOptions,
  type FileIngestSummary,
} from './file-ingest.js';
import { afterCommit } from './after-commit.js';
import { IngestWriter } from './writer.js';
import { trafficTicker } from './traffic-tick.js';

/**
 * Zeek logs (TSV or JSON, conn/dns/dhcp/ssl/http/mqtt) and Suricata EVE files, gzipped or not, claimed as
 * sources by the caller (file-ingest.ts, `claim`), through the same writer and checkpoint scheme as
 * captures: the readers are deterministic, so a restart skips exactly the items already committed. Bad
 * lines are skipped and counted with their line number.
 */
export async function ingestLogFile(
  deps: { store: Store; bus: Bus },
  file: string,
  format: 'zeek' | 'eve',
  st: { size: number; mtimeMs: number },
  claim: FileClaim,
  opts: FileIngestOptions,
): Promise<FileIngestSummary> {
  const { sourceId, checkpoint, resumed, skipped } = claim;
  const summary: FileIngestSummary = {
    ...emptySummary(file, format, sourceId, resumed, skipped),
    bytes: st.size,
  };
  if (skipped) return summary;

  const fh = await open(file, 'r');
  const magic = Buffer.alloc(2);
  await fh.read(magic, 0, 2, 0);
  await fh.close();
  const gz = magic[0] === 0x1f && magic[1] === 0x8b;
  const input = gz ? createReadStream(file).pipe(createGunzip()) : file;
  const reader =
    format === 'zeek' ? readZeekLog(input, { source: file }) : readSuricataEve(input, { source: file });

  const writer = new IngestWriter(deps.store);
  const batchItems = opts.batchItems ?? 5000;
  let flowIdx = 0;
  let obsIdx = 0;
  let pending: SourceItem[] = [];
  const commit = async (done: boolean) => {
    const stats = reader.state.stats;
    summary.packets = reader.state.lines;
    summary.errors = { ...stats.errors };
    const firstError = reader.state.lineErrors[0];
    const res = await writer.write(pending, {
      sourceId,
      checkpoint: {
        flows_committed: flowIdx,
        observations_committed: obsIdx,
        offset: reader.state.offset,
        done,
      },
      stats: { lines: reader.state.lines, flows: flowIdx, errors: summary.errors },
      status: done ? 'done' : 'running',
      lastError: firstError ? `line ${firstError.line}: ${firstError.message}` : null,
    });
    const written = pending;
    pending = [];
    summary.flows += res.flows;
    summary.observations += res.observations;
    summary.new_devices += (await afterCommit(deps, written, res, { sourceId })).length;
    opts.afterCommit?.(flowIdx);
    opts.onProgress?.({
      file,
      bytesRead: reader.state.offset,
      totalBytes: st.size,
      packets: reader.state.lines,
      flows: flowIdx,
    });
  };
  try {
    for await (const it of reader) {
      if (it.kind === 'flow') {
        if (flowIdx++ < checkpoint.flows_committed) continue;
      } else if (it.kind === 'observation') {
        if (obsIdx++ < checkpoint.observations_committed) continue;
      }
      pending.push(it);
      if (pending.length >= batchItems) await commit(false);
    }
    await commit(true);
    await trafficTicker(deps.bus).flush(); // the command may end before the next tick
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await deps.store.db
      .update(sources)
      .set({ status: 'error', lastError: message, updatedAt: new Date() })
      .where(eq(sources.id, sourceId));
    throw e;
  }
  return summary;
}
