/**
 * Labelled captures for `iotsec train device-type --labels FILE.csv`: header `pcap,mac,device_type`, capture
 * paths relative to the CSV. Every problem (malformed row, missing file, a MAC the capture does not contain)
 * fails with the line number before anything is trained.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { profileCaptureFile } from './capture-profile.js';
import { normalizeMac } from './mac.js';
import type { DeviceProfile } from './profile.js';

export class LabelsError extends Error {
  override readonly name = 'LabelsError';
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}: line ${line}: ${message}`);
  }
}

export interface LabelRow {
  line: number;
  pcap: string;
  /** Absolute path of the capture. */
  path: string;
  mac: string;
  deviceType: string;
}

export interface LabelledSample {
  row: LabelRow;
  profile: DeviceProfile;
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"' && cur === '') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** Reads and checks the CSV (every file must exist); does not read the captures. */
export async function readLabels(file: string): Promise<LabelRow[]> {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new LabelsError(file, 0, 'cannot read the labels file');
  });
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.toLowerCase());
  if (header.join(',') !== 'pcap,mac,device_type')
    throw new LabelsError(file, 1, `the header must be pcap,mac,device_type (got ${lines[0] ?? ''})`);
  const base = dirname(resolve(file));
  const rows: LabelRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') continue;
    const line = i + 1;
    const f = splitCsvLine(raw);
    if (f.length !== 3)
      throw new LabelsError(file, line, `expected 3 fields (pcap,mac,device_type), got ${f.length}`);
    const [pcap, macText, type] = f as [string, string, string];
    if (!pcap) throw new LabelsError(file, line, 'empty pcap path');
    const mac = normalizeMac(macText);
    if (!mac) throw new LabelsError(file, line, `not a MAC address: ${macText}`);
    if (!type || type.length > 128 || [...type].some((ch) => ch.charCodeAt(0) < 0x20))
      throw new LabelsError(file, line, `bad device_type: ${type}`);
    const path = isAbsolute(pcap) ? pcap : resolve(base, pcap);
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) throw new LabelsError(file, line, `no such capture file: ${pcap}`);
    rows.push({ line, pcap, path, mac, deviceType: type });
  }
  if (rows.length === 0) throw new LabelsError(file, 2, 'no labelled rows');
  return rows;
}

/**
 * Profiles the labelled device of every row (each capture read once, whatever the number of rows naming
 * it). A MAC missing from its capture fails with the row's line.
 */
export async function loadLabelledSamples(
  file: string,
  rows: readonly LabelRow[],
  onProgress?: (done: number, total: number) => void,
): Promise<LabelledSample[]> {
  const byPath = new Map<string, LabelRow[]>();
  for (const r of rows) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  const out = new Map<LabelRow, DeviceProfile>();
  let done = 0;
  for (const [path, rs] of byPath) {
    const { profiles, hasL2, error } = await profileCaptureFile(path);
    for (const r of rs) {
      const p = profiles.get(r.mac);
      if (!p) {
        const why = !hasL2
          ? 'the capture has no layer 2 (no MAC addresses)'
          : `MAC ${r.mac} does not appear in it`;
        throw new LabelsError(file, r.line, `${r.pcap}: ${why}${error ? ` (capture error: ${error})` : ''}`);
      }
      out.set(r, p);
    }
    onProgress?.(++done, byPath.size);
  }
  return rows.map((row) => ({ row, profile: out.get(row) as DeviceProfile }));
}
