/**
 * bind.html: the account system of the bind guide (docs/design.md §1; 自殺防治通報系統 「醫事憑證 IC 卡」綁定說明), played
 * against the reference server:
 * - 【申請帳號】 (register, `?mode=register`, default): account, password, e-mail, the 綁定憑證 IC 卡
 *   section (<hca-bind-card>: 驗證 gives a one-use binding token, nothing is bound yet), then 送出申請
 *   creates the account and binds the card in one step (an abandoned form leaves nothing behind);
 * - 【帳號管理】›【憑證 IC 卡綁定】 (`?mode=rebind`): sign in, the account's bound certificate, and
 *   the 重新綁定憑證 IC 卡 section: 驗證, then 綁定新憑證 IC 卡 commits the new card (as the seed).
 * The server knows who is signed in (an HttpOnly session cookie); the page never names the account
 * to the binding endpoints.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { startPage, type PageContext } from '../shell.js';
import { words } from '../i18n.js';
import { accountWords } from '../account-words.js';
import { loadHardware } from '../hardware.js';
import { HcaBindCard, type BindBoundDetail } from '../../../src/components/hca-bind-card/hca-bind-card.js';
import { defineElements } from '../elements.js';

defineElements(['hca-bind-card', HcaBindCard]);
import { getLocale } from '../../../src/components/locale.js';
import { summarizeCertificate, type CertificateSummary } from '../../../src/components/hca-bind-card/bind-flow.js';
import type { ServerBinding } from '../../../src/components/hca-bind-card/bind-api.js';
import { decodeBase64 } from '../../../src/server/base64.js';
import { formatDateTime } from '../time.js';
import { bindWords } from '../bind-words.js';

type Mode = 'register' | 'rebind';
const ACCOUNT_SHAPE = /^[A-Za-z0-9._-]{3,32}$/;

interface BindingView {
  binding: ServerBinding;
  summary?: CertificateSummary;
}

const initial = new URLSearchParams(location.search);
const initialMode: Mode = initial.get('mode') === 'rebind' ? 'rebind' : 'register';
let mode: Mode = initialMode;
let registerAccount = '';
let registerPassword = '';
let registerEmail = '';
/** The token of the last 驗證 on the register form (committed by 送出申請). */
let registerToken: string | undefined;
let registerProblem: string | undefined;
let registered: { account: string; view: BindingView | undefined } | undefined;
/** The signed-in account (undefined: not known yet, null: signed out). */
let signedIn: string | null | undefined;
let signInProblem: string | undefined;
let current: BindingView | null | undefined; // undefined = loading, null = none
let loadedFor: string | undefined;
/** The token of the last 驗證 in 帳號管理 (committed by 綁定新憑證 IC 卡). */
let rebindToken: string | undefined;
let rebindProblem: string | undefined;
let rebindDone = false;

/**
 * Kiosk: the page's own text field in use (account, password, e-mail, sign-in fields), for the
 * on-screen keyboard docked at the bottom; it goes away when anything else takes the focus.
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

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const init: RequestInit = { method, cache: 'no-store', credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/api${path}`, init);
  let json: Record<string, unknown> = {};
  try {
    json = (await res.json()) as Record<string, unknown>;
  } catch {
    // The status decides.
  }
  return { status: res.status, json };
}

/** The message for a refusal of 送出申請, 登入 or 綁定. */
function refusal(code: unknown): string {
  const a = accountWords();
  switch (code) {
    case 'account-exists':
      return a.accountExists;
    case 'bind-token-invalid':
      return a.tokenInvalid;
    case 'already-bound':
      return a.alreadyBound;
    case 'bad-password':
      return a.needPassword;
    case 'bad-account':
      return bindWords().needAccount;
    case 'bad-credentials':
      return a.badCredentials;
    case 'rate-limited':
      return a.rateLimited;
    default:
      return a.serverProblem;
  }
}

async function viewOf(binding: ServerBinding): Promise<BindingView> {
  const view: BindingView = { binding };
  const der = decodeBase64(binding.certificate);
  if (der) view.summary = await summarizeCertificate(der).catch(() => undefined);
  return view;
}

/** The signed-in account's binding (null: none, or not signed in). */
async function fetchBinding(): Promise<BindingView | null> {
  const { status, json } = await api('GET', '/bind/binding');
  const binding = json['binding'];
  if (status !== 200 || !binding || typeof binding !== 'object') return null;
  return viewOf(binding as ServerBinding);
}

