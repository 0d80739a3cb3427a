import { FlowItem } from '../flows/flow-record.js';
import { FlowTable, tableErrorCounts, type FlowTableOptions } from '../flows/flow-table.js';
import { emitObservations, ObservationAggregator } from '../flows/observations.js';
import { PayloadCache } from '../flows/payload-cache.js';
import { countError, emptyStats, type SourceItem, type SourceStats } from '../sources/types.js';
import { decodePacket } from '../wire/packet/decode.js';
import { PacketInfo } from '../wire/packet/types.js';

/**
 * Frames → flows and device observations, for sources that hand over frames one by one (the demo network;
 * capture readers use the same steps): decodePacket → FlowTable + emitObservations sharing one payload
 * decode per packet. Identical observations between two take() calls become one with a count.
 */
export class PacketPipeline {
  readonly stats: SourceStats = emptyStats();
  private items: SourceItem[] = [];
  private readonly info = new PacketInfo();
  private readonly cache = new PayloadCache();
  private readonly obs = new ObservationAggregator();
  private readonly table: FlowTable;

  constructor(opts: { flowTable?: Omit<FlowTableOptions, 'onFlow' | 'payloadCache'> } = {}) {
    this.table = new FlowTable({
      ...opts.flowTable,
      payloadCache: this.cache,
      observations: this.obs,
      onFlow: (flow) => {
        this.stats.flows++;
        this.items.push(new FlowItem(flow));
      },
    });
  }

  add(linkType: number, frame: Uint8Array, tsMicros: number, wireLen = frame.length, iface = 0): void {
    const info = this.info;
    this.stats.records++;
    this.stats.bytes += wireLen;
    decodePacket(linkType, frame, info);
    info.tsMicros = tsMicros;
    info.iface = iface;
    if (info.decodeError !== null)
      countError(this.stats, `${info.decodeErrorLayer ?? 'packet'}_${info.decodeError}`);
    this.cache.clear();
    this.table.add(info, frame);
    if (info.payloadLength > 0) emitObservations(info, frame, this.obs, this.cache);
  }

  /** Expires flows idle at `nowMicros` (wall-clock ticks for live sources). */
  advance(nowMicros: number): void {
    this.table.advance(nowMicros);
  }

  /** Items waiting (flows plus distinct observations). */
  get pending(): number {
    return this.items.length + this.obs.size;
  }

  /** Finished flows, then the aggregated observations, since the last take(). */
  take(): SourceItem[] {
    for (const o of this.obs.take()) this.items.push({ kind: 'observation', observation: o });
    const out = this.items;
    this.items = [];
    return out;
  }

  /** End of input: every live flow is exported. */
  finish(): SourceItem[] {
    this.table.flushAll();
    Object.assign(this.stats.errors, tableErrorCounts(this.table.stats));
    return this.take();
  }
}
