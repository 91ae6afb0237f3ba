/**
 * `webccid/virtual`: a byte-level virtual CCID reader and ISO 7816-4 card
 * behind the USB seam, a virtual `navigator.usb`, reader presets and faults.
 * Browser-safe: no Node imports.
 *
 * ```ts
 * const reader = createVirtualReader({ preset: 'castles-ezccid', card: createHcaLikeCard() });
 * const usb = new VirtualUsb({ devices: [reader] });
 * ```
 */
export { createVirtualReader, VirtualReader, VIRTUAL_READER_ENDPOINTS } from './reader/index.js';
export type { VirtualReaderOptions, VirtualReaderStats, SecureRequest, SecureOutcome } from './reader/index.js';
export { VirtualUsb } from './backend.js';
export type { VirtualUsbOptions } from './backend.js';
export { VirtualUsbDevice } from './usb-device.js';
export type {
  VirtualUsbDeviceInit,
  VirtualConfigurationInit,
  VirtualInterfaceInit,
  VirtualEndpointInit,
  ClaimRefusal,
  UsbTrafficStats,
  ControlInAnswer,
  ConnectionListener,
  UnplugStep,
  UnplugOptions,
} from './usb-device.js';
export { createUsbError, USB_ERROR_MESSAGES } from './usb-errors.js';
export type { UsbErrorName } from './usb-errors.js';
export {
  VirtualCard,
  createHcaLikeCard,
  createT0Card,
  fakeCertificate,
  hcaAtrWithIfsc,
  HCA_ATR,
  HCA_LIKE_LAYOUT,
  T0_CARD_ATR,
  VIRTUAL_TEST_INS,
} from './card.js';
export type { VirtualCardOptions, VirtualDfSpec, VirtualEfSpec, VirtualPinSpec, HcaLikeCardOptions, T0CardOptions } from './card.js';
export { createVirtualHcaCard, VirtualHcaCard, VIRTUAL_HCA_DEFAULTS, encodePinBlock, pinBlockDigits } from './hca-card.js';
export type { VirtualHcaCardOptions, VirtualHcaCertificates } from './hca-card.js';
export { confirmedForVirtualCard, VIRTUAL_CARD_PROFILE_SOURCE } from './confirmed-profile.js';
export { createTestPki, generateRsaKeys, TEST_PKI_ALGORITHM } from './pki.js';
export type {
  TestPki,
  TestPkiOptions,
  PkiCertificate,
  PkiAuthority,
  HolderCertificate,
  HolderCertificateRequest,
  HcaCardKind,
} from './pki.js';
export { loadX509 } from '../x509.js';
export { T0CardEngine } from './t0-card.js';
export type { T0Exchange } from './t0-card.js';
export { VIRTUAL_READER_PRESETS, VIRTUAL_READER_PRESET_NAMES, NON_COMPLIANT_READER_PRESETS } from './presets.js';
export type { VirtualReaderPreset, VirtualReaderPresetName, NonCompliantReaderPresetName, VirtualReaderQuirks } from './presets.js';
export type { VirtualFault, VirtualFaultSpec, FaultTrigger, FaultHandle } from './faults.js';
export { RawCcidSession } from './raw-session.js';
export type { RawSessionOptions } from './raw-session.js';
export { createVirtualPinpad, VirtualPinpad } from './pinpad.js';
export type { PinpadEntry, PinpadPrompt, PinpadStep, VirtualPinpadOptions } from './pinpad.js';
export { createVirtualNhiCard, VirtualNhiCard, NHI_CARD_ATRS, NHI_ATR_PRESETS, VIRTUAL_NHI_DEFAULTS, encodeNhiBasicData } from './nhi-card.js';
export type { VirtualNhiCardOptions, NhiAtrPreset } from './nhi-card.js';
export { encodeBig5 } from './big5.js';
export { createFakeSmartCard, FakeSmartCard, FakeSmartCardError, SCARD_ATTR_ATR_STRING } from './smartcard-fake.js';
export type { FakeSmartCardOptions, FakeSmartCardFailure } from './smartcard-fake.js';
