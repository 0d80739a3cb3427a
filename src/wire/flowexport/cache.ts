import { DecodeError } from '../errors.js';
import type { Template } from './types.js';

/** Per (protocol, exporter, domain) state kept by TemplateCache. */
export interface SourceState {
  templates: Map<number, Template>;
  /** Expected next sequence number, null until the first datagram (or after a resync). */
  nextSeq: number | null;
  /** Datagrams whose sequence number differed from the expected one. */
  sequenceGaps: number;
  /** Estimated missing units (v9: datagrams; IPFIX and v5: records) over all forward gaps. */
  missing: number;
  datagrams: number;
  /** IPFIX systemInitTimeMilliseconds (IE 160) learnt from options data, for flowStart/EndSysUpTime. */
  systemInitMs: number | null;
}

export type ExportProtocol = 'v5' | 'v9' | 'ipfix';

export interface TemplateCacheOptions {
  /** Templates per (exporter, domain); one more → DecodeError('limit'). Default 1024. */
  maxTemplatesPerSource?: number;
  /** Distinct (protocol, exporter, domain) sources; one more → DecodeError('limit'). Default 65 536. */
  maxSources?: number;
}

/**
 * Templates and sequence tracking for NetFlow v9 / IPFIX (and sequence tracking for v5), owned by the
 * caller (one per collector) and passed to every decode call. Templates are scoped per
 * (protocol, exporter key, source id / observation domain).
 */
export class TemplateCache {
  private readonly sources = new Map<string, SourceState>();
  readonly maxTemplatesPerSource: number;
  readonly maxSources: number;

  constructor(opts: TemplateCacheOptions = {}) {
    this.maxTemplatesPerSource = opts.maxTemplatesPerSource ?? 1024;
    this.maxSources = opts.maxSources ?? 65_536;
  }

  private static key(proto: ExportProtocol, exporter: string, domainId: number): string {
    return `${proto}|${exporter}|${domainId}`;
  }

  /** The state of a source, or undefined when never seen. */
  peek(proto: ExportProtocol, exporter: string, domainId: number): SourceState | undefined {
    return this.sources.get(TemplateCache.key(proto, exporter, domainId));
  }

  /** The state of a source, created on first use. */
  source(proto: ExportProtocol, exporter: string, domainId: number): SourceState {
    const k = TemplateCache.key(proto, exporter, domainId);
    let s = this.sources.get(k);
    if (s === undefined) {
      if (this.sources.size >= this.maxSources) {
        throw new DecodeError('limit', proto, `more than ${this.maxSources} exporter sources`);
      }
      s = {
        templates: new Map(),
        nextSeq: null,
        sequenceGaps: 0,
        missing: 0,
        datagrams: 0,
        systemInitMs: null,
      };
      this.sources.set(k, s);
    }
    return s;
  }

  getTemplate(proto: ExportProtocol, exporter: string, domainId: number, id: number): Template | undefined {
    return this.peek(proto, exporter, domainId)?.templates.get(id);
  }

  /** Store (or replace) a template. Throws DecodeError('limit') past maxTemplatesPerSource. */
  setTemplate(proto: ExportProtocol, exporter: string, domainId: number, t: Template): void {
    const s = this.source(proto, exporter, domainId);
    if (!s.templates.has(t.id) && s.templates.size >= this.maxTemplatesPerSource) {
      throw new DecodeError(
        'limit',
        proto,
        `exporter ${exporter} domain ${domainId}: more than ${this.maxTemplatesPerSource} templates`,
      );
    }
    s.templates.set(t.id, t);
  }

  /** Withdraw one template (id) or all of them (id undefined). Returns how many were removed. */
  withdraw(proto: ExportProtocol, exporter: string, domainId: number, id?: number): number {
    const s = this.peek(proto, exporter, domainId);
    if (!s) return 0;
    if (id === undefined) {
      const n = s.templates.size;
      s.templates.clear();
      return n;
    }
    return s.templates.delete(id) ? 1 : 0;
  }

  /** Forget everything about an exporter (all protocols and domains). */
  forgetExporter(exporter: string): void {
    for (const k of [...this.sources.keys()]) {
      if (k.split('|')[1] === exporter) this.sources.delete(k);
    }
  }

  /**
   * Record a datagram's sequence number. `advance` is how much the next sequence number should exceed
   * this one, or null when unknown (then the next datagram is not checked). Returns true on a gap.
   */
  noteSequence(s: SourceState, seq: number, advance: number | null): boolean {
    s.datagrams++;
    let gap = false;
    if (s.nextSeq !== null && seq !== s.nextSeq) {
      gap = true;
      s.sequenceGaps++;
      const ahead = (seq - s.nextSeq) >>> 0;
      if (ahead < 0x8000_0000) s.missing += ahead;
    }
    s.nextSeq = advance === null ? null : (seq + advance) >>> 0;
    return gap;
  }

  /** Number of sources tracked. */
  get size(): number {
    return this.sources.size;
  }
}
