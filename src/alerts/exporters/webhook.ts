import { createHmac } from 'node:crypto';

/**
 * JSON webhook: POST `{"type","id","at","alert"}` with `X-IoTSec-Timestamp` (unix seconds) and
 * `X-IoTSec-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with WEBHOOK_SECRET>` (the timestamp
 * inside the signed text lets the receiver refuse replays). Retries network errors, 429 and 5xx with
 * exponential backoff (base, 2×base, 4×base … capped), never other 4xx.
 */
export interface WebhookOptions {
  url: string;
  secret?: string | undefined;
  attempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
}

export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookSender {
  constructor(private readonly o: WebhookOptions) {}

  /** Delivers one payload; resolves with the number of attempts, rejects after the last failure. */
  async send(payload: unknown): Promise<number> {
    const body = JSON.stringify(payload);
    const attempts = this.o.attempts ?? 5;
    const base = this.o.backoffMs ?? 1000;
    let lastErr: unknown = null;
    for (let i = 1; i <= attempts; i++) {
      const ts = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'iotsec-webhook/1',
        'x-iotsec-timestamp': ts,
      };
      if (this.o.secret) headers['x-iotsec-signature'] = signature(this.o.secret, ts, body);
      try {
        const res = await fetch(this.o.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
          redirect: 'error',
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return i;
        lastErr = new Error(`webhook answered ${res.status}`);
        if (res.status !== 429 && res.status < 500) throw lastErr;
      } catch (e) {
        lastErr = e;
        if (e instanceof Error && /^webhook answered 4/.test(e.message) && !e.message.endsWith('429'))
          throw e;
      }
      if (i < attempts)
        await new Promise((r) => setTimeout(r, Math.min(this.o.maxBackoffMs ?? 30_000, base * 2 ** (i - 1))));
    }
    throw lastErr instanceof Error ? lastErr : new Error('webhook failed');
  }
}
