/**
 * bind.html: the account system of the seed (自殺防治通報系統 「醫事憑證 IC 卡」綁定說明), played
 * against the reference server:
 * - 【申請帳號】 (register, `?mode=register`, default): account, e-mail, the 綁定憑證 IC 卡 section
 *   (<hca-bind-card>), then 送出申請; the new account shows its bound certificate;
 * - 【帳號管理】›【憑證 IC 卡綁定】 (`?mode=rebind`): the signed-in account's bound certificate and
 *   the 重新綁定憑證 IC 卡 section; a successful verification replaces the binding at once (the
 *   seed's extra "綁定新憑證 IC 卡" button after 確定 is not needed).
 * The demo's accounts live in this browser (localStorage); bindings live in the reference server.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { startPage, type PageContext } from '../shell.js';
import { words } from '../i18n.js';
import { loadHardware } from '../hardware.js';
import { HcaBindCard } from '../../../src/components/hca-bind-card/hca-bind-card.js';
import { defineElements } from '../elements.js';

defineElements(['hca-bind-card', HcaBindCard]);
import { getLocale } from '../../../src/components/locale.js';
import { summarizeCertificate, type CertificateSummary } from '../../../src/components/hca-bind-card/bind-flow.js';
import type { ServerBinding } from '../../../src/components/hca-bind-card/bind-api.js';
import { decodeBase64 } from '../../../src/server/base64.js';
import { formatDateTime } from '../time.js';

type Mode = 'register' | 'rebind';
const ACCOUNTS = 'webccid-demo-accounts';
const SIGNED_IN = 'webccid-demo-signed-in';
const ACCOUNT_SHAPE = /^[A-Za-z0-9._-]{3,32}$/;

interface BindingView {
  binding: ServerBinding;
  summary?: CertificateSummary;
}

const initial = new URLSearchParams(location.search);
const initialMode: Mode = initial.get('mode') === 'rebind' ? 'rebind' : 'register';
let mode: Mode = initialMode;
let registerAccount = '';
let registerEmail = '';
let verifiedFor: string | undefined;
let registerProblem: string | undefined;
let registered: BindingView | undefined;
let signedIn = readSignedIn();
let current: BindingView | null | undefined; // undefined = loading, null = none
let loadedFor: string | undefined;

/**
 * Kiosk: the page's own text field in use (account, e-mail, signed-in account), for the on-screen
 * keyboard docked at the bottom; it goes away when anything else takes the focus.
 */
let keysTarget: HTMLInputElement | null = null;

function onFieldFocus(ctx: PageContext, event: Event): void {
  if (!ctx.kiosk) return;
  keysTarget = event.target as HTMLInputElement;
  ctx.update();
}

function watchFocus(ctx: PageContext): void {
  if (!ctx.kiosk) return;
  document.addEventListener('focusin', (event) => {
    const inside = event.composedPath().some((n) => n === keysTarget || (n instanceof HTMLElement && n.classList.contains('page-keys')));
    if (keysTarget && !inside) {
      keysTarget = null;
      ctx.update();
    }
  });
}

function pageKeys(ctx: PageContext): TemplateResult | typeof nothing {
  if (!ctx.kiosk || !keysTarget || !keysTarget.isConnected) return nothing;
  return html`<hca-pin-pad class="page-keys" kiosk layout="text" data-testid="page-keys" .target=${keysTarget}></hca-pin-pad>`;
}

function readAccounts(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(ACCOUNTS) ?? '[]');
    return Array.isArray(v) ? v.filter((a): a is string => typeof a === 'string') : [];
  } catch {
    return [];
  }
}

function readSignedIn(): string {
  try {
    return localStorage.getItem(SIGNED_IN) ?? readAccounts()[0] ?? 'demo-user';
  } catch {
    return 'demo-user';
  }
}

function remember(account: string): void {
  // A kiosk serves one person after another: it keeps no account of anybody.
  if (window.webccidDemo?.kiosk) return;
  try {
    const list = readAccounts().filter((a) => a !== account);
    localStorage.setItem(ACCOUNTS, JSON.stringify([account, ...list].slice(0, 20)));
    localStorage.setItem(SIGNED_IN, account);
  } catch {
    // The demo works without storage, it just forgets.
  }
}

