/** A command line that is wrong (unknown command or option, missing argument): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;
