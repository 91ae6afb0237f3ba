/**
 * The virtual reader's options and counters, and how the options and a
 * preset make the CCID class descriptor.
 *
 * ## Options (`VirtualReaderOptions`)
 * - `preset`: a real reader's identity and class descriptor (presets.ts), or
 *   'ideal' (default): extended APDU, auto everything, no latency.
 * - identity: `vendorId`, `productId`, `bcdDevice`, strings, `interfaceClass`
 *   (0x0B, or 0xFF for vendor-class readers), `classDescriptorPlacement`
 *   ('after-endpoints' models the buggy readers).
 * - CCID: `exchangeLevel` ('character' | 'tpdu' | 'short-apdu' | 'extended-apdu',
 *   replaces the level bits of dwFeatures), `descriptor` (any raw field),
 *   `clockFrequencies` (kHz) / `dataRates` (bps) tables, `pinpad` (bPINSupport),
 *   `slots` (bMaxSlotIndex + 1), `busySlots` (bMaxCCIDBusySlots).
 * - cards: `card` (slot 0) or `cards` (per slot; null = empty slot).
 * - timing: `latencyMs` per USB transfer, `processingMs` per card command,
 *   the card's wire time at the negotiated Fi/Di and clock (iso7816/timing.ts),
 *   `timeScale` (0 = instant, the default; 1 = real time). `stats` counts
 *   transfers, bytes, card characters and modelled seconds whatever the scale.
 * - `zeroLengthPacket`: after an answer whose length is a multiple of the bulk
 *   packet size, a separate zero-length read result follows (the QEMU quirk).
 * - `strict` (default true): the card answers only when the reader's framing
 *   agrees with it: the protocol and Fi/Di set by SetParameters (or taken from
 *   a PPS the reader saw, or negotiated by an auto-PPS / APDU-level reader at
 *   power-on) must be the card's; otherwise the card is mute (ICC_MUTE).
 * - `onSecure(request)`: the pinpad hook for PC_to_RDR_Secure (accepted only
 *   when bPINSupport is not 0; without a hook the user "cancels": bError 0xEF).
 * - `onEscape(data)`: answers PC_to_RDR_Escape (default: command not supported).
 * - `claimRefusal`: 'protected-class' (Chrome's SecurityError) or 'os-held'
 *   (NetworkError); `accessDenied`: open() rejects SecurityError.
 */
import { WebCcidError } from '../../errors.js';
import { CCID_FEATURE, exchangeLevelOf, type CcidClassDescriptorInit, type CcidExchangeLevel } from '../../ccid/descriptor.js';
import type { VirtualCard } from '../card.js';
import {
  NON_COMPLIANT_READER_PRESETS,
  VIRTUAL_READER_PRESETS,
  type NonCompliantReaderPresetName,
  type VirtualReaderPreset,
  type VirtualReaderPresetName,
  type VirtualReaderQuirks,
} from '../presets.js';
import type { ClaimRefusal, UsbTrafficStats } from '../usb-device.js';

/** Endpoint numbers of the virtual reader. */
export const VIRTUAL_READER_ENDPOINTS = { bulkOut: 1, bulkIn: 2, interruptIn: 3 } as const;

/** What the pinpad hook gets for a PC_to_RDR_Secure. */
export interface SecureRequest {
  slot: number;
  bBWI: number;
  wLevelParameter: number;
  /** bPINOperation (0 verify, 1 modify, ...) followed by the PIN structure. */
  abData: Uint8Array;
  /** Sends a command APDU to the card in the slot (APDU level, as the reader would), returns data + SW. */
  transmit(apdu: Uint8Array): Uint8Array;
}

/**
 * What the pinpad hook answers: the card's response (or a status the reader
 * makes itself, e.g. PC/SC 6403), a user event (bError 0xEF / 0xF0), or a
 * bad structure (bError = `offset` of the bad field in the message, 1..127).
 */
export type SecureOutcome = { response: Uint8Array } | { error: 'cancelled' | 'timeout' } | { error: 'bad-parameter'; offset: number };

