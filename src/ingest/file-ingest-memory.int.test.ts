/**
 * Memory stays bounded however large the capture: `iotsec ingest` (a child process, as an operator runs it)
 * of a capture several times larger than anything it may hold, with its peak resident set read from
 * /proc/PID/status (VmHWM). The old generation is capped at 160 MB (--max-old-space-size): if anything
 * grew with the input (flows, batches, buffers), the process would die of heap exhaustion instead of
 * passing. npm test uses a 128 MB capture; the bench (`npm run bench -- ingest`) runs the same check on
 * 2 GB.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
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

const ROOT = resolve(import.meta.dirname, '..', '..');
const TARGET_BYTES = 128e6;
const RSS_LIMIT_MB = 300;

/** The IoT Sentinel Ethernet captures concatenated (again and again) into one pcap of `bytes`, streamed. */
function writeBigPcap(path: string, bytes: number): { bytes: number; packets: number } {
  const root = join(SHARED_DATA, 'iot-sentinel-train');
  const files: string[] = [];
  for (const dev of readdirSync(root).sort()) {
    const d = join(root, dev);
    if (statSync(d).isDirectory())
      for (const f of readdirSync(d).sort()) if (f.endsWith('.pcap')) files.push(join(d, f));
  }
  const fd = openSync(path, 'w');
  let written = 0;
  let packets = 0;
  try {
    while (written < bytes) {
      for (const f of files) {
        const b = readFileSync(f);
        if (b.readUInt32LE(0) !== 0xa1b2c3d4 || b.readUInt32LE(20) !== 1) continue; // µs, LE, Ethernet
        if (written === 0) written += writeSync(fd, b.subarray(0, 24));
        let off = 24;
        while (off + 16 <= b.length) {
          const cap = b.readUInt32LE(off + 8);
          if (off + 16 + cap > b.length) break;
          off += 16 + cap;
          packets++;
        }
        written += writeSync(fd, b.subarray(24, off));
        if (written >= bytes) break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: written, packets };
}

/** Runs the command, sampling the child's VmHWM (peak resident set, kB) until it exits. */
async function peakRss(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; peakMb: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let peakKb = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // exited between two samples
    }
  };
  const timer = setInterval(sample, 50);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(timer);
  return { code, peakMb: Math.round(peakKb / 1024), stdout, stderr };
}

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
    const input = writeBigPcap(file, TARGET_BYTES);
    const r = await peakRss(
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
