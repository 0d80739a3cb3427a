import type { Kv } from '../bus/types.js';
import { AppError } from '../errors.js';

/**
 * Failed-login limiter: at most `maxFailures` failures per minute per account and per client IP. The next
 * attempt inside the window gets LOGIN_RATE_LIMITED (429) with Retry-After, before the password is even
 * checked, so guessing cannot continue by waiting for the hash to answer.
 */
export class LoginLimiter {
  constructor(
    private readonly kv: Kv,
    private readonly maxFailures: number,
    private readonly windowMs = 60_000,
  ) {}

  private keys(username: string, ip: string) {
    return [`login-block:user:${username.toLowerCase()}`, `login-block:ip:${ip}`];
  }

  async check(username: string, ip: string): Promise<void> {
    const now = Date.now();
    for (const k of this.keys(username, ip)) {
      const until = Number(await this.kv.get(k));
      if (until > now) {
        throw new AppError('LOGIN_RATE_LIMITED', undefined, undefined, {
          'retry-after': String(Math.max(1, Math.ceil((until - now) / 1000))),
        });
      }
    }
  }

  async failed(username: string, ip: string): Promise<void> {
    const counters = [`login-fail:user:${username.toLowerCase()}`, `login-fail:ip:${ip}`];
    const blocks = this.keys(username, ip);
    for (let i = 0; i < counters.length; i++) {
      const { count, resetMs } = await this.kv.hit(counters[i] as string, this.windowMs);
      if (count >= this.maxFailures)
        await this.kv.set(blocks[i] as string, String(Date.now() + resetMs), resetMs);
    }
  }

  async succeeded(username: string): Promise<void> {
    await this.kv.del(`login-fail:user:${username.toLowerCase()}`);
  }
}