/** Options of `createVirtualReader` (see the module comment). */
export interface VirtualReaderOptions {
  preset?: VirtualReaderPresetName | NonCompliantReaderPresetName | VirtualReaderPreset;
  /** Non-compliant wire behaviour (merged over the preset's `quirks`): no class descriptor, big-endian dwLength, ... */
  quirks?: VirtualReaderQuirks;
  vendorId?: number;
  productId?: number;
  bcdDevice?: number;
  manufacturerName?: string | null;
  productName?: string | null;
  serialNumber?: string | null;
  interfaceClass?: number;
  classDescriptorPlacement?: 'before-endpoints' | 'after-endpoints';
  bulkPacketSize?: number;
  interruptPacketSize?: number;
  /** Whether the reader has an interrupt-IN endpoint (default true). */
  interruptEndpoint?: boolean;
  exchangeLevel?: CcidExchangeLevel;
  descriptor?: Partial<CcidClassDescriptorInit>;
  /** GET_CLOCK_FREQUENCIES answer, kHz; empty = the request stalls. */
  clockFrequencies?: number[];
  /** GET_DATA_RATES answer, bps; empty = the request stalls. */
  dataRates?: number[];
  /** bPINSupport: true = 0x03 (verify + modify). */
  pinpad?: boolean | number;
  slots?: number;
  busySlots?: number;
  card?: VirtualCard | null;
  cards?: Array<VirtualCard | null>;
  latencyMs?: number;
  processingMs?: number;
  timeScale?: number;
  zeroLengthPacket?: boolean;
  strict?: boolean;
  /** Queue a NotifySlotChange with the slots' state when plugged in (default true). */
  initialNotification?: boolean;
  claimRefusal?: ClaimRefusal;
  accessDenied?: boolean;
  onSecure?: (request: SecureRequest) => SecureOutcome | Promise<SecureOutcome>;
  onEscape?: (data: Uint8Array, slot: number) => Uint8Array | undefined;
}

/** The reader's counters besides the USB ones. All times are modelled seconds, independent of `timeScale`. */
export interface ReaderCounters {
  /** PC_to_RDR messages received. */
  commands: number;
  /** RDR_to_PC answers queued (time extensions and fault frames included). */
  answers: number;
  timeExtensions: number;
  /** APDUs the cards processed. */
  apdus: number;
  /** Characters on the card's wire (both directions). */
  wireBytes: number;
  /** Time of those characters at the rate in force. */
  wireSeconds: number;
  /** Card processing time (`processingMs`). */
  processingSeconds: number;
}

/** Counters for benchmarks and tests: the USB traffic and the reader's own. */
export interface VirtualReaderStats extends UsbTrafficStats, ReaderCounters {
  /** usbSeconds + wireSeconds + processingSeconds. */
  modelledSeconds: number;
}

const DEFAULT_LEVEL_FEATURES: Record<CcidExchangeLevel, number> = {
  character: 0x00000030,
  tpdu: 0x00010030,
  'short-apdu': 0x000207ba,
  'extended-apdu': 0x000407ba,
};
const LEVEL_BITS: Record<CcidExchangeLevel, number> = {
  character: 0,
  tpdu: CCID_FEATURE.TPDU,
  'short-apdu': CCID_FEATURE.SHORT_APDU,
  'extended-apdu': CCID_FEATURE.EXTENDED_APDU,
};

// ---- options resolution ---------------------------------------------------------------

/** The preset an option names (default: the ideal reader). */
export function resolvePreset(preset: VirtualReaderOptions['preset']): VirtualReaderPreset {
  if (preset === undefined) return VIRTUAL_READER_PRESETS.ideal;
  if (typeof preset === 'string') {
    const p =
      (VIRTUAL_READER_PRESETS as Record<string, VirtualReaderPreset | undefined>)[preset] ??
      (NON_COMPLIANT_READER_PRESETS as Record<string, VirtualReaderPreset | undefined>)[preset];
    if (!p) throw new WebCcidError('virtual/unknown-preset', `Unknown virtual reader preset "${String(preset)}".`);
    return p;
  }
  return preset;
}

/** The preset's class descriptor with the options' changes (exchange level, tables, pinpad, slots, raw fields). */
export function buildDescriptor(preset: VirtualReaderPreset, options: VirtualReaderOptions): CcidClassDescriptorInit {
  const d: CcidClassDescriptorInit = { ...preset.descriptor };
  if (options.exchangeLevel !== undefined) {
    const current = exchangeLevelOf(d.dwFeatures);
    if (current !== options.exchangeLevel) {
      const others = d.dwFeatures & ~CCID_FEATURE.EXCHANGE_LEVEL_MASK;
      d.dwFeatures = (others & 0xffff) === 0 ? DEFAULT_LEVEL_FEATURES[options.exchangeLevel] : (others | LEVEL_BITS[options.exchangeLevel]) >>> 0;
    }
  }
  if (options.dataRates !== undefined) d.bNumDataRatesSupported = Math.min(255, options.dataRates.length);
  if (options.clockFrequencies !== undefined) d.bNumClockSupported = Math.min(255, options.clockFrequencies.length);
  if (options.pinpad !== undefined) d.bPINSupport = options.pinpad === true ? 0x03 : options.pinpad === false ? 0 : options.pinpad;
  if (options.slots !== undefined) d.bMaxSlotIndex = Math.max(0, options.slots - 1);
  else if (options.cards !== undefined && options.cards.length - 1 > d.bMaxSlotIndex) d.bMaxSlotIndex = options.cards.length - 1;
  if (options.busySlots !== undefined) d.bMaxCCIDBusySlots = options.busySlots;
  Object.assign(d, options.descriptor ?? {});
  return d;
}
