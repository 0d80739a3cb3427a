/**
 * Memory stays bounded however large the capture: `iotsec ingest` (a child process, as an operator runs it)
 * of a capture several times larger than anything it may hold, with its peak resident set read from
 * /proc/PID/status (VmHWM). The old generation is capped at 160 MB (--max-old-space-size): if anything
 * grew with the input (flows, batches, buffers), the process would die of heap exhaustion instead of
 * passing. npm test uses a 128 MB capture; the bench (`npm run bench -- ingest`) runs the same check on
 * 2 GB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hasPostgres,
  hasSharedData,
  SHARED_DATA,
  TEST_DATABASE_URL,
  uniqueName,
} from '../test-support/services.js';
import { peakRss, writeBigPcap } from '../test-support/big-capture.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TARGET_BYTES = 128e6;
const RSS_LIMIT_MB = 300;

const pgUp = hasSharedData && process.platform === 'linux' && (await hasPostgres());

describe.skipIf(!pgUp)('iotsec ingest memory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotsec-rss-'));
  const schema = uniqueName('rss');
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await c.end();
  });

  it(`ingests a ${TARGET_BYTES / 1e6} MB capture into PostgreSQL under ${RSS_LIMIT_MB} MB resident`, async () => {
    const file = join(dir, 'big.pcap');
    const input = writeBigPcap(SHARED_DATA, file, TARGET_BYTES);
    const r = await peakRss(
      ROOT,
      ['--max-old-space-size=160', join(ROOT, 'bin', 'iotsec.js'), 'ingest', '--json', file],
      {
        ...process.env,
        DATABASE_URL: TEST_DATABASE_URL,
        DATABASE_SCHEMA: schema,
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'warn',
      },
    );
    rmSync(file, { force: true });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      packets?: number;
      flows?: number;
    };
    expect(summary.packets).toBe(input.packets);
    expect(summary.flows).toBeGreaterThan(1000);
    expect(r.peakMb).toBeLessThan(RSS_LIMIT_MB);
  }, 300_000);
});
