import type { DeviceProfile, SignalKind } from './profile.js';

/**
 * What a device said about itself in a UPnP device description it served (see flows/observations.ts):
 * manufacturer, model and firmware, most-seen value first, plus one evidence line.
 */
export function upnpDescription(signals: DeviceProfile['signals']): {
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  text: string | null;
} {
  const top = (kind: SignalKind): string | null => {
    let best: string | null = null;
    let n = -1;
    for (const [v, c] of signals.get(kind) ?? []) if (c > n) [best, n] = [v, c];
    return best;
  };
  const manufacturer = top('upnp_manufacturer');
  const model = top('upnp_model');
  const firmware = top('upnp_firmware');
  const parts = [
    manufacturer ? `manufacturer '${manufacturer}'` : null,
    model ? `model '${model}'` : null,
    firmware ? `firmware '${firmware}'` : null,
  ].filter((x) => x !== null);
  return {
    manufacturer,
    model,
    firmware,
    text: parts.length > 0 ? `Device description (UPnP/HNAP): ${parts.join(', ')}` : null,
  };
}
