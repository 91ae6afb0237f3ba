/**
 * The bind page's words in English (see ./bind-words.ts), loaded when English is chosen.
 * Checked against `BindWords` where ./bind-words.ts loads it (no import back: no import cycle).
 */
export const en = {
  bindTitle: 'Bind an HCA card',
  modeRegister: 'Register',
  modeRebind: 'Account › Card binding',
  registerIntro: 'New user: fill in the account, verify the card in "Bind your HCA card", then submit.',
  account: 'Account',
  accountHint: '3 to 32 letters, digits, dots, underscores or hyphens.',
  email: 'Email',
  bindSection: 'Bind your HCA card',
  rebindSection: 'Bind another HCA card',
  submitRegister: 'Submit',
  needVerify: 'Verify your card in "Bind your HCA card" first.',
  needAccount: 'Fill in the account first (3 to 32 letters, digits, dots, underscores or hyphens).',
  registered: 'Account created',
  registeredText: 'The account is created and bound to this HCA card.',
  currentBinding: 'Bound certificate',
  noBinding: 'No HCA card is bound to this account yet.',
  loading: 'Loading…',
  holder: 'Holder',
  cardType: 'Card type',
  cardNumber: 'Card number',
  validity: 'Certificate valid',
  boundAt: 'Bound at',
  personnel: 'Healthcare professional card',
  institution: 'Healthcare institution card',
  unbind: 'Unbind',
  to: 'to',
  faqTitle: 'Questions',
  faq: [
    ['"The verification timed out, please try again"', 'A verification must finish within about 2 minutes. Just press Verify again.'],
    ['No reader or no card is found', 'Check that the reader is plugged in and the card inserted chip up, chip end first. For a real reader press "Use a real reader" and pick it in the browser\'s window.'],
    ['Wrong PIN', 'Type the correct PIN. Three wrong PINs in a row lock the card; unlock it on the "Unlock card" page.'],
    ['The card is locked', 'Go to "Unlock card": get the unlock code with the card number and user code and set a new PIN.'],
  ] as const,
};
