/**
 * webccid: a userspace USB CCID smart-card driver over WebUSB.
 * Browser-safe: nothing here imports Node modules.
 */
export * from './errors.js';
export type { WebCcidErrorCode, WebCcidErrorCodeOf } from './error-codes.js';
export { toHex, fromHex, concatBytes, bytesEqual, wipe } from './bytes.js';
export type { UsbDeviceLike, UsbBackendLike } from './usb/device.js';
export {
  parseConfigurationDescriptor,
  findCcidInterface,
  findCcidInterfaces,
  type ConfigurationDescriptor,
  type InterfaceDescriptor,
  type EndpointDescriptor,
  type CcidInterfaceInfo,
} from './usb/config-descriptor.js';
export {
  parseCcidClassDescriptor,
  CCID_FEATURE,
  type CcidClassDescriptor,
  type CcidExchangeLevel,
  type CcidFeatures,
} from './ccid/descriptor.js';
export * as ccidMessages from './ccid/ccid-messages.js';
export {
  CcidReader,
  type CcidReaderOptions,
  type SlotStatus,
  type ReaderIdentity,
  type CcidReaderEventMap,
  type CardEventDetail,
  type HardwareErrorDetail,
  type DisconnectDetail,
} from './ccid/reader.js';
export {
  CcidConnection,
  type ConnectOptions,
  type TransmitOptions,
  type LinkParameters,
  type CardTransaction,
} from './ccid/connection.js';
export type {
  CardChannel,
  CardProtocol,
  PinBlockFormat,
  SecurePinVerifyRequest,
  SecurePinModifyRequest,
} from './card/channel.js';
export { explainClaimError } from './ccid/claim-errors.js';
export { mapUsbError, type UsbErrorContext, type UsbStage } from './usb/errors.js';
export { CCID_REQUEST_FILTERS } from './ccid/filters.js';
export { parseAtr, type Atr, type AtrInterfaceGroup } from './iso7816/atr.js';
export { chooseRate, baudRate, FI_TABLE, DI_TABLE, FMAX_TABLE } from './iso7816/rates.js';
export { encodeApdu, parseApdu, splitResponse, type CommandApdu, type ParsedApdu } from './iso7816/apdu.js';
export { statusError, checkResponse } from './iso7816/status.js';
export { describeStatusWord } from './iso7816/status-text.js';
