/**
 * The change-pin.html page's title and introduction in English (see ./change-pin-words.ts), loaded when English is chosen.
 * Checked against `ChangePinWords` where ./change-pin-words.ts loads it (no import back: no import cycle).
 */
export const en = {
  title: 'Change the PIN',
  intro: 'Type the current PIN, then the new PIN twice (6 to 8 digits).',
};
