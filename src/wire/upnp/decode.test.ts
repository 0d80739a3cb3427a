import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_RUNS, mutated, onlyDecodeError, randomBytes } from '../../flows/test-support/fuzz.js';
import { upnpDescriptionXml } from '../../sim/packets.js';
import { DecodeError } from '../errors.js';
import {
  decodeDeviceDescription,
  decodeXmlEntities,
  looksLikeXmlDocument,
  UPNP_MAX_DEPTH,
  UPNP_MAX_DOCUMENT,
  UPNP_MAX_ELEMENTS,
  UPNP_MAX_VALUE,
} from './decode.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (s: string) => decodeDeviceDescription(enc(s));

/** A WeMo Insight setup.xml as the device serves it (shape and field order of the real document). */
const WEMO = `<?xml version="1.0"?>
<root xmlns="urn:Belkin:device-1-0">
  <specVersion>
    <major>1</major>
    <minor>0</minor>
  </specVersion>
  <device>
<deviceType>urn:Belkin:device:insight:1</deviceType>
<friendlyName>WeMo Insight</friendlyName>
    <manufacturer>Belkin International Inc.</manufacturer>
    <manufacturerURL>http://www.belkin.com</manufacturerURL>
    <modelDescription>Belkin Insight 1.0</modelDescription>
    <modelName>Insight</modelName>
    <modelNumber>1.0</modelNumber>
    <modelURL>http://www.belkin.com/plugin/</modelURL>
<serialNumber>221517K0101769</serialNumber>
<UDN>uuid:Insight-1_0-221517K0101769</UDN>
    <UPC>123456789</UPC>
<macAddress>94103E48F2A4</macAddress>
<firmwareVersion>WeMo_WW_2.00.11057.PVT-OWRT-Insight</firmwareVersion>
<iconVersion>0|49153</iconVersion>
<binaryState>0</binaryState>
    <iconList>
      <icon>
        <mimetype>jpg</mimetype>
        <width>100</width>
        <height>100</height>
        <depth>100</depth>
         <url>icon.jpg</url>
      </icon>
    </iconList>
    <serviceList>
      <service>
        <serviceType>urn:Belkin:service:WiFiSetup:1</serviceType>
        <serviceId>urn:Belkin:serviceId:WiFiSetup1</serviceId>
        <controlURL>/upnp/control/WiFiSetup1</controlURL>
        <eventSubURL>/upnp/event/WiFiSetup1</eventSubURL>
        <SCPDURL>/setupservice.xml</SCPDURL>
      </service>
    </serviceList>
   <presentationURL>/pluginpres.html</presentationURL>
</device>
</root>
`;

/** A router (IGD): the root device's fields only, never an embedded device's. */
const IGD = `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
<friendlyName>FRITZ!Box 7530</friendlyName>
<manufacturer>AVM Berlin</manufacturer>
<modelName>FRITZ!Box 7530</modelName>
<deviceList>
 <device>
  <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
  <modelName>WANDevice - FRITZ!Box 7530</modelName>
  <modelNumber>avm</modelNumber>
  <firmwareVersion>7.29</firmwareVersion>
 </device>
</deviceList>
<UDN>uuid:75802409-bccb-40e7-8e6c-3810D5AB9F01</UDN>
</device>
</root>`;

/** D-Link HNAP GetDeviceSettings response (as in the IoT Sentinel D-Link hub captures, SOAPActions cut). */
const HNAP = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetDeviceSettingsResponse xmlns="http://purenetworks.com/HNAP1/"><GetDeviceSettingsResult>OK</GetDeviceSettingsResult><Type>ConnectedHomeClient</Type><DeviceName>DCH-G020</DeviceName><VendorName>D-Link</VendorName><ModelDescription>D-Link ConnectedHome Gateway</ModelDescription><ModelName>DCH-G020</ModelName><DeviceMacId>1C:5F:2B:AA:FD:4E</DeviceMacId><FirmwareVersion>1.22</FirmwareVersion><FirmwareRegion>Default</FirmwareRegion><LatestFirmwareVersion></LatestFirmwareVersion><HardwareVersion>A2</HardwareVersion><HNAPVersion>0124</HNAPVersion><PresentationURL>dchg.local</PresentationURL><CAPTCHA>false</CAPTCHA><ModuleTypes><string>Gateway</string></ModuleTypes><SOAPActions><string>http://purenetworks.com/HNAP1/Reboot</string></SOAPActions></GetDeviceSettingsResponse></soap:Body></soap:Envelope>`;

