/**
 * The bind flow (bind.html, <hca-bind-card>) through the reference server's
 * challenge and verifier: register an account bound to the card (驗證 binds
 * nothing; 送出申請 creates the account with the card: the server really holds
 * the binding, checked with the session's GET /api/bind/binding), sign in to
 * account management and re-bind with an institution card (綁定新憑證 IC 卡),
 * a version 1 card; the
 * failures: wrong card type selected (no PIN try spent), wrong PIN (tries
 * left, never retried), locked card (leads to unlock), expired certificate
 * (the server's verifier refuses), not an HCA card, no account, the card
 * already bound to another account, the card pulled out. No PIN left in the
 * page; axe-clean; screenshots in both languages.
 */
import { expect, it } from 'vitest';
import {
  browserSuite,
  DEMO,
  expectAccessible,
  expectNoSecrets,
  finishTab,
  HTTP_ERROR_LINE,
  press,
  typeInto,
  waitForError,
  waitForSuccess,
  type App,
  type Tab,
} from './harness.js';
import sqlite from 'node-sqlite3-wasm';
import {
  inBothLanguages,
  openFlow,
  pinCommandsOnceSettled,
  pinFieldAttributes,
  PUBLIC_TEXT,
  recordCardCommands,
  removeCard,
  unlockAction,
  waitForReader,
  waitForTries,
} from './flows.js';

interface ServerBinding {
  account: string;
  holderName: string;
  cardType: string;
  cardNumber?: string;
  fingerprint: string;
}

const PASSWORD = 'demo-password';

/** The binding of the account signed in in this tab's browser context (its session cookie). */
async function serverBinding(tab: Tab, app: App): Promise<ServerBinding | undefined> {
  const res = await tab.page.request.get(`${app.url}/api/bind/binding`);
  if (res.status() === 404) return undefined;
  expect(res.status()).toBe(200);
  return ((await res.json()) as { binding: ServerBinding }).binding;
}

