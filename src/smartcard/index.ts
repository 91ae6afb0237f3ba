/**
 * The Web Smart Card API backend: a `CardChannel` over `navigator.smartCard` (PC/SC in the
 * browser: ChromeOS, Isolated Web Apps) and a reader watcher. The spec-shaped fake of
 * `navigator.smartCard` for tests and demos is in `webccid/virtual` (`createFakeSmartCard`).
 */
export { openSmartCardChannel, listSmartCardReaders, isSmartCardApiAvailable, resolveSmartCard, readerInfoFrom, SmartCardChannel } from './channel.js';
export type { OpenSmartCardChannelOptions, SmartCardReaderInfo } from './channel.js';
export { watchSmartCardReaders, SmartCardReaderWatcher } from './watcher.js';
export type {
  WatchSmartCardReadersOptions,
  SmartCardReaderWatcherEventMap,
  SmartCardReaderEventDetail,
  SmartCardReadersEventDetail,
  SmartCardWatcherErrorDetail,
  SmartCardWatcherRetryDetail,
} from './watcher.js';
export { smartCardErrorFrom, isSmartCardError } from './errors.js';
export type { SmartCardErrorContext } from './errors.js';
export * from './types.js';
