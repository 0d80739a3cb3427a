/**
 * The identification rules engine: rules map a device's signals to a type, vendor, model or OS with a
 * confidence, and every match explains itself ("DHCP vendor class 'udhcp 1.19' + DNS *.tplinkcloud.com →
 * smart_plug, 0.94"). Built-in rules live in ./rules/default-rules.json (our own); users add rules through
 * the API (stored in the `settings` row `device_rules`), and theirs are evaluated first.
 */
import { z } from 'zod';
import builtIn from './rules/default-rules.json' with { type: 'json' };
import type { DeviceProfile, SignalKind } from './profile.js';

export const RULE_SIGNAL_KINDS = [
  'dhcp_fingerprint',
  'dhcp_vendor',
  'dhcp_hostname',
  'mdns_service',
  'mdns_instance',
  'mdns_hostname',
  'ssdp_server',
  'ssdp_usn',
  'ssdp_location',
  'http_user_agent',
  'tls_ja3',
  'tls_ja4',
  'tls_sni',
  'dns_query',
  'mqtt_client_id',
  'oui',
  'open_port',
  'upnp_model',
  'upnp_manufacturer',
  'upnp_device_type',
  'upnp_firmware',
  'upnp_friendly_name',
] as const satisfies readonly SignalKind[];

const safeRegex = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => {
    try {
      new RegExp(s, 'i');
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

export const ruleConditionSchema = z
  .strictObject({
    kind: z.enum(RULE_SIGNAL_KINDS),
    equals: z.string().min(1).max(512).optional(),
    contains: z.string().min(1).max(512).optional(),
    suffix: z.string().min(1).max(255).optional(),
    regex: safeRegex.optional(),
  })
  .refine(
    (c) => [c.equals, c.contains, c.suffix, c.regex].filter((x) => x !== undefined).length === 1,
    'a condition needs exactly one of equals, contains, suffix, regex',
  );

const label = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => ![...s].some((ch) => ch.charCodeAt(0) < 0x20), 'no control characters');

export const ruleSchema = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/),
  description: z.string().max(512).optional(),
  when: z.array(ruleConditionSchema).min(1).max(8),
  set: z
    .strictObject({
      device_type: label.optional(),
      vendor: label.optional(),
      model: label.optional(),
      os: label.optional(),
    })
    .refine((s) => Object.keys(s).length > 0, 'a rule must set something'),
  confidence: z.number().min(0).max(1),
});

export type RuleCondition = z.infer<typeof ruleConditionSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type RuleField = keyof Rule['set'];

/** The built-in rules, validated once. */
export const DEFAULT_RULES: readonly Rule[] = z.array(ruleSchema).parse(builtIn.rules);

export interface RuleMatch {
  rule: Rule;
  /** The signal values that satisfied each condition. */
  matched: { condition: RuleCondition; value: string }[];
  /** Human explanation: "mDNS service '_hue._tcp.local' → smart_hub (Philips Hue Bridge), 0.95". */
  explanation: string;
  origin: 'builtin' | 'user';
}

const KIND_LABEL: Record<string, string> = {
  dhcp_fingerprint: 'DHCP fingerprint',
  dhcp_vendor: 'DHCP vendor class',
  dhcp_hostname: 'DHCP host name',
  mdns_service: 'mDNS service',
  mdns_instance: 'mDNS instance',
  mdns_hostname: 'mDNS host name',
  ssdp_server: 'SSDP SERVER',
  ssdp_usn: 'SSDP USN',
  ssdp_location: 'SSDP LOCATION',
  http_user_agent: 'HTTP User-Agent',
  tls_ja3: 'JA3',
  tls_ja4: 'JA4',
  tls_sni: 'TLS SNI',
  dns_query: 'DNS',
  mqtt_client_id: 'MQTT client id',
  oui: 'OUI',
  open_port: 'open port',
  upnp_model: 'UPnP model',
  upnp_manufacturer: 'UPnP manufacturer',
  upnp_device_type: 'UPnP device type',
  upnp_firmware: 'UPnP firmware',
  upnp_friendly_name: 'UPnP friendly name',
};

export const kindLabel = (kind: string): string => KIND_LABEL[kind] ?? kind;

const regexCache = new Map<string, RegExp>();
function re(src: string): RegExp {
  let r = regexCache.get(src);
  if (!r) {
    r = new RegExp(src, 'i');
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(src, r);
  }
  return r;
}

export function conditionMatches(c: RuleCondition, value: string): boolean {
  const v = value.toLowerCase().replace(/\.$/, '');
  if (c.equals !== undefined) return v === c.equals.toLowerCase();
  if (c.contains !== undefined) return v.includes(c.contains.toLowerCase());
  if (c.suffix !== undefined) {
    const s = c.suffix.toLowerCase().replace(/^\*?\.?/, '');
    return v === s || v.endsWith(`.${s}`);
  }
  if (c.regex !== undefined) return re(c.regex).test(value);
  return false;
}

function describeMatch(c: RuleCondition, value: string): string {
  if (c.kind === 'dns_query' && c.suffix !== undefined) return `DNS *.${c.suffix.replace(/^\*?\.?/, '')}`;
  return `${kindLabel(c.kind)} '${value.length > 80 ? `${value.slice(0, 77)}…` : value}'`;
}

function describeSet(s: Rule['set']): string {
  const what = [s.vendor, s.model].filter(Boolean).join(' ');
  const os = s.os ? `${what ? ', ' : ''}${s.os}` : '';
  if (s.device_type) return `${s.device_type}${what || os ? ` (${what}${os})` : ''}`;
  return `${what}${os}`;
}

function valuesOf(p: DeviceProfile, kind: SignalKind): string[] {
  if (kind === 'oui') return p.ouiVendor ? [p.ouiVendor] : [...(p.signals.get('oui')?.keys() ?? [])];
  return [...(p.signals.get(kind)?.keys() ?? [])];
}

/** Every rule whose conditions all hold for the profile; user rules first, then built-in ones. */
export function evaluateRules(
  p: DeviceProfile,
  userRules: readonly Rule[] = [],
  builtin: readonly Rule[] = DEFAULT_RULES,
): RuleMatch[] {
  const out: RuleMatch[] = [];
  const run = (rules: readonly Rule[], origin: RuleMatch['origin']) => {
    for (const rule of rules) {
      const matched: RuleMatch['matched'] = [];
      for (const c of rule.when) {
        const v = valuesOf(p, c.kind).find((x) => conditionMatches(c, x));
        if (v === undefined) break;
        matched.push({ condition: c, value: v });
      }
      if (matched.length !== rule.when.length) continue;
      out.push({
        rule,
        matched,
        origin,
        explanation: `${matched.map((m) => describeMatch(m.condition, m.value)).join(' + ')} → ${describeSet(rule.set)}, ${rule.confidence.toFixed(2)}`,
      });
    }
  };
  run(userRules, 'user');
  run(builtin, 'builtin');
  return out;
}

/** The best match setting each field: highest confidence, user rules winning ties. */
export function bestByField(matches: readonly RuleMatch[]): Partial<Record<RuleField, RuleMatch>> {
  const best: Partial<Record<RuleField, RuleMatch>> = {};
  for (const m of matches) {
    for (const f of Object.keys(m.rule.set) as RuleField[]) {
      const cur = best[f];
      if (!cur || m.rule.confidence > cur.rule.confidence) best[f] = m;
    }
  }
  return best;
}
