import type { Worker } from 'node:worker_threads';
import { messages, type QueryOptions, type Results } from '@electric-sql/pglite';
import { moduleWorker } from '../threads/module-worker.js';
import {
  NO_TX,
  type PgliteReply,
  type PgliteRequest,
  type SerializedError,
  type WireResults,
} from './pglite-protocol.js';
import type { ClusterOrigin, TemplatePaths } from './pglite-template.js';

/** A request before its id is given. */
type Request = PgliteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** What queries run on: the database, or one of its open transactions. */
export interface PgliteQueryable {
  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec(sql: string): Promise<Results[]>;
}

/**
 * The embedded database (PGlite) on a thread of its own (pglite-thread.ts), with the part of PGlite's
 * interface that drizzle and the store use: query, exec, transaction, dumpDataDir, close. PGlite runs
 * PostgreSQL as WASM on the thread that calls it; in-thread, every statement stops the caller (an ingest's
 * decoding, the API's event loop) for as long as the database works. Here the caller goes on.
 *
 * Behaviour is PGlite's own: statements run one at a time, a transaction holds back every other request
 * until it ends, errors are PGlite's DatabaseError with the same fields. What cannot cross a thread is
 * refused: a result parser must pass values through unchanged (drizzle's do: it parses dates itself), and
 * serializers and notice callbacks are not supported. The thread holds the process open only while a
 * request is under way, as the in-thread database does.
 */
export class PgliteThreadClient implements PgliteQueryable {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stopped: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (r: PgliteReply) => this.settle(r));
    worker.on('error', (e: Error) => this.stop(e));
    worker.on('exit', (code: number) =>
      this.stop(new Error(`the embedded database thread exited (code ${code})`)),
    );
    worker.unref();
  }

  /** How the cluster came to be: opened as it was, or made new from a template or by initdb. */
  origin: ClusterOrigin = 'existing';

  /**
   * Opens (creating when missing) the database in `dir` ("memory://…" for one in memory); a new one starts
   * from a template when one is given and usable (pglite-template.ts).
   */
  static async open(
    dir: string,
    schema: string | null,
    templates: TemplatePaths = { base: null, migrated: null },
  ): Promise<PgliteThreadClient> {
    const client = new PgliteThreadClient(moduleWorker(new URL('./pglite-thread.js', import.meta.url)));
    try {
      client.origin = (await client.call({ op: 'open', dir, schema, templates })) as ClusterOrigin;
    } catch (e) {
      await client.worker.terminate();
      throw e;
    }
    return client;
  }

  /** Saves the cluster as it is now as a template (best effort: a failure is ignored). */
  async saveTemplate(file: string): Promise<void> {
    await this.call({ op: 'save-template', file });
  }

  /** Statements outside any transaction. */
  private readonly outside = new ThreadQueryable(this, NO_TX);

  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.outside.query<T>(sql, params, options);
  }

  exec(sql: string): Promise<Results[]> {
    return this.outside.exec(sql);
  }

  /** Runs `f` in a transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(f: (tx: PgliteQueryable) => Promise<T>): Promise<T> {
    const tx = (await this.call({ op: 'begin' })) as number;
    let value: T;
    try {
      value = await f(new ThreadQueryable(this, tx));
    } catch (e) {
      await this.call({ op: 'end', tx, commit: false }).catch(() => undefined);
      throw e;
    }
    await this.call({ op: 'end', tx, commit: true });
    return value;
  }

  /** A tar.gz of the database directory (PGlite's dumpDataDir). */
  async dumpDataDir(): Promise<Blob> {
    return new Blob([(await this.call({ op: 'dump' })) as ArrayBuffer]);
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.call({ op: 'close' });
    } finally {
      this.stopped = new Error('the embedded database is closed');
      await this.worker.terminate();
    }
  }

  /** @internal Sends a request; resolves with its reply's value. */
  call(req: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  private settle(r: PgliteReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.worker.unref();
    if (r.ok) p.resolve(r.value);
    else p.reject(rebuildError(r.error));
  }

  private stop(e: Error): void {
    this.stopped ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/** Where a PgliteThreadClient's statements run: outside any transaction (NO_TX) or inside an open one. */
class ThreadQueryable implements PgliteQueryable {
  constructor(
    private readonly client: PgliteThreadClient,
    private readonly tx: number,
  ) {}

  async query<T>(sql: string, params: unknown[] = [], options: QueryOptions = {}): Promise<Results<T>> {
    if (options.serializers || options.onNotice)
      throw new Error('serializers and notice callbacks cannot cross to the database thread');
    const blob = options.blob ? await options.blob.arrayBuffer() : null;
    const r = await this.client.call(
      {
        op: 'query',
        tx: this.tx,
        sql,
        params,
        rowMode: options.rowMode ?? null,
        rawTypes: passThroughTypes(options.parsers),
        paramTypes: options.paramTypes ?? null,
        blob,
      },
      blob ? [blob] : [],
    );
    return results(r as WireResults) as Results<T>;
  }

  async exec(sql: string): Promise<Results[]> {
    return ((await this.client.call({ op: 'exec', tx: this.tx, sql })) as WireResults[]).map(results);
  }
}

const PROBE = '\u0000probe';

/** The type ids of result parsers that pass values through (the only kind that can cross a thread). */
function passThroughTypes(parsers: QueryOptions['parsers']): number[] {
  const out: number[] = [];
  for (const [type, parse] of Object.entries(parsers ?? {})) {
    if (parse(PROBE) !== PROBE)
      throw new Error(
        `a parser for type ${type} cannot cross to the database thread (only pass-through ones can)`,
      );
    out.push(Number(type));
  }
  return out;
}

function results(w: WireResults): Results {
  const r: Results = { rows: w.rows as Results['rows'], fields: w.fields };
  if (w.affectedRows !== undefined) r.affectedRows = w.affectedRows;
  if (w.blob) r.blob = new Blob([w.blob]);
  return r;
}

/** The error raised in the database thread, rebuilt here (a PostgreSQL error as PGlite's DatabaseError). */
export function rebuildError(s: SerializedError): Error {
  const e: Error = s.database
    ? new messages.DatabaseError(s.message, Number(s.fields.length ?? 0), 'error')
    : Object.assign(new Error(s.message), { name: s.name });
  Object.assign(e, s.fields);
  if (s.stack) e.stack = s.stack;
  return e;
}
