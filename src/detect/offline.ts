/**
 * Offline detection of one capture or Zeek conn log, in memory (nothing stored): the engine the ingest uses,
 * then every flow labelled with the threat class of the findings that cite it (the highest-confidence one
 * when several do), `benign` otherwise. This is `iotsec detect` without a threat model ("rules").
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { sniffFormat } from '../ingest/file-ingest.js';
import { captureItems } from '../ingest/capture-items.js';
import { readZeekLog } from '../sources/zeek/read.js';
import type { IngestFlow } from '../sources/types.js';
import { DetectionEngine, type EngineOptions } from './engine.js';
import type { Finding, FlowLabel } from './types.js';

export interface OfflineResult {
  format: 'pcap' | 'pcapng' | 'zeek';
  flows: IngestFlow[];
  findings: Finding[];
  /** Per flow (same order as `flows`): label and score. */
  labels: { label: FlowLabel; score: number }[];
  errors: Record<string, number>;
  /** Truncated or corrupt input: what was read before the problem. */
  error: { message: string; offset: number } | null;
}

async function head(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(65_536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Reads every flow of a capture (pcap/pcapng, gzipped or not) or a Zeek conn log. */
export async function readFlows(
  path: string,
): Promise<{ format: OfflineResult['format']; flows: IngestFlow[]; error: OfflineResult['error'] }> {
  const first = await head(path);
  const format = sniffFormat(first);
  if (format === null || format === 'eve') throw new Error(`${path}: not a pcap, pcapng or Zeek conn log`);
  const flows: IngestFlow[] = [];
  let error: OfflineResult['error'] = null;
  if (format === 'zeek') {
    const reader = readZeekLog(path, { source: path, path: 'conn' });
    for await (const it of reader) if (it.kind === 'flow') flows.push(it.flow);
    return { format, flows, error };
  }
  let input: AsyncIterable<Uint8Array> = createReadStream(path, { highWaterMark: 1 << 20 });
  if (first[0] === 0x1f && first[1] === 0x8b) input = createReadStream(path).pipe(createGunzip());
  for await (const batch of captureItems(input, { source: path })) {
    for (const it of batch.items) if (it.kind === 'flow') flows.push(it.flow);
    if (batch.error) error = batch.error;
  }
  return { format, flows, error };
}

/** Labels flows from findings: a flow cited by a finding with a threat class gets it (best confidence). */
export function labelFlows(
  flows: readonly IngestFlow[],
  findings: readonly Finding[],
): { label: FlowLabel; score: number }[] {
  const best = new Map<string, { label: FlowLabel; score: number }>();
  for (const f of findings) {
    if (!f.threat) continue;
    for (const cid of f.flows) {
      const b = best.get(cid);
      if (!b || f.confidence > b.score) best.set(cid, { label: f.threat, score: f.confidence });
    }
  }
  return flows.map((fl) => best.get(fl.communityId) ?? { label: 'benign', score: 0 });
}

export async function detectFile(path: string, opts: EngineOptions = {}): Promise<OfflineResult> {
  const { format, flows, error } = await readFlows(path);
  return { format, error, ...detectFlows(flows, opts) };
}

export function detectFlows(
  flows: IngestFlow[],
  opts: EngineOptions = {},
): Omit<OfflineResult, 'format' | 'error'> {
  const engine = new DetectionEngine(opts);
  const findings = [...engine.process(flows), ...engine.flush()];
  return { flows, findings, labels: labelFlows(flows, findings), errors: engine.errors };
}
