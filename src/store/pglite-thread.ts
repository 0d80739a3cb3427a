/**
 * Entry of the embedded database's thread (started by pglite-client.ts). The PGlite instance lives here, so
 * the database's own work (PostgreSQL compiled to WASM, which runs on the thread that calls it) happens
 * beside the caller's thread, as a PostgreSQL server's would on its own process: an ingest decodes the next
 * batch while this thread commits the last one, and the API answers while a batch is written.
 *
 * Requests are served as they come; PGlite itself runs one statement at a time and holds every other
 * request back while a transaction is open, exactly as it does when called in-thread. A transaction is
 * begun here on the client's request and stays open, its statements run on it, until the client ends it.
 */
import { parentPort } from 'node:worker_threads';
import {
  messages,
  type PGlite,
  type QueryOptions,
  type Results,
  type Transaction,
} from '@electric-sql/pglite';
import {
  NO_TX,
  serializeError,
  type PgliteReply,
  type PgliteRequest,
  type WireResults,
} from './pglite-protocol.js';
import { openPglite, saveTemplate } from './pglite-template.js';

const INT8_OID = 20;

const port = parentPort;
if (!port) throw new Error('pglite-thread.ts runs as a worker thread');

let db: PGlite | null = null;

/** Open transactions by id: their handle and how to end them. */
const open = new Map<number, { tx: Transaction; end: (commit: boolean) => void; done: Promise<void> }>();
/** Thrown inside PGlite's transaction callback to make it roll back. */
const ROLLBACK = Symbol('rollback');

function database(): PGlite {
  if (!db) throw new Error('the embedded database is not open');
  return db;
}

function target(tx: number): PGlite | Transaction {
  if (tx === NO_TX) return database();
  const t = open.get(tx);
  if (!t) throw new Error(`transaction ${tx} is not open`);
  return t.tx;
}

async function wire(r: Results): Promise<WireResults> {
  const out: WireResults = { rows: r.rows, fields: r.fields };
  if (r.affectedRows !== undefined) out.affectedRows = r.affectedRows;
  if (r.blob) out.blob = await r.blob.arrayBuffer();
  return out;
}

async function begin(id: number): Promise<number> {
  let end: (commit: boolean) => void = () => undefined;
  const ended = new Promise<boolean>((resolve) => (end = resolve));
  let begun: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (begun = resolve));
  const done = database()
    .transaction(async (tx) => {
      open.set(id, { tx, end, done });
      begun();
      if (!(await ended)) throw ROLLBACK;
    })
    .then(
      () => undefined,
      (e: unknown) => {
        if (e !== ROLLBACK) throw e;
      },
    )
    .finally(() => open.delete(id));
  // Rejects when BEGIN failed (the callback never ran).
  await Promise.race([started, done]);
  return id;
}

async function serve(req: PgliteRequest): Promise<unknown> {
  switch (req.op) {
    case 'open': {
      const opened = await openPglite(
        req.dir,
        // int8 as a JS number, as the pg pool is set up: both engines return the same shapes.
        { parsers: { [INT8_OID]: (v: string) => Number(v) } },
        req.templates,
      );
      db = opened.db;
      if (req.schema)
        await db.exec(
          `CREATE SCHEMA IF NOT EXISTS "${req.schema}"; SET search_path TO "${req.schema}", public;`,
        );
      return opened.origin;
    }
    case 'query': {
      const opts: QueryOptions = {};
      if (req.rowMode) opts.rowMode = req.rowMode;
      if (req.rawTypes.length > 0) {
        const parsers: NonNullable<QueryOptions['parsers']> = {};
        for (const t of req.rawTypes) parsers[t] = (v: string) => v;
        opts.parsers = parsers;
      }
      if (req.paramTypes) opts.paramTypes = req.paramTypes;
      if (req.blob) opts.blob = new Blob([req.blob]);
      return wire(await target(req.tx).query(req.sql, req.params, opts));
    }
    case 'exec':
      return Promise.all((await target(req.tx).exec(req.sql)).map(wire));
    case 'begin':
      return begin(req.id);
    case 'end': {
      const t = open.get(req.tx);
      if (!t) throw new Error(`transaction ${req.tx} is not open`);
      t.end(req.commit);
      await t.done;
      return null;
    }
    case 'save-template':
      await saveTemplate(database(), req.file);
      return null;
    case 'dump':
      return (await database().dumpDataDir('gzip')).arrayBuffer();
    case 'close':
      await db?.close();
      db = null;
      return null;
  }
}

port.on('message', (req: PgliteRequest) => {
  serve(req).then(
    (value) => {
      const reply: PgliteReply = { id: req.id, ok: true, value };
      port.postMessage(reply, buffersOf(value));
    },
    (e: unknown) => {
      const reply: PgliteReply = {
        id: req.id,
        ok: false,
        error: serializeError(e, e instanceof messages.DatabaseError),
      };
      port.postMessage(reply);
    },
  );
});

/** The bytes a reply hands over rather than copies: a dump, and the blobs of COPY … TO results. */
function buffersOf(value: unknown): ArrayBuffer[] {
  if (value instanceof ArrayBuffer) return [value];
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((r) => (isWire(r) && r.blob ? [r.blob] : []));
}

function isWire(v: unknown): v is WireResults {
  return typeof v === 'object' && v !== null && 'rows' in v && 'fields' in v;
}
