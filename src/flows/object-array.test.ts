import { describe, expect, it } from 'vitest';
import { objectArray } from './object-array.js';

describe('objectArray', () => {
  it('is an empty, ordinary array', () => {
    const a = objectArray<{ n: number }>();
    expect(a).toEqual([]);
    expect(Array.isArray(a)).toBe(true);
    a.push({ n: 1 }, { n: 2 });
    expect(a).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('gives a new array each call', () => {
    const a = objectArray<number>();
    a.push(1);
    expect(objectArray<number>()).toEqual([]);
  });
});
