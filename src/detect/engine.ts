import type { IngestFlow } from '../sources/types.js';
import { BeaconDetector, type BeaconOptions } from './detectors/beacon.js';
import { BruteforceDetector, type BruteforceOptions } from './detectors/bruteforce.js';
import { DnsDetector, type DnsOptions } from './detectors/dns.js';
import {
  CleartextDetector,
  KevExposureDetector,
  NewServiceDetector,
  type KevLookup,
} from './detectors/exposure.js';
import { FloodDetector, type FloodOptions } from './detectors/flood.js';
import { ScanDetector, type ScanOptions } from './detectors/scan.js';
import { inFlowTimeOrder } from './flow-order.js';
import type { Detector, Finding } from './types.js';

export interface EngineOptions {
  scan?: Partial<ScanOptions>;
  bruteforce?: Partial<BruteforceOptions>;
  beacon?: Partial<BeaconOptions>;
  flood?: Partial<FloodOptions>;
  dns?: Partial<DnsOptions>;
  /** Learning period of the new-listening-service detector, µs of flow time (default 24 h). */
  newServiceLearnUs?: number;
  /** KEV exposures by device IP; without it the KEV detector is off (offline triage). */
  kev?: KevLookup;
  /** Replace the default detectors (tests). */
  detectors?: Detector[];
  /** Called when a detector throws; the flow is skipped for that detector only. */
  onError?: (detector: string, err: unknown) => void;
}

export function defaultDetectors(o: EngineOptions = {}): Detector[] {
  const d: Detector[] = [
    new ScanDetector(o.scan),
    new BruteforceDetector(o.bruteforce),
    new BeaconDetector(o.beacon),
    new FloodDetector(o.flood),
    new DnsDetector(o.dns),
    new CleartextDetector(),
    new NewServiceDetector(o.newServiceLearnUs),
  ];
  if (o.kev) d.push(new KevExposureDetector(o.kev));
  return d;
}

/**
 * Runs every detector over flows, in flow-time order within a batch. Detectors are independent: one that
 * throws is counted (`errors`) and reported through `onError`, and the others, and the ingest, go on.
 * The same engine serves `iotsec detect` (a capture read in memory) and ingest (batches after commit),
 * so a capture gives the same findings either way.
 */
export class DetectionEngine {
  readonly detectors: Detector[];
  readonly errors: Record<string, number> = {};
  flowsSeen = 0;

  constructor(private readonly opts: EngineOptions = {}) {
    this.detectors = opts.detectors ?? defaultDetectors(opts);
  }

  process(flows: readonly IngestFlow[]): Finding[] {
    return this.processInOrder(inFlowTimeOrder(flows));
  }

  /**
   * process() for flows already in flow-time order (inFlowTimeOrder), e.g. a batch sorted once for all;
   * `from` and `to` take a part of them (the next part goes in the next call), findings appended to `out`.
   */
  processInOrder(
    sorted: readonly IngestFlow[],
    from = 0,
    to = sorted.length,
    out: Finding[] = [],
  ): Finding[] {
    const emit = (f: Finding) => out.push(f);
    const detectors = this.detectors;
    for (let i = from; i < to; i++) {
      const flow = sorted[i] as IngestFlow;
      this.flowsSeen++;
      for (let k = 0; k < detectors.length; k++) {
        const d = detectors[k] as Detector;
        try {
          d.observe(flow, emit);
        } catch (err) {
          this.fail(d.name, err);
        }
      }
    }
    return out;
  }

  /** End of input: whatever the detectors still hold. */
  flush(): Finding[] {
    const out: Finding[] = [];
    for (const d of this.detectors) {
      try {
        d.flush?.((f) => out.push(f));
      } catch (err) {
        this.fail(d.name, err);
      }
    }
    return out;
  }

  private fail(name: string, err: unknown): void {
    this.errors[name] = (this.errors[name] ?? 0) + 1;
    this.opts.onError?.(name, err);
  }
}