async function loadSession(ctx: PageContext): Promise<void> {
  const { status, json } = await api('GET', '/account/session').catch(() => ({ status: 0, json: {} as Record<string, unknown> }));
  signedIn = status === 200 && typeof json['account'] === 'string' ? json['account'] : null;
  loadedFor = undefined;
  ctx.update();
}

function formatDate(d: Date | number): string {
  return new Intl.DateTimeFormat(getLocale() === 'en' ? 'en-GB' : 'zh-TW', { year: 'numeric', month: 'long', day: 'numeric' }).format(d);
}

function bindingDetails(view: BindingView, testid: string): TemplateResult {
  const bw = bindWords();
  const b = view.binding;
  return html`<dl class="facts" data-testid=${testid}>
    <dt>${bw.holder}</dt>
    <dd data-testid="bound-holder">${b.holderName}</dd>
    <dt>${bw.cardType}</dt>
    <dd>${b.cardType === 'institution' ? bw.institution : bw.personnel}</dd>
    ${b.cardNumber ? html`<dt>${bw.cardNumber}</dt><dd>GH${b.cardNumber}</dd>` : nothing}
    ${view.summary
      ? html`<dt>${bw.validity}</dt><dd data-testid="bound-validity">${formatDate(view.summary.notBefore)} ${bw.to} ${formatDate(view.summary.notAfter)}</dd>`
      : nothing}
    <dt>${bw.boundAt}</dt>
    <dd data-testid="bound-at">${formatDateTime(b.boundAt, getLocale() === 'en' ? 'en' : 'zh-Hant')}</dd>
  </dl>`;
}

function bindElement(ctx: PageContext, onVerified: (detail: BindBoundDetail) => void): TemplateResult {
  return html`<hca-bind-card
    .session=${ctx.session}
    .profile=${ctx.profile}
    ?kiosk=${ctx.kiosk}
    .idleSeconds=${ctx.idleSeconds}
    @hca-bound=${(e: CustomEvent<BindBoundDetail>) => {
      onVerified(e.detail);
      ctx.update();
    }}
    @hca-unlock-requested=${() => location.assign(ctx.href('unlock'))}
  ></hca-bind-card>`;
}

async function focusSoon(selector: string): Promise<void> {
  await Promise.resolve();
  document.querySelector<HTMLElement>(selector)?.focus();
}

async function submitRegistration(ctx: PageContext, event: Event): Promise<void> {
  event.preventDefault();
  const bw = bindWords();
  const a = accountWords();
  if (!ACCOUNT_SHAPE.test(registerAccount)) {
    registerProblem = bw.needAccount;
  } else if (registerPassword.length < 8 || registerPassword.length > 128) {
    registerProblem = a.needPassword;
  } else if (!registerToken) {
    registerProblem = bw.needVerify;
  } else {
    const { status, json } = await api('POST', '/account/register', { account: registerAccount, password: registerPassword, bindToken: registerToken }).catch(() => ({
      status: 0,
      json: {} as Record<string, unknown>,
    }));
    if (status === 201) {
      registerProblem = undefined;
      registerPassword = '';
      registerToken = undefined;
      signedIn = registerAccount;
      const binding = json['binding'];
      registered = { account: registerAccount, view: binding && typeof binding === 'object' ? await viewOf(binding as ServerBinding) : undefined };
    } else {
      registerProblem = refusal(json['error']);
      // A spent or expired token is of no further use: 驗證 again.
      if (json['error'] === 'bind-token-invalid' || json['error'] === 'already-bound') registerToken = undefined;
    }
  }
  ctx.update();
  await focusSoon(registerProblem ? '[data-testid="register-problem"]' : '[data-testid="registered"]');
}

