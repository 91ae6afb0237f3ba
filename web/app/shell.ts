/**
 * What every page of the web app shares: the header (navigation, language switch, reader
 * source), the card session (the virtual reader by default, or a real one over WebUSB), the demo
 * panel, kiosk mode, and the test hooks.
 *
 * URL flags (all pages):
 *   ?lang=en|zh          language (else the last choice, else 中文)
 *   ?kiosk=1             kiosk mode: large targets, on-screen PIN pad, idle reset (&idle=seconds)
 *   ?reader=usb          start with a real reader (navigator.usb) instead of the virtual one
 *   ?state=<demo state>  start the virtual card in that state (demo-env.ts DEMO_STATES)
 *   ?panel=0             hide the demo panel
 *   ?profile=assumed     the virtual card as a real card whose PIN format is not confirmed (the
 *                        default profile: a refused PIN stops the flow, hca/profile-unconfirmed);
 *                        by default the demo gives the components the virtual card's confirmed profile
 *
 * Test hooks: `window.webccidDemo` (this page's `PageContext`; `session` and `env` are set once
 * `ready` resolves), and `<html data-ready="1">` once the virtual card is in its reader and the
 * session has started. The virtual hardware and the driver are loaded only by the flow pages.
 */
import { html, nothing, render, type TemplateResult } from 'lit';
import type { CardSession, UsbCardSession } from '../../src/session/index.js';
import type { Locale } from '../../src/components/locale.js';
import type { DemoEnvironment } from './demo-env.js';
import type { HcaProfile } from '../../src/hca/profile.js';
import { applyLanguage, initialLocale, words } from './i18n.js';

export type PageName = 'home' | 'unlock' | 'change-pin' | 'bind' | 'nhi' | 'probe';

/** What a page's render function gets. */
export interface PageContext {
  readonly page: PageName;
  readonly params: URLSearchParams;
  readonly kiosk: boolean;
  /** Kiosk idle reset, seconds (`?idle=`; default 120). */
  readonly idleSeconds: number;
  /** The session the flow components use (changes when the reader source changes; undefined on the home page and until `ready`). */
  session: CardSession | undefined;
  /** 'virtual' (default) or 'usb'. */
  source: 'virtual' | 'usb';
  /** The virtual hardware (flow pages, once `ready`; used while `source` is 'virtual'). */
  env: DemoEnvironment | undefined;
  /**
   * The card profile for the flow components: the virtual card's (PIN format confirmed) while
   * `source` is 'virtual', unless `?profile=assumed`; undefined (the default, assumed profile and
   * its no-second-try guard) for real readers.
   */
  readonly profile: HcaProfile | undefined;
  /** Resolves once the first virtual card is in its reader and the session started. */
  ready: Promise<void>;
  /** Renders the page again. */
  update(): void;
  /** A link to another page, keeping the kiosk / reader / state flags. */
  href(page: PageName | 'driver'): string;
  useVirtualReader(): Promise<void>;
  useRealReader(): Promise<void>;
  /**
   * Closes the session (the reader is released for another user in this page, e.g. the probe)
   * and resolves with a function that opens a new one on the same source.
   */
  pauseSession(): Promise<() => Promise<void>>;
  setLanguage(locale: Locale): Promise<void>;
  /**
   * Kiosk: registers what the page itself must forget on the kiosk reset (its own variables: what
   * was typed, messages, results). The shell then renders the page anew (every field, the flow
   * components and the demo panel are new elements) and puts back the URL it was opened with.
   */
  onKioskReset(forget: () => void): void;
  /** Kiosk: returns the page to its first state now (what the idle time-out and a card removal do). */
  kioskReset(): void;
}

declare global {
  interface Window {
    webccidDemo?: PageContext;
  }
}

const PAGE_FILES: Record<PageName | 'driver', string> = {
  home: './index.html',
  unlock: './unlock.html',
  'change-pin': './change-pin.html',
  bind: './bind.html',
  nhi: './nhi.html',
  probe: './probe.html',
  driver: './driver.html',
};

/**
 * Starts a page: language, header, and (with `hardware`: the flow pages) the session, the demo
 * environment and its panel; `main` renders the page's own content into <main>.
 */
