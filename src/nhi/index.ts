/**
 * `webccid/nhi`: reads Taiwan's National Health Insurance card (健保卡) over any `CardChannel`
 * (a CCID reader connection, `MemoryCardChannel`, a Web Smart Card API channel). No PIN.
 *
 * ```ts
 * const { name, birthDate } = await readNhiCard(connection); // birthDate "1980-01-01"
 * ```
 */
export {
  readNhiCard,
  parseNhiBasicData,
  decodeNhiName,
  big5Decoder,
  isKnownNhiAtr,
  NHI_AID,
  NHI_ATRS,
  NHI_BASIC_LENGTH,
  NHI_READ_BASIC,
  NHI_SELECT,
} from './card.js';
export type { NhiCardData, NhiReadOptions } from './card.js';
export { NhiError } from './errors.js';
export { rocDateToIso, isoDateToRoc } from './roc-date.js';
