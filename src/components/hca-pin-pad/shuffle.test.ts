import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shuffledDigits } from './hca-pin-pad.js';

describe('shuffledDigits', () => {
  it('is always a permutation of 0..9, whatever the random source', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 9, maxLength: 9 }), (draws) => {
        let i = 0;
        const out = shuffledDigits((max) => draws[i++]! % max);
        expect([...out].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }),
    );
  });

  it('uses crypto by default and gives different orders', () => {
    const orders = new Set(Array.from({ length: 20 }, () => shuffledDigits().join('')));
    expect(orders.size).toBeGreaterThan(1);
  });
});
