/**
 * Helpers for the flow pages of the web app (unlock.html, change-pin.html,
 * bind.html): open a page with the virtual card in a demo state, drive the
 * demo panel and the simulated reader keypad, read the card's counters.
 *
 * Page hooks used (web/app/shell.ts, demo-panel.ts): URL flags `state`,
 * `lang`, `kiosk`, `idle`; `<html data-ready="1">`; data-testid
 * "demo-state-<state>", "demo-remove-card", "demo-insert-card", "demo-unplug",
 * "demo-plug", "demo-pin-tries", "demo-puk-tries", "reader-keypad-*";
 * `window.webccidDemo.env.keypadPrompt` (which entry the virtual reader's
 * keypad asks for).
 */
import type { Locator } from 'playwright-core';
import type { App, OpenOptions, Tab } from './harness.js';
import { expectAccessible, WAIT } from './harness.js';

export type FlowPage = 'unlock' | 'change-pin' | 'bind';
export type DemoState =
  | 'normal'
  | 'locked'
  | 'puk-blocked'
  | 'wrong-puk'
  | 'pinpad'
  | 'slow'
  | 'not-hca'
  | 'version1'
  | 'institution'
  | 'expired'
  | 'nhi';
export type Lang = 'zh' | 'en';

export interface FlowOptions {
  state?: DemoState;
  lang?: Lang;
  kiosk?: boolean;
  /** Kiosk idle reset in seconds. */
  idle?: number;
  /** Other URL parameters. */
  query?: Record<string, string>;
  open?: OpenOptions;
  /** Wait for a card in the reader (reader-status data-state="card"); default true. */
  waitForCard?: boolean;
}

/** The file name suffix of a screenshot in this language. */
export function langTag(lang: Lang): string {
  return lang === 'en' ? 'en' : 'zh-TW';
}

/** Opens a page of the web app and waits until the page and its virtual card are ready. */
export async function openPage(app: App, file: string, o: FlowOptions = {}): Promise<Tab> {
  const q = new URLSearchParams();
  if (o.state) q.set('state', o.state);
  q.set('lang', o.lang ?? 'zh');
  if (o.kiosk) q.set('kiosk', '1');
  if (o.idle !== undefined) q.set('idle', String(o.idle));
  for (const [k, v] of Object.entries(o.query ?? {})) q.set(k, v);
  return app.open(`/${file}?${q.toString()}`, { locale: o.lang === 'en' ? 'en-US' : 'zh-TW', ready: 30_000, ...o.open });
}

/** Opens a flow page (see `openPage`) and waits for the card to be seen by the component. */
export async function openFlow(app: App, page: FlowPage, o: FlowOptions = {}): Promise<Tab> {
  const tab = await openPage(app, `${page}.html`, o);
  const missing = tab.byTestId('component-missing');
  if (await missing.isVisible()) throw new Error(`${page}.html: the page says its component is missing from the build`);
  if (o.waitForCard ?? true) await waitForReader(tab, 'card');
  return tab;
}

/** Waits for the reader status of the flow component to be in `state` (card, no-card, no-reader, ...). */
export async function waitForReader(tab: Tab, state: string, timeout = WAIT): Promise<void> {
  const el = tab.page.locator(`[data-testid="reader-status"][data-state="${state}"]`).first();
  try {
    await el.waitFor({ state: 'visible', timeout });
  } catch (e) {
    const now = await tab.page
      .locator('[data-testid="reader-status"]')
      .evaluateAll((els) => els.map((x) => `${x.getAttribute('data-state') ?? '?'}: ${(x as HTMLElement).innerText.replace(/\s+/g, ' ').slice(0, 160)}`));
    throw new Error(`reader status never became "${state}" (now: ${now.join(' | ') || 'no reader-status element'})`, { cause: e });
  }
}

/** Waits until the demo panel is not preparing a state any more. */
export async function demoIdle(tab: Tab): Promise<void> {
  await tab.page.locator('[data-testid="demo-panel"][aria-busy="false"]').waitFor({ state: 'visible' });
}

/** Switches the virtual card and reader into `state` through the demo panel. */
export async function setDemoState(tab: Tab, state: DemoState): Promise<void> {
  await tab.byTestId(`demo-state-${state}`).check();
  await demoIdle(tab);
}