async function fetchBinding(account: string): Promise<BindingView | null> {
  const res = await fetch(`/api/bind/binding?account=${encodeURIComponent(account)}`, { cache: 'no-store' });
  if (res.status === 404) return null;
  if (!res.ok) return null;
  const body = (await res.json()) as { binding?: ServerBinding };
  if (!body.binding) return null;
  const view: BindingView = { binding: body.binding };
  const der = decodeBase64(body.binding.certificate);
  if (der) view.summary = await summarizeCertificate(der).catch(() => undefined);
  return view;
}

function formatDate(d: Date | number): string {
  return new Intl.DateTimeFormat(getLocale() === 'en' ? 'en-GB' : 'zh-TW', { year: 'numeric', month: 'long', day: 'numeric' }).format(d);
}

function bindingDetails(view: BindingView, testid: string): TemplateResult {
  const w = words();
  const b = view.binding;
  return html`<dl class="facts" data-testid=${testid}>
    <dt>${w.holder}</dt>
    <dd data-testid="bound-holder">${b.holderName}</dd>
    <dt>${w.cardType}</dt>
    <dd>${b.cardType === 'institution' ? w.institution : w.personnel}</dd>
    ${b.cardNumber ? html`<dt>${w.cardNumber}</dt><dd>GH${b.cardNumber}</dd>` : nothing}
    ${view.summary
      ? html`<dt>${w.validity}</dt><dd data-testid="bound-validity">${formatDate(view.summary.notBefore)} ${w.to} ${formatDate(view.summary.notAfter)}</dd>`
      : nothing}
    <dt>${w.boundAt}</dt>
    <dd data-testid="bound-at">${formatDateTime(b.boundAt, getLocale() === 'en' ? 'en' : 'zh-Hant')}</dd>
  </dl>`;
}

function bindElement(ctx: PageContext, account: string): TemplateResult {
  return html`<hca-bind-card
    .session=${ctx.session}
    ?kiosk=${ctx.kiosk}
    .idleSeconds=${ctx.idleSeconds}
    .account=${account}
    @hca-bound=${() => onBound(ctx, account)}
    @hca-unlock-requested=${() => location.assign(ctx.href('unlock'))}
  ></hca-bind-card>`;
}

function onBound(ctx: PageContext, account: string): void {
  if (mode === 'register') {
    verifiedFor = account;
    registerProblem = undefined;
  } else {
    loadedFor = undefined;
  }
  ctx.update();
}

async function submitRegistration(ctx: PageContext, event: Event): Promise<void> {
  event.preventDefault();
  const w = words();
  if (!ACCOUNT_SHAPE.test(registerAccount)) {
    registerProblem = w.needAccount;
  } else if (verifiedFor !== registerAccount) {
    registerProblem = w.needVerify;
  } else {
    registerProblem = undefined;
    remember(registerAccount);
    signedIn = registerAccount;
    registered = (await fetchBinding(registerAccount).catch(() => null)) ?? undefined;
  }
  ctx.update();
  await Promise.resolve();
  document.querySelector<HTMLElement>(registerProblem ? '[data-testid="register-problem"]' : '[data-testid="registered"]')?.focus();
}

function renderRegister(ctx: PageContext): TemplateResult {
  const w = words();
  if (registered) {
    return html`<section class="card done" data-testid="registered" tabindex="-1" aria-labelledby="registered-title">
      <h2 id="registered-title">${w.registered}</h2>
      <p>${w.registeredText}</p>
      <p><strong>${w.account}：</strong><span data-testid="registered-account">${signedIn}</span></p>
      ${bindingDetails(registered, 'registered-binding')}
    </section>`;
  }
  const account = ACCOUNT_SHAPE.test(registerAccount) ? registerAccount : '';
  return html`<form class="card register" @submit=${(e: Event) => void submitRegistration(ctx, e)} novalidate>
    <p>${w.registerIntro}</p>
    <div class="fields">
      <label>
        ${w.account}
        <input type="text" name="account" data-testid="account" autocomplete="username" required
          .value=${registerAccount} aria-describedby="account-hint" @focus=${(e: Event) => onFieldFocus(ctx, e)}
          @input=${(e: Event) => {
            registerAccount = (e.target as HTMLInputElement).value.trim();
            ctx.update();
          }} />
        <span class="hint" id="account-hint">${w.accountHint}</span>
      </label>
      <label>
        ${w.email}
        <input type="email" name="email" data-testid="email" autocomplete="email" .value=${registerEmail}
          @focus=${(e: Event) => onFieldFocus(ctx, e)}
          @input=${(e: Event) => {
            registerEmail = (e.target as HTMLInputElement).value;
          }} />
      </label>
    </div>
    <section class="bind-section" aria-labelledby="bind-section-title">
      <h2 id="bind-section-title">${w.bindSection}</h2>
      ${bindElement(ctx, account)}
    </section>
    ${registerProblem ? html`<p class="problem" role="alert" tabindex="-1" data-testid="register-problem">${registerProblem}</p>` : nothing}
    <div class="actions"><button type="submit" class="primary" data-testid="register-submit">${w.submitRegister}</button></div>
  </form>`;
}

