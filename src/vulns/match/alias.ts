/**
 * Vendor spellings that NVD itself uses for the same company (checked against ../shared/data/vuln: e.g. 111 CVEs
 * say `d-link` and 110 say `dlink`; `ui`/`ubnt` for Ubiquiti EdgeOS; `schneider-electric`/`schneider_electric`;
 * `mi`/`xiaomi`), plus obvious variants. Applied to both the device CPEs and the NVD criteria, so either spelling
 * on either side finds the other. Keys and values are lowercase CPE vendor strings; the value is the canonical one.
 */
export const VENDOR_ALIASES: ReadonlyMap<string, string> = new Map([
  ['d-link', 'dlink'],
  ['d_link', 'dlink'],
  ['ubnt', 'ui'],
  ['ubiquiti', 'ui'],
  ['ubiquiti_networks', 'ui'],
  ['tp_link', 'tp-link'],
  ['tplink', 'tp-link'],
  ['schneider_electric', 'schneider-electric'],
  ['schneiderelectric', 'schneider-electric'],
  ['mi', 'xiaomi'],
  ['dahua', 'dahuasecurity'],
  ['mitsubishi_electric', 'mitsubishielectric'],
  ['rockwell_automation', 'rockwellautomation'],
  ['phoenix_contact', 'phoenixcontact'],
]);

/** Canonical (lowercase) spelling of a CPE vendor string. */
export function canonicalVendor(vendor: string): string {
  const v = vendor.toLowerCase();
  return VENDOR_ALIASES.get(v) ?? v;
}

/** Every known spelling of the vendor, canonical first. */
export function vendorSpellings(vendor: string): string[] {
  const c = canonicalVendor(vendor);
  return [c, ...[...VENDOR_ALIASES].filter(([, to]) => to === c).map(([from]) => from)];
}
