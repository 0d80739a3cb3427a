/**
 * CPE 2.3 names a device's evidence supports: hardware (and firmware, when a version is known) from its
 * vendor and model, and software from version banners that name a product: SSDP SERVER / HTTP Server
 * tokens ("miniupnpd/1.8", "Portable SDK for UPnP devices/1.6.18", "Linux/2.6.36"), the DHCP vendor class
 * ("udhcp 1.19.4" is BusyBox's client) and the UPnP model name/number. Nothing is guessed beyond that: no
 * evidence, no CPE.
 */
import { formatCpe } from '../vulns/cpe/fs.js';
import { ANY, NA, literal, wfn, type CpePart } from '../vulns/cpe/types.js';

export interface CpeInference {
  cpe: string;
  evidence: string;
}

export interface CpeInput {
  vendor: string | null;
  model: string | null;
  firmware: string | null;
  signals: ReadonlyMap<string, ReadonlyMap<string, number> | ReadonlySet<string>>;
}

/** "TP-Link Technologies Co., Ltd." → "tp-link"; "Belkin International Inc." → "belkin". */
export function cpeVendor(v: string): string | null {
  const s = v
    .toLowerCase()
    .replace(
      /[,.]?\s*(technologies|technology|international|electronics|communications|corporation|corp|co|ltd|inc|gmbh|ag|llc|limited|group)\b\.?/g,
      ' ',
    )
    .trim()
    .split(/\s+/)[0];
  if (!s) return null;
  const out = s.replace(/[^a-z0-9_.-]/g, '');
  return out.length > 0 ? out : null;
}

export function cpeToken(v: string): string | null {
  const s = v
    .toLowerCase()
    .trim()
    .replace(/\s+/g, '_')
    .replace(/[^a-z0-9_.-]/g, '');
  return s.length > 0 && s.length <= 64 ? s : null;
}

function make(part: CpePart, vendor: string, product: string, version: string | null): string {
  return formatCpe(
    wfn({
      part,
      vendor: literal(vendor),
      product: literal(product),
      version: version ? literal(version) : part === 'h' ? NA : ANY,
    }),
  );
}

/** Known banner products: banner token (lower case, before "/") → [vendor, product]. */
const BANNER_PRODUCTS: Record<string, [string, string, CpePart]> = {
  miniupnpd: ['miniupnp_project', 'miniupnpd', 'a'],
  'portable sdk for upnp devices': ['libupnp_project', 'libupnp', 'a'],
  lighttpd: ['lighttpd', 'lighttpd', 'a'],
  boa: ['boa', 'boa', 'a'],
  goahead: ['embedthis', 'goahead', 'a'],
  'goahead-webs': ['embedthis', 'goahead', 'a'],
  mini_httpd: ['acme', 'mini_httpd', 'a'],
  thttpd: ['acme', 'thttpd', 'a'],
  nginx: ['f5', 'nginx', 'a'],
  apache: ['apache', 'http_server', 'a'],
  linux: ['linux', 'linux_kernel', 'o'],
  dropbear: ['dropbear_ssh_project', 'dropbear_ssh', 'a'],
};

const VERSION = /^\d+(\.\d+){0,3}[a-z0-9.-]*$/i;

/**
 * The version a firmware string states: the whole string when it is one ("1.0.4", "v1.04b02" → "1.04b02"), else the
 * first dotted number in it ("WeMo_WW_2.00.11057.PVT-OWRT-Insight" → "2.00.11057"); null when none.
 */
export function firmwareVersion(firmware: string): string | null {
  const t = cpeToken(firmware)?.replace(/^v(?=\d)/, '');
  if (t && VERSION.test(t)) return t;
  const m = /(?:^|[^\d.])v?(\d+\.\d+(?:\.\d+){0,2})(?![\d])/i.exec(firmware);
  return m?.[1] ?? null;
}

function values(input: CpeInput, kind: string): string[] {
  const m = input.signals.get(kind);
  return m ? [...m.keys()] : [];
}

export function inferCpes(input: CpeInput): CpeInference[] {
  const out = new Map<string, string>();
  const add = (cpe: string, evidence: string) => {
    if (!out.has(cpe)) out.set(cpe, evidence);
  };
  const vendor = input.vendor ? cpeVendor(input.vendor) : null;
  const model = input.model ? cpeToken(input.model) : null;
  if (vendor && model) {
    add(make('h', vendor, model, null), `vendor ${input.vendor} + model ${input.model}`);
    const fw = input.firmware ? firmwareVersion(input.firmware) : null;
    if (fw)
      add(
        make('o', vendor, `${model}_firmware`, fw),
        `vendor ${input.vendor} + model ${input.model} + firmware ${input.firmware}`,
      );
  }
  for (const kind of ['ssdp_server', 'http_server']) {
    for (const banner of values(input, kind)) {
      for (const part of banner.split(',')) {
        for (const m of part.matchAll(/(?:^|\s)([A-Za-z][\w .-]*?)\/([^\s,;]+)/g)) {
          const known = BANNER_PRODUCTS[(m[1] as string).toLowerCase().trim()];
          const ver = (m[2] as string).replace(/[)]+$/, '');
          if (known && VERSION.test(ver)) {
            const what = kind === 'ssdp_server' ? 'SSDP SERVER' : 'HTTP Server';
            add(make(known[2], known[0], known[1], ver), `${what} '${banner}'`);
          }
        }
      }
    }
  }
  for (const vc of values(input, 'dhcp_vendor')) {
    const m = /^udhcpc?\s+(\d+\.\d+(\.\d+)?)/i.exec(vc);
    if (m?.[1]) add(make('a', 'busybox', 'busybox', m[1]), `DHCP vendor class '${vc}' (BusyBox udhcpc)`);
    const d = /^dhcpcd-(\d+\.\d+(\.\d+)?)/i.exec(vc);
    if (d?.[1]) add(make('a', 'roy_marples', 'dhcpcd', d[1]), `DHCP vendor class '${vc}'`);
  }
  // The UPnP device description names the maker itself; it stands in when no vendor is known.
  const upnpMaker = values(input, 'upnp_manufacturer')[0] ?? null;
  const upnpVendor = vendor ?? (upnpMaker ? cpeVendor(upnpMaker) : null);
  if (upnpVendor) {
    const who = vendor ? `vendor ${input.vendor}` : `UPnP manufacturer '${upnpMaker}'`;
    for (const um of values(input, 'upnp_model')) {
      const t = cpeToken(um);
      if (!t) continue;
      add(make('h', upnpVendor, t, null), `UPnP model '${um}' + ${who}`);
      for (const fwText of values(input, 'upnp_firmware')) {
        const fw = firmwareVersion(fwText);
        if (fw)
          add(
            make('o', upnpVendor, `${t}_firmware`, fw),
            `UPnP model '${um}' + firmware '${fwText}' + ${who}`,
          );
      }
    }
  }
  return [...out].map(([cpe, evidence]) => ({ cpe, evidence }));
}