export async function removeCard(tab: Tab): Promise<void> {
  await tab.byTestId('demo-remove-card').click();
  await tab.byTestId('demo-insert-card').waitFor({ state: 'visible' });
}

export async function insertCard(tab: Tab): Promise<void> {
  await tab.byTestId('demo-insert-card').click();
  await tab.byTestId('demo-remove-card').waitFor({ state: 'visible' });
}

export async function unplugReader(tab: Tab): Promise<void> {
  await tab.byTestId('demo-unplug').click();
  await tab.byTestId('demo-plug').waitFor({ state: 'visible' });
}

export async function plugReader(tab: Tab): Promise<void> {
  await tab.byTestId('demo-plug').click();
  await tab.byTestId('demo-unplug').waitFor({ state: 'visible' });
}

/** The virtual card's PIN and PUK tries left as the demo panel shows them. */
export async function cardTries(tab: Tab): Promise<{ pin: number; puk: number }> {
  const pin = Number((await tab.byTestId('demo-pin-tries').innerText()).trim());
  const puk = Number((await tab.byTestId('demo-puk-tries').innerText()).trim());
  return { pin, puk };
}

/** Waits until the demo panel shows `pin` PIN tries left (and `puk`, when given). */
export async function waitForTries(tab: Tab, want: { pin?: number; puk?: number }): Promise<void> {
  const deadline = Date.now() + WAIT;
  let last = { pin: NaN, puk: NaN };
  while (Date.now() < deadline) {
    last = await cardTries(tab);
    if ((want.pin === undefined || last.pin === want.pin) && (want.puk === undefined || last.puk === want.puk)) return;
    await tab.page.waitForTimeout(50);
  }
  throw new Error(`card tries: want ${JSON.stringify(want)}, demo panel shows ${JSON.stringify(last)}`);
}

/** Which entry the virtual reader's keypad asks for now ('current' | 'new' | 'confirm'), or undefined. */
export async function keypadStep(tab: Tab): Promise<string | undefined> {
  return tab.page.evaluate(() => {
    const w = window as unknown as { webccidDemo?: { env?: { keypadPrompt?: { step?: string } } } };
    return w.webccidDemo?.env?.keypadPrompt?.step;
  });
}

/** Waits for the virtual reader's keypad to ask for `step`. */
export async function waitForKeypad(tab: Tab, step: string, timeout = WAIT): Promise<void> {
  const deadline = Date.now() + timeout;
  let now: string | undefined;
  while (Date.now() < deadline) {
    now = await keypadStep(tab);
    if (now === step) {
      await tab.byTestId('reader-keypad-ok').and(tab.page.locator(':enabled')).waitFor({ state: 'visible' });
      return;
    }
    await tab.page.waitForTimeout(50);
  }
  throw new Error(`the reader keypad never asked for "${step}" (asks for: ${now ?? 'nothing'})`);
}

/** Keys `digits` + OK on the simulated reader keypad once it asks for `step`. */
export async function keyOnReader(tab: Tab, step: string, digits: string): Promise<void> {
  await waitForKeypad(tab, step);
  const input = tab.byTestId('reader-keypad-input');
  await input.fill(digits);
  await tab.byTestId('reader-keypad-ok').click();
}

/** Presses the reader keypad's cancel key (or lets it time out) once it asks for `step`. */
export async function refuseOnReader(tab: Tab, step: string, how: 'cancel' | 'timeout'): Promise<void> {
  await waitForKeypad(tab, step);
  await tab.byTestId(how === 'cancel' ? 'reader-keypad-cancel' : 'reader-keypad-timeout').click();
}

/** The "go to the unlock flow" control a blocked PIN shows (the flow's own, or the shared error action). */
export function unlockAction(tab: Tab): Locator {
  return tab.page.locator('[data-testid="go-unlock"], [data-testid="error-action"][data-action="unlock"]').locator('visible=true').first();
}

/** Enters digits on the on-screen PIN pad (kiosk) of the flow, key by key. */
export async function keyOnScreen(tab: Tab, digits: string, pad?: Locator): Promise<void> {
  const scope = pad ?? tab.page.locator('hca-pin-pad').locator('visible=true').first();
  for (const d of digits) await scope.locator(`[data-testid="pin-key-${d}"]`).click();
}

