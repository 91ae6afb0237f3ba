/**
 * The card session and the virtual hardware, for the flow pages only (the home page needs
 * neither). The session comes with the components anyway; the demo stack (the virtual reader and
 * card, the test PKI behind them and the certificate library it uses) is loaded only when the
 * page runs in demo mode: a visit with a real reader (?reader=usb) never downloads it.
 */
import { UsbCardSession } from '../../src/session/index.js';
import { createCardSession } from '../../src/session/index.js';

export async function loadHardware() {
  const loadDemo = async () => (await import('./demo-env.js')).DemoEnvironment;
  return { loadDemo, UsbCardSession, createCardSession };
}
