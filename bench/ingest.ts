import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { peakRss, writeBigPcap } from '../src/test-support/big-capture.js';
import type * as FileBatchesModule from '../src/ingest/file-batches.js';
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
import { flowExportDatagrams } from './netflow-gen.js';

const ROOT = resolve(import.meta.dirname, '..');
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DIST_FILE_BATCHES = join(ROOT, 'dist', 'src', 'ingest', 'file-batches.js');

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
  const fresh = existsSync(DIST_FILE_BATCHES) && statSync(DIST_FILE_BATCHES).mtimeMs >= t0 - 1000;
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
    'pcap → flows throughput against tshark, nfpcapd and softflowd on 1.17 M packets of real IoT captures; ' +
    '`iotsec ingest` into PGlite and PostgreSQL against tshark; NetFlow v9 + IPFIX records received and ' +
    'stored by `iotsec collect` (synthetic exporters over loopback UDP); peak resident memory of `iotsec ' +
    'ingest` on a 2 GB capture (written for the run, deleted after). Ours runs the compiled build (dist/, ' +
    'built once by the bench) like production: the in-memory loop imports it and the commands run with ' +
    'IOTSEC_USE_DIST=1.',
  async run(ctx) {
    ensureDebian(['tshark', 'softflowd', 'nfdump'], ctx.log);
    const input = buildIotPcap(ctx.sharedData, ctx.outDir);
    const mb = input.bytes / 1e6;
    ctx.log(`input: ${input.packets} packets, ${mb.toFixed(1)} MB (${input.path})`);
    const useDist = buildDist(ctx.log);
    const { fileBatches } = (
      useDist
        ? await import(pathToFileURL(DIST_FILE_BATCHES).href)
        : await import('../src/ingest/file-batches.js')
    ) as typeof FileBatchesModule;
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
        // The file reader of `iotsec ingest` (its decode thread runs the same), here on this thread.
        for await (const { batch } of fileBatches({
          file: input.path,
          name: input.path,
          gzip: false,
          batchItems: 50_000,
        })) {
          for (const it of batch.items) if (it.kind === 'flow') n++;
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

    const nf = await netflowIntoPostgres(ctx, useDist);
    if (nf) emit(nf);
    for (const r of await bigCaptureRss(ctx, useDist)) emit(r);
    return results;
  },
};

const NETFLOW_GOAL = 100_000;

/**
 * NetFlow v9 + IPFIX records/s received and stored: `iotsec collect --netflow PORT` (its own process, like
 * production) writing to PostgreSQL, fed over loopback UDP by two synthetic exporters (one v9, one IPFIX,
 * ~1.4 KB datagrams) at an offered rate above the goal. The figure is records stored in network_traffic per
 * second from the first datagram sent to the last row stored; records lost on the way (UDP drops, buffer
 * overflow) are reported beside it, with the collector's own account of where (its sources row).
 * Investigation: NETFLOW_PROFILE=DIR CPU-profiles the collector (both threads), NETFLOW_LOG_LEVEL=debug logs
 * each batch's write and after-commit times, NETFLOW_LOG=N prints the last N characters of its output.
 */
