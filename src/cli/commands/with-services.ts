import { openServices, type Services } from '../../api/context.js';
import type { Actor } from '../../auth/users.js';
import { loadConfig } from '../../config.js';

/** The actor for changes made from the command line: the operator's OS user. */
export function cliActor(): Actor {
  return { id: null, name: `cli:${process.env.USER ?? process.env.LOGNAME ?? 'unknown'}` };
}

export async function withServices<T>(f: (s: Services) => Promise<T>): Promise<T> {
  const services = await openServices(loadConfig());
  try {
    return await f(services);
  } finally {
    await services.close();
  }
}
