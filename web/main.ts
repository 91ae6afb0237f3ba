/**
 * Entry point of the demo page (`npm start`). Reads optional URL parameters
 * so a plain headless screenshot can show a full state:
 *
 *   ?preset=castles-ezccid   virtual reader model (VIRTUAL_READER_PRESET_NAMES)
 *   &card=hca|t0|none        card in slot 0
 *   &refusal=protected-class|os-held|no-permission   simulate a browser / OS refusal
 *   &realtime=1              the virtual reader waits for its modelled USB / wire / card time
 *   &trace=1                 CCID frames in the log
 *   &autoconnect=1           power the card on after opening
 *   &apdu=00A4040000,0084000008   APDUs to send after autoconnect (comma-separated hex)
 *   &source=usb              start on the real-USB tab
 */
import { VIRTUAL_READER_PRESET_NAMES, type VirtualReaderPresetName } from '../src/virtual/index.js';
import { DemoApp, type CardKind, type Refusal, type StartOptions } from './app.js';
import { renderApp } from './view.js';

function readOptions(search: string): StartOptions {
  const q = new URLSearchParams(search);
  const pick = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const v = q.get(name);
    return v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;
  };
  const flag = (name: string, fallback: boolean) => {
    const v = q.get(name);
    return v === null ? fallback : v === '1' || v === 'true' || v === '';
  };
  return {
    source: pick('source', ['virtual', 'usb'] as const, 'virtual'),
    preset: pick<VirtualReaderPresetName>('preset', VIRTUAL_READER_PRESET_NAMES, 'castles-ezccid'),
    card: pick<CardKind>('card', ['hca', 'nhi', 't0', 'none'], 'hca'),
    refusal: pick<Refusal>('refusal', ['none', 'protected-class', 'os-held', 'no-permission'], 'none'),
    realTime: flag('realtime', false),
    trace: flag('trace', false),
    autoconnect: flag('autoconnect', false),
    apdus: (q.get('apdu') ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0),
  };
}

const root = document.getElementById('app');
if (root) {
  const options = readOptions(location.search);
  const app = new DemoApp(root, options, renderApp);
  // data-ready tells scripts/screenshot.mjs that the URL-driven steps are done.
  void app.start(options).finally(() => {
    document.documentElement.dataset.ready = '1';
  });
}
