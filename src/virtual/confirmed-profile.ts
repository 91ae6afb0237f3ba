/**
 * A profile whose PIN format is confirmed for the virtual HCA card.
 *
 * The virtual card implements exactly the profile it is given (src/virtual/hca-card.ts), so for it
 * the PIN-carrying fields that are `assumed` for a real HCA card (PIN and PUK references,
 * encodings and protection, the unblock method) are known: a wrong PIN on it is a wrong PIN, not
 * possibly a wrong format. The demo (with the virtual reader only) and the tests of the ISO/IEC
 * 7816-4 PIN mechanics (three wrong PINs lock the card, a wrong PUK reports its tries...) use
 * such a copy; real readers keep `HCA_PROFILE`, whose assumed fields stop a flow after the first
 * refusal (`hca/profile-unconfirmed`, src/hca/pin-guard.ts).
 */
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';

/** The source written into the confirmed fields. */
export const VIRTUAL_CARD_PROFILE_SOURCE = "This project's virtual card implements this profile, so its PIN format is known";

/**
 * A copy of `profile` (default `HCA_PROFILE`) with pin.reference / encoding / protection, the
 * PUK's, and unblock marked confirmed, with `source`. Never for a real card.
 */
export function confirmedForVirtualCard(profile: HcaProfile = HCA_PROFILE, source: string = VIRTUAL_CARD_PROFILE_SOURCE): HcaProfile {
  const p = structuredClone(profile);
  for (const f of [p.pin.reference, p.pin.encoding, p.pin.protection, p.puk.reference, p.puk.encoding, p.puk.protection, p.unblock]) {
    f.status = 'confirmed';
    f.source = source;
  }
  return p;
}