function renderRegister(ctx: PageContext): TemplateResult {
  const bw = bindWords();
  const a = accountWords();
  if (registered) {
    return html`<section class="card done" data-testid="registered" tabindex="-1" aria-labelledby="registered-title">
      <h2 id="registered-title">${bw.registered}</h2>
      <p>${bw.registeredText}</p>
      <p><strong>${bw.account}：</strong><span data-testid="registered-account">${registered.account}</span></p>
      ${registered.view ? bindingDetails(registered.view, 'registered-binding') : nothing}
    </section>`;
  }
  return html`<form class="card register" @submit=${(e: Event) => void submitRegistration(ctx, e)} novalidate>
    <p>${bw.registerIntro}</p>
    <div class="fields">
      <label>
        ${bw.account}
        <input type="text" name="account" data-testid="account" autocomplete="username" required
          .value=${registerAccount} aria-describedby="account-hint" @focus=${(e: Event) => onFieldFocus(ctx, e)}
          @input=${(e: Event) => {
            registerAccount = (e.target as HTMLInputElement).value.trim();
          }} />
        <span class="hint" id="account-hint">${bw.accountHint}</span>
      </label>
      <label>
        ${a.password}
        <input type="password" name="password" data-testid="password" autocomplete="new-password" required minlength="8" maxlength="128"
          .value=${registerPassword} aria-describedby="password-hint" @focus=${(e: Event) => onFieldFocus(ctx, e)}
          @input=${(e: Event) => {
            registerPassword = (e.target as HTMLInputElement).value;
          }} />
        <span class="hint" id="password-hint">${a.passwordHint}</span>
      </label>
      <label>
        ${bw.email}
        <input type="email" name="email" data-testid="email" autocomplete="email" .value=${registerEmail}
          @focus=${(e: Event) => onFieldFocus(ctx, e)}
          @input=${(e: Event) => {
            registerEmail = (e.target as HTMLInputElement).value;
          }} />
      </label>
    </div>
    <section class="bind-section" aria-labelledby="bind-section-title">
      <h2 id="bind-section-title">${bw.bindSection}</h2>
      ${bindElement(ctx, (d) => {
        registerToken = d.bindToken;
        registerProblem = undefined;
      })}
    </section>
    ${registerProblem ? html`<p class="problem" role="alert" tabindex="-1" data-testid="register-problem">${registerProblem}</p>` : nothing}
    <div class="actions"><button type="submit" class="primary" data-testid="register-submit">${bw.submitRegister}</button></div>
  </form>`;
}

function renderSignIn(ctx: PageContext): TemplateResult {
  const bw = bindWords();
  const a = accountWords();
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const account = (form.querySelector<HTMLInputElement>('[data-testid="login-account"]')?.value ?? '').trim();
    const password = form.querySelector<HTMLInputElement>('[data-testid="login-password"]')?.value ?? '';
    const { status, json } = await api('POST', '/account/login', { account, password }).catch(() => ({ status: 0, json: {} as Record<string, unknown> }));
    if (status === 200) {
      signInProblem = undefined;
      signedIn = account;
      loadedFor = undefined;
    } else {
      signInProblem = refusal(json['error']);
    }
    ctx.update();
    if (signInProblem) await focusSoon('[data-testid="login-problem"]');
  };
  return html`<form class="card signed-in" @submit=${(e: Event) => void submit(e)} aria-labelledby="sign-in-title">
    <h2 id="sign-in-title">${a.signInTitle}</h2>
    <p>${a.signInIntro}</p>
    <div class="fields">
      <label>${bw.account} <input type="text" data-testid="login-account" autocomplete="username" required @focus=${(e: Event) => onFieldFocus(ctx, e)} /></label>
      <label>${a.password} <input type="password" data-testid="login-password" autocomplete="current-password" required @focus=${(e: Event) => onFieldFocus(ctx, e)} /></label>
    </div>
    ${signInProblem ? html`<p class="problem" role="alert" tabindex="-1" data-testid="login-problem">${signInProblem}</p>` : nothing}
    <div class="actions"><button type="submit" class="primary" data-testid="login-submit">${a.signIn}</button></div>
  </form>`;
}

