import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as CaptureItemsModule from '../src/ingest/capture-items.js';
import {
  compare,
  ensureDebian,
  hasCommand,
  timeCommand,
  timed,
  type BenchResult,
  type Group,
} from './harness.js';
import { buildIotPcap } from './inputs.js';

const ROOT = resolve(import.meta.dirname, '..');
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DIST_CAPTURE_ITEMS = join(ROOT, 'dist', 'src', 'ingest', 'capture-items.js');

/**
 * Production runs the compiled build (dist/, `npm run build`), not the sources through tsx (whose loader
 * hooks, on-the-fly compile of the whole CLI and __name wrappers cost seconds of start-up and some
 * throughput), so the bench builds once and measures that. Returns whether dist/ is fresh; tsc emits even
 * when some unrelated file fails to type-check, which is reported but does not stop the bench.
 */
function buildDist(log: (m: string) => void): boolean {
  const t0 = Date.now();
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  const fresh = existsSync(DIST_CAPTURE_ITEMS) && statSync(DIST_CAPTURE_ITEMS).mtimeMs >= t0 - 1000;
  if (r.status !== 0)
    log(
      `npm run build reported errors${fresh ? ' (output emitted anyway)' : ''}: ${(r.stdout || r.stderr).slice(0, 400)}`,
    );
  if (!fresh) log('dist/ not built: measuring the TypeScript sources through tsx instead');
  return fresh;
}

