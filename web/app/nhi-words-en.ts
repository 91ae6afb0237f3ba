/**
 * The nhi.html page's title and introduction in English (see ./nhi-words.ts), loaded when English is chosen.
 * Checked against `NhiWords` where ./nhi-words.ts loads it (no import back: no import cycle).
 */
export const en = {
  title: 'Read the NHI card',
  intro: 'Every healthcare professional holds an NHI card (健保卡). Reading it needs no PIN and changes nothing on the card: the safest first test of a reader.',
  probeDesc: 'Help confirm how the HCA card works: probe the reader and card, and make a report to share (no PIN, no personal data).',
};
