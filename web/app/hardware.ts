/**
 * The card session and the virtual hardware, for the flow pages only (the home page needs
 * neither). The session comes with the components anyway; the virtual reader and card (and the
 * test PKI behind them) are loaded on demand.
 */
import { UsbCardSession } from '../../src/components/shared/card-session.js';
import { createCardSession } from '../../src/components/shared/auto-session.js';

export async function loadHardware() {
  const env = await import('./demo-env.js');
  return { DemoEnvironment: env.DemoEnvironment, UsbCardSession, createCardSession };
}
