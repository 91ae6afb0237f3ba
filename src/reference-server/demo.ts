/**
 * Demo data of the reference server, matching the virtual HCA card's defaults
 * (src/virtual/hca-card.ts `VIRTUAL_HCA_DEFAULTS`), so the demo page's unlock
 * flow works end to end with the virtual card.
 */
import { VIRTUAL_HCA_DEFAULTS } from '../virtual/hca-card.js';
import type { UnlockCard } from './unlock.js';

/** The demo user code (用戶代碼) of the virtual card. Case-sensitive. */
export const DEMO_USER_CODE = 'Demo1234';

/** Cards seeded into a new reference database (only those not there yet). */
export const DEMO_CARDS: readonly UnlockCard[] = [
  {
    cardNumber: VIRTUAL_HCA_DEFAULTS.cardNumber,
    puk: VIRTUAL_HCA_DEFAULTS.puk,
    userCode: DEMO_USER_CODE,
    holderName: VIRTUAL_HCA_DEFAULTS.personnel.holderName,
  },
];
