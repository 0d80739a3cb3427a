import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running one of our modules, given the URL of its compiled `.js` beside the caller
 * (`new URL('./x.js', import.meta.url)`). From the compiled build that file is loaded as is; from the
 * TypeScript sources (tsx: `npm start` without a build, tests) the worker registers tsx first and loads
 * the `.ts` file, since loader hooks of the parent thread do not reach a worker.
 */
export function moduleWorker(jsUrl: URL, options: WorkerOptions = {}): Worker {
  const callerIsTs = jsUrl.href.endsWith('.js') && !import.meta.url.endsWith('.js');
  if (!callerIsTs) return new Worker(jsUrl, options);
  const entry = jsUrl.href.replace(/\.js$/, '.ts');
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`,
    { ...options, eval: true },
  );
}