export async function netflowIntoPostgres(
  ctx: Parameters<Group['run']>[0],
  useDist: boolean,
): Promise<BenchResult | null> {
  const rate = Number(process.env.NETFLOW_RATE ?? 150_000); // offered records/s
  const seconds = Number(process.env.NETFLOW_SECONDS ?? 4);
  const total = Math.round(rate * seconds);
  const schema = `bench_nf_${Date.now().toString(36)}`;
  const dataDir = mkdtempSync(join(ctx.outDir, 'data-'));
  const port = await freeUdpPort();
  // Recent flows, as live exporters send them (the collector re-dates flows a day or more off its clock);
  // the 300k records of each exporter span 5 minutes of export time, ending about now.
  const startMs = Date.now() - 5 * 60_000;
  const grams = [
    flowExportDatagrams({ protocol: 'ipfix', records: Math.ceil(total / 2), startMs, seed: 1, domain: 1 }),
    flowExportDatagrams({ protocol: 'v9', records: Math.floor(total / 2), startMs, seed: 2, domain: 2 }),
  ];
  const profile = process.env.NETFLOW_PROFILE; // a folder: CPU-profile the collector (investigation)
  const args = [join(ROOT, 'bin', 'iotsec.js'), 'collect', '--netflow', String(port)];
  if (profile) args.unshift('--cpu-prof', `--cpu-prof-dir=${profile}`);
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: schema,
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.NETFLOW_LOG_LEVEL ?? 'info',
      IOTSEC_USE_DIST: useDist ? '1' : '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const pg = (await import('pg')).default;
  const db = new pg.Client({ connectionString: PG_URL });
  const sock = dgram.createSocket('udp4');
  try {
    const t0 = Date.now();
    while (!out.includes('collector listening')) {
      if (child.exitCode !== null || Date.now() - t0 > 60_000) {
        ctx.log(`iotsec collect did not start: ${out.slice(-400)}`);
        return null;
      }
      await sleep(50);
    }
    await db.connect();
    // Progress from the collector's own count, saved in the same transaction as the flows (a count(*) of
    // the growing table every 200 ms took a third of a core from the database under test); the rows
    // themselves are counted once at the end.
    const written = async (): Promise<number> =>
      Number(
        (
          await db.query<{ n: string | null }>(
            `SELECT stats->>'flows_written' AS n FROM "${schema}".sources WHERE kind = 'netflow' LIMIT 1`,
          )
        ).rows[0]?.n ?? 0,
      );
    const count = async (): Promise<number> =>
      Number(
        (await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".network_traffic`)).rows[0]?.n ??
          0,
      );
    // Paced sending: both exporters interleaved, a slice every 5 ms.
    const sendStart = performance.now();
    const perSlice = Math.max(1, Math.round((rate * 0.005) / 24)); // datagrams per 5 ms over both exporters
    const idx = [0, 0];
    let sentRecords = 0;
    let slice = 0;
    const countDone = { n: 0, at: sendStart };
    while (idx[0]! < grams[0]!.length || idx[1]! < grams[1]!.length) {
      for (let k = 0; k < perSlice; k++) {
        const e = k % 2;
        const list = grams[e]!;
        const i = idx[e]!;
        if (i >= list.length) continue;
        idx[e] = i + 1;
        await new Promise<void>((res) => sock.send(list[i]!, port, '127.0.0.1', () => res()));
      }
      slice++;
      const due = sendStart + slice * 5;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    sentRecords = total;
    const sendSeconds = (performance.now() - sendStart) / 1000;
    // Wait for the rows: until all are stored, or nothing new for 20 s (longer than a batch takes: with 5 s,
    // records still on their way were counted as lost).
    for (;;) {
      await sleep(200);
      const n = await written();
      if (n > countDone.n) {
        countDone.n = n;
        countDone.at = performance.now();
      }
      if (n >= sentRecords || performance.now() - countDone.at > 20_000) break;
    }
    const rows = await count();
    if (rows !== countDone.n)
      ctx.log(`netflow: the collector says ${countDone.n} written, the table has ${rows}`);
    countDone.n = Math.min(countDone.n, rows);
    const secs = (countDone.at - sendStart) / 1000;
    // What the collector itself counted (received records, sink drops), from its sources row.
    const row = (
      await db.query<{
        stats: {
          records?: number;
          dropped?: number;
          sink_dropped?: number;
          queueDropped?: number;
          socketDrops?: number | null;
          recvBufferSize?: number | null;
          errors?: Record<string, number>;
        };
      }>(`SELECT stats FROM "${schema}".sources WHERE kind = 'netflow' LIMIT 1`)
    ).rows[0]?.stats;
    const perSec = secs > 0 ? countDone.n / secs : 0;
    const lost = sentRecords - countDone.n;
    ctx.log(
      `netflow: offered ${rate}/s for ${sendSeconds.toFixed(1)} s (${sentRecords} records), stored ${countDone.n} in ${secs.toFixed(1)} s = ${Math.round(perSec)} records/s, lost ${lost}`,
    );
    return compare(
      {
        group: 'ingest',
        name: 'NetFlow v9 + IPFIX records received and stored (iotsec collect → PostgreSQL)',
        ours: Math.round(perSec),
        anchor: 'goal',
        anchor_value: NETFLOW_GOAL,
        unit: 'records/s',
        goal: `>= ${NETFLOW_GOAL} records/s, none lost`,
        quality: {
          offered_per_s: rate,
          sent: sentRecords,
          stored: countDone.n,
          lost,
          send_seconds: Math.round(sendSeconds * 10) / 10,
          seconds: Math.round(secs * 10) / 10,
          datagrams: grams[0]!.length + grams[1]!.length,
          received: row?.records ?? null,
          // Dropped inside the collector (its queue to the writing thread, its write buffer), and by the
          // kernel on a full socket receive buffer (datagrams, not records).
          dropped: row?.dropped ?? null,
          queue_dropped: row?.queueDropped ?? null,
          sink_dropped: row?.sink_dropped ?? null,
          socket_dropped_datagrams: row?.socketDrops ?? null,
          recv_buffer_bytes: row?.recvBufferSize ?? null,
          compiled: useDist,
        },
      },
      'higher',
      (_ratio, ours) => ours >= NETFLOW_GOAL && lost === 0,
    );
  } finally {
    sock.close();
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (process.env.NETFLOW_LOG) ctx.log(out.slice(-Number(process.env.NETFLOW_LOG) || -8000));
    await db.end().catch(() => undefined);
    spawnSync('psql', [PG_URL, '-qc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { stdio: 'ignore' });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const RSS_GOAL_MB = 300;

/**
 * Peak resident memory of `iotsec ingest` (a child process, into PostgreSQL) on a 2 GB pcap written for the
 * run (the IoT Sentinel captures repeated; deleted afterwards), read from /proc/PID/status (VmHWM, the whole
 * process: its threads included), as launched by default. The command runs in a worker thread whose heap is
 * capped by INGEST_HEAP_MB (default 160) and decodes in another (src/cli/isolated.ts).
 */
async function bigCaptureRss(ctx: Parameters<Group['run']>[0], useDist: boolean): Promise<BenchResult[]> {
  if (process.platform !== 'linux') return [];
  const bytes = Number(process.env.BIG_PCAP_MB ?? 2000) * 1e6;
  const dir = mkdtempSync(join(ctx.outDir, 'big-'));
  const out: BenchResult[] = [];
  try {
    const file = join(dir, 'big.pcap');
    const input = writeBigPcap(ctx.sharedData, file, bytes);
    const schema = `bench_rss_${Date.now().toString(36)}`;
    const args = [join(ROOT, 'bin', 'iotsec.js'), 'ingest', '--json', file];
    const t0 = performance.now();
    const r = await peakRss(ROOT, args, {
      ...process.env,
      DATABASE_URL: PG_URL,
      DATABASE_SCHEMA: schema,
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
      IOTSEC_USE_DIST: useDist ? '1' : '0',
    });
    const secs = (performance.now() - t0) / 1000;
    spawnSync('psql', [PG_URL, '-qc', `DROP SCHEMA IF EXISTS ${schema} CASCADE`], { stdio: 'ignore' });
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as {
      flows?: number;
      packets?: number;
    };
    const how = 'default launch';
    if (r.code !== 0) ctx.log(`iotsec ingest failed: ${r.stderr.slice(-800)}`);
    ctx.log(
      `2 GB ingest (${how}): exit ${r.code}, peak RSS ${r.peakMb} MB, ${secs.toFixed(1)} s, ${summary.flows} flows`,
    );
    out.push(
      compare(
        {
          group: 'ingest',
          name: `iotsec ingest of a ${Math.round(input.bytes / 1e6)} MB pcap into PostgreSQL: peak RSS (${how})`,
          ours: r.code === 0 ? r.peakMb : 0,
          anchor: 'goal',
          anchor_value: RSS_GOAL_MB,
          unit: 'MB',
          goal: `< ${RSS_GOAL_MB} MB`,
          quality: {
            exit_code: r.code,
            packets: input.packets,
            packets_stored: summary.packets ?? null,
            flows: summary.flows ?? null,
            seconds: Math.round(secs * 10) / 10,
            ingest_heap_mb: Number(process.env.INGEST_HEAP_MB ?? 160),
            compiled: useDist,
          },
        },
        'lower',
        (_ratio, ours) => r.code === 0 && ours < RSS_GOAL_MB,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