export function startPage(
  page: PageName,
  main: (ctx: PageContext) => TemplateResult,
  title: () => string,
  hardware?: () => Promise<{
    loadDemo: () => Promise<{ DemoEnvironment: typeof DemoEnvironment; renderDemoPanel: (env: DemoEnvironment, w: ReturnType<typeof words>) => TemplateResult }>;
    UsbCardSession: typeof UsbCardSession;
    createCardSession: () => CardSession;
  }>,
): PageContext {
  const params = new URLSearchParams(location.search);
  const kiosk = params.get('kiosk') === '1' || params.get('kiosk') === 'true';
  const idle = Number(params.get('idle'));
  const showPanel = params.get('panel') !== '0';
  let Session: typeof UsbCardSession | undefined;
  // The demo environment (virtual reader and card), loaded the first time the virtual reader is used.
  let demo: (() => Promise<DemoEnvironment>) | undefined;
  // The demo panel's renderer, loaded with the demo environment.
  let renderDemoPanel: ((env: DemoEnvironment, w: ReturnType<typeof words>) => TemplateResult) | undefined;
  // Real readers: WebUSB first, the Web Smart Card API when WebUSB is missing or refuses the reader.
  let realSession: (() => CardSession) | undefined;
  const root = document.getElementById('app') ?? document.body;
  let queued = false;
  let offSession: (() => void) | undefined;

  const firstUrl = location.href;
  const forgetters: Array<() => void> = [];
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const keep = new URLSearchParams();
  for (const name of ['kiosk', 'reader', 'idle', 'panel', 'profile']) {
    const v = params.get(name);
    if (v !== null) keep.set(name, v);
  }

  const ctx: PageContext = {
    page,
    params,
    kiosk,
    idleSeconds: Number.isFinite(idle) && idle > 0 ? idle : 120,
    session: undefined,
    source: 'virtual',
    env: undefined,
    get profile() {
      return ctx.source === 'virtual' ? ctx.env?.profile : undefined;
    },
    ready: Promise.resolve(),
    update() {
      if (queued) return;
      queued = true;
      queueMicrotask(() => {
        queued = false;
        draw();
      });
    },
    href(target) {
      const q = keep.toString();
      return `${PAGE_FILES[target]}${q ? `?${q}` : ''}`;
    },
    async useVirtualReader() {
      if (ctx.source === 'virtual' || !Session || !demo) return;
      const old = ctx.session;
      ctx.source = 'virtual';
      const env = await demo();
      const session = new Session({ usb: env.usb });
      watch(session);
      void old?.close();
      await session.start();
      ctx.update();
    },
    async useRealReader() {
      if (!realSession) return;
      const old = ctx.session;
      // Made and asked in the click itself (the chooser needs the user gesture).
      const session = realSession();
      const chosen = session.canChoose ? session.choose() : session.start();
      ctx.source = 'usb';
      watch(session);
      void old?.close();
      await chosen;
      ctx.update();
    },
    async pauseSession() {
      const old = ctx.session;
      offSession?.();
      offSession = undefined;
      await old?.close();
      return async () => {
        if (!Session) return;
        const session = ctx.source === 'usb' && realSession ? realSession() : new Session({ usb: ctx.env?.usb ?? null });
        watch(session);
        await session.start();
        ctx.update();
      };
    },
    async setLanguage(locale) {
      await applyLanguage(locale);
      document.title = title();
      ctx.update();
    },
    onKioskReset(forget) {
      forgetters.push(forget);
    },
    kioskReset() {
      for (const forget of forgetters) forget();
      // The URL (and history entry) the page was opened with, without any state a page put there.
      if (location.href !== firstUrl || history.state !== null) history.replaceState(null, '', firstUrl);
      (document.activeElement as HTMLElement | null)?.blur?.();
      // Render the page anew: new elements, so no field keeps a value and no component a message.
      render(nothing, root);
      draw();
      armIdle();
      window.scrollTo(0, 0);
    },
  };

  /** Kiosk idle time-out over the whole page (the components each have their own, for pages that embed them). */
  function armIdle(): void {
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = undefined;
    if (!kiosk) return;
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      // Never in the middle of a card operation: try again after another idle period.
      if (ctx.session?.state.kind === 'busy') armIdle();
      else ctx.kioskReset();
    }, ctx.idleSeconds * 1000);
  }
  if (kiosk) {
    for (const type of ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart']) {
      document.addEventListener(type, armIdle, { capture: true, passive: true });
    }
    armIdle();
  }

  function watch(session: CardSession): void {
    offSession?.();
    ctx.session = session;
    offSession = session.on('statechange', (event) => {
      const { state, previous } = event.detail;
      const gone = (s: typeof state) => s.kind === 'no-card' || s.kind === 'no-reader';
      // Kiosk: the card taken out (or the reader unplugged) ends this user's visit.
      if (kiosk && gone(state) && !gone(previous)) queueMicrotask(() => ctx.kioskReset());
      ctx.update();
    });
  }

  function header(): TemplateResult {
    const w = words();
    const link = (target: PageName | 'driver', label: string) =>
      html`<a href=${ctx.href(target)} aria-current=${target === page ? 'page' : 'false'} data-testid=${`nav-${target}`}>${label}</a>`;
    const lang = document.documentElement.lang === 'en' ? 'en' : 'zh-Hant';
    if (kiosk) {
      // A kiosk page has no way out but the flow's own buttons: no links, no language or reader switch.
      return html`<a class="skip" href="#main">${w.skip}</a>
        <header class="top kiosk-top">
          <div class="brand"><span class="brand-name">${w.appName}</span></div>
          <span class="badge" data-testid="kiosk-badge">${w.kioskOn}</span>
        </header>`;
    }
    return html`<a class="skip" href="#main">${w.skip}</a>
      <header class="top">
        <div class="brand">
          <a href=${ctx.href('home')} class="brand-name">${w.appName}</a>
          <span class="tagline">${w.appTagline}</span>
        </div>
        <nav aria-label=${w.nav}>
          ${link('home', w.home)} ${link('unlock', w.unlock)} ${link('change-pin', w.changePin)} ${link('bind', w.bind)} ${link('nhi', w.nhi)}
          ${kiosk ? nothing : link('driver', w.driver)}
        </nav>
        <div class="lang" role="group" aria-label=${w.language}>
          <button type="button" lang="zh-Hant" data-testid="lang-zh" aria-pressed=${lang === 'zh-Hant' ? 'true' : 'false'} @click=${() => void ctx.setLanguage('zh-Hant')}>中文</button>
          <button type="button" lang="en" data-testid="lang-en" aria-pressed=${lang === 'en' ? 'true' : 'false'} @click=${() => void ctx.setLanguage('en')}>English</button>
        </div>
      </header>`;
  }

  function sourceBar(): TemplateResult | typeof nothing {
    if (page === 'home' || !Session || kiosk) return nothing;
    const w = words();
    return html`<div class="source" role="group" aria-label=${w.readerSource}>
      <span data-testid="reader-source" data-source=${ctx.source}>${ctx.source === 'virtual' ? w.usingVirtual : w.usingReal}</span>
      ${ctx.source === 'virtual'
        ? html`<button type="button" data-testid="use-real-reader" @click=${() => void ctx.useRealReader()}>${w.useReal}</button>`
        : html`<button type="button" data-testid="use-virtual-reader" @click=${() => void ctx.useVirtualReader()}>${w.useVirtual}</button>`}
    </div>`;
  }

  function draw(): void {
    const env = ctx.env;
    const panel = showPanel && ctx.source === 'virtual' && env !== undefined;
    render(
      html`${header()}
        <div class=${panel ? 'layout with-panel' : 'layout'}>
          <main id="main" tabindex="-1">${sourceBar()}${main(ctx)}</main>
          ${panel && env && renderDemoPanel ? html`<aside class="side" aria-label=${words().demoPanel}>${renderDemoPanel(env, words())}</aside>` : nothing}
        </div>`,
      root,
    );
  }

  document.documentElement.classList.toggle('kiosk', kiosk);
  window.webccidDemo = ctx;

  const locale = initialLocale(params);
  ctx.ready = (async () => {
    await applyLanguage(locale);
    document.title = title();
    ctx.update();
    if (!hardware) return;
    const loaded = await hardware();
    Session = loaded.UsbCardSession;
    realSession = () => loaded.createCardSession();
    let starting: Promise<DemoEnvironment> | undefined;
    demo = () =>
      (starting ??= (async () => {
        const demoModule = await loaded.loadDemo();
        renderDemoPanel = demoModule.renderDemoPanel;
        const env = new demoModule.DemoEnvironment(undefined, { profile: params.get('profile') === 'assumed' ? 'assumed' : 'confirmed' });
        ctx.env = env;
        env.addEventListener('change', () => ctx.update());
        await env.startOnPage(page === 'nhi' || page === 'probe' ? 'nhi' : 'hca', params.get('state'));
        return env;
      })());
    if (params.get('reader') === 'usb') {
      // A real reader: the demo stack stays unloaded until the user switches to the virtual reader.
      ctx.source = 'usb';
      const real = realSession();
      watch(real);
      ctx.update();
      await real.start();
    } else {
      const env = await demo();
      watch(new Session({ usb: env.usb }));
      ctx.update();
      await ctx.session?.start();
    }
    ctx.update();
  })().finally(() => {
    document.documentElement.dataset['ready'] = '1';
  });
  return ctx;
}
