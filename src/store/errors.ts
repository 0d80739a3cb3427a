/** The embedded database's directory is held by another live process (PGlite has no lock of its own). */
export class StoreLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dir} is in use by process ${pid}; run one IoTSec process per DATA_DIR, ` +
        'or set DATABASE_URL to share a PostgreSQL server between processes',
    );
  }
}
