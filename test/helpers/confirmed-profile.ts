/**
 * Tests of the ISO/IEC 7816-4 mechanics (three wrong PINs lock the card, a wrong PUK reports its
 * tries...) run against the virtual HCA card, which implements the profile it is given exactly.
 * For them the PIN format is known, so they use the profile with its PIN-carrying fields marked
 * confirmed (`confirmedForVirtualCard`, src/virtual/confirmed-profile.ts, which the demo uses
 * too); the "never spend a try on a guess" behaviour of an assumed profile is tested with the real
 * `HCA_PROFILE` (src/hca/pin-guard.test.ts and the flow tests).
 */
import { HCA_PROFILE, type HcaProfile } from '../../src/hca/profile.js';
import { confirmedForVirtualCard } from '../../src/virtual/confirmed-profile.js';

const SOURCE = 'Test: the virtual HCA card implements this profile, so its PIN format is known';

/** `profile` with pin.reference / encoding / protection, the PUK's, and unblock confirmed. */
export function confirmedForTest(profile: HcaProfile = HCA_PROFILE): HcaProfile {
  return confirmedForVirtualCard(profile, SOURCE);
}

/** `HCA_PROFILE` with its PIN format confirmed (for the mechanics tests). */
export const CONFIRMED_PROFILE: HcaProfile = confirmedForTest();
