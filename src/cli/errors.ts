/** A command line that is wrong (unknown command or option, missing argument): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

/** Ends the process (or the command's thread) with a runtime error on an unhandled promise rejection. */
export function exitOnUnhandledRejection(): void {
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(
      `iotsec: unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`,
    );
    process.exit(EXIT.runtime);
  });
}
