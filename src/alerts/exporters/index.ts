/**
 * SIEM exporters driven by `new_alert` events: syslog (RFC 5424 or CEF, over UDP, TCP or TLS) and a signed
 * JSON webhook. Started by the worker role. With Redis and several workers, a KV counter per event id makes
 * sure one worker exports each alert. Deliveries run one at a time per exporter from a bounded queue
 * (oldest dropped and counted beyond `maxQueue`); a failed delivery is logged, never thrown.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Services } from '../../api/context.js';
import type { Config } from '../../config.js';
import { EVENTS_CHANNEL } from '../../bus/events.js';
import type { BusEvent } from '../../bus/types.js';
import type { PresentedAlert } from '../service.js';
import { cefOverSyslog, rfc5424 } from './format.js';
import { syslogTransport, type SyslogTransport } from './transports.js';
import { WebhookSender } from './webhook.js';

export interface ExporterConfig {
  syslogUrl?: string | undefined;
  syslogFormat?: 'rfc5424' | 'cef';
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  /** Tests: TLS options (a private CA), webhook retry timing. */
  tls?: ConnectionOptions;
  webhookBackoffMs?: number;
  webhookAttempts?: number;
  maxQueue?: number;
}

interface Log {
  warn(obj: unknown, msg?: string): void;
  info?(obj: unknown, msg?: string): void;
}

export const exporterStats = { sent: 0, failed: 0, dropped: 0 };

class Queue {
  private items: (() => Promise<void>)[] = [];
  private running: Promise<void> | null = null;
  constructor(private readonly max: number) {}
  push(job: () => Promise<void>): void {
    this.items.push(job);
    if (this.items.length > this.max) {
      this.items.shift();
      exporterStats.dropped++;
    }
    this.running ??= this.drain();
  }
  private async drain(): Promise<void> {
    for (let job = this.items.shift(); job; job = this.items.shift()) await job();
    this.running = null;
  }
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }
}

export async function startAlertExporters(
  services: Pick<Services, 'bus' | 'kv'>,
  cfg: ExporterConfig,
  log?: Log,
): Promise<{ stop(): Promise<void>; idle(): Promise<void> }> {
  const sinks: { name: string; queue: Queue; deliver(e: BusEvent, a: PresentedAlert): Promise<void> }[] = [];
  let syslog: SyslogTransport | null = null;
  if (cfg.syslogUrl) {
    const transport = syslogTransport(cfg.syslogUrl, cfg.tls);
    syslog = transport;
    const format = cfg.syslogFormat === 'cef' ? cefOverSyslog : rfc5424;
    sinks.push({
      name: 'syslog',
      queue: new Queue(cfg.maxQueue ?? 10_000),
      deliver: (e, a) => transport.send(format(a, { msgId: e.type })),
    });
  }
  if (cfg.webhookUrl) {
    const sender = new WebhookSender({
      url: cfg.webhookUrl,
      secret: cfg.webhookSecret,
      ...(cfg.webhookAttempts ? { attempts: cfg.webhookAttempts } : {}),
      ...(cfg.webhookBackoffMs ? { backoffMs: cfg.webhookBackoffMs } : {}),
    });
    sinks.push({
      name: 'webhook',
      queue: new Queue(cfg.maxQueue ?? 10_000),
      deliver: async (e, a) => {
        await sender.send({ type: e.type, id: e.id, at: e.at, alert: a });
      },
    });
  }
  if (sinks.length === 0) return { stop: async () => undefined, idle: async () => undefined };
  const unsubscribe = await services.bus.subscribe(EVENTS_CHANNEL, (e) => {
    if (e.type !== 'new_alert') return;
    const alert = e.data as PresentedAlert;
    void (async () => {
      // One exporter per event across processes sharing the bus.
      const { count } = await services.kv.hit(`alert-export:${e.id}`, 3_600_000).catch(() => ({ count: 1 }));
      if (count > 1) return;
      for (const s of sinks)
        s.queue.push(async () => {
          try {
            await s.deliver(e, alert);
            exporterStats.sent++;
          } catch (err) {
            exporterStats.failed++;
            log?.warn({ err, exporter: s.name, alert_id: alert.id }, 'alert export failed');
          }
        });
    })();
  });
  return {
    async idle() {
      for (const s of sinks) await s.queue.idle();
    },
    async stop() {
      await unsubscribe();
      for (const s of sinks) await s.queue.idle();
      await syslog?.close();
    },
  };
}

/** The worker role's hook: exporters from the configuration; returns their stop function. */
export async function startConfiguredExporters(
  services: Pick<Services, 'bus' | 'kv'>,
  config: Pick<Config, 'syslogUrl' | 'syslogFormat' | 'webhookUrl' | 'webhookSecret'>,
  log?: Log,
): Promise<() => Promise<void>> {
  const h = await startAlertExporters(services, config, log);
  return () => h.stop();
}
