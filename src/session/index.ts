/**
 * `webccid/session`: where an app gets its card from, without any UI library. A card session
 * follows the reader and the card, hands a flow a powered card (`connect()`) and takes it back
 * (`release()`, so no verified PIN outlives the flow):
 *
 * - `UsbCardSession`: over WebUSB (`navigator.usb`, or `VirtualUsb` from `webccid/virtual`) and
 *   this package's CCID driver; pinpad readers, the browser's reader chooser;
 * - `SmartCardSession`: over the Web Smart Card API (`navigator.smartCard`: PC/SC in the browser);
 * - `createCardSession()`: WebUSB, moving to the Web Smart Card API when WebUSB is missing or
 *   cannot claim the reader.
 *
 * Also the client of the reference server's PUK endpoint (`fetchPuk`), used by the unlock flow.
 * The components of `webccid/components` take any of these sessions (their `session` property).
 *
 * ```ts
 * import { createCardSession } from 'webccid/session';
 * const session = createCardSession();
 * session.on('statechange', () => render(session.state));
 * await session.start();
 * const { channel } = await session.connect();
 * try { ... } finally { await session.release(); }
 * ```
 */
export { UsbCardSession, detectWebUsb, cardAbsentError, CLAIM_REFUSALS } from './card-session.js';
export type {
  CardBackendKind,
  CardSession,
  CardSessionEventMap,
  SessionState,
  SessionStateKind,
  SessionStateChangeDetail,
  SessionCard,
  UsbCardSessionEventMap,
  UsbCardSessionOptions,
  WebUsbSupport,
} from './card-session.js';
export { SmartCardSession } from './smartcard-session.js';
export type { SmartCardSessionOptions } from './smartcard-session.js';
export { createCardSession, AutoCardSession } from './auto-session.js';
export type { CardSessionOptions } from './auto-session.js';
export { fetchPuk, PukServiceError, pukServiceErrorFromResponse } from './puk-service.js';
export type { FetchPukOptions } from './puk-service.js';
