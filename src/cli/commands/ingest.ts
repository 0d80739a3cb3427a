import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  IngestInputError,
  ingestOpened,
  openFile,
  type FileFormat,
  type FileIngestSummary,
  type OpenedFile,
} from '../../ingest/file-ingest.js';
import { help, parse, type Command } from '../args.js';
import { UsageError } from '../errors.js';
import { withServices } from './with-services.js';

const FORMATS = ['auto', 'pcap', 'pcapng', 'zeek', 'eve'] as const;

async function expand(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => null);
    if (!st) throw new UsageError(`${p}: no such file or directory`);
    if (st.isDirectory()) {
      const entries = (await readdir(p, { recursive: true, withFileTypes: true }))
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name))
        .sort();
      out.push(...entries);
    } else out.push(p);
  }
  return out;
}

function bar(file: string, read: number, total: number, packets: number, flows: number): string {
  const pct = total > 0 ? Math.min(1, read / total) : 1;
  const width = 24;
  const filled = Math.round(pct * width);
  const name = file.length > 32 ? `…${file.slice(-31)}` : file;
  return `\r${name} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(pct * 100).toFixed(0).padStart(3)}%  ${packets} packets  ${flows} flows`;
}

function human(s: FileIngestSummary): string {
  if (s.skipped) return `${s.file}: already ingested (use --force to ingest again)`;
  const errors = Object.entries(s.errors)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return (
    `${s.file}: ${s.format}, ${s.packets} ${s.format === 'zeek' || s.format === 'eve' ? 'records' : 'packets'}, ` +
    `${s.bytes} bytes, ${s.flows} flows, ${s.observations} observations, ${s.new_devices} new devices` +
    (s.resumed ? ' (resumed after an interruption)' : '') +
    (errors ? `; decode errors: ${errors}` : '') +
    (s.error ? `\n  error: ${s.error.message}` : '')
  );
}

export const ingest: Command = {
  name: 'ingest',
  usage: `iotsec ingest <path…> [--format auto|pcap|pcapng|zeek|eve] [--force] [--json]

Reads each file (folders are walked) through the same decoders, flow table and device inventory as live
traffic, and stores flows, devices and device signals. The format is detected by content. An interrupted
ingest resumes where it stopped; a finished file is skipped unless --force. A corrupt or truncated file is
ingested up to its last good record and the error names the file and byte offset (exit code 1).

Options:
  --format F   force a format instead of detecting it
  --force      ingest a file again even if it was ingested before
  --json       one JSON summary object per file
  -h, --help   this help`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      format: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values.help) return help(this);
    if (positionals.length === 0) throw new UsageError('ingest: give at least one file or folder');
    const format = values.format ?? 'auto';
    if (!(FORMATS as readonly string[]).includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const files = await expand(positionals);
    const tty = process.stderr.isTTY && !values.json;
    const decode = { format: format as FileFormat | 'auto' };
    // The first file starts decoding now, while the database opens (and migrates) beside it.
    const firstOpened: Promise<OpenedFile> | null = files[0] ? openFile(files[0], decode) : null;
    firstOpened?.catch(() => undefined); // raised below, in its turn
    let failed = false;
    try {
      await withServices(async (services) => {
        for (const [i, file] of files.entries()) {
          try {
            const opened = i === 0 && firstOpened ? await firstOpened : await openFile(file, decode);
            const s = await ingestOpened(services, opened, {
              force: values.force ?? false,
              onProgress: tty
                ? (p) => process.stderr.write(bar(p.file, p.bytesRead, p.totalBytes, p.packets, p.flows))
                : undefined,
            });
            if (tty) process.stderr.write('\n');
            process.stdout.write(values.json ? `${JSON.stringify(s)}\n` : `${human(s)}\n`);
            if (s.error) failed = true;
          } catch (e) {
            if (tty) process.stderr.write('\n');
            if (!(e instanceof IngestInputError)) throw e;
            failed = true;
            process.stderr.write(`iotsec ingest: ${e.message}\n`);
            if (values.json)
              process.stdout.write(
                `${JSON.stringify({ file, error: { message: e.message, offset: e.offset } })}\n`,
              );
          }
        }
      });
    } catch (e) {
      // The services did not open (or the loop failed): the first file's decoding stops, if it has not.
      await (await firstOpened?.catch(() => null))?.batches?.close();
      throw e;
    }
    return failed ? 1 : 0;
  },
};
