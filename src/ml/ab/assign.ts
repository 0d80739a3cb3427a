/**
 * A/B assignment of devices to model versions. Sticky: a device's bucket is a hash of its id, so it sees the
 * same version for as long as the split does not change, in every process. bucket(device) < share × 10000
 * puts the device in the candidate's arm. In shadow mode both versions run for those devices but the
 * production version alone decides.
 */
import { createHash } from 'node:crypto';

export const BUCKETS = 10_000;

/** 0..9999, stable for a device id across processes and releases. */
export function abBucket(deviceId: string | number): number {
  const h = createHash('sha256').update(String(deviceId)).digest();
  return h.readUInt32BE(0) % BUCKETS;
}

export interface Assignment<M> {
  /** The version whose answer counts (alerts, device types); null when the task has no model at all. */
  readonly decide: M | null;
  /** A version scored alongside and recorded, whose answer is never used. */
  readonly shadow: M | null;
  readonly arm: 'production' | 'candidate' | 'none';
}

export interface SplitState<M> {
  readonly production: M | null;
  readonly candidate: { readonly model: M; readonly share: number; readonly shadow: boolean } | null;
}

export function inCandidateArm(deviceId: string | number, share: number): boolean {
  if (!(share > 0)) return false;
  return abBucket(deviceId) < Math.round(Math.min(1, share) * BUCKETS);
}

export function assign<M>(state: SplitState<M>, deviceId: string | number): Assignment<M> {
  const { production, candidate } = state;
  const hit = candidate !== null && inCandidateArm(deviceId, candidate.share);
  if (candidate && hit) {
    if (candidate.shadow) {
      // Production decides; the candidate is only scored. Without a production there is nothing to decide.
      return production
        ? { decide: production, shadow: candidate.model, arm: 'production' }
        : { decide: null, shadow: candidate.model, arm: 'none' };
    }
    return { decide: candidate.model, shadow: null, arm: 'candidate' };
  }
  if (production) return { decide: production, shadow: null, arm: 'production' };
  return { decide: null, shadow: null, arm: 'none' };
}
