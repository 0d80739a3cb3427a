import { Cursor, utf8Text } from '../cursor.js';
import { DecodeError } from '../errors.js';
import type { MqttConnect } from './types.js';

const D = 'mqtt';
/** MQTT's own maximum remaining length (4 varint bytes). */
export const MQTT_MAX_REMAINING = 268_435_455;
const MQTT_MAX_STRING = 65535;

/** Reads the MQTT variable byte integer; at most 4 bytes. */
export function readMqttVarint(c: Cursor): number {
  let value = 0;
  let mult = 1;
  for (let i = 0; i < 4; i++) {
    const b = c.u8();
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return value;
    mult *= 128;
  }
  throw new DecodeError('malformed', D, 'remaining length longer than 4 bytes', c.pos);
}

function str(c: Cursor): string {
  const len = c.u16();
  if (len > MQTT_MAX_STRING) throw new DecodeError('limit', D, 'string too long', c.pos);
  return utf8Text(c.bytesView(len));
}

/** True when the payload starts with an MQTT CONNECT fixed header byte and protocol name length. */
export function looksLikeMqttConnect(b: Uint8Array, offset = 0, length = b.length - offset): boolean {
  if (length < 8 || b[offset] !== 0x10) return false;
  // Skip the varint and check the protocol name "MQTT" (len 4) or "MQIsdp" (len 6).
  let p = offset + 1;
  for (let i = 0; i < 4 && p < offset + length; i++) if (((b[p++] ?? 0) & 0x80) === 0) break;
  return b[p] === 0 && (b[p + 1] === 4 || b[p + 1] === 6) && b[p + 2] === 0x4d && b[p + 3] === 0x51;
}

/** Decodes an MQTT CONNECT packet at the start of a TCP payload. Throws only DecodeError. */
export function decodeMqttConnect(
  bytes: Uint8Array,
  offset = 0,
  length = bytes.length - offset,
): MqttConnect {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  const c0 = new Cursor(bytes, D, offset, end);
  const type = c0.u8();
  if (type !== 0x10)
    throw new DecodeError('malformed', D, `packet type 0x${type.toString(16)} is not CONNECT`, offset);
  const remainingLength = readMqttVarint(c0);
  if (remainingLength > MQTT_MAX_REMAINING) throw new DecodeError('limit', D, 'remaining length', offset + 1);
  const c = c0.sub(Math.min(remainingLength, c0.remaining));
  // If the body continues in the next segment, reads below fail with DecodeError('truncated').
  const protocolName = str(c);
  const protocolLevel = c.u8();
  const f = c.u8();
  if (f & 0x01) throw new DecodeError('malformed', D, 'reserved connect flag set', c.pos - 1);
  const flags = {
    cleanSession: (f & 0x02) !== 0,
    will: (f & 0x04) !== 0,
    willQos: (f >> 3) & 0x03,
    willRetain: (f & 0x20) !== 0,
    password: (f & 0x40) !== 0,
    username: (f & 0x80) !== 0,
  };
  const keepAlive = c.u16();
  if (protocolLevel === 5) c.skip(readMqttVarint(c)); // CONNECT properties
  const clientId = str(c);
  let willTopic: string | null = null;
  if (flags.will) {
    if (protocolLevel === 5) c.skip(readMqttVarint(c)); // will properties
    willTopic = str(c);
    c.skip(c.u16()); // will payload
  }
  return {
    protocolName,
    protocolLevel,
    protocolVersion:
      protocolLevel === 3 ? '3.1' : protocolLevel === 4 ? '3.1.1' : protocolLevel === 5 ? '5.0' : 'unknown',
    flags,
    keepAlive,
    clientId,
    willTopic,
    usernamePresent: flags.username,
    passwordPresent: flags.password,
    remainingLength,
  };
}
