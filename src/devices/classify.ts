/**
 * `iotsec classify`: each capture on its own, in memory: profile every device, run the rules and the model,
 * and decide. One result per device per file in the CLI contract's shape.
 */
import { profileCaptureFile } from './capture-profile.js';
import { decide, type Identification } from './identify.js';
import { predictDeviceTypes, type DeviceTypeModel } from './model.js';
import type { Rule } from './rules.js';
import { upnpDescription } from './upnp.js';

export interface ClassifyLine {
  pcap: string;
  mac: string | null;
  ip: string | null;
  vendor: string | null;
  device_type: string;
  confidence: number;
  model: string | null;
  evidence: string[];
}

export async function classifyCapture(
  pcap: string,
  opts: { model: DeviceTypeModel | null; userRules?: readonly Rule[]; minConfidence?: number },
): Promise<{ lines: ClassifyLine[]; error: string | null }> {
  const { profiles, hasL2, error } = await profileCaptureFile(pcap);
  const list = [...profiles.values()];
  const predictions = opts.model ? predictDeviceTypes(opts.model, list) : [];
  const lines = list.map((p, i): ClassifyLine => {
    const pred = predictions[i];
    const id: Identification = decide(p, {
      userRules: opts.userRules ?? [],
      model:
        opts.model && pred ? { modelId: opts.model.id, version: opts.model.version, prediction: pred } : null,
      ...(opts.minConfidence !== undefined ? { minConfidence: opts.minConfidence } : {}),
    });
    const evidence = id.evidence.filter((e) => e.used || e.source !== 'oui').map((e) => e.text);
    const upnp = upnpDescription(p.signals);
    if (upnp.text) evidence.push(upnp.text);
    if (!hasL2)
      evidence.unshift(
        'the capture has no layer 2: no MAC address, device keyed by its IP (vendor and MAC unknown)',
      );
    return {
      pcap,
      mac: p.mac,
      ip: p.ip,
      vendor: id.vendor ?? upnp.manufacturer,
      device_type: id.deviceType,
      confidence: Math.round(id.confidence * 1000) / 1000,
      model: opts.model?.id ?? null,
      evidence,
    };
  });
  return { lines, error };
}
