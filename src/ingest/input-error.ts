/** A file that cannot be ingested (missing, unknown content, corrupt gzip, gzip bomb), naming the byte offset. */
export class IngestInputError extends Error {
  override readonly name = 'IngestInputError';
  constructor(
    readonly file: string,
    message: string,
    readonly offset = 0,
  ) {
    super(`${file}: ${message}${offset ? ` at byte ${offset}` : ''}`);
  }
}
