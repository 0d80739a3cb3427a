import { sql } from 'drizzle-orm';
import type { Tx } from './db.js';

/**
 * Folds device `fromId` into `intoId`: addresses, signals (counts added), rollups (added), flows, alerts,
 * vulnerabilities and the learned destination profile move over, then `fromId` is deleted (its behaviour
 * baseline with it: the surviving device's is refitted on the merged history in due course). Used when an IP-only device (seen through NetFlow or
 * Zeek) turns out to be a MAC we know, and by POST /api/v1/devices/merge.
 */
export async function mergeDevices(tx: Tx, fromId: number, intoId: number): Promise<void> {
  if (fromId === intoId) return;
  await tx.execute(sql`
    INSERT INTO device_addresses (device_id, ip, first_seen, last_seen)
    SELECT ${intoId}, ip, first_seen, last_seen FROM device_addresses WHERE device_id = ${fromId}
    ON CONFLICT (device_id, ip) DO UPDATE SET
      first_seen = LEAST(device_addresses.first_seen, EXCLUDED.first_seen),
      last_seen = GREATEST(device_addresses.last_seen, EXCLUDED.last_seen)`);
  await tx.execute(sql`
    INSERT INTO device_signals (device_id, kind, value, first_seen, last_seen, count)
    SELECT ${intoId}, kind, value, first_seen, last_seen, count FROM device_signals WHERE device_id = ${fromId}
    ON CONFLICT (device_id, kind, value) DO UPDATE SET
      first_seen = LEAST(device_signals.first_seen, EXCLUDED.first_seen),
      last_seen = GREATEST(device_signals.last_seen, EXCLUDED.last_seen),
      count = device_signals.count + EXCLUDED.count`);
  await tx.execute(sql`
    INSERT INTO traffic_rollups AS r (device_id, minute, bytes_out, bytes_in, packets_out, packets_in, flows,
      distinct_peers, distinct_ports, dns_queries, dns_failures, syn_no_ack)
    SELECT ${intoId}, minute, bytes_out, bytes_in, packets_out, packets_in, flows, distinct_peers,
      distinct_ports, dns_queries, dns_failures, syn_no_ack FROM traffic_rollups WHERE device_id = ${fromId}
    ON CONFLICT (device_id, minute) DO UPDATE SET
      bytes_out = r.bytes_out + EXCLUDED.bytes_out, bytes_in = r.bytes_in + EXCLUDED.bytes_in,
      packets_out = r.packets_out + EXCLUDED.packets_out, packets_in = r.packets_in + EXCLUDED.packets_in,
      flows = r.flows + EXCLUDED.flows,
      distinct_peers = GREATEST(r.distinct_peers, EXCLUDED.distinct_peers),
      distinct_ports = GREATEST(r.distinct_ports, EXCLUDED.distinct_ports),
      dns_queries = r.dns_queries + EXCLUDED.dns_queries, dns_failures = r.dns_failures + EXCLUDED.dns_failures,
      syn_no_ack = r.syn_no_ack + EXCLUDED.syn_no_ack`);
  await tx.execute(sql`DELETE FROM traffic_rollups WHERE device_id = ${fromId}`);
  await tx.execute(sql`UPDATE network_traffic SET device_id = ${intoId} WHERE device_id = ${fromId}`);
  await tx.execute(
    sql`UPDATE network_traffic SET peer_device_id = ${intoId} WHERE peer_device_id = ${fromId}`,
  );
  await tx.execute(sql`UPDATE alerts SET device_id = ${intoId} WHERE device_id = ${fromId}`);
  await tx.execute(sql`
    INSERT INTO device_vulnerabilities (device_id, cve_id, matched_cpe, matched_by, status, possible, first_seen, updated_at)
    SELECT ${intoId}, cve_id, matched_cpe, matched_by, status, possible, first_seen, updated_at
    FROM device_vulnerabilities WHERE device_id = ${fromId}
    ON CONFLICT (device_id, cve_id) DO NOTHING`);
  // The learned destination profile: entries united (counts added, an entry a user added stays the user's);
  // the surviving profile's version moves on so every process reloads it.
  await tx.execute(sql`
    INSERT INTO device_destinations (device_id, kind, value, source, count, first_seen, last_seen, created_by, created_at)
    SELECT ${intoId}, kind, value, source, count, first_seen, last_seen, created_by, created_at
    FROM device_destinations WHERE device_id = ${fromId}
    ON CONFLICT (device_id, kind, value) DO UPDATE SET
      count = device_destinations.count + EXCLUDED.count,
      source = CASE WHEN EXCLUDED.source = 'user' THEN 'user' ELSE device_destinations.source END,
      first_seen = LEAST(device_destinations.first_seen, EXCLUDED.first_seen),
      last_seen = GREATEST(device_destinations.last_seen, EXCLUDED.last_seen)`);
  await tx.execute(sql`
    INSERT INTO device_destination_profiles (device_id, status, learning_hours, learning_started, learning_until, version)
    SELECT ${intoId}, status, learning_hours, learning_started, learning_until, version + 1
    FROM device_destination_profiles WHERE device_id = ${fromId}
    ON CONFLICT (device_id) DO UPDATE SET version = device_destination_profiles.version + 1, updated_at = now()`);
  await tx.execute(sql`
    UPDATE devices d SET
      first_seen = LEAST(d.first_seen, f.first_seen),
      last_seen = GREATEST(d.last_seen, f.last_seen),
      hostname = COALESCE(d.hostname, f.hostname),
      tags = ARRAY(SELECT DISTINCT unnest(d.tags || f.tags)),
      updated_at = now()
    FROM devices f WHERE d.id = ${intoId} AND f.id = ${fromId}`);
  await tx.execute(sql`DELETE FROM devices WHERE id = ${fromId}`);
}
