import { describe, expect, it } from 'vitest';
import { abBucket, assign, BUCKETS, inCandidateArm, type SplitState } from './assign.js';

const prod = { id: 'prod' };
const cand = { id: 'cand' };

describe('A/B assignment', () => {
  it('buckets are stable, in range and spread evenly', () => {
    expect(abBucket('device-1')).toBe(abBucket('device-1'));
    expect(abBucket(42)).toBe(abBucket('42'));
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const b = abBucket(`dev-${i}`);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(BUCKETS);
      counts[Math.floor(b / 1000)]! += 1;
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('is sticky per device and the candidate share matches the observed fraction over 10k ids', () => {
    for (const share of [0.01, 0.1, 0.25, 0.5, 0.9]) {
      const state: SplitState<typeof prod> = {
        production: prod,
        candidate: { model: cand, share, shadow: false },
      };
      let toCandidate = 0;
      for (let i = 0; i < 10_000; i++) {
        const a = assign(state, i);
        const again = assign(state, i);
        expect(again.decide).toBe(a.decide);
        if (a.decide === cand) toCandidate++;
      }
      expect(Math.abs(toCandidate / 10_000 - share)).toBeLessThan(0.02);
    }
  });

  it('a device in the candidate arm at share s stays there at any larger share (growing a rollout)', () => {
    for (let i = 0; i < 2000; i++) {
      if (inCandidateArm(i, 0.1)) expect(inCandidateArm(i, 0.3)).toBe(true);
    }
    expect(inCandidateArm('x', 0)).toBe(false);
    expect(inCandidateArm('x', 1)).toBe(true);
  });

  it('shadow mode: both run for the share, production always decides', () => {
    const state: SplitState<typeof prod> = {
      production: prod,
      candidate: { model: cand, share: 0.5, shadow: true },
    };
    let shadowed = 0;
    for (let i = 0; i < 5000; i++) {
      const a = assign(state, `d${i}`);
      expect(a.decide).toBe(prod);
      expect(a.arm).toBe('production');
      if (a.shadow === cand) shadowed++;
    }
    expect(Math.abs(shadowed / 5000 - 0.5)).toBeLessThan(0.03);
  });

  it('without an experiment production serves everyone; without any model nothing decides', () => {
    expect(assign({ production: prod, candidate: null }, 'a')).toEqual({
      decide: prod,
      shadow: null,
      arm: 'production',
    });
    expect(assign({ production: null, candidate: null }, 'a').decide).toBeNull();
    expect(
      assign({ production: null, candidate: { model: cand, share: 1, shadow: true } }, 'a').decide,
    ).toBeNull();
  });
});
