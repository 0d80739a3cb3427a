import { Cursor, latin1Text } from '../cursor.js';
import { DecodeError } from '../errors.js';
import { hexColon, ipv4BytesToString } from '../addr.js';
import { readDnsName } from '../dns/decode.js';
import type { DhcpMessage } from './types.js';

const D = 'dhcp';
const MAGIC = 0x63825363;
/** Hard cap on options per message (each option is ≥ 1 byte, so this only bounds pathological input). */
export const DHCP_MAX_OPTIONS = 255;

function text(b: Uint8Array): string {
  // Many clients NUL-terminate strings; trim trailing NULs. Options are ≤ 255 bytes, so already capped.
  let e = b.length;
  while (e > 0 && b[e - 1] === 0) e--;
  return latin1Text(b.subarray(0, e));
}

/**
 * Decodes a DHCP (or plain BOOTP) message from a UDP payload. Throws only DecodeError. Option overload
 * (option 52) is not followed.
 */
export function decodeDhcp(bytes: Uint8Array, offset = 0, length = bytes.length - offset): DhcpMessage {
  const end = Math.min(bytes.length, offset + Math.max(0, length));
  const c = new Cursor(bytes, D, offset, end);
  const op = c.u8();
  if (op !== 1 && op !== 2) throw new DecodeError('malformed', D, `op ${op}`, offset);
  const htype = c.u8();
  const hlen = c.u8();
  const hops = c.u8();
  const xid = c.u32();
  const secs = c.u16();
  const flags = c.u16();
  const ciaddr = ipv4BytesToString(c.bytesView(4), 0);
  const yiaddr = ipv4BytesToString(c.bytesView(4), 0);
  const siaddr = ipv4BytesToString(c.bytesView(4), 0);
  const giaddr = ipv4BytesToString(c.bytesView(4), 0);
  const chaddrField = c.bytesView(16);
  c.skip(64 + 128); // sname, file
  const chaddr = hexColon(chaddrField.subarray(0, Math.min(hlen, 16)));
  const msg: DhcpMessage = {
    op,
    htype,
    hlen,
    hops,
    xid,
    secs,
    broadcast: (flags & 0x8000) !== 0,
    ciaddr,
    yiaddr,
    siaddr,
    giaddr,
    chaddr,
    hasOptions: false,
    messageType: null,
    hostname: null,
    requestedIp: null,
    serverId: null,
    leaseTime: null,
    domainName: null,
    paramRequestList: [],
    fingerprint: null,
    vendorClass: null,
    clientId: null,
    fqdn: null,
    message: null,
    optionCodes: [],
  };
  if (c.remaining < 4) return msg; // plain BOOTP (RFC 951) without vendor area
  if (c.u32() !== MAGIC) return msg;
  msg.hasOptions = true;
  while (c.remaining > 0) {
    const code = c.u8();
    if (code === 0) continue;
    if (code === 255) break;
    const len = c.u8();
    const v = c.bytesView(len);
    if (msg.optionCodes.length >= DHCP_MAX_OPTIONS)
      throw new DecodeError('limit', D, 'too many options', c.pos);
    msg.optionCodes.push(code);
    switch (code) {
      case 53:
        if (len >= 1) msg.messageType = v[0] ?? null;
        break;
      case 12:
        msg.hostname = text(v);
        break;
      case 15:
        msg.domainName = text(v);
        break;
      case 50:
        if (len === 4) msg.requestedIp = ipv4BytesToString(v, 0);
        break;
      case 54:
        if (len === 4) msg.serverId = ipv4BytesToString(v, 0);
        break;
      case 51:
        if (len === 4)
          msg.leaseTime = (v[0] ?? 0) * 2 ** 24 + ((v[1] ?? 0) << 16) + ((v[2] ?? 0) << 8) + (v[3] ?? 0);
        break;
      case 55:
        msg.paramRequestList = Array.from(v);
        msg.fingerprint = msg.paramRequestList.join(',');
        break;
      case 56:
        msg.message = text(v);
        break;
      case 60:
        msg.vendorClass = text(v);
        break;
      case 61:
        if (len >= 1) msg.clientId = { type: v[0] ?? 0, value: hexColon(v.subarray(1)) };
        break;
      case 81:
        if (len >= 3) msg.fqdn = { flags: v[0] ?? 0, name: fqdnName(v) };
        break;
      default:
        break;
    }
  }
  return msg;
}

function fqdnName(v: Uint8Array): string {
  const flags = v[0] ?? 0;
  const nameBytes = v.subarray(3);
  if ((flags & 0x04) === 0) return text(nameBytes);
  if (nameBytes.length === 0) return '';
  // Canonical wire encoding (E bit); may be a partial name without the terminating zero label.
  const padded = new Uint8Array(nameBytes.length + 1);
  padded.set(nameBytes);
  try {
    return readDnsName(padded, 0, padded.length, 0).name;
  } catch (e) {
    if (e instanceof DecodeError) throw new DecodeError(e.kind, D, `option 81: ${e.message}`);
    throw e;
  }
}
