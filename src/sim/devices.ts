/**
 * The demo network's device catalogue: 25 IoT devices with real vendor OUIs, DHCP fingerprints, host names,
 * cloud domains, discovery protocols and diurnal traffic profiles, plus a small pool of devices that join
 * later ("new device" incidents). Pure data and small helpers; the behaviour lives in network.ts.
 *
 * Text fields may contain placeholders filled from the device's MAC when the network is built:
 * {MAC6} last three bytes upper-case hex, {mac6} lower-case, {MAC12} all six bytes upper-case hex.
 * Internet addresses are never stored here: the simulator maps every domain into documentation ranges.
 */
import type { MdnsServiceSpec, TlsStack } from './packets.js';

export type DeviceType =
  | 'camera'
  | 'smart_plug'
  | 'smart_bulb'
  | 'hub'
  | 'speaker'
  | 'tv'
  | 'streaming'
  | 'printer'
  | 'thermostat'
  | 'plc'
  | 'phone'
  | 'computer';

/** A cloud endpoint the device resolves and talks to periodically (TLS unless `stack` is null: plain HTTP). */
export interface CloudService {
  domain: string;
  /** Default 443 (80 for plain HTTP). */
  port?: number;
  stack: TlsStack | null;
  /** Mean seconds between sessions at activity 1.0. */
  everySec: number;
  /** Application bytes per session, client → server and back. */
  upBytes: number;
  downBytes: number;
  /** Follow the device's hourly activity profile (default true). */
  diurnal?: boolean;
  /** Plain HTTP request path (stack null). */
  path?: string;
  alpn?: readonly string[];
}

/** A long-lived media connection: cameras upload, TVs and streamers download, with an hourly shape. */
export interface StreamSpec {
  domain: string;
  direction: 'up' | 'down';
  stack: TlsStack;
  /** Application bytes per second at activity 1.0. */
  peakBytesPerSec: number;
  /** Probability that the stream is on in a given hour is the hourly activity (down streams only). */
  sessions: boolean;
}

export interface MqttSpec {
  clientId: string;
  username?: string;
  topic: string;
  publishEverySec: number;
  keepAlive: number;
}

export interface SsdpSpec {
  server: string;
  deviceType: string;
  port: number;
  path: string;
  friendlyName: string;
  modelNumber: string;
  manufacturerUrl: string;
  /** Extra NT values announced besides upnp:rootdevice, the uuid and the device type. */
  extraNt?: readonly string[];
}

export interface DhcpProfile {
  /** Option 55 in wire order: the classic DHCP fingerprint. */
  prl: readonly number[];
  vendorClass: string | null;
  /** Option 61: "mac" = 01 + MAC; "duid" = 255 + IAID + DUID (stable across MAC changes); "none". */
  clientId: 'mac' | 'duid' | 'none';
  /** Send option 81 (FQDN) with the host name. */
  fqdn?: boolean;
  maxMessageSize?: number;
  order?: readonly number[];
}

export interface DeviceProfile {
  id: string;
  vendor: string;
  type: DeviceType;
  model: string;
  firmware: string;
  cpe23: string | null;
  hostname: string;
  /** "44:19:b6": the vendor OUI; ignored for randomized MACs. */
  oui: string;
  /** Randomized, locally administered MAC that rotates (modern phones). */
  randomizedMac?: boolean;
  /** Static address instead of DHCP (PLCs). */
  staticIp?: string;
  dhcp: DhcpProfile | null;
  /** IP TTL of packets the device sends (64 Linux, 255 many RTOS, 30 Siemens). */
  ttl: number;
  /** NTP server name (or "gateway") and poll interval. */
  ntp: { server: string; everySec: number } | null;
  cloud: readonly CloudService[];
  stream?: StreamSpec;
  mqtt?: MqttSpec;
  mdns?: { instance: string; services: readonly MdnsServiceSpec[] };
  ssdp?: SsdpSpec;
  /** Discovery client: mDNS service types queried, SSDP M-SEARCH user agent, interval. */
  browses?: { mdns: readonly string[]; ssdpUserAgent: string | null; everySec: number };
  /** User-Agent for plain HTTP and UPnP description fetches. */
  httpUserAgent?: string;
  listen: { tcp: readonly number[]; udp: readonly number[] };
  /** Activity multiplier per local hour 0..23 (1 = busiest). */
  hourly: readonly number[];
}

// Hourly activity shapes.
export const HOURLY = {
  flat: Array.from({ length: 24 }, () => 1),
  /** TVs and streamers: busy in the evening, nearly idle at night. */
  evening: [
    0.08, 0.03, 0.02, 0.02, 0.02, 0.02, 0.05, 0.15, 0.2, 0.1, 0.08, 0.08, 0.12, 0.12, 0.1, 0.12, 0.2, 0.35,
    0.6, 0.85, 1, 0.95, 0.7, 0.3,
  ],
  /** People at home: morning and evening peaks. */
  home: [
    0.15, 0.06, 0.04, 0.03, 0.03, 0.05, 0.3, 0.7, 0.8, 0.5, 0.4, 0.45, 0.55, 0.5, 0.45, 0.5, 0.6, 0.75, 0.9,
    1, 1, 0.9, 0.6, 0.3,
  ],
  /** Printers: office hours. */
  office: [
    0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.3, 0.8, 1, 1, 0.9, 0.7, 0.9, 1, 0.9, 0.7, 0.4, 0.2, 0.15, 0.1,
    0.05, 0.03, 0.02,
  ],
  /** Cameras: constant, a little more motion by day. */
  camera: [
    0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.85, 0.95, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.95, 0.9, 0.85, 0.8, 0.8,
  ],
} as const;

const BUSYBOX = [1, 3, 6, 12, 15, 28, 42];
const DHCLIENT = [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42];
const APPLE = [1, 121, 3, 6, 15, 108, 114, 119, 252, 95, 44, 46];
const LWIP = [1, 3, 28, 6];
const ESP8266 = [1, 3, 28, 6, 15, 44, 46, 47, 31, 33, 121, 43];

