import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Services } from '../api/context.js';
import { IngestInputError, ingestFile, type FileIngestSummary } from '../ingest/file-ingest.js';

/**
 * A watched folder: every `pollMs` the folder is listed (recursively); a file whose size and mtime did not
 * change since the previous look is complete and gets ingested (pcap, pcapng, gzip, Zeek, EVE), one at a
 * time. Ingest is idempotent per (path, size, mtime), so restarts and rescans never double anything.
 */
export class WatchFolder {
  private readonly sizes = new Map<string, string>();
  private readonly finished = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  ingested = 0;
  failed = 0;
  lastError: string | null = null;

  constructor(
    private readonly services: Services,
    readonly directory: string,
    private readonly log: Logger,
    private readonly pollMs = 5000,
    private readonly onIngested?: (s: FileIngestSummary) => void,
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.scan()
        .catch((err: unknown) => {
          this.lastError = err instanceof Error ? err.message : String(err);
          this.log.warn({ err, directory: this.directory }, 'watch folder scan failed');
        })
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.pollMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: ingest every file that is complete and new. */
  async scan(): Promise<void> {
    const entries = await readdir(this.directory, { recursive: true, withFileTypes: true });
    for (const e of entries) {
      if (this.stopped) return;
      if (!e.isFile() || e.name.startsWith('.')) continue;
      const path = join(e.parentPath, e.name);
      const st = await stat(path).catch(() => null);
      if (!st) continue;
      const key = `${st.size}:${Math.floor(st.mtimeMs)}`;
      const id = `${path}\u0000${key}`;
      if (this.finished.has(id)) continue;
      const previous = this.sizes.get(path);
      this.sizes.set(path, key);
      if (previous !== key) continue; // still being written (or first sight): look again next time
      try {
        const s = await ingestFile(this.services, path);
        this.finished.add(id);
        if (!s.skipped) {
          this.ingested++;
          this.log.info({ file: path, flows: s.flows, packets: s.packets }, 'watched file ingested');
          this.onIngested?.(s);
        }
      } catch (err) {
        this.finished.add(id); // a bad file is reported once, not every poll
        this.failed++;
        this.lastError = err instanceof Error ? err.message : String(err);
        if (err instanceof IngestInputError) this.log.warn({ file: path }, this.lastError);
        else this.log.error({ err, file: path }, 'watched file ingest failed');
      }
    }
  }
}
