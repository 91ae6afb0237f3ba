/** The web app's own words in English (see ./i18n.ts), loaded when English is chosen. */
import type { Words } from './words-zh.js';

export const en: Words = {
  appName: 'HCA card services',
  appTagline: 'Use the card reader right in the browser: nothing to install',
  skip: 'Skip to the main content',
  nav: 'Main navigation',
  home: 'Home',
  unlock: 'Unlock card',
  changePin: 'Change PIN',
  bind: 'Bind card to account',
  driver: 'Driver console',
  nhi: 'Read NHI card',
  probe: 'Field kit',
  language: 'Language',
  readerSource: 'Reader',
  useVirtual: 'Use the virtual reader',
  useReal: 'Use a real reader',
  usingVirtual: 'In use: the virtual reader (demo)',
  usingReal: 'In use: a real reader (WebUSB)',
  kioskOn: 'Kiosk mode',
  demoPanel: 'Demo panel',
};
