/**
 * The card session and the virtual hardware, for the flow pages only (the home page needs
 * neither). Each route's code is fetched only when that route is taken:
 * - the demo stack (the virtual reader and card, the test PKI behind them, the certificate
 *   library it uses, the demo panel) only in demo mode: a visit with a real reader (?reader=usb) never downloads it;
 * - the Web Smart Card session (the automatic choice, its channel and reader watcher) only where
 *   `navigator.smartCard` exists (an Isolated Web App, ChromeOS). Elsewhere the automatic choice
 *   would be a plain `UsbCardSession` anyway (src/session/auto-session.ts), so that is
 *   what a real reader gets, without the code of a route it cannot take.
 */
import { UsbCardSession, type CardSession } from '../../src/session/card-session.js';
import { englishWordsReady } from './i18n.js';

/** Whether the Web Smart Card API is there (the same test as `isSmartCardApiAvailable`, without loading its module). */
export function hasSmartCardApi(nav: unknown = globalThis.navigator): boolean {
  const sc = (nav as { smartCard?: { establishContext?: unknown } } | undefined)?.smartCard;
  return typeof sc === 'object' && sc !== null && typeof sc.establishContext === 'function';
}

export async function loadHardware() {
  const loadDemo = async () => {
    const [{ DemoEnvironment }, { renderDemoPanel }] = await Promise.all([import('./demo-env.js'), import('./demo-panel.js')]);
    // The panel's English words, when English is already chosen: before the panel is first drawn.
    await englishWordsReady();
    return { DemoEnvironment, renderDemoPanel };
  };
  const createCardSession: () => CardSession = hasSmartCardApi()
    ? (await import('../../src/session/auto-session.js')).createCardSession
    : () => new UsbCardSession();
  return { loadDemo, UsbCardSession, createCardSession };
}