/** Public strings of the demo that contain a secret by coincidence (removed before scanning for secrets). */
export const PUBLIC_TEXT: RegExp[] = [
  /(GH)?000012345678/g, // the demo card number contains the PIN 123456 and the PUK 12345678
  /[A-Z][0-9]{9}/g, // holder ID numbers (A123456789)
  /PIN( 碼)? 123456/g, // the demo-data hint shows the demo PIN and PUK
  /(解鎖碼|PUK) 12345678/g,
];

/** Switches the page's language with the header's switch (data-testid "lang-en" / "lang-zh"). */
export async function switchLanguage(tab: Tab, lang: Lang): Promise<void> {
  await tab.byTestId(lang === 'en' ? 'lang-en' : 'lang-zh').click();
  await tab.page.locator(`html[lang="${lang === 'en' ? 'en' : 'zh-Hant'}"]`).waitFor({ state: 'attached' });
}

/**
 * A key state in both languages: `check` (e.g. the success text), axe and a
 * screenshot `<name>.zh-TW.png` in Traditional Chinese, then the same in
 * English (the language switched in place: the flow's state must survive it),
 * then back to Traditional Chinese.
 */
export async function inBothLanguages(tab: Tab, name: string, check?: (lang: Lang) => Promise<void>): Promise<void> {
  for (const lang of ['zh', 'en'] as Lang[]) {
    if (lang === 'en') await switchLanguage(tab, 'en');
    await check?.(lang);
    await expectAccessible(tab.page, `${name} (${lang})`, { screenshot: `${name}.${langTag(lang)}` });
  }
  await switchLanguage(tab, 'zh');
}

/** The contract's PIN field attributes: type password, inputmode numeric, autocomplete off. */
export async function pinFieldAttributes(tab: Tab, testid: string): Promise<{ type: string | null; inputmode: string | null; autocomplete: string | null }> {
  const f = tab.byTestId(testid).first();
  return { type: await f.getAttribute('type'), inputmode: await f.getAttribute('inputmode'), autocomplete: await f.getAttribute('autocomplete') };
}

/** The text of the flow's polite live region (data-testid "announce"). */
export async function announcement(tab: Tab): Promise<string> {
  const el = tab.page.locator('[data-testid="announce"][aria-live="polite"]').first();
  return (await el.textContent())?.trim() ?? '';
}

/** The commands of ISO/IEC 7816-4 §11.5 that carry a PIN or PUK, by INS. */
const PIN_COMMANDS: Record<number, string> = { 0x20: 'VERIFY', 0x24: 'CHANGE REFERENCE DATA', 0x2c: 'RESET RETRY COUNTER' };

/**
 * From now on, records each APDU the page's virtual card receives: its INS
 * and length only (never its data: no PIN leaves the page). A wrapper on the
 * card's `transmit`, which every exchange level and the pinpad reach.
 */
export async function recordCardCommands(tab: Tab): Promise<void> {
  await tab.page.evaluate(() => {
    type Card = { transmit(apdu: Uint8Array): Uint8Array };
    const w = window as unknown as { webccidDemo?: { env?: { card?: Card } }; cardCommands?: Array<{ ins: number; length: number }> };
    const card = w.webccidDemo?.env?.card;
    if (!card) throw new Error('no virtual card in the page');
    const log: Array<{ ins: number; length: number }> = [];
    w.cardCommands = log;
    const transmit = card.transmit.bind(card);
    card.transmit = (apdu: Uint8Array) => {
      log.push({ ins: apdu[1] ?? -1, length: apdu.length });
      return transmit(apdu);
    };
  });
}

/**
 * Once the flow has let go of the card (the reader status back to "card", no
 * operation in flight), the PIN- or PUK-carrying commands the card received
 * since `recordCardCommands`, by name: VERIFY with data (a VERIFY without data
 * only reads the tries left, §11.5.6), CHANGE REFERENCE DATA, RESET RETRY
 * COUNTER.
 */
export async function pinCommandsOnceSettled(tab: Tab): Promise<string[]> {
  await waitForReader(tab, 'card');
  const log = await tab.page.evaluate(() => (window as unknown as { cardCommands?: Array<{ ins: number; length: number }> }).cardCommands);
  if (!log) throw new Error('recordCardCommands was not called on this page');
  // CLA INS P1 P2 alone (case 1) or with Le (case 2) carries no data.
  return log.filter((c) => PIN_COMMANDS[c.ins] !== undefined && c.length > 5).map((c) => PIN_COMMANDS[c.ins]!);
}
