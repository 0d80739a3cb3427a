import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, mutated, onlyDecodeError, randomBytes } from '../../flows/test-support/fuzz.js';
import {
  HAVE_ZEEK_DATA,
  MISSING_DATA_MESSAGE,
  loadTrace,
  payloadOf,
  readZeekLog,
} from '../../flows/test-support/trace.js';
import { DecodeError } from '../errors.js';
import { decodeMqttConnect, looksLikeMqttConnect } from './decode.js';

const str = (s: string): number[] => [0, s.length, ...Buffer.from(s)];

function connect(level: number, name: string, flags: number, rest: number[]): Uint8Array {
  const body = [...str(name), level, flags, 0, 60, ...rest];
  return Uint8Array.from([0x10, body.length, ...body]);
}

function connects(): Uint8Array[] {
  return loadTrace('mqtt.pcap')
    .filter((p) => p.ipProto === 6 && p.payloadLength > 0)
    .map(payloadOf)
    .filter((b) => looksLikeMqttConnect(b));
}

describe('decodeMqttConnect (synthetic)', () => {
  it('3.1.1 with will, user name and password (values not kept)', () => {
    const m = decodeMqttConnect(
      connect(4, 'MQTT', 0xc6, [
        ...str('plug-01'),
        ...str('dev/lwt'),
        ...str('bye'),
        ...str('user'),
        ...str('secret'),
      ]),
    );
    expect(m).toMatchObject({
      protocolName: 'MQTT',
      protocolVersion: '3.1.1',
      keepAlive: 60,
      clientId: 'plug-01',
      willTopic: 'dev/lwt',
      usernamePresent: true,
      passwordPresent: true,
    });
    expect(JSON.stringify(m)).not.toContain('secret');
  });

  it('5.0 with properties', () => {
    const m = decodeMqttConnect(connect(5, 'MQTT', 0x02, [3, 0x11, 0, 0, ...str('sensor-9')]).slice());
    expect(m.protocolVersion).toBe('5.0');
    expect(m.clientId).toBe('sensor-9');
    expect(m.flags.cleanSession).toBe(true);
  });

  it('bounds the remaining-length varint and rejects other packet types', () => {
    expect(() => decodeMqttConnect(Uint8Array.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(
      DecodeError,
    );
    expect(() => decodeMqttConnect(Uint8Array.from([0x30, 2, 0, 0]))).toThrow(DecodeError);
    expect(() => decodeMqttConnect(connect(4, 'MQTT', 0x02, [...str('abc')]).subarray(0, 12))).toThrow(
      expect.objectContaining({ kind: 'truncated' }),
    );
  });
});

describe.skipIf(!HAVE_ZEEK_DATA)(
  `decodeMqttConnect vs Zeek mqtt_connect.log ${HAVE_ZEEK_DATA ? '' : MISSING_DATA_MESSAGE}`,
  () => {
    it('mqtt.pcap: protocol name, version and client ids', () => {
      const zeek = readZeekLog('scripts.base.protocols.mqtt.mqtt/mqtt_connect.log');
      const ours = connects().map((b) => decodeMqttConnect(b));
      expect(ours.map((m) => [m.protocolName, m.protocolVersion, m.clientId])).toEqual(
        zeek.map((z) => [z.proto_name, z.proto_version, z.client_id]),
      );
    });
  },
);

describe('decodeMqttConnect fuzz', () => {
  const seeds = HAVE_ZEEK_DATA ? connects() : [connect(4, 'MQTT', 2, [...str('x')])];
  it('only DecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes([0x10]), mutated(seeds)), (b) =>
        onlyDecodeError(() => decodeMqttConnect(b)),
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
