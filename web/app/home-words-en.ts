/**
 * The home page's words in English (see ./home-words.ts), loaded when English is chosen.
 * Checked against `HomeWords` where ./home-words.ts loads it (no import back: no import cycle).
 */
export const en = {
  homeIntro:
    'This is the webccid demo: the card-reader driver runs in the page over WebUSB, so there is no "HCA component" or any other program to install. By default a virtual reader with a virtual healthcare professional card is used; you can switch to a real reader.',
  unlockDesc: 'The card locked after 3 wrong PINs: get the unlock code (PUK) with the card number and user code, and set a new PIN.',
  changePinDesc: 'You know the current PIN and want a new one.',
  bindDesc: 'When registering, or in account management: bind your HCA card to your account.',
  nhiDesc: 'No PIN: read the basic data of the NHI card (健保卡) and see that the reader works.',
  open: 'Start',
  demoData: 'Demo data',
  driverDesc: "For developers: the reader's descriptors, ATR, an APDU console and the CCID frame log.",
  probeDesc: 'Help confirm how the HCA card works: probe the reader and card, and make a report to share (no PIN, no personal data).',
  demoDataText: 'Virtual card: number GH000012345678, PIN 123456, user code Demo1234 (PUK 12345678).',
};
