import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/**
 * The benchmark contract (ARCHITECTURE section 6): one JSON line per comparison,
 * {"group","name","ours","anchor","anchor_value","unit","ratio","goal","ok","quality"}, ratio > 1 meaning
 * IoTSec is better. Each benchmark runs its anchor in the same run on the same input.
 */
export interface BenchResult {
  group: string;
  name: string;
  ours: number;
  anchor: string;
  anchor_value: number | null;
  unit: string;
  /** ours / anchor for "higher is better" units, anchor / ours for "lower is better"; > 1: we are better. */
  ratio: number | null;
  /** The goal as text, e.g. "ratio >= 1" or "<= 10 s". */
  goal: string;
  ok: boolean;
  quality: Record<string, unknown>;
}

export type Direction = 'higher' | 'lower';

export function compare(
  base: Omit<BenchResult, 'ratio' | 'ok'>,
  direction: Direction,
  okWhen: (ratio: number | null, ours: number) => boolean,
): BenchResult {
  const a = base.anchor_value;
  const ratio =
    a === null || a === 0 || base.ours === 0 ? null : direction === 'higher' ? base.ours / a : a / base.ours;
  return {
    ...base,
    ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
    ok: okWhen(ratio, base.ours),
  };
}

export interface Group {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

export interface BenchContext {
  /** Scratch folder for generated inputs (bench/out, not committed). */
  outDir: string;
  sharedData: string;
  emit(r: BenchResult): void;
  log(msg: string): void;
}

/** Wall-clock seconds of a function. */
export async function timed<T>(f: () => Promise<T> | T): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await f();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

/** Runs a command, returns wall seconds (best of `runs`), or null when the tool is missing or fails. */
export function timeCommand(
  cmd: string,
  args: string[],
  runs = 3,
  opts: { cwd?: string } = {},
): number | null {
  let best: number | null = null;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: opts.cwd, timeout: 600_000 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error || r.status !== 0) return null;
    best = best === null ? s : Math.min(best, s);
  }
  return best;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian packages for anchors when missing (root only; the bench says so when it cannot). */
export function ensureDebian(packages: string[], log: (m: string) => void): void {
  const missing = packages.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    log(`anchors missing and not root, skipping their install: ${missing.join(' ')}`);
    return;
  }
  log(`installing anchors: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'ignore',
    env,
  });
}

export function machine(): Record<string, string> {
  const cpu = cpus()[0]?.model ?? 'unknown';
  let kernel = '';
  try {
    kernel = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    kernel = process.platform;
  }
  return {
    cpu: `${cpu} × ${cpus().length}`,
    memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    os: kernel,
  };
}
