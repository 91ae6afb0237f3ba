/**
 * The bind page's account words in English (see ./account-words.ts), loaded when English is chosen.
 * Checked against `AccountWords` where ./account-words.ts loads it (no import back: no import cycle).
 */
export const en = {
  password: 'Password',
  passwordHint: '8 to 128 characters.',
  rebindIntro: 'Existing account: sign in, verify the new card in "Bind another HCA card", then press "Bind the new HCA card".',
  signInTitle: 'Sign in',
  signInIntro: 'Sign in with the account and password you registered. No account yet? Use "Register".',
  signIn: 'Sign in',
  signedInAs: 'Signed in as',
  signOut: 'Sign out',
  bindNew: 'Bind the new HCA card',
  bindNewDone: 'The new HCA card is bound.',
  needPassword: 'Choose a password (8 to 128 characters).',
  badCredentials: 'The account or the password is wrong.',
  accountExists: 'This account name is taken: choose another.',
  tokenInvalid: 'The card verification has expired or was used: press Verify again.',
  alreadyBound: 'This card is bound to another account.',
  rateLimited: 'Too many attempts: try again later.',
  serverProblem: 'The server did not answer: try again later.',
};
