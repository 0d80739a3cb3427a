/**
 * Messages between the embedded database's thread (pglite-thread.ts, which owns the PGlite instance) and
 * its client in the calling thread (pglite-client.ts). Everything here crosses postMessage, so it is
 * plain data: no functions (parsers travel as the type ids that are passed through unparsed), Blobs as
 * transferred ArrayBuffers, errors as their own fields.
 */

import type { TemplatePaths } from './pglite-template.js';

/** `tx` of a request outside any transaction. */
export const NO_TX = 0;

export type RowMode = 'array' | 'object';

export type PgliteRequest =
  /**
   * `templates`: the files a new cluster is loaded from (pglite-template.ts). The reply's value is the
   * cluster's origin (ClusterOrigin).
   */
  | { id: number; op: 'open'; dir: string; schema: string | null; templates: TemplatePaths }
  | {
      id: number;
      op: 'query';
      tx: number;
      sql: string;
      params: unknown[];
      rowMode: RowMode | null;
      /** Type ids whose values come back as PostgreSQL's text, unparsed. */
      rawTypes: number[];
      paramTypes: number[] | null;
      blob: ArrayBuffer | null;
    }
  | { id: number; op: 'exec'; tx: number; sql: string }
  /** Begins a transaction; the reply's value is its `tx`. */
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'dump' }
  /** Saves the cluster as it is now as a template (best effort; see pglite-template.ts). */
  | { id: number; op: 'save-template'; file: string }
  | { id: number; op: 'close' };

export type PgliteReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** A query's results as they cross: PGlite's Results with its blob (COPY … TO '/dev/blob') as bytes. */
export interface WireResults {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
  blob?: ArrayBuffer;
}

/** An error's name, message, stack and own primitive fields (a DatabaseError's code, detail, constraint…). */
export interface SerializedError {
  name: string;
  message: string;
  stack: string | undefined;
  fields: Record<string, string | number | boolean | null>;
  /** A PostgreSQL error (PGlite's DatabaseError), rebuilt as one on the other side. */
  database: boolean;
}

export function serializeError(e: unknown, database: boolean): SerializedError {
  if (!(e instanceof Error))
    return { name: 'Error', message: String(e), stack: undefined, fields: {}, database };
  const fields: SerializedError['fields'] = {};
  for (const [k, v] of Object.entries(e)) {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  }
  return { name: e.name, message: e.message, stack: e.stack, fields, database };
}
