/**
 * The unlock.html page's title and introduction in English (see ./unlock-words.ts), loaded when English is chosen.
 * Checked against `UnlockWords` where ./unlock-words.ts loads it (no import back: no import cycle).
 */
export const en = {
  title: 'Unlock a card (PIN locked)',
  intro: 'You need: the HCA card, its number (the 12 digits after GH on the front) and the user code (given with the card; case sensitive).',
};