/** Every account with a bound card, read from the reference server's database file. */
async function boundAccounts(app: App): Promise<string[]> {
  const db = new sqlite.Database(app.dbPath, { readOnly: true });
  try {
    for (let i = 0; ; i++) {
      try {
        return (db.all('SELECT account FROM bindings') as Array<{ account: string }>).map((r) => r.account);
      } catch (e) {
        if (i > 200 || !/locked|busy/i.test(String(e))) throw e;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } finally {
    db.close();
  }
}

/** Creates an account without a card through the API; the tab's context is then signed in as it. */
async function registerByApi(tab: Tab, app: App, account: string): Promise<void> {
  const res = await tab.page.request.post(`${app.url}/api/account/register`, { data: { account, password: PASSWORD } });
  expect(res.status()).toBe(201);
}

async function verify(tab: Tab, type: 'personnel' | 'institution', pin: string = DEMO.pin): Promise<void> {
  await tab.byTestId(`card-type-${type}`).check();
  await typeInto(tab, 'pin', pin);
  await press(tab, 'verify');
}

/** The browser logs the server's 4xx answers as console errors (404 not-bound when the rebind page loads an account, 409, 422). */
const ALLOW_HTTP = [HTTP_ERROR_LINE];

browserSuite('browser: bind flow', (app) => {
  it('register: account, card type, PIN, 驗證 -> verified by the server, bound, shown (both languages)', async () => {
    const account = 'nurse-01';
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    const page = tab.page;
    await inBothLanguages(tab, 'bind-1-register');
    // The card's PIN may have letters (HCA: 6 to 8 letters and digits): the text keyboard on a phone.
    expect(await pinFieldAttributes(tab, 'pin')).toEqual({ type: 'password', inputmode: 'text', autocomplete: 'off' });
    await typeInto(tab, 'account', account);
    await typeInto(tab, 'email', `${account}@example.org`);
    await verify(tab, 'personnel');
    expect(await waitForSuccess(tab, 30_000)).toContain('驗證成功');
    expect(await tab.byTestId('holder').innerText()).toContain(DEMO.holderName);
    expect((await tab.byTestId('validity').innerText()).trim()).toMatch(/\d{4}/);
    await waitForTries(tab, { pin: 3 });
    await expectNoSecrets(page, [DEMO.pin], PUBLIC_TEXT);
    await inBothLanguages(tab, 'bind-2-verified', async (lang) => {
      expect(await waitForSuccess(tab)).toContain(lang === 'zh' ? '驗證成功' : 'Verified');
    });

    // 驗證 bound nothing: the account does not exist until 送出申請.
    expect(await boundAccounts(app)).not.toContain(account);
    await typeInto(tab, 'password', PASSWORD);

    await press(tab, 'register-submit');
    await tab.byTestId('registered').waitFor({ state: 'visible' });
    // The server holds the binding the card signed for, for the new (signed-in) account.
    const bound = await serverBinding(tab, app);
    expect(bound).toMatchObject({ account, holderName: DEMO.holderName, cardType: 'personnel', cardNumber: DEMO.cardNumber });
    expect(bound?.fingerprint).toMatch(/^[0-9a-f]{64}$/i);
    expect(await tab.byTestId('registered-account').innerText()).toBe(account);
    expect(await tab.byTestId('bound-holder').innerText()).toContain(DEMO.holderName);
    expect((await tab.byTestId('bound-validity').innerText()).trim()).toMatch(/\d{4}/);
    await expectNoSecrets(page, [DEMO.pin], PUBLIC_TEXT);
    await inBothLanguages(tab, 'bind-3-registered', async () => {
      await tab.byTestId('registered').waitFor({ state: 'visible' });
    });
    await finishTab(tab);
  });

  it('account management: sign in, re-bind with an institution card (綁定新憑證 IC 卡); the same card for another account is refused', async () => {
    const tab = await openFlow(app, 'bind', { state: 'institution', query: { mode: 'rebind' }, waitForCard: false });
    const page = tab.page;
    await registerByApi(tab, app, 'clinic-02');
    await registerByApi(tab, app, 'clinic-01');
    await page.reload();
    await waitForReader(tab, 'card');
    expect(await tab.byTestId('signed-in-account').innerText()).toBe('clinic-01');
    await tab.byTestId('no-binding').waitFor({ state: 'visible' });
    await verify(tab, 'institution');
    await waitForSuccess(tab, 30_000);
    expect(await tab.byTestId('holder').innerText()).toContain('虛擬醫院');
    // Verified, not yet bound: 綁定新憑證 IC 卡 commits it.
    expect(await boundAccounts(app)).not.toContain('clinic-01');
    await press(tab, 'bind-new');
    await tab.byTestId('current-binding').waitFor({ state: 'visible' });
    expect(await tab.byTestId('bound-holder').innerText()).toContain('虛擬醫院');
    expect(await serverBinding(tab, app)).toMatchObject({ account: 'clinic-01', cardType: 'institution', holderName: '虛擬醫院' });
    await expectAccessible(page, 'bind rebind', { screenshot: 'bind-rebind.zh-TW' });

    // One account per card certificate: another account cannot take this card.
    await press(tab, 'logout');
    await typeInto(tab, 'login-account', 'clinic-02');
    await typeInto(tab, 'login-password', 'wrong password');
    await press(tab, 'login-submit');
    await tab.byTestId('login-problem').waitFor({ state: 'visible' });
    await typeInto(tab, 'login-password', PASSWORD);
    await press(tab, 'login-submit');
    await tab.byTestId('no-binding').waitFor({ state: 'visible' });
    expect(await tab.byTestId('signed-in-account').innerText()).toBe('clinic-02');
    await waitForReader(tab, 'card');
    await verify(tab, 'institution');
    await waitForError(tab, 'bind/already-bound', 30_000);
    expect(await tab.byTestId('bind-new').count()).toBe(0);
    expect(await serverBinding(tab, app)).toBeUndefined();
    await expectNoSecrets(page, [DEMO.pin, PASSWORD], PUBLIC_TEXT);
    await finishTab(tab, ALLOW_HTTP);
  });

  it('a version 1 card (two certificates) binds too', async () => {
    const tab = await openFlow(app, 'bind', { state: 'version1', query: { mode: 'rebind' }, waitForCard: false });
    await registerByApi(tab, app, 'doctor-v1');
    await tab.page.reload();
    await waitForReader(tab, 'card');
    await tab.byTestId('no-binding').waitFor({ state: 'visible' });
    await verify(tab, 'personnel');
    await waitForSuccess(tab, 30_000);
    await press(tab, 'bind-new');
    await tab.byTestId('current-binding').waitFor({ state: 'visible' });
    expect(await serverBinding(tab, app)).toMatchObject({ account: 'doctor-v1', cardType: 'personnel' });
    await finishTab(tab, ALLOW_HTTP);
  });

  it('the wrong card type selected: said clearly, no PIN try spent, nothing bound', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    await typeInto(tab, 'account', 'wrong-type');
    await verify(tab, 'institution');
    const err = await waitForError(tab, 'bind/wrong-card-type', 30_000);
    expect(err.text).toMatch(/醫事人員卡/);
    await waitForTries(tab, { pin: 3 });
    expect(await boundAccounts(app)).not.toContain('wrong-type');
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind wrong type', { screenshot: 'bind-error-wrong-type.zh-TW' });
    await finishTab(tab);
  });

  it('a wrong PIN: tries left, one try spent, not retried, nothing bound', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    await recordCardCommands(tab);
    await typeInto(tab, 'account', 'wrong-pin');
    await verify(tab, 'personnel', '999999');
    const err = await waitForError(tab, 'apdu/pin-incorrect', 30_000);
    expect(err.text).toContain('還可以再試 2 次');
    // The PIN field is offered again (the demo's virtual card: its PIN format is known).
    await tab.byTestId('pin').waitFor({ state: 'visible' });
    await waitForTries(tab, { pin: 2 });
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['VERIFY']);
    expect(await boundAccounts(app)).not.toContain('wrong-pin');
    await expectNoSecrets(tab.page, ['999999'], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind wrong pin', { screenshot: 'bind-error-wrong-pin.zh-TW' });
    await finishTab(tab);
  });

  it('a refused PIN while the PIN format is unconfirmed (?profile=assumed: the virtual card as a real one): tries left, one try spent, no PIN entry offered again, nothing bound', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal', query: { profile: 'assumed' } });
    await recordCardCommands(tab);
    await typeInto(tab, 'account', 'unconfirmed-pin');
    await verify(tab, 'personnel', '999999');
    const err = await waitForError(tab, 'hca/profile-unconfirmed', 30_000);
    expect(err.text).toMatch(/2/);
    expect(await tab.byTestId('pin').count()).toBe(0);
    expect(await tab.byTestId('verify').count()).toBe(0);
    expect(await tab.page.locator('[data-testid="error-action"][data-action="field-report"]').count()).toBe(1);
    await waitForTries(tab, { pin: 2 });
    // Once the flow is over (its message shown, the card let go), the card got that one command: no retry.
    expect(await pinCommandsOnceSettled(tab)).toEqual(['VERIFY']);
    expect(await boundAccounts(app)).not.toContain('unconfirmed-pin');
    await expectNoSecrets(tab.page, ['999999'], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind refused pin, format unconfirmed', { screenshot: 'bind-error-profile-unconfirmed.zh-TW' });
    await finishTab(tab);
  });

  it('a locked card: says so and leads to the unlock page', async () => {
    const tab = await openFlow(app, 'bind', { state: 'locked' });
    await typeInto(tab, 'account', 'locked-card');
    await verify(tab, 'personnel');
    await waitForError(tab, 'apdu/pin-blocked', 30_000);
    await unlockAction(tab).click();
    await tab.page.waitForURL(/unlock\.html/);
    await tab.byTestId('card-number').waitFor({ state: 'visible' });
    await waitForTries(tab, { pin: 0 });
    await finishTab(tab);
  });

  it('an expired certificate: the server’s verifier refuses it with its code', async () => {
    const tab = await openFlow(app, 'bind', { state: 'expired' });
    await typeInto(tab, 'account', 'expired-card');
    await verify(tab, 'personnel');
    const err = await waitForError(tab, undefined, 30_000);
    expect(err.code).toMatch(/expired/);
    expect(await boundAccounts(app)).not.toContain('expired-card');
    await expectAccessible(tab.page, 'bind expired', { screenshot: 'bind-error-expired.zh-TW' });
    await finishTab(tab, ALLOW_HTTP);
  });

  it('not an HCA card: says so', async () => {
    const tab = await openFlow(app, 'bind', { state: 'not-hca' });
    await typeInto(tab, 'account', 'not-hca');
    await verify(tab, 'personnel');
    await waitForError(tab, 'hca/not-hca-card', 30_000);
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await finishTab(tab);
  });

  it('register without an account: the page says what is missing and nothing is bound, though the card verified', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal' });
    await press(tab, 'register-submit');
    await tab.byTestId('register-problem').waitFor({ state: 'visible' });
    await verify(tab, 'personnel');
    await waitForSuccess(tab, 30_000);
    await press(tab, 'register-submit');
    await tab.byTestId('register-problem').waitFor({ state: 'visible' });
    expect(await tab.byTestId('registered').count()).toBe(0);
    const before = await boundAccounts(app);
    // A corrected account name then registers with the same verification (no 409 for a name never created).
    await typeInto(tab, 'account', 'nurse-02');
    await typeInto(tab, 'password', PASSWORD);
    await press(tab, 'register-submit');
    await tab.byTestId('registered').waitFor({ state: 'visible' });
    expect(await boundAccounts(app)).toEqual(expect.arrayContaining([...before, 'nurse-02']));
    await expectNoSecrets(tab.page, [DEMO.pin, PASSWORD], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind no account');
    await finishTab(tab, ALLOW_HTTP);
  });

  it('kiosk: the session ends with the idle time, so the next person at the kiosk is signed out', async () => {
    const tab = await openFlow(app, 'bind', { state: 'normal', kiosk: true, idle: 3, query: { mode: 'rebind' }, waitForCard: false });
    await registerByApi(tab, app, 'kiosk-user');
    await tab.page.reload();
    expect(await tab.byTestId('signed-in-account').innerText()).toBe('kiosk-user');
    await tab.byTestId('login-submit').waitFor({ state: 'visible', timeout: 15_000 });
    expect(await tab.byTestId('signed-in-account').count()).toBe(0);
    const res = await tab.page.request.get(`${app.url}/api/account/session`);
    expect(res.status()).toBe(401);
    await finishTab(tab, ALLOW_HTTP);
  });

  it('the card pulled out while the (slow) card signs: the message, the PIN field empty, nothing bound', async () => {
    const tab = await openFlow(app, 'bind', { state: 'slow' });
    await typeInto(tab, 'account', 'pulled-out');
    await verify(tab, 'personnel');
    await tab.byTestId('progress').waitFor({ state: 'visible' });
    await removeCard(tab);
    await waitForReader(tab, 'no-card');
    const err = await waitForError(tab, undefined, 30_000);
    expect(err.code).toMatch(/card-absent|card-removed|disconnected|not-connected|aborted/);
    await tab.byTestId('pin').waitFor({ state: 'visible' });
    expect(await boundAccounts(app)).not.toContain('pulled-out');
    await expectNoSecrets(tab.page, [DEMO.pin], PUBLIC_TEXT);
    await expectAccessible(tab.page, 'bind card removed');
    await finishTab(tab);
  });
});
