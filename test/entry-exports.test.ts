/**
 * The root entry `webccid` (src/index.ts) carries the APDU seam: an application that writes its
 * own card operations types them against `CardChannel` without importing `webccid/hca`.
 * Checked by the compiler (`npm test` runs tsc first) and at run time for the classes.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as root from '../src/index.js';
import type { CardChannel, CardProtocol, CcidConnection } from '../src/index.js';
import type { CardChannel as HcaCardChannel } from '../src/hca/index.js';

describe('root entry', () => {
  it('exports CardChannel and CardProtocol, the same types as webccid/hca and CcidConnection use', () => {
    expectTypeOf<CardChannel>().toEqualTypeOf<HcaCardChannel>();
    expectTypeOf<CcidConnection>().toMatchTypeOf<CardChannel>();
    expectTypeOf<CcidConnection['protocol']>().toEqualTypeOf<CardProtocol>();
    expectTypeOf<CardProtocol>().toEqualTypeOf<'t0' | 't1'>();
    expect(typeof root.CcidConnection).toBe('function');
    expect(typeof root.CcidReader.open).toBe('function');
  });
});
