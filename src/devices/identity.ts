/**
 * Identity resolution for randomized MACs: a device that shows up behind a new locally administered MAC is
 * the device that announced the same DHCP client id, DHCP host name or mDNS host name before (not a generic
 * name such as "android" or "localhost", and not a name several devices share), provided the earlier device
 * went quiet before the new MAC appeared (a rotation, not two devices at once; a shared DHCP client id needs
 * no such proof, since no two devices share one). It is merged into that
 * device, which takes the new MAC as its current one (the old MAC stays as a `mac_alias` signal), so later
 * traffic lands on the same row and the rotation raises no new-device event or alert. Late traffic of an
 * old MAC (a flow that ends after the rotation) is folded back into the device through that alias.
 */
import { sql } from 'drizzle-orm';
import type { NewDevice } from '../ingest/writer.js';
import { mergeDevices } from '../store/device-merge.js';
import { queryRows, type Store, type Tx } from '../store/db.js';
import { isLocallyAdministered } from './mac.js';

const DEVICE_LOCK = 727_004; // the ingest writer's device lock: no device is created while we merge
export const IDENTITY_KINDS = ['dhcp_client_id', 'dhcp_hostname', 'mdns_hostname'] as const;

/** Host names too common to tie two MACs to one device. */
const GENERIC = new Set([
  'localhost',
  'android',
  'iphone',
  'ipad',
  'macbook',
  'unknown',
  'espressif',
  'esp',
  'raspberrypi',
  'dhcpcd',
  'linux',
  'ubuntu',
  'debian',
  'openwrt',
  'router',
  'host',
  'device',
  'default',
  'none',
  'null',
  'client',
  'mobile',
  'phone',
  'galaxy',
  'pixel',
  'amazon',
  'kindle',
  'echo',
  'chromecast',
  'google-home',
  'wlan0',
  'eth0',
]);

/** A comparable identity value, or null when it is too generic to identify a device. */
export function identityKey(kind: string, value: string): string | null {
  if (kind === 'dhcp_client_id') {
    // Type 1 (hardware address) is the MAC itself: it rotates with it.
    if (/^1:/.test(value)) return null;
    return value.length >= 4 ? value.toLowerCase() : null;
  }
  const v = value
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/\.local$/, '');
  if (v.length < 3) return null;
  if (GENERIC.has(v) || GENERIC.has(v.replace(/[-_ ]?\d+$/, ''))) return null;
  return v;
}

export interface IdentityMerge {
  from: number;
  into: number;
  mac: string;
  via: { kind: string; value: string };
}

interface Cand {
  id: number;
  kind: string;
  value: string;
  last_seen: string;
}

/**
 * Merges each new randomized-MAC device into the earlier device it is, when its identity signals say so.
 * Returns the new devices that remain new, and the merges done.
 */
export async function resolveRandomizedMacs(
  store: Store,
  newDevices: readonly NewDevice[],
  opts: { overlapSlackMs?: number } = {},
): Promise<{ kept: NewDevice[]; merges: IdentityMerge[] }> {
  const randomized = newDevices.filter((d) => d.mac && isLocallyAdministered(d.mac));
  if (randomized.length === 0) return { kept: [...newDevices], merges: [] };
  const slack = opts.overlapSlackMs ?? 60_000;
  const merges = await store.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(${DEVICE_LOCK})`);
    const out: IdentityMerge[] = [];
    for (const d of randomized) {
      const m = await resolveOne(tx, d, slack);
      if (m) out.push(m);
    }
    return out;
  });
  const gone = new Set(merges.map((m) => m.from));
  return { kept: newDevices.filter((d) => !gone.has(d.id)), merges };
}

async function resolveOne(tx: Tx, d: NewDevice, slackMs: number): Promise<IdentityMerge | null> {
  // A MAC this device used before its last rotation: late traffic of the old MAC (flows that end after the
  // rotation, answers still in flight) belongs to the device it rotated away from.
  const [alias] = await queryRows<{ id: number }>(
    tx,
    sql`SELECT s.device_id::int8 AS id FROM device_signals s JOIN devices o ON o.id = s.device_id
        WHERE s.kind = 'mac_alias' AND s.value = ${d.mac} AND o.id <> ${d.id} AND o.merged_into IS NULL
        ORDER BY s.last_seen DESC LIMIT 1`,
  );
  if (alias) {
    const into = Number(alias.id);
    await mergeDevices(tx, d.id, into);
    return { from: d.id, into, mac: d.mac as string, via: { kind: 'mac_alias', value: d.mac as string } };
  }
  const mine = await queryRows<{ kind: string; value: string; first_seen: string }>(
    tx,
    sql`SELECT s.kind, s.value, d.first_seen::text AS first_seen FROM device_signals s JOIN devices d ON d.id = s.device_id
        WHERE s.device_id = ${d.id} AND s.kind IN ('dhcp_client_id', 'dhcp_hostname', 'mdns_hostname')`,
  );
  const keyed = mine
    .map((s) => ({ ...s, key: identityKey(s.kind, s.value) }))
    .filter((s): s is typeof s & { key: string } => s.key !== null);
  if (keyed.length === 0) return null;
  const firstSeen = new Date(mine[0]?.first_seen ?? Date.now()).getTime();
  // Strongest first: client id, then DHCP host name, then mDNS host name.
  for (const kind of IDENTITY_KINDS) {
    for (const s of keyed.filter((k) => k.kind === kind)) {
      const cands = await queryRows<Cand>(
        tx,
        sql`SELECT d.id::int8 AS id, s.kind, s.value, d.last_seen::text AS last_seen
            FROM device_signals s JOIN devices d ON d.id = s.device_id
            WHERE s.kind = ${kind} AND d.id <> ${d.id} AND d.merged_into IS NULL
              AND lower(regexp_replace(regexp_replace(s.value, '\\.$', ''), '\\.local$', '')) = ${s.key}
            LIMIT 3`,
      );
      const ids = [...new Set(cands.map((c) => Number(c.id)))];
      if (ids.length !== 1) continue; // none, or shared by several devices: not an identity
      const c = cands[0] as Cand;
      // Both active at once: two devices, unless the DHCP client id (a DUID or similar, never the MAC)
      // ties them: a device keeps its DUID across rotations, two devices never share one, and traffic of
      // a connection opened before the rotation can keep the earlier row "seen" for a while after it.
      if (kind !== 'dhcp_client_id' && new Date(c.last_seen).getTime() > firstSeen + slackMs) continue;
      const into = ids[0] as number;
      const [old] = await queryRows<{ mac: string | null }>(
        tx,
        sql`SELECT mac FROM devices WHERE id = ${into}`,
      );
      await mergeDevices(tx, d.id, into);
      await tx.execute(
        sql`UPDATE devices SET mac = ${d.mac}, mac_randomized = true, updated_at = now() WHERE id = ${into}`,
      );
      if (old?.mac && old.mac !== d.mac) {
        await tx.execute(sql`
          INSERT INTO device_signals (device_id, kind, value, first_seen, last_seen, count)
          VALUES (${into}, 'mac_alias', ${old.mac}, now(), now(), 1)
          ON CONFLICT (device_id, kind, value) DO UPDATE SET last_seen = now(), count = device_signals.count + 1`);
      }
      return { from: d.id, into, mac: d.mac as string, via: { kind, value: s.value } };
    }
  }
  return null;
}