function renderRebind(ctx: PageContext): TemplateResult {
  const w = words();
  if (loadedFor !== signedIn) {
    loadedFor = signedIn;
    current = undefined;
    const account = signedIn;
    void fetchBinding(account)
      .catch(() => null)
      .then((v) => {
        if (loadedFor === account) {
          current = v;
          ctx.update();
        }
      });
  }
  const unbind = async () => {
    await fetch(`/api/bind/binding?account=${encodeURIComponent(signedIn)}`, { method: 'DELETE' }).catch(() => undefined);
    loadedFor = undefined;
    ctx.update();
  };
  return html`<div class="card">
      <p>${w.rebindIntro}</p>
      <form class="signed-in" @submit=${(e: Event) => {
        e.preventDefault();
        const input = (e.currentTarget as HTMLFormElement).querySelector('input');
        const v = input?.value.trim() ?? '';
        if (ACCOUNT_SHAPE.test(v)) {
          signedIn = v;
          remember(v);
          ctx.update();
        }
      }}>
        <label>${w.signedInAs} <input type="text" data-testid="signed-in-account" autocomplete="username" .value=${signedIn} @focus=${(e: Event) => onFieldFocus(ctx, e)} /></label>
        <button type="submit" data-testid="switch-account">${w.switchAccount}</button>
      </form>
      <section aria-labelledby="current-title" aria-live="polite">
        <h2 id="current-title">${w.currentBinding}</h2>
        ${current === undefined
          ? html`<p>${w.loading}</p>`
          : current === null
            ? html`<p data-testid="no-binding">${w.noBinding}</p>`
            : html`${bindingDetails(current, 'current-binding')}
                <button type="button" data-testid="unbind" @click=${() => void unbind()}>${w.unbind}</button>`}
      </section>
    </div>
    <section class="card bind-section" aria-labelledby="rebind-title">
      <h2 id="rebind-title">${w.rebindSection}</h2>
      ${bindElement(ctx, signedIn)}
    </section>`;
}

function renderFaq(): TemplateResult {
  const w = words();
  return html`<section class="faq" aria-labelledby="faq-title">
    <h2 id="faq-title">${w.faqTitle}</h2>
    <dl>${w.faq.map(([q, a]) => html`<dt>${q}</dt><dd>${a}</dd>`)}</dl>
  </section>`;
}

/** The kiosk reset: everything this page holds goes back to how it started. */
function forgetAll(): void {
  mode = initialMode;
  registerAccount = '';
  registerEmail = '';
  verifiedFor = undefined;
  registerProblem = undefined;
  registered = undefined;
  signedIn = readSignedIn();
  current = undefined;
  loadedFor = undefined;
  keysTarget = null;
}

const page = startPage(
  'bind',
  (c) => {
    const w = words();
    const tab = (m: Mode, label: string) =>
      html`<button type="button" role="tab" aria-selected=${mode === m ? 'true' : 'false'} data-testid=${`mode-${m}`}
        @click=${() => {
          mode = m;
          history.replaceState(null, '', `?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(location.search)), mode: m }).toString()}`);
          c.update();
        }}>${label}</button>`;
    return html`<h1 class="flow-title">${w.bindTitle}</h1>
      <div class="tabs" role="tablist">${tab('register', w.modeRegister)} ${tab('rebind', w.modeRebind)}</div>
      <div role="tabpanel">${mode === 'register' ? renderRegister(c) : renderRebind(c)}</div>
      ${c.kiosk ? nothing : renderFaq()} ${pageKeys(c)}`;
  },
  () => `${words().bind} — ${words().appName}`,
  loadHardware,
);
page.onKioskReset(forgetAll);
watchFocus(page);
