import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { projectRoot } from '../store/db.js';

/**
 * The built web app (web/dist) served by the API role: hashed files under /assets/ are cached for a year
 * (immutable), index.html is revalidated on every load (no-cache), and any other GET outside /api and /docs
 * answers index.html so the React router handles deep links. When web/dist is missing the fallback answers
 * the JSON 404 like any unknown route.
 */

export const webRoot = () => join(projectRoot(), 'web');
export const webDist = () => join(webRoot(), 'dist');

const ASSET = /^[A-Za-z0-9._-]+$/;
const TOP_LEVEL_FILE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.[A-Za-z0-9]+$/;
const NOT_SPA = /^\/(?:api|docs|ws|healthz|readyz|metrics)(?:[/?#]|$)/;

export const webRoutes: FastifyPluginAsync<{ dist?: string }> = async (app, opts) => {
  const dist = opts.dist ?? webDist();
  await app.register(fastifyStatic, { root: dist, serve: false });

  const sendIndex = (reply: FastifyReply) => {
    if (!existsSync(join(dist, 'index.html'))) return reply.callNotFound();
    void reply.header('cache-control', 'no-cache');
    return reply.type('text/html; charset=utf-8').sendFile('index.html', { cacheControl: false });
  };

  app.get('/assets/*', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    if (!ASSET.test(name) || !existsSync(join(dist, 'assets', name))) return reply.callNotFound();
    return reply.sendFile(join('assets', name), { immutable: true, maxAge: '365d' });
  });

  app.get('/*', { config: { access: 'public' }, schema: { hide: true } }, async (request, reply) => {
    if (NOT_SPA.test(request.url)) return reply.callNotFound();
    const path = (request.params as { '*': string })['*'];
    if (path === '' || path === 'index.html') return sendIndex(reply);
    if (TOP_LEVEL_FILE.test(path)) {
      // favicon.svg, robots.txt: files in the root of the build, revalidated hourly.
      if (!existsSync(join(dist, path))) return reply.callNotFound();
      return reply.sendFile(path, { maxAge: '1h' });
    }
    return sendIndex(reply);
  });
};

interface BuildLog {
  info(msg: string): void;
  warn(msg: string): void;
}

function newestMtime(dir: string, skip: (name: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip(entry.name)) continue;
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p, skip) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Why web/dist must be (re)built, or null when it is up to date (or there are no sources to build from). */
export function webBuildReason(root = webRoot()): string | null {
  const src = join(root, 'src');
  if (!existsSync(src)) return null; // an image that ships only web/dist
  const index = join(root, 'dist', 'index.html');
  if (!existsSync(index)) return 'web/dist is missing';
  const built = statSync(index).mtimeMs;
  const sources = Math.max(
    newestMtime(src, (n) => n.includes('.test.')),
    ...['index.html', 'vite.config.ts'].map((f) =>
      existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0,
    ),
  );
  return sources > built ? 'web/src changed since the last build' : null;
}

let building: Promise<boolean> | null = null;

/**
 * Builds the web app with Vite when web/dist is missing or older than a file under web/src. The build goes
 * to a temporary folder that then replaces web/dist, so a concurrent reader (or a second process building at
 * the same time) never sees half a build. Resolves true when it built, false when nothing was needed; a failed
 * build is logged and the API starts anyway (the dashboard stays unavailable, the API does not).
 */
/** Runs Vite's production build of web/ into `outDir`. */
async function viteBuild(root: string, outDir: string): Promise<void> {
  // Vite and the React plugin honour an existing NODE_ENV (vitest sets "test"): build for production always.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    const vite = await import('vite');
    await vite.build({
      configFile: join(root, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true },
    });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

export function ensureWebBuild(log?: BuildLog): Promise<boolean> {
  building ??= (async () => {
    const root = webRoot();
    const reason = webBuildReason(root);
    if (!reason) return false;
    log?.info(`building the web app (${reason})`);
    const started = Date.now();
    const tmp = join(root, `dist.tmp-${process.pid}-${started.toString(36)}`);
    try {
      await viteBuild(root, tmp);
      rmSync(join(root, 'dist'), { recursive: true, force: true });
      renameSync(tmp, join(root, 'dist'));
      log?.info(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return true;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (webBuildReason(root) === null) return true; // a concurrent build (another process) won the rename
      log?.warn(`web app build failed: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  })().finally(() => {
    building = null;
  });
  return building;
}
