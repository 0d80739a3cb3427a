import { Cursor, latin1Text } from '../cursor.js';
import { DecodeError } from '../errors.js';
import type { NtpMessage, NtpTimestamp } from './types.js';

const D = 'ntp';
/** Seconds between 1900-01-01 and 1970-01-01. */
export const NTP_UNIX_OFFSET = 2_208_988_800;

function ts(c: Cursor): NtpTimestamp {
  return { seconds: c.u32(), fraction: c.u32() };
}

export function ntpToUnixMicros(t: NtpTimestamp): number {
  if (t.seconds === 0 && t.fraction === 0) return 0;
  return (t.seconds - NTP_UNIX_OFFSET) * 1_000_000 + Math.floor((t.fraction * 1_000_000) / 2 ** 32);
}

/** True exactly when decodeNtp would succeed on these bytes, without building the message. */
export function ntpDecodes(bytes: Uint8Array, offset = 0, length = bytes.length - offset): boolean {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  if (end - offset < 1) return false;
  const b0 = bytes[offset] ?? 0;
  const version = (b0 >> 3) & 0x07;
  const mode = b0 & 0x07;
  if (version < 1 || version > 4 || mode === 0) return false;
  return end - offset - 1 >= (mode === 6 || mode === 7 ? 3 : 47);
}

/**
 * Decodes an NTP header from a UDP payload. Modes 6 and 7 (control/private) only yield the first byte's
 * fields and the stratum. Throws only DecodeError.
 */
export function decodeNtp(bytes: Uint8Array, offset = 0, length = bytes.length - offset): NtpMessage {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  const c = new Cursor(bytes, D, offset, end);
  const b0 = c.u8();
  const version = (b0 >> 3) & 0x07;
  const mode = b0 & 0x07;
  if (version < 1 || version > 4) throw new DecodeError('unsupported', D, `version ${version}`, offset);
  if (mode === 0) throw new DecodeError('malformed', D, 'mode 0', offset);
  const base = { leapIndicator: b0 >> 6, version, mode };
  if (mode === 6 || mode === 7) {
    c.need(3);
    return {
      ...base,
      stratum: 0,
      poll: 0,
      precision: 0,
      referenceId: '',
      referenceTime: null,
      originTime: null,
      receiveTime: null,
      transmitTime: null,
      transmitUnixMicros: null,
    };
  }
  c.need(47);
  const stratum = c.u8();
  const poll = c.view.getInt8(c.pos);
  c.skip(1);
  const precision = c.view.getInt8(c.pos);
  c.skip(1);
  c.skip(8); // root delay, root dispersion
  const ref = c.bytesView(4);
  const referenceId =
    stratum <= 1
      ? latin1Text(ref).replace(/\0+$/, '')
      : `${ref[0] ?? 0}.${ref[1] ?? 0}.${ref[2] ?? 0}.${ref[3] ?? 0}`;
  const referenceTime = ts(c);
  const originTime = ts(c);
  const receiveTime = ts(c);
  const transmitTime = ts(c);
  return {
    ...base,
    stratum,
    poll,
    precision,
    referenceId,
    referenceTime,
    originTime,
    receiveTime,
    transmitTime,
    transmitUnixMicros: ntpToUnixMicros(transmitTime),
  };
}