/** pcap → flows in memory, and the whole `iotsec ingest` into PGlite and PostgreSQL, against the anchors. */
export const ingestGroup: Group = {
  name: 'ingest',
  description:
    'pcap → flows throughput against tshark, nfpcapd and softflowd on 1.17 M packets of real IoT captures. ' +
    'Ours runs the compiled build (dist/, built once by the bench) like production: the in-memory loop ' +
    'imports it and `iotsec ingest` runs with IOTSEC_USE_DIST=1.',
  async run(ctx) {
    ensureDebian(['tshark', 'softflowd', 'nfdump'], ctx.log);
    const input = buildIotPcap(ctx.sharedData, ctx.outDir);
    const mb = input.bytes / 1e6;
    ctx.log(`input: ${input.packets} packets, ${mb.toFixed(1)} MB (${input.path})`);
    const useDist = buildDist(ctx.log);
    const { captureItems } = (
      useDist
        ? await import(pathToFileURL(DIST_CAPTURE_ITEMS).href)
        : await import('../src/ingest/capture-items.js')
    ) as typeof CaptureItemsModule;
    const results: BenchResult[] = [];
    const emit = (r: BenchResult) => {
      results.push(r);
      ctx.emit(r);
    };

    // Ours, in memory: decode, flow table, observations (best of 3; peak RSS sampled).
    let best = Infinity;
    let flows = 0;
    let peakRss = 0;
    for (let i = 0; i < 3; i++) {
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
      const { seconds, value } = await timed(async () => {
        let n = 0;
        for await (const b of captureItems(createReadStream(input.path, { highWaterMark: 1 << 20 }), {
          source: 'bench',
          batchItems: 50_000,
        })) {
          for (const it of b.items) if (it.kind === 'flow') n++;
        }
        return n;
      });
      clearInterval(sampler);
      best = Math.min(best, seconds);
      flows = value;
    }
    const oursPps = input.packets / best;
    ctx.log(
      `ours: ${best.toFixed(2)} s, ${Math.round(oursPps)} packets/s, ${flows} flows, peak RSS ${Math.round(peakRss / 1e6)} MB`,
    );
    const quality = {
      compiled: useDist,
      packets: input.packets,
      flows,
      mb_per_s: Math.round((mb / best) * 10) / 10,
      peak_rss_mb: Math.round(peakRss / 1e6),
    };

    const anchors: {
      name: string;
      cmd: string;
      args: string[];
      goal: string;
      ok: (r: number | null) => boolean;
    }[] = [
      {
        name: 'read limit (cat)',
        cmd: 'sh',
        args: ['-c', `cat '${input.path}' > /dev/null`],
        goal: 'report only',
        ok: () => true,
      },
      {
        name: 'tshark conv,ip',
        cmd: 'tshark',
        args: ['-n', '-r', input.path, '-q', '-z', 'conv,ip'],
        goal: 'ratio >= 2',
        ok: (r) => (r ?? 0) >= 2,
      },
      {
        name: 'nfpcapd',
        cmd: 'nfpcapd',
        args: ['-r', input.path, '-w', mkdtempSync(join(ctx.outDir, 'nfpcapd-'))],
        goal: 'ratio >= 1',
        ok: (r) => (r ?? 0) >= 1,
      },
      {
        name: 'softflowd -r',
        cmd: 'softflowd',
        args: ['-r', input.path, '-n', '127.0.0.1:9', '-v', '9'],
        goal: 'report only',
        ok: () => true,
      },
    ];
    for (const a of anchors) {
      const have = a.cmd === 'sh' || hasCommand(a.cmd);
      const secs = have ? timeCommand(a.cmd, a.args, a.cmd === 'tshark' ? 1 : 3) : null;
      const anchorPps = secs === null ? null : input.packets / secs;
      emit(
        compare(
          {
            group: 'ingest',
            name: `pcap → flows in memory vs ${a.name}`,
            ours: Math.round(oursPps),
            anchor: a.name,
            anchor_value: anchorPps === null ? null : Math.round(anchorPps),
            unit: 'packets/s',
            goal: a.goal,
            quality: { ...quality, anchor_seconds: secs, anchor_missing: !have },
          },
          'higher',
          (r) => a.ok(r),
        ),
      );
    }

    // The whole command into a database, PGlite (embedded default) and PostgreSQL.
    const tsharkSecs = hasCommand('tshark')
      ? timeCommand('tshark', ['-n', '-r', input.path, '-q', '-z', 'conv,ip'], 1)
      : null;
    const tsharkPps = tsharkSecs === null ? null : input.packets / tsharkSecs;
    const engines: { name: string; env: Record<string, string> }[] = [{ name: 'PGlite', env: {} }];
    const schema = `bench_${Date.now().toString(36)}`;
    engines.push({ name: 'PostgreSQL', env: { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema } });
    for (const e of engines) {
      const dataDir = mkdtempSync(join(ctx.outDir, 'data-'));
      const t0 = process.hrtime.bigint();
      const r = spawnSync(
        process.execPath,
        [join(ROOT, 'bin', 'iotsec.js'), 'ingest', '--json', input.path],
        {
          env: {
            ...process.env,
            ...e.env,
            DATA_DIR: dataDir,
            LOG_LEVEL: 'warn',
            IOTSEC_USE_DIST: useDist ? '1' : '0',
          },
          encoding: 'utf8',
          timeout: 1_800_000,
        },
      );
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      rmSync(dataDir, { recursive: true, force: true });
      if (e.name === 'PostgreSQL')
        spawnSync('psql', [PG_URL, '-qc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { stdio: 'ignore' });
      if (r.status !== 0) {
        ctx.log(`iotsec ingest on ${e.name} failed: ${r.stderr.slice(0, 400)}`);
        continue;
      }
      const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { flows?: number };
      const pps = input.packets / secs;
      ctx.log(
        `iotsec ingest → ${e.name}: ${secs.toFixed(1)} s, ${Math.round(pps)} packets/s, ${summary.flows} flows stored`,
      );
      emit(
        compare(
          {
            group: 'ingest',
            name: `iotsec ingest into ${e.name} vs tshark conv,ip`,
            ours: Math.round(pps),
            anchor: 'tshark conv,ip',
            anchor_value: tsharkPps === null ? null : Math.round(tsharkPps),
            unit: 'packets/s',
            goal: 'ratio >= 2',
            quality: {
              seconds: Math.round(secs * 10) / 10,
              flows_stored: summary.flows ?? null,
              compiled: useDist,
            },
          },
          'higher',
          (ratio) => (ratio ?? 0) >= 2,
        ),
      );
    }
    return results;
  },
};
