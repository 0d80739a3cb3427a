import { randomBytes } from 'node:crypto';
import type { BusEvent } from './types.js';

/** The channel every product event goes to (WebSocket fan-out, SIEM exporters, caches). */
export const EVENTS_CHANNEL = 'events';

export type EventType =
  | 'new_alert'
  | 'alert_update'
  | 'new_device'
  | 'device_update'
  | 'traffic_tick'
  | 'model_update'
  | 'job_update';

let last = 0;
let seq = 0;

/**
 * An event with a time-ordered id (`<ms base36>-<seq>-<random>`): ids sort by creation time within a
 * process, which the WebSocket resume-from-last-id relies on.
 */
export function makeEvent(type: EventType, data: unknown): BusEvent {
  const now = Date.now();
  seq = now === last ? seq + 1 : 0;
  last = now;
  return {
    type,
    id: `${now.toString(36).padStart(9, '0')}-${seq.toString(36).padStart(3, '0')}-${randomBytes(3).toString('hex')}`,
    at: new Date(now).toISOString(),
    data,
  };
}
