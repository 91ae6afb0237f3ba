import { describe, expect, it } from 'vitest';
import {
  atrTimeoutSeconds,
  etuSeconds,
  t0WorkWaitingTime,
  t1BlockWaitingTime,
  wireTimeSeconds,
} from './timing.js';

const EZ = { fHz: 3_580_000 };
const HCA_RATE = { fi: 372, di: 12, ...EZ };

describe('timing (seconds)', () => {
  it('etu', () => {
    expect(etuSeconds({ fi: 372, di: 1, fHz: 4e6 })).toBeCloseTo(93e-6, 12);
    expect(etuSeconds(HCA_RATE)).toBeCloseTo(31 / 3.58e6, 12);
  });

  it('T=1 BWT: 11 etu + 2^BWI * 960 * 372 / f', () => {
    // HCA: BWI 4 at 3.58 MHz, Di 12
    expect(t1BlockWaitingTime({ bwi: 4, ...HCA_RATE })).toBeCloseTo((11 * 31 + 16 * 960 * 372) / 3.58e6, 12);
    expect(t1BlockWaitingTime({ bwi: 4, ...HCA_RATE })).toBeCloseTo(1.59616, 4);
    // the second term does not depend on Di
    const slow = t1BlockWaitingTime({ bwi: 4, fi: 372, di: 1, fHz: 3.58e6 });
    const fast = t1BlockWaitingTime({ bwi: 4, ...HCA_RATE });
    expect(slow - fast).toBeCloseTo(11 * (372 - 31) / 3.58e6, 12);
    expect(t1BlockWaitingTime({ bwi: 0, fi: 372, di: 1, fHz: 4e6 })).toBeCloseTo((11 * 372 + 960 * 372) / 4e6, 12);
  });

  it('T=0 WT: WI * 960 * Fi / f (= 960 * D * WI etu)', () => {
    expect(t0WorkWaitingTime({ wi: 10, fi: 372, di: 1, ...EZ })).toBeCloseTo((9600 * 372) / 3.58e6, 12);
    expect(t0WorkWaitingTime({ wi: 10, fi: 372, di: 12, ...EZ })).toBeCloseTo(t0WorkWaitingTime({ wi: 10, fi: 372, di: 1, ...EZ }), 12);
    expect(t0WorkWaitingTime({ wi: 10, fi: 372, di: 1, ...EZ })).toBeCloseTo(0.99754, 4);
  });

  it('wire time', () => {
    expect(wireTimeSeconds({ bytes: 10, fi: 372, di: 1, fHz: 4e6, protocol: 0 })).toBeCloseTo(10 * 12 * 93e-6, 12);
    expect(wireTimeSeconds({ bytes: 10, fi: 372, di: 1, fHz: 4e6, protocol: 1 })).toBeCloseTo(10 * 12 * 93e-6, 12);
    expect(wireTimeSeconds({ bytes: 10, fi: 372, di: 1, fHz: 4e6, protocol: 0, guardEtu: 2 })).toBeCloseTo(10 * 14 * 93e-6, 12);
    expect(wireTimeSeconds({ bytes: 10, fi: 372, di: 1, fHz: 4e6, protocol: 1, guardEtu: 255 })).toBeCloseTo(10 * 11 * 93e-6, 12);
    expect(wireTimeSeconds({ bytes: 10, fi: 372, di: 1, fHz: 4e6, protocol: 0, guardEtu: 255 })).toBeCloseTo(10 * 12 * 93e-6, 12);
    // A 261-byte T=1 block: PPS to Di 12 makes it 12 times shorter
    const slow = wireTimeSeconds({ bytes: 261, fi: 372, di: 1, ...EZ, protocol: 1 });
    const fast = wireTimeSeconds({ bytes: 261, ...HCA_RATE, protocol: 1 });
    expect(slow / fast).toBeCloseTo(12, 9);
    expect(wireTimeSeconds({ bytes: 0, fi: 372, di: 1, fHz: 4e6, protocol: 1 })).toBe(0);
  });

  it('ATR timeouts', () => {
    expect(atrTimeoutSeconds(4e6)).toBeCloseTo(40_000 / 4e6 + 19_200 * 93e-6, 12);
    expect(atrTimeoutSeconds(3.58e6)).toBeCloseTo(2.0063, 4);
  });
});