const UPNP_MEDIA = 'urn:schemas-upnp-org:device:MediaRenderer:1';
const UPNP_BASIC = 'urn:schemas-upnp-org:device:Basic:1';

/** The 25 devices of the demo network. */
export const DEVICE_CATALOGUE: readonly DeviceProfile[] = [
  {
    id: 'cam-hikvision',
    vendor: 'Hikvision',
    type: 'camera',
    model: 'DS-2CD2143G0-I',
    firmware: 'V5.5.82',
    cpe23: 'cpe:2.3:o:hikvision:ds-2cd2143g0-i_firmware:5.5.82:*:*:*:*:*:*:*',
    hostname: 'HIKVISION-{MAC6}',
    oui: '44:19:b6',
    dhcp: { prl: [1, 3, 6, 12, 15, 28, 40, 41, 42], vendorClass: 'udhcp 1.19.4', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.windows.com', everySec: 3600 },
    cloud: [
      {
        domain: 'dev.hik-connect.com',
        stack: 'openssl10',
        everySec: 120,
        upBytes: 600,
        downBytes: 400,
        diurnal: false,
      },
      { domain: 'litedev.hik-connect.com', stack: 'openssl10', everySec: 900, upBytes: 1500, downBytes: 900 },
    ],
    stream: {
      domain: 'upload.hik-connect.com',
      direction: 'up',
      stack: 'openssl10',
      peakBytesPerSec: 1500,
      sessions: false,
    },
    ssdp: {
      server: 'Linux/3.0, UPnP/1.0, Hikvision-Webs/1.0',
      deviceType: 'urn:schemas-upnp-org:device:Basic:1',
      port: 49152,
      path: '/upnpdevicedesc.xml',
      friendlyName: 'DS-2CD2143G0-I - {MAC6}',
      modelNumber: 'DS-2CD2143G0-I',
      manufacturerUrl: 'http://www.hikvision.com',
    },
    listen: { tcp: [23, 80, 443, 554, 8000], udp: [37020] },
    hourly: HOURLY.camera,
  },
  {
    id: 'cam-axis',
    vendor: 'Axis Communications',
    type: 'camera',
    model: 'M3045-V',
    firmware: '9.80.3.8',
    cpe23: 'cpe:2.3:o:axis:m3045-v_firmware:9.80.3.8:*:*:*:*:*:*:*',
    hostname: 'axis-00408c{mac6}',
    oui: '00:40:8c',
    dhcp: { prl: DHCLIENT, vendorClass: null, clientId: 'mac', fqdn: true },
    ttl: 64,
    ntp: { server: 'pool.ntp.org', everySec: 1024 },
    cloud: [
      {
        domain: 'dispatchse1.avhs.axis.com',
        stack: 'openssl',
        everySec: 300,
        upBytes: 900,
        downBytes: 700,
        diurnal: false,
      },
    ],
    stream: {
      domain: 'streaming.avhs.axis.com',
      direction: 'up',
      stack: 'openssl',
      peakBytesPerSec: 1500,
      sessions: false,
    },
    mdns: {
      instance: 'AXIS M3045-V - 00408C{MAC6}',
      services: [
        { type: '_axis-video._tcp', port: 80, txt: ['macaddress=00408C{MAC6}'] },
        { type: '_http._tcp', port: 80 },
      ],
    },
    ssdp: {
      server: 'Linux/4.9, UPnP/1.0, Portable SDK for UPnP devices/1.8.4',
      deviceType: UPNP_BASIC,
      port: 49152,
      path: '/rootdesc1.xml',
      friendlyName: 'AXIS M3045-V - 00408C{MAC6}',
      modelNumber: 'M3045-V',
      manufacturerUrl: 'http://www.axis.com/',
    },
    listen: { tcp: [80, 443, 554], udp: [5353, 1900] },
    hourly: HOURLY.camera,
  },
  {
    id: 'cam-wyze',
    vendor: 'Wyze Labs',
    type: 'camera',
    model: 'Wyze Cam v3',
    firmware: '4.36.11.4679',
    cpe23: 'cpe:2.3:o:wyze:cam_v3_firmware:4.36.11.4679:*:*:*:*:*:*:*',
    hostname: 'WYZE_CAKP2JF{MAC6}',
    oui: '2c:aa:8e',
    dhcp: { prl: BUSYBOX, vendorClass: 'udhcp 1.27.2', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'pool.ntp.org', everySec: 3600 },
    cloud: [
      {
        domain: 'api.wyzecam.com',
        stack: 'openssl',
        everySec: 180,
        upBytes: 800,
        downBytes: 1200,
        diurnal: false,
      },
      {
        domain: 'wyze-device-alarm-file.s3.us-west-2.amazonaws.com',
        stack: 'openssl',
        everySec: 900,
        upBytes: 60000,
        downBytes: 800,
      },
    ],
    stream: {
      domain: 'tutk-relay.wyzecam.com',
      direction: 'up',
      stack: 'openssl',
      peakBytesPerSec: 1500,
      sessions: false,
    },
    listen: { tcp: [], udp: [32761] },
    hourly: HOURLY.camera,
  },
  {
    id: 'plug-kasa',
    vendor: 'TP-Link',
    type: 'smart_plug',
    model: 'HS110',
    firmware: '1.5.10',
    cpe23: 'cpe:2.3:o:tp-link:hs110_firmware:1.5.10:*:*:*:*:*:*:*',
    hostname: 'HS110',
    oui: '50:c7:bf',
    dhcp: { prl: [1, 3, 6, 12, 15, 28, 42], vendorClass: null, clientId: 'none' },
    ttl: 64,
    ntp: { server: 'time.google.com', everySec: 3600 },
    cloud: [
      {
        domain: 'devs.tplinkcloud.com',
        port: 50443,
        stack: 'mbedtls',
        everySec: 60,
        upBytes: 350,
        downBytes: 200,
        diurnal: false,
      },
    ],
    listen: { tcp: [9999], udp: [9999] },
    hourly: HOURLY.flat,
  },
  {
    id: 'plug-meross',
    vendor: 'Meross',
    type: 'smart_plug',
    model: 'MSS110',
    firmware: '6.3.22',
    cpe23: null,
    hostname: 'Meross_Smart_Plug',
    oui: '48:e1:e9',
    dhcp: { prl: LWIP, vendorClass: null, clientId: 'mac' },
    ttl: 255,
    ntp: { server: 'pool.ntp.org', everySec: 3600 },
    cloud: [
      {
        domain: 'mqtt-us.meross.com',
        stack: 'mbedtls',
        everySec: 90,
        upBytes: 250,
        downBytes: 150,
        diurnal: false,
      },
      { domain: 'iot.meross.com', stack: 'mbedtls', everySec: 1800, upBytes: 700, downBytes: 1100 },
    ],
    listen: { tcp: [80], udp: [] },
    hourly: HOURLY.flat,
  },
  {
    id: 'plug-shelly',
    vendor: 'Shelly',
    type: 'smart_plug',
    model: 'Shelly Plug S',
    firmware: '20230913-114008/v1.14.0-gcb84623',
    cpe23: 'cpe:2.3:o:shelly:shelly_plug_s_firmware:1.14.0:*:*:*:*:*:*:*',
    hostname: 'shellyplug-s-{MAC6}',
    oui: '3c:61:05',
    dhcp: { prl: ESP8266, vendorClass: null, clientId: 'none' },
    ttl: 255,
    ntp: { server: 'time.google.com', everySec: 3600 },
    cloud: [
      {
        domain: 'shelly-13-eu.shelly.cloud',
        port: 6022,
        stack: 'mbedtls',
        everySec: 240,
        upBytes: 300,
        downBytes: 120,
        diurnal: false,
      },
    ],
    mqtt: {
      clientId: 'shellyplug-s-{MAC6}',
      username: 'shelly',
      topic: 'shellies/shellyplug-s-{MAC6}/relay/0/power',
      publishEverySec: 30,
      keepAlive: 60,
    },
    mdns: {
      instance: 'shellyplug-s-{MAC6}',
      services: [
        {
          type: '_http._tcp',
          port: 80,
          txt: ['id=shellyplug-s-{MAC6}', 'fw_id=20230913-114008/v1.14.0-gcb84623', 'arch=esp8266'],
        },
      ],
    },
    listen: { tcp: [80], udp: [5683] },
    hourly: HOURLY.flat,
  },
  {
    id: 'hub-hue',
    vendor: 'Philips Hue',
    type: 'hub',
    model: 'BSB002',
    firmware: '1.59.1959097030',
    cpe23: 'cpe:2.3:o:philips:hue_bridge_firmware:1959097030:*:*:*:*:*:*:*',
    hostname: 'Philips-hue',
    oui: '00:17:88',
    dhcp: { prl: BUSYBOX, vendorClass: 'udhcp 1.23.2', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.meethue.com', everySec: 3600 },
    cloud: [
      {
        domain: 'ws.meethue.com',
        stack: 'openssl',
        everySec: 120,
        upBytes: 500,
        downBytes: 500,
        diurnal: false,
      },
      { domain: 'diag.meethue.com', stack: 'openssl', everySec: 1800, upBytes: 4000, downBytes: 600 },
    ],
    mdns: {
      instance: 'Philips Hue - {MAC6}',
      services: [
        { type: '_hue._tcp', port: 443, txt: ['bridgeid=001788fffe{mac6}', 'modelid=BSB002'] },
        { type: '_hap._tcp', port: 8080, txt: ['md=BSB002', 'ci=2', 'sf=0'] },
      ],
    },
    ssdp: {
      server: 'Linux/3.14.0 UPnP/1.0 IpBridge/1.59.0',
      deviceType: UPNP_BASIC,
      port: 80,
      path: '/description.xml',
      friendlyName: 'Philips hue (10.42.0.x)',
      modelNumber: 'BSB002',
      manufacturerUrl: 'http://www.philips-hue.com',
    },
    listen: { tcp: [80, 443, 8080], udp: [1900, 5353] },
    hourly: HOURLY.home,
  },
  {
    id: 'hub-smartthings',
    vendor: 'Samsung SmartThings',
    type: 'hub',
    model: 'STH-ETH-300',
    firmware: '000.048.00005',
    cpe23: null,
    hostname: 'SmartThings-Hub',
    oui: '24:fd:5b',
    dhcp: { prl: [1, 28, 2, 3, 15, 6, 12, 40, 41, 42, 26, 119, 121], vendorClass: null, clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.google.com', everySec: 1024 },
    cloud: [
      {
        domain: 'dc.connect.smartthings.com',
        stack: 'openssl',
        everySec: 60,
        upBytes: 400,
        downBytes: 300,
        diurnal: false,
      },
      { domain: 'api.smartthings.com', stack: 'openssl', everySec: 600, upBytes: 1500, downBytes: 3000 },
    ],
    browses: { mdns: ['_hue._tcp'], ssdpUserAgent: 'SmartThings/1.0 UPnP/1.1', everySec: 900 },
    listen: { tcp: [39500], udp: [] },
    hourly: HOURLY.home,
  },
  {
    id: 'bulb-lifx',
    vendor: 'LIFX',
    type: 'smart_bulb',
    model: 'LIFX A19',
    firmware: '3.70',
    cpe23: null,
    hostname: 'LIFX-A19-{MAC6}',
    oui: 'd0:73:d5',
    dhcp: { prl: [1, 3, 6, 15, 28, 42], vendorClass: null, clientId: 'mac' },
    ttl: 255,
    ntp: { server: 'pool.ntp.org', everySec: 3600 },
    cloud: [
      {
        domain: 'v2.broker.lifx.co',
        port: 56700,
        stack: 'mbedtls',
        everySec: 120,
        upBytes: 200,
        downBytes: 160,
        diurnal: false,
      },
    ],
    listen: { tcp: [], udp: [56700] },
    hourly: HOURLY.home,
  },
  {
    id: 'bulb-kasa',
    vendor: 'TP-Link',
    type: 'smart_bulb',
    model: 'KL130',
    firmware: '1.8.11',
    cpe23: 'cpe:2.3:o:tp-link:kl130_firmware:1.8.11:*:*:*:*:*:*:*',
    hostname: 'KL130',
    oui: 'b0:be:76',
    dhcp: { prl: [1, 3, 6, 12, 15, 28, 42], vendorClass: null, clientId: 'none' },
    ttl: 64,
    ntp: { server: 'time.google.com', everySec: 3600 },
    cloud: [
      {
        domain: 'n-devs.tplinkcloud.com',
        stack: 'mbedtls',
        everySec: 60,
        upBytes: 350,
        downBytes: 200,
        diurnal: false,
      },
    ],
    listen: { tcp: [9999], udp: [9999] },
    hourly: HOURLY.home,
  },
  {
    id: 'speaker-echo',
    vendor: 'Amazon',
    type: 'speaker',
    model: 'Echo Dot (4th Gen)',
    firmware: '8289072516',
    cpe23: null,
    hostname: 'amazon-{mac6}a1',
    oui: 'fc:65:de',
    dhcp: { prl: [1, 3, 6, 15, 26, 28, 51, 58, 59, 43], vendorClass: 'dhcpcd-5.5.6', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'ntp-g7g.amazon.com', everySec: 1024 },
    cloud: [
      {
        domain: 'avs-alexa-16-na.amazon.com',
        stack: 'android',
        everySec: 45,
        upBytes: 800,
        downBytes: 600,
        diurnal: false,
      },
      {
        domain: 'device-metrics-us.amazon.com',
        stack: 'android',
        everySec: 600,
        upBytes: 5000,
        downBytes: 400,
      },
      { domain: 'api.amazonalexa.com', stack: 'android', everySec: 300, upBytes: 1200, downBytes: 6000 },
    ],
    stream: {
      domain: 'audio-fa.scdn.co',
      direction: 'down',
      stack: 'android',
      peakBytesPerSec: 2000,
      sessions: true,
    },
    browses: { mdns: [], ssdpUserAgent: 'Linux/4.9 UPnP/1.0 Amazon', everySec: 1200 },
    listen: { tcp: [4070, 55443], udp: [] },
    hourly: HOURLY.home,
  },
  {
    id: 'speaker-nest-mini',
    vendor: 'Google',
    type: 'speaker',
    model: 'Nest Mini',
    firmware: '1.56.324896',
    cpe23: null,
    hostname: 'Google-Nest-Mini',
    oui: 'f4:f5:d8',
    dhcp: { prl: [1, 3, 6, 15, 28, 33, 51, 58, 59, 121], vendorClass: null, clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.google.com', everySec: 1024 },
    cloud: [
      {
        domain: 'mtalk.google.com',
        port: 5228,
        stack: 'chromium',
        everySec: 120,
        upBytes: 200,
        downBytes: 200,
        diurnal: false,
      },
      { domain: 'www.googleapis.com', stack: 'chromium', everySec: 300, upBytes: 1500, downBytes: 5000 },
      {
        domain: 'connectivitycheck.gstatic.com',
        stack: null,
        path: '/generate_204',
        everySec: 900,
        upBytes: 0,
        downBytes: 0,
        diurnal: false,
      },
    ],
    stream: {
      domain: 'rr4---sn-ab5l6nrz.googlevideo.com',
      direction: 'down',
      stack: 'chromium',
      peakBytesPerSec: 2000,
      sessions: true,
    },
    mdns: {
      instance: 'Google-Nest-Mini-{mac6}0a1b2c',
      services: [
        {
          type: '_googlecast._tcp',
          port: 8009,
          txt: ['md=Google Nest Mini', 'fn=Kitchen speaker', 'ca=199172'],
        },
      ],
    },
    httpUserAgent: 'Mozilla/5.0 (Linux; Android) CrKey/1.56.324896',
    listen: { tcp: [8008, 8009, 8443, 10001], udp: [5353] },
    hourly: HOURLY.home,
  },
  {
    id: 'speaker-sonos',
    vendor: 'Sonos',
    type: 'speaker',
    model: 'Sonos One',
    firmware: '70.3-35220',
    cpe23: null,
    hostname: 'SonosZP',
    oui: '5c:aa:fd',
    dhcp: { prl: [1, 3, 6, 12, 15, 28, 33, 40, 41, 42], vendorClass: null, clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'sonos.pool.ntp.org', everySec: 3600 },
    cloud: [
      { domain: 'msmetrics.ws.sonos.com', stack: 'openssl', everySec: 600, upBytes: 3000, downBytes: 500 },
      {
        domain: 'update.sonos.com',
        stack: null,
        path: '/firmware/latest/default-1-1.ups',
        everySec: 3600,
        upBytes: 0,
        downBytes: 2000,
        diurnal: false,
      },
    ],
    stream: {
      domain: 'audio-ak-spotify-com.akamaized.net',
      direction: 'down',
      stack: 'openssl',
      peakBytesPerSec: 2000,
      sessions: true,
    },
    mdns: {
      instance: '5CAAFD{MAC6}@Living Room',
      services: [
        {
          type: '_sonos._tcp',
          port: 1443,
          txt: ['info=/api/v1/players/RINCON_5CAAFD{MAC6}01400/info', 'vers=3'],
        },
        { type: '_airplay._tcp', port: 7000, txt: ['model=S18', 'manufacturer=Sonos'] },
        { type: '_spotify-connect._tcp', port: 1400 },
      ],
    },
    ssdp: {
      server: 'Linux UPnP/1.0 Sonos/70.3-35220 (ZPS18)',
      deviceType: 'urn:schemas-upnp-org:device:ZonePlayer:1',
      port: 1400,
      path: '/xml/device_description.xml',
      friendlyName: '10.42.0.x - Sonos One - RINCON_5CAAFD{MAC6}01400',
      modelNumber: 'S18',
      manufacturerUrl: 'http://www.sonos.com',
    },
    browses: {
      mdns: ['_sonos._tcp'],
      ssdpUserAgent: 'Linux UPnP/1.0 Sonos/70.3-35220 (ZPS18)',
      everySec: 600,
    },
    httpUserAgent: 'Linux UPnP/1.0 Sonos/70.3-35220 (ZPS18)',
    listen: { tcp: [1400, 1443, 7000], udp: [1900, 5353] },
    hourly: HOURLY.home,
  },
  {
    id: 'tv-samsung',
    vendor: 'Samsung',
    type: 'tv',
    model: 'QN55Q80BAFXZA',
    firmware: 'T-PTMAKUC-1402.3',
    cpe23: null,
    hostname: 'Samsung',
    oui: '8c:79:f5',
    dhcp: { prl: [1, 3, 6, 12, 15, 28, 33, 42, 119, 121], vendorClass: 'udhcp 1.30.1', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.samsungcloudsolution.com', everySec: 1800 },
    cloud: [
      { domain: 'log-config.samsungacr.com', stack: 'gnutls', everySec: 300, upBytes: 2500, downBytes: 800 },
      { domain: 'osb.samsungqbe.com', stack: 'gnutls', everySec: 600, upBytes: 900, downBytes: 4000 },
    ],
    stream: {
      domain: 'ipv4-c014-sjc002-ix.1.oca.nflxvideo.net',
      direction: 'down',
      stack: 'gnutls',
      peakBytesPerSec: 3500,
      sessions: true,
    },
    mdns: {
      instance: 'Samsung Q80B',
      services: [{ type: '_airplay._tcp', port: 7000, txt: ['manufacturer=Samsung', 'model=QN55Q80BAFXZA'] }],
    },
    ssdp: {
      server: 'SHP, UPnP/1.0, Samsung UPnP SDK/1.0',
      deviceType: UPNP_MEDIA,
      port: 9197,
      path: '/dmr',
      friendlyName: '[TV] Samsung Q80 Series (55)',
      modelNumber: 'AllShare1.0',
      manufacturerUrl: 'http://www.samsung.com/sec',
    },
    browses: {
      mdns: ['_googlecast._tcp'],
      ssdpUserAgent: 'SEC_HHP_[TV] Samsung Q80 Series (55)/1.0',
      everySec: 900,
    },
    httpUserAgent:
      'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.5) AppleWebKit/537.36 (KHTML, like Gecko) 85.0.4183.93/6.5 TV Safari/537.36',
    listen: { tcp: [7000, 8001, 8002, 9197], udp: [1900] },
    hourly: HOURLY.evening,
  },
  {
    id: 'tv-lg',
    vendor: 'LG Electronics',
    type: 'tv',
    model: 'OLED55C1PUB',
    firmware: '03.34.95',
    cpe23: null,
    hostname: 'LGwebOSTV',
    oui: 'a8:23:fe',
    dhcp: { prl: DHCLIENT, vendorClass: null, clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'pool.ntp.org', everySec: 1024 },
    cloud: [
      { domain: 'us.lgtvsdp.com', stack: 'gnutls', everySec: 300, upBytes: 1800, downBytes: 3000 },
      {
        domain: 'snu.lge.com',
        stack: 'gnutls',
        everySec: 3600,
        upBytes: 900,
        downBytes: 1500,
        diurnal: false,
      },
    ],
    stream: {
      domain: 'rr3---sn-n4v7sn7z.googlevideo.com',
      direction: 'down',
      stack: 'gnutls',
      peakBytesPerSec: 3500,
      sessions: true,
    },
    mdns: {
      instance: 'LG webOS TV OLED55C1PUB',
      services: [
        { type: '_airplay._tcp', port: 7000, txt: ['manufacturer=LG Electronics', 'model=OLED55C1PUB'] },
      ],
    },
    ssdp: {
      server: 'Linux/4.4.84 UPnP/1.0 LGE WebOS TV/Version 0.9',
      deviceType: UPNP_MEDIA,
      port: 1528,
      path: '/',
      friendlyName: '[LG] webOS TV OLED55C1PUB',
      modelNumber: 'OLED55C1PUB',
      manufacturerUrl: 'http://www.lge.com',
    },
    httpUserAgent:
      'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 WebAppManager',
    listen: { tcp: [1528, 3000, 3001, 7000], udp: [1900] },
    hourly: HOURLY.evening,
  },
  {
    id: 'streaming-roku',
    vendor: 'Roku',
    type: 'streaming',
    model: 'Roku Express 3930X',
    firmware: '12.5.0.4178',
    cpe23: 'cpe:2.3:o:roku:roku_os:12.5.0:*:*:*:*:*:*:*',
    hostname: 'Roku-Express-{MAC6}',
    oui: 'b0:a7:37',
    dhcp: { prl: [1, 3, 6, 15, 28, 33], vendorClass: null, clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.roku.com', everySec: 1800 },
    cloud: [
      { domain: 'api.roku.com', stack: 'openssl', everySec: 300, upBytes: 900, downBytes: 3500 },
      { domain: 'scribe.logs.roku.com', stack: 'openssl', everySec: 240, upBytes: 4000, downBytes: 300 },
    ],
    stream: {
      domain: 'vod-akc-na.hulustream.com',
      direction: 'down',
      stack: 'openssl',
      peakBytesPerSec: 3500,
      sessions: true,
    },
    ssdp: {
      server: 'Roku/12.5.0 UPnP/1.0 Roku/12.5.0',
      deviceType: 'urn:roku-com:device:player:1-0',
      port: 8060,
      path: '/',
      friendlyName: 'Bedroom Roku Express',
      modelNumber: '3930X',
      manufacturerUrl: 'http://www.roku.com/',
      extraNt: ['roku:ecp'],
    },
    httpUserAgent: 'Roku/DVP-12.5 (12.5.0.4178-46)',
    listen: { tcp: [8060, 9080], udp: [1900] },
    hourly: HOURLY.evening,
  },
  {
    id: 'streaming-chromecast',
    vendor: 'Google',
    type: 'streaming',
    model: 'Chromecast with Google TV',
    firmware: 'STTE.230319.008',
    cpe23: null,
    hostname: 'Chromecast',
    oui: '3c:5a:b4',
    dhcp: {
      prl: [1, 3, 6, 15, 26, 28, 51, 58, 59, 43, 114, 108],
      vendorClass: 'android-dhcp-12',
      clientId: 'none',
    },
    ttl: 64,
    ntp: { server: 'time.android.com', everySec: 1800 },
    cloud: [
      {
        domain: 'android.clients.google.com',
        stack: 'chromium',
        everySec: 300,
        upBytes: 1200,
        downBytes: 4000,
      },
      {
        domain: 'mtalk.google.com',
        port: 5228,
        stack: 'chromium',
        everySec: 120,
        upBytes: 200,
        downBytes: 200,
        diurnal: false,
      },
    ],
    stream: {
      domain: 'rr1---sn-5ualdn7s.googlevideo.com',
      direction: 'down',
      stack: 'chromium',
      peakBytesPerSec: 3500,
      sessions: true,
    },
    mdns: {
      instance: 'Chromecast-{mac6}d4e5f6',
      services: [
        { type: '_googlecast._tcp', port: 8009, txt: ['md=Chromecast', 'fn=Family Room TV', 'ca=463365'] },
      ],
    },
    httpUserAgent: 'Mozilla/5.0 (Linux; Android 12) CrKey/1.56.500000 DeviceType/AndroidTV',
    listen: { tcp: [8008, 8009, 8443], udp: [5353] },
    hourly: HOURLY.evening,
  },
  {
    id: 'streaming-appletv',
    vendor: 'Apple',
    type: 'streaming',
    model: 'Apple TV 4K (3rd generation)',
    firmware: 'tvOS 17.4',
    cpe23: 'cpe:2.3:o:apple:tvos:17.4:*:*:*:*:*:*:*',
    hostname: 'Living-Room',
    oui: 'f0:b3:ec',
    dhcp: { prl: APPLE, vendorClass: null, clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.apple.com', everySec: 1800 },
    cloud: [
      { domain: 'gateway.icloud.com', stack: 'apple', everySec: 300, upBytes: 1500, downBytes: 3000 },
      { domain: 'init.itunes.apple.com', stack: 'apple', everySec: 900, upBytes: 800, downBytes: 6000 },
    ],
    stream: {
      domain: 'play-edge.itunes.apple.com',
      direction: 'down',
      stack: 'apple',
      peakBytesPerSec: 3500,
      sessions: true,
    },
    mdns: {
      instance: 'Living Room',
      services: [
        { type: '_airplay._tcp', port: 7000, txt: ['model=AppleTV14,1', 'osvers=17.4'] },
        { type: '_raop._tcp', port: 7000 },
        { type: '_companion-link._tcp', port: 49153 },
      ],
    },
    listen: { tcp: [7000, 49153, 62078], udp: [5353] },
    hourly: HOURLY.evening,
  },
  {
    id: 'printer-hp',
    vendor: 'HP',
    type: 'printer',
    model: 'OfficeJet Pro 9015e',
    firmware: '2405.0',
    cpe23: 'cpe:2.3:o:hp:officejet_pro_9015e_firmware:2405.0:*:*:*:*:*:*:*',
    hostname: 'HP{MAC6}',
    oui: '3c:d9:2b',
    dhcp: {
      prl: [1, 3, 6, 15, 44, 46, 47, 31, 33, 121, 249, 43, 252, 12],
      vendorClass: 'Hewlett-Packard JetDirect',
      clientId: 'mac',
      fqdn: true,
    },
    ttl: 64,
    ntp: { server: 'gateway', everySec: 3600 },
    cloud: [
      {
        domain: 'xmpp023.hpeprint.com',
        port: 5223,
        stack: 'openssl',
        everySec: 300,
        upBytes: 300,
        downBytes: 300,
        diurnal: false,
      },
      {
        domain: 'h10141.www1.hp.com',
        stack: null,
        path: '/support/firmware/check',
        everySec: 3600,
        upBytes: 0,
        downBytes: 1200,
      },
    ],
    mdns: {
      instance: 'HP OfficeJet Pro 9010 series [{MAC6}]',
      services: [
        {
          type: '_ipp._tcp',
          port: 631,
          txt: [
            'ty=HP OfficeJet Pro 9010 series',
            'product=(HP OfficeJet Pro 9010 series)',
            'pdl=application/pdf,image/urf',
          ],
        },
        { type: '_ipps._tcp', port: 443 },
        { type: '_printer._tcp', port: 515 },
        { type: '_pdl-datastream._tcp', port: 9100 },
      ],
    },
    ssdp: {
      server:
        'HP HTTP Server; HP OfficeJet Pro 9010 series - 1MR69C; Serial Number: TH0C12345; Built: Wed Apr 17, 2024 03:00:00PM {2405.0}',
      deviceType: 'urn:schemas-upnp-org:device:Printer:1',
      port: 8080,
      path: '/DevMgmt/DiscoveryTree.xml',
      friendlyName: 'HP OfficeJet Pro 9010 series',
      modelNumber: '1MR69C',
      manufacturerUrl: 'http://www.hp.com',
    },
    httpUserAgent: 'HP-ChaiSOE/1.0',
    listen: { tcp: [80, 443, 515, 631, 8080, 9100], udp: [161, 5353] },
    hourly: HOURLY.office,
  },
  {
    id: 'printer-brother',
    vendor: 'Brother',
    type: 'printer',
    model: 'HL-L2350DW',
    firmware: '1.71',
    cpe23: 'cpe:2.3:o:brother:hl-l2350dw_firmware:1.71:*:*:*:*:*:*:*',
    hostname: 'BRW3C2AF4{MAC6}',
    oui: '3c:2a:f4',
    dhcp: {
      prl: [1, 3, 6, 15, 44, 46, 47, 12, 42, 43, 69],
      vendorClass: 'Brother HL-L2350DW series',
      clientId: 'mac',
    },
    ttl: 64,
    ntp: { server: 'pool.ntp.org', everySec: 3600 },
    cloud: [
      {
        domain: 'firmverup.brother.co.jp',
        stack: null,
        path: '/kne_bh7_update/firmware.xml',
        everySec: 3600,
        upBytes: 0,
        downBytes: 900,
      },
    ],
    mdns: {
      instance: 'Brother HL-L2350DW series',
      services: [
        { type: '_ipp._tcp', port: 631, txt: ['ty=Brother HL-L2350DW series', 'usb_MFG=Brother'] },
        { type: '_printer._tcp', port: 515 },
        { type: '_pdl-datastream._tcp', port: 9100 },
      ],
    },
    httpUserAgent: 'Brother-Firmware-Update/1.0',
    listen: { tcp: [80, 443, 515, 631, 9100], udp: [161, 5353] },
    hourly: HOURLY.office,
  },
  {
    id: 'thermostat-nest',
    vendor: 'Google Nest',
    type: 'thermostat',
    model: 'Nest Learning Thermostat (3rd gen)',
    firmware: '6.2-11',
    cpe23: null,
    hostname: 'Nest-Thermostat-{MAC6}',
    oui: '18:b4:30',
    dhcp: { prl: BUSYBOX, vendorClass: 'udhcp 1.22.1', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'time.google.com', everySec: 3600 },
    cloud: [
      {
        domain: 'frontdoor.nest.com',
        stack: 'openssl',
        everySec: 600,
        upBytes: 700,
        downBytes: 900,
        diurnal: false,
      },
      {
        domain: 'transport01.rts08.iad01.production.nest.com',
        port: 9543,
        stack: 'openssl',
        everySec: 120,
        upBytes: 300,
        downBytes: 250,
        diurnal: false,
      },
    ],
    listen: { tcp: [], udp: [] },
    hourly: HOURLY.home,
  },
  {
    id: 'thermostat-ecobee',
    vendor: 'ecobee',
    type: 'thermostat',
    model: 'ecobee3 lite',
    firmware: '4.8.7.132',
    cpe23: null,
    hostname: 'ecobee',
    oui: '44:61:32',
    dhcp: { prl: [1, 3, 6, 15, 28, 42], vendorClass: null, clientId: 'mac' },
    ttl: 255,
    ntp: { server: 'pool.ntp.org', everySec: 3600 },
    cloud: [
      {
        domain: 'home.ecobee.com',
        port: 8089,
        stack: 'mbedtls',
        everySec: 180,
        upBytes: 600,
        downBytes: 500,
        diurnal: false,
      },
    ],
    mdns: {
      instance: 'My ecobee',
      services: [{ type: '_hap._tcp', port: 1200, txt: ['md=ecobee3 lite', 'ci=9', 'sf=0'] }],
    },
    listen: { tcp: [1200], udp: [5353] },
    hourly: HOURLY.flat,
  },
  {
    id: 'plc-siemens',
    vendor: 'Siemens',
    type: 'plc',
    model: 'SIMATIC S7-1200 CPU 1214C',
    firmware: 'V4.5.2',
    cpe23: 'cpe:2.3:o:siemens:simatic_s7-1200_cpu_1214c_firmware:4.5.2:*:*:*:*:*:*:*',
    hostname: 'plc-line1',
    oui: '00:1b:1b',
    staticIp: '10.42.0.10',
    dhcp: null,
    ttl: 30,
    ntp: null,
    cloud: [],
    listen: { tcp: [102, 502], udp: [] },
    hourly: HOURLY.flat,
  },
  {
    id: 'computer-rpi',
    vendor: 'Raspberry Pi',
    type: 'computer',
    model: 'Raspberry Pi 4 Model B',
    firmware: 'Raspberry Pi OS 12 (bookworm), Home Assistant 2024.5',
    cpe23: null,
    hostname: 'homeassistant',
    oui: 'dc:a6:32',
    staticIp: '10.42.0.2',
    dhcp: {
      prl: [1, 121, 33, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119],
      vendorClass: 'dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835',
      clientId: 'duid',
      maxMessageSize: 1472,
    },
    ttl: 64,
    ntp: { server: 'debian.pool.ntp.org', everySec: 1024 },
    cloud: [
      {
        domain: 'version.home-assistant.io',
        stack: 'openssl',
        everySec: 1800,
        upBytes: 400,
        downBytes: 3000,
      },
      { domain: 'alerts.home-assistant.io', stack: 'openssl', everySec: 1800, upBytes: 400, downBytes: 2000 },
      { domain: 'api.github.com', stack: 'openssl', everySec: 3600, upBytes: 600, downBytes: 8000 },
    ],
    mdns: {
      instance: 'Home',
      services: [
        {
          type: '_home-assistant._tcp',
          port: 8123,
          txt: ['version=2024.5.0', 'base_url=http://10.42.0.2:8123'],
        },
        { type: '_mqtt._tcp', port: 1883 },
      ],
    },
    browses: {
      mdns: ['_googlecast._tcp', '_hue._tcp', '_hap._tcp', '_ipp._tcp', '_airplay._tcp'],
      ssdpUserAgent: 'Python/3.12 UPnP/1.0 async-upnp-client/0.38.3',
      everySec: 600,
    },
    httpUserAgent: 'HomeAssistant/2024.5.0 aiohttp/3.9.5 Python/3.12',
    listen: { tcp: [22, 1883, 8123], udp: [5353] },
    hourly: HOURLY.flat,
  },
  {
    id: 'phone-iphone',
    vendor: 'Apple',
    type: 'phone',
    model: 'iPhone 13',
    firmware: 'iOS 17.4.1',
    cpe23: 'cpe:2.3:o:apple:iphone_os:17.4.1:*:*:*:*:*:*:*',
    hostname: 'Alices-iPhone',
    oui: 'f0:b3:ec',
    randomizedMac: true,
    dhcp: { prl: APPLE, vendorClass: null, clientId: 'duid' },
    ttl: 64,
    ntp: { server: 'time.apple.com', everySec: 1800 },
    cloud: [
      { domain: 'gateway.icloud.com', stack: 'apple', everySec: 240, upBytes: 2000, downBytes: 6000 },
      { domain: 'gsp-ssl.ls.apple.com', stack: 'apple', everySec: 600, upBytes: 1000, downBytes: 4000 },
      { domain: 'api.smoot.apple.com', stack: 'apple', everySec: 400, upBytes: 1500, downBytes: 3000 },
      { domain: 'graph.facebook.com', stack: 'apple', everySec: 500, upBytes: 3000, downBytes: 25000 },
      { domain: 'i.instagram.com', stack: 'apple', everySec: 300, upBytes: 2000, downBytes: 60000 },
    ],
    mdns: { instance: 'Alices-iPhone', services: [{ type: '_companion-link._tcp', port: 49153 }] },
    browses: {
      mdns: ['_airplay._tcp', '_raop._tcp', '_googlecast._tcp', '_hap._tcp', '_ipp._tcp'],
      ssdpUserAgent: 'iOS/17.4.1 UPnP/1.1 Sonos/70.3 (ICRU_iPhone14,5)',
      everySec: 300,
    },
    httpUserAgent: 'Sonos/70.3 (ICRU_iPhone14,5) CFNetwork/1494.0.7 Darwin/23.4.0',
    listen: { tcp: [49153, 62078], udp: [5353] },
    hourly: HOURLY.home,
  },
];

/** Devices that may join later ("new device" incidents), in the order they are used. */
export const NEW_DEVICE_POOL: readonly DeviceProfile[] = [
  {
    id: 'new-plug-tuya',
    vendor: 'Tuya',
    type: 'smart_plug',
    model: 'Smart Life WP3',
    firmware: '1.1.8',
    cpe23: null,
    hostname: 'wlan0',
    oui: '68:57:2d',
    dhcp: { prl: LWIP, vendorClass: null, clientId: 'mac' },
    ttl: 255,
    ntp: { server: 'pool.ntp.org', everySec: 3600 },
    cloud: [
      {
        domain: 'a1.tuyaus.com',
        stack: 'mbedtls',
        everySec: 60,
        upBytes: 300,
        downBytes: 200,
        diurnal: false,
      },
    ],
    listen: { tcp: [6668], udp: [] },
    hourly: HOURLY.flat,
  },
  {
    id: 'new-cam-xiaomi',
    vendor: 'Xiaomi',
    type: 'camera',
    model: 'Mi 360 Home Security Camera 2K',
    firmware: '4.1.6_0287',
    cpe23: null,
    hostname: 'chuangmi-camera-{mac6}',
    oui: '78:11:dc',
    dhcp: { prl: BUSYBOX, vendorClass: 'udhcp 1.24.1', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'pool.ntp.org', everySec: 3600 },
    cloud: [
      {
        domain: 'de.api.io.mi.com',
        stack: 'openssl',
        everySec: 120,
        upBytes: 700,
        downBytes: 500,
        diurnal: false,
      },
    ],
    stream: {
      domain: 'business.smartcamera.api.io.mi.com',
      direction: 'up',
      stack: 'openssl',
      peakBytesPerSec: 1500,
      sessions: false,
    },
    listen: { tcp: [554], udp: [54321] },
    hourly: HOURLY.camera,
  },
  {
    id: 'new-streaming-firetv',
    vendor: 'Amazon',
    type: 'streaming',
    model: 'Fire TV Stick 4K',
    firmware: 'Fire OS 7.6.6.3',
    cpe23: null,
    hostname: 'amazon-{mac6}f2',
    oui: 'fc:e9:d8',
    dhcp: { prl: [1, 3, 6, 15, 26, 28, 51, 58, 59, 43], vendorClass: 'dhcpcd-5.5.6', clientId: 'mac' },
    ttl: 64,
    ntp: { server: 'ntp-g7g.amazon.com', everySec: 1024 },
    cloud: [{ domain: 'api.amazon.com', stack: 'android', everySec: 300, upBytes: 1000, downBytes: 4000 }],
    stream: {
      domain: 'atv-ps.amazon.com',
      direction: 'down',
      stack: 'android',
      peakBytesPerSec: 3500,
      sessions: true,
    },
    listen: { tcp: [8009, 55442], udp: [] },
    hourly: HOURLY.evening,
  },
];

/** Replaces {MAC6}, {mac6} and {MAC12} in `s` with parts of `mac` (48-bit number). */
export function fillTemplate(s: string, mac: number): string {
  if (!s.includes('{')) return s;
  const hex = mac.toString(16).padStart(12, '0');
  return s
    .replace(/\{MAC6\}/g, hex.slice(6).toUpperCase())
    .replace(/\{mac6\}/g, hex.slice(6))
    .replace(/\{MAC12\}/g, hex.toUpperCase());
}

/** "44:19:b6" → 0x4419b6. */
export function ouiValue(oui: string): number {
  return parseInt(oui.replace(/:/g, ''), 16);
}
