/**
 * The Web Smart Card API backend: a `CardChannel` over `navigator.smartCard` (PC/SC in the
 * browser: ChromeOS, Isolated Web Apps), a reader watcher, and a spec-shaped fake for tests.
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
export { createFakeSmartCard, FakeSmartCard, FakeSmartCardError, SCARD_ATTR_ATR_STRING } from './fake.js';
export type { FakeSmartCardOptions, FakeSmartCardFailure } from './fake.js';
export * from './types.js';