function renderRebind(ctx: PageContext): TemplateResult {
  const bw = bindWords();
  const a = accountWords();
  if (signedIn === undefined) {
    void loadSession(ctx);
    return html`<p class="card">${bw.loading}</p>`;
  }
  if (signedIn === null) return html`<p>${a.rebindIntro}</p>${renderSignIn(ctx)}`;
  const account = signedIn;
  if (loadedFor !== account) {
    loadedFor = account;
    current = undefined;
    void fetchBinding()
      .catch(() => null)
      .then((v) => {
        if (loadedFor === account) {
          current = v;
          ctx.update();
        }
      });
  }
  const reload = (): void => {
    loadedFor = undefined;
    ctx.update();
  };
  const unbind = async () => {
    await api('DELETE', '/bind/binding').catch(() => undefined);
    reload();
  };
  const signOut = async () => {
    await api('POST', '/account/logout', {}).catch(() => undefined);
    signedIn = null;
    rebindToken = undefined;
    rebindDone = false;
    ctx.update();
  };
  const bindNew = async () => {
    const { status, json } = await api('POST', '/bind/commit', { bindToken: rebindToken }).catch(() => ({ status: 0, json: {} as Record<string, unknown> }));
    rebindToken = undefined;
    if (status === 200) {
      rebindProblem = undefined;
      rebindDone = true;
    } else {
      rebindProblem = refusal(json['error']);
      if (status === 401) signedIn = null;
    }
    reload();
    await focusSoon(rebindProblem ? '[data-testid="rebind-problem"]' : '[data-testid="current-binding"]');
  };
  return html`<div class="card">
      <p>${a.rebindIntro}</p>
      <p class="signed-in">
        ${a.signedInAs} <strong data-testid="signed-in-account">${account}</strong>
        <button type="button" data-testid="logout" @click=${() => void signOut()}>${a.signOut}</button>
      </p>
      <section aria-labelledby="current-title" aria-live="polite">
        <h2 id="current-title">${bw.currentBinding}</h2>
        ${rebindDone ? html`<p data-testid="rebind-done">${a.bindNewDone}</p>` : nothing}
        ${current === undefined
          ? html`<p>${bw.loading}</p>`
          : current === null
            ? html`<p data-testid="no-binding">${bw.noBinding}</p>`
            : html`${bindingDetails(current, 'current-binding')}
                <button type="button" data-testid="unbind" @click=${() => void unbind()}>${bw.unbind}</button>`}
      </section>
    </div>
    <section class="card bind-section" aria-labelledby="rebind-title">
      <h2 id="rebind-title">${bw.rebindSection}</h2>
      ${bindElement(ctx, (d) => {
        rebindToken = d.bindToken;
        rebindProblem = undefined;
        rebindDone = false;
      })}
      ${rebindProblem ? html`<p class="problem" role="alert" tabindex="-1" data-testid="rebind-problem">${rebindProblem}</p>` : nothing}
      ${rebindToken
        ? html`<div class="actions"><button type="button" class="primary" data-testid="bind-new" @click=${() => void bindNew()}>${a.bindNew}</button></div>`
        : nothing}
    </section>`;
}

function renderFaq(): TemplateResult {
  const bw = bindWords();
  return html`<section class="faq" aria-labelledby="faq-title">
    <h2 id="faq-title">${bw.faqTitle}</h2>
    <dl>${bw.faq.map(([q, a]) => html`<dt>${q}</dt><dd>${a}</dd>`)}</dl>
  </section>`;
}

/**
 * The kiosk reset (after the idle time, or when the card is taken out): a session must not outlive
 * its user, so the page signs out on the server and everything it holds goes back to how it
 * started; the next person at the kiosk starts signed out on an empty form.
 */
function forgetAll(): void {
  // Signed in, or not known yet (a session cookie may be left from before): end it on the server.
  if (signedIn !== null) void api('POST', '/account/logout', {}).catch(() => undefined);
  mode = initialMode;
  registerAccount = '';
  registerPassword = '';
  registerEmail = '';
  registerToken = undefined;
  registerProblem = undefined;
  registered = undefined;
  signedIn = null;
  signInProblem = undefined;
  current = undefined;
  loadedFor = undefined;
  rebindToken = undefined;
  rebindProblem = undefined;
  rebindDone = false;
  keysTarget = null;
}

const page = startPage(
  'bind',
  (c) => {
    const bw = bindWords();
    const tab = (m: Mode, label: string) =>
      html`<button type="button" role="tab" aria-selected=${mode === m ? 'true' : 'false'} data-testid=${`mode-${m}`}
        @click=${() => {
          mode = m;
          history.replaceState(null, '', `?${new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(location.search)), mode: m }).toString()}`);
          c.update();
        }}>${label}</button>`;
    return html`<h1 class="flow-title">${bw.bindTitle}</h1>
      <div class="tabs" role="tablist">${tab('register', bw.modeRegister)} ${tab('rebind', bw.modeRebind)}</div>
      <div role="tabpanel">${mode === 'register' ? renderRegister(c) : renderRebind(c)}</div>
      ${c.kiosk ? nothing : renderFaq()} ${pageKeys(c)}`;
  },
  () => `${words().bind} — ${words().appName}`,
  loadHardware,
);
page.onKioskReset(forgetAll);
watchFocus(page);