const SIM = upnpDescriptionXml({
  deviceType: 'urn:schemas-upnp-org:device:ZonePlayer:1',
  friendlyName: '10.42.0.114 - Sonos One & more',
  manufacturer: 'Sonos, Inc.',
  manufacturerUrl: 'http://www.sonos.com',
  modelName: 'Sonos One',
  modelNumber: 'S18',
  serialNumber: '5C-AA-FD-C2-04-F2:E',
  udn: 'uuid:RINCON_5CAAFDC204F201400',
  firmware: '70.3-35220',
});

describe('decodeDeviceDescription', () => {
  it('reads the root device of a UPnP description (WeMo Insight)', () => {
    expect(decode(WEMO)).toEqual({
      format: 'upnp',
      deviceType: 'urn:Belkin:device:insight:1',
      friendlyName: 'WeMo Insight',
      manufacturer: 'Belkin International Inc.',
      modelName: 'Insight',
      modelNumber: '1.0',
      modelDescription: 'Belkin Insight 1.0',
      serialNumber: '221517K0101769',
      udn: 'uuid:Insight-1_0-221517K0101769',
      firmwareVersion: 'WeMo_WW_2.00.11057.PVT-OWRT-Insight',
    });
  });

  it('ignores embedded devices, even for fields the root device lacks', () => {
    expect(decode(IGD)).toMatchObject({
      deviceType: 'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
      modelName: 'FRITZ!Box 7530',
      modelNumber: null,
      firmwareVersion: null,
      udn: 'uuid:75802409-bccb-40e7-8e6c-3810D5AB9F01', // after the deviceList
    });
  });

  it('reads an HNAP GetDeviceSettings response', () => {
    expect(decode(HNAP)).toEqual({
      format: 'hnap',
      deviceType: 'ConnectedHomeClient',
      friendlyName: 'DCH-G020',
      manufacturer: 'D-Link',
      modelName: 'DCH-G020',
      modelNumber: null,
      modelDescription: 'D-Link ConnectedHome Gateway',
      serialNumber: null,
      udn: null,
      firmwareVersion: '1.22',
    });
  });

  it('reads the simulator description, escaped values and softwareVersion included', () => {
    expect(decode(SIM)).toMatchObject({
      friendlyName: '10.42.0.114 - Sonos One & more',
      manufacturer: 'Sonos, Inc.',
      modelName: 'Sonos One',
      modelNumber: 'S18',
      firmwareVersion: '70.3-35220',
    });
    expect(decode('<root><device><softwareVersion>2.1</softwareVersion></device></root>')).toMatchObject({
      firmwareVersion: '2.1',
    });
  });

  it('decodes the predefined entities and character references once, nothing else', () => {
    expect(
      decodeXmlEntities('Tom &amp; Jerry&#39;s &#x263A; &lt;TV&gt; &quot;&apos; &bogus; &#0; &amp;lt;'),
    ).toBe(`Tom & Jerry's \u263a <TV> "' &bogus; &#0; &lt;`);
    expect(decodeXmlEntities('&#xD800;&#1114112;')).toBe('&#xD800;&#1114112;');
  });

  it('never expands DOCTYPE entities (no billion laughs) and reads CDATA, comments, PIs and odd attributes', () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<root a='x>y' b="<"><!-- <device><modelName>comment</modelName></device> -->
<device><friendlyName>&lol2;</friendlyName><modelName><![CDATA[A <b> & C]]></modelName>
<manufacturer>Acme<?pi ignore?> <!-- c --> Corp <sub>not text</sub></manufacturer></device></root>`;
    expect(decode(lol)).toMatchObject({
      friendlyName: '&lol2;',
      modelName: 'A <b> & C',
      manufacturer: 'Acme Corp',
    });
  });

  it('namespace prefixes and case are ignored; whitespace is collapsed; long values are cut', () => {
    const long = 'x'.repeat(UPNP_MAX_VALUE + 50);
    expect(
      decode(
        `<u:ROOT xmlns:u="urn:schemas-upnp-org:device-1-0"><u:Device><u:ModelName>\n  Smart\n\t Plug  </u:ModelName><friendlyName>${long}</friendlyName><serialNumber/></u:Device></u:ROOT>`,
      ),
    ).toMatchObject({
      modelName: 'Smart Plug',
      friendlyName: 'x'.repeat(UPNP_MAX_VALUE),
      serialNumber: null,
    });
  });

  it('keeps the fields before a cut and drops the cut value', () => {
    const cut = WEMO.slice(0, WEMO.indexOf('<serialNumber>') + 20);
    expect(decode(cut)).toMatchObject({ modelName: 'Insight', modelNumber: '1.0', serialNumber: null });
  });

  it('null for other documents', () => {
    expect(decode('{"model":"x"}')).toBeNull();
    expect(decode('<html><body><device><modelName>x</modelName></device></body></html>')).toBeNull();
    expect(
      decode(
        '<?xml version="1.0"?><soap:Envelope><soap:Body><LoginResponse><ModelName>x</ModelName></LoginResponse></soap:Body></soap:Envelope>',
      ),
    ).toBeNull();
    expect(decode('<root><device></device></root>')).toBeNull();
    expect(decode('')).toBeNull();
  });

  it('caps size, depth and element count with a typed error', () => {
    const limit = expect.objectContaining({ kind: 'limit' });
    expect(() => decode(`<root>${' '.repeat(UPNP_MAX_DOCUMENT)}</root>`)).toThrow(limit);
    expect(() => decode(`<root>${'<a>'.repeat(UPNP_MAX_DEPTH)}`)).toThrow(limit);
    expect(() => decode(`<root>${'<a/>'.repeat(UPNP_MAX_ELEMENTS)}`)).toThrow(limit);
    expect(() => decode(`<root>${'<a>'.repeat(UPNP_MAX_DEPTH - 2)}</root>`)).not.toThrow();
  });

  it('looksLikeXmlDocument', () => {
    expect(looksLikeXmlDocument(enc('\ufeff  <?xml version="1.0"?>'))).toBe(true);
    expect(looksLikeXmlDocument(enc('\r\n<root xmlns="urn:schemas-upnp-org:device-1-0">'))).toBe(true);
    expect(looksLikeXmlDocument(enc('<soap:Envelope>'))).toBe(true);
    expect(looksLikeXmlDocument(enc('<!DOCTYPE html><html>'))).toBe(false);
    expect(looksLikeXmlDocument(enc('{"a":1}'))).toBe(false);
    expect(looksLikeXmlDocument(enc(''))).toBe(false);
  });

  it('fuzz: only DecodeError, random and mutated real bodies', () => {
    const seeds = [WEMO, IGD, HNAP, SIM].map(enc);
    fc.assert(
      fc.property(
        fc.oneof(
          randomBytes([...enc('<root><device>')]),
          mutated(seeds),
          fc
            .array(
              fc.constantFrom(
                '<',
                '>',
                '</',
                '/>',
                '<!--',
                '-->',
                '<![CDATA[',
                ']]>',
                '<?',
                '?>',
                '"',
                "'",
                '&amp;',
                '&#x41;',
                '<root>',
                '<device>',
                '<modelName>',
                'x',
                ' ',
                '<!DOCTYPE [',
                ']',
              ),
              { maxLength: 200 },
            )
            .map((parts) => enc(parts.join(''))),
        ),
        (b) => onlyDecodeError(() => decodeDeviceDescription(b)),
      ),
      { numRuns: FUZZ_RUNS * 5 },
    );
  });

  it('does not hang on hostile large documents (linear time)', () => {
    const hostile = [
      '<'.repeat(UPNP_MAX_DOCUMENT),
      `<root a="${'>'.repeat(UPNP_MAX_DOCUMENT - 20)}`,
      `<root>${'<!-- '.repeat(UPNP_MAX_DOCUMENT / 5 - 2)}`,
      `<root><device><modelName>${'&amp;'.repeat(UPNP_MAX_DOCUMENT / 5 - 10)}</modelName></device></root>`,
      `<root>${'<a/>'.repeat(UPNP_MAX_ELEMENTS - 1)}${'x'.repeat(UPNP_MAX_DOCUMENT - 4 * UPNP_MAX_ELEMENTS)}`,
      `<!DOCTYPE ${'['.repeat(UPNP_MAX_DOCUMENT - 20)}`,
    ];
    const t0 = performance.now();
    for (const h of hostile) {
      try {
        decode(h);
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError);
      }
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
