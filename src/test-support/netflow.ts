/** TEST ONLY: flows made by a NetflowCollector of synthetic exports (bench/netflow-gen.ts), in order. */
import { flowExportDatagrams, type FlowExportGenOptions } from '../../bench/netflow-gen.js';
import { NetflowCollector } from '../sources/netflow/collector.js';
import type { IngestFlow } from '../sources/types.js';

/** Each export's datagrams, one export after the other, decoded as one exporter (192.0.2.1) sent them. */
export function exportedFlows(exports: readonly FlowExportGenOptions[]): IngestFlow[] {
  const flows: IngestFlow[] = [];
  const c = new NetflowCollector({
    port: 0,
    onItems: (items) => {
      for (const i of items) if (i.kind === 'flow') flows.push(i.flow);
    },
  });
  for (const e of exports) for (const g of flowExportDatagrams(e)) c.handle(g, '192.0.2.1');
  return flows;
}
