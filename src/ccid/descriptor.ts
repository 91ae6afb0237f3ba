/**
 * The CCID class descriptor (USB CCID rev 1.10, §5.1, table 5.1-1): 54 bytes,
 * bLength 0x36, bDescriptorType 0x21, every multi-byte field little-endian.
 *
 * Offsets: 0 bLength, 1 bDescriptorType, 2 bcdCCID, 4 bMaxSlotIndex,
 * 5 bVoltageSupport, 6 dwProtocols, 10 dwDefaultClock (kHz), 14 dwMaximumClock
 * (kHz), 18 bNumClockSupported, 19 dwDataRate (bps), 23 dwMaxDataRate (bps),
 * 27 bNumDataRatesSupported, 28 dwMaxIFSD, 32 dwSynchProtocols, 36 dwMechanical,
 * 40 dwFeatures, 44 dwMaxCCIDMessageLength, 48 bClassGetResponse,
 * 49 bClassEnvelope, 50 wLcdLayout, 52 bPINSupport, 53 bMaxCCIDBusySlots.
 */
import { CcidError } from '../errors.js';

/** bLength of the CCID class descriptor. */
export const CCID_CLASS_DESCRIPTOR_LENGTH = 0x36;
/** bDescriptorType of the CCID class descriptor (0xFF is accepted too: seen on old readers). */
export const CCID_CLASS_DESCRIPTOR_TYPE = 0x21;

/** dwFeatures bits (CCID 1.10 table 5.1-1). */
export const CCID_FEATURE = {
  /** 0x02: automatic parameter configuration based on ATR data. */
  AUTO_PARAMETERS: 0x00000002,
  /** 0x04: automatic activation of ICC on inserting. */
  AUTO_ACTIVATION: 0x00000004,
  /** 0x08: automatic ICC voltage selection. */
  AUTO_VOLTAGE: 0x00000008,
  /** 0x10: automatic ICC clock frequency change according to active parameters. */
  AUTO_CLOCK: 0x00000010,
  /** 0x20: automatic baud rate change according to active parameters. */
  AUTO_BAUD: 0x00000020,
  /** 0x40: automatic parameters negotiation made by the CCID (proprietary algorithm). */
  AUTO_PPS_PROPRIETARY: 0x00000040,
  /** 0x80: automatic PPS made by the CCID according to the active parameters. */
  AUTO_PPS: 0x00000080,
  /** 0x100: the CCID can set the ICC in clock stop mode. */
  CLOCK_STOP: 0x00000100,
  /** 0x200: NAD value other than 00 accepted (T=1). */
  NAD_OTHER_THAN_00: 0x00000200,
  /** 0x400: automatic IFSD exchange as first exchange (T=1). */
  AUTO_IFSD: 0x00000400,
  /** 0x10000: TPDU level exchange. */
  TPDU: 0x00010000,
  /** 0x20000: short APDU level exchange. */
  SHORT_APDU: 0x00020000,
  /** 0x40000: short and extended APDU level exchange. */
  EXTENDED_APDU: 0x00040000,
  /** Mask of the exchange-level bits (all zero = character level). */
  EXCHANGE_LEVEL_MASK: 0x00070000,
  /** 0x100000: USB wake-up signaling supported on card insertion and removal. */
  USB_WAKE_UP: 0x00100000,
} as const;

/** bPINSupport bits. */
export const CCID_PIN_SUPPORT = { VERIFY: 0x01, MODIFY: 0x02 } as const;

/** How the host and the reader exchange data with the card (dwFeatures bits 16-18). */
export type CcidExchangeLevel = 'character' | 'tpdu' | 'short-apdu' | 'extended-apdu';

/** Named dwFeatures flags. */
export interface CcidFeatures {
  autoParameters: boolean;
  autoActivation: boolean;
  autoVoltage: boolean;
  autoClock: boolean;
  autoBaud: boolean;
  /** The reader does PPS itself: 0x80, or the proprietary negotiation 0x40. */
  autoPps: boolean;
  /** 0x40: the reader negotiates by its own algorithm (no SetParameters needed either). */
  autoPpsProprietary: boolean;
  clockStop: boolean;
  nadOtherThan00: boolean;
  autoIfsd: boolean;
  usbWakeUp: boolean;
  /** wLcdLayout is not zero. */
  lcdPresent: boolean;
  /** bPINSupport has verify or modify. */
  pinpad: boolean;
}

/** A decoded CCID class descriptor: every raw field (numbers) plus derived fields. */
export interface CcidClassDescriptor {
  bLength: number;
  bDescriptorType: number;
  bcdCCID: number;
  bMaxSlotIndex: number;
  bVoltageSupport: number;
  dwProtocols: number;
  /** kHz */
  dwDefaultClock: number;
  /** kHz */
  dwMaximumClock: number;
  bNumClockSupported: number;
  /** bps */
  dwDataRate: number;
  /** bps */
  dwMaxDataRate: number;
  bNumDataRatesSupported: number;
  dwMaxIFSD: number;
  dwSynchProtocols: number;
  dwMechanical: number;
  dwFeatures: number;
  dwMaxCCIDMessageLength: number;
  bClassGetResponse: number;
  bClassEnvelope: number;
  wLcdLayout: number;
  bPINSupport: number;
  bMaxCCIDBusySlots: number;
  /** From dwFeatures bits 16-18; none set = character level. */
  exchangeLevel: CcidExchangeLevel;
  features: CcidFeatures;
  pinpad: { verify: boolean; modify: boolean };
  /** bMaxSlotIndex + 1 */
  maxSlots: number;
  /** Offered protocols from dwProtocols bits 0 (T=0) and 1 (T=1), e.g. [0, 1]. */
  protocols: number[];
  /** Voltages from bVoltageSupport: 0x01 5.0 V, 0x02 3.0 V, 0x04 1.8 V. */
  voltages: { v5: boolean; v3: boolean; v1_8: boolean };
  /** wLcdLayout: high byte lines, low byte characters per line; undefined when 0. */
  lcd?: { lines: number; charactersPerLine: number };
}

/** The raw fields, as `encodeCcidClassDescriptor` takes them. */
export type CcidClassDescriptorInit = Omit<
  CcidClassDescriptor,
  'exchangeLevel' | 'features' | 'pinpad' | 'maxSlots' | 'bLength' | 'bDescriptorType' | 'protocols' | 'voltages' | 'lcd'
> &
  Partial<Pick<CcidClassDescriptor, 'bDescriptorType'>>;

/** CCID_FEATURE.TPDU, the lowest exchange-level bit. */
const CCID_TPDU_BIT = 0x10000;
/** The exchange levels of dwFeatures bits 16, 17 and 18 (CCID_TPDU_BIT << i). */
const EXCHANGE_LEVELS = ['tpdu', 'short-apdu', 'extended-apdu'] as const;

/**
 * The exchange level of dwFeatures bits 16-18. Readers set one of the bits;
 * if several are set, the most capable wins.
 */
export function exchangeLevelOf(dwFeatures: number): CcidExchangeLevel {
  for (let i = 2; i >= 0; i--) if (dwFeatures & (CCID_TPDU_BIT << i)) return EXCHANGE_LEVELS[i]!;
  return 'character';
}

/** `dwFeatures` with its exchange-level bits replaced by those of `level`. */
export function withExchangeLevel(dwFeatures: number, level: Exclude<CcidExchangeLevel, 'character'>): number {
  return ((dwFeatures & ~(7 * CCID_TPDU_BIT)) | (CCID_TPDU_BIT << EXCHANGE_LEVELS.indexOf(level))) >>> 0;
}

/**
 * The `CcidFeatures` flags read from dwFeatures (CCID 1.10 table 5.1-1; the values of
 * CCID_FEATURE): a flag is set when any of its bits is. `autoPps` is either bit: 0x80, or the
 * proprietary negotiation 0x40. Typed so that the compiler wants every flag but the two that
 * come from other fields (`lcdPresent`: wLcdLayout, `pinpad`: bPINSupport).
 */
const FEATURE_BITS: Record<Exclude<keyof CcidFeatures, 'lcdPresent' | 'pinpad'>, number> = {
  autoParameters: 0x02,
  autoActivation: 0x04,
  autoVoltage: 0x08,
  autoClock: 0x10,
  autoBaud: 0x20,
  autoPps: 0x80 | 0x40,
  autoPpsProprietary: 0x40,
  clockStop: 0x100,
  nadOtherThan00: 0x200,
  autoIfsd: 0x400,
  usbWakeUp: 0x100000,
};

/**
 * Decodes a CCID class descriptor. Accepts bLength 0x36 (and longer: the extra
 * bytes are ignored) and bDescriptorType 0x21 or 0xFF (old readers). Throws
 * `CcidError('ccid/bad-descriptor')` when fewer than 54 bytes are given,
 * bLength is below 0x36, or the type is anything else.
 */
export function parseCcidClassDescriptor(bytes: Uint8Array): CcidClassDescriptor {
  const [bLength = 0, bDescriptorType = 0] = bytes;
  if (bytes.length < CCID_CLASS_DESCRIPTOR_LENGTH || bLength < CCID_CLASS_DESCRIPTOR_LENGTH) {
    throw new CcidError('ccid/bad-descriptor', { length: bytes.length, bLength });
  }
  if (bDescriptorType !== CCID_CLASS_DESCRIPTOR_TYPE && bDescriptorType !== 0xff) {
    throw new CcidError('ccid/bad-descriptor', { bDescriptorType });
  }
  // The raw fields, in table order from offset 2, each as wide as its name's prefix says.
  const raw = {} as CcidDescriptorFields;
  let o = 2;
  for (const k of CCID_DESCRIPTOR_FIELDS) {
    const n = fieldSize(k);
    let v = 0;
    for (let i = n; i--; ) v = v * 256 + bytes[o + i]!; // little-endian, unsigned
    raw[k] = v;
    o += n;
  }
  const { dwProtocols, bVoltageSupport, dwFeatures, wLcdLayout, bPINSupport, bMaxSlotIndex } = raw;
  const bit = (value: number, n: number): boolean => ((value >> n) & 1) === 1;
  const pinpad = { verify: bit(bPINSupport, 0), modify: bit(bPINSupport, 1) }; // CCID_PIN_SUPPORT.VERIFY, .MODIFY
  const features = { lcdPresent: wLcdLayout !== 0, pinpad: pinpad.verify || pinpad.modify } as CcidFeatures;
  for (const [name, bits] of Object.entries(FEATURE_BITS)) features[name as keyof CcidFeatures] = (dwFeatures & bits) !== 0;
  return {
    bLength,
    bDescriptorType,
    ...raw,
    exchangeLevel: exchangeLevelOf(dwFeatures),
    features,
    pinpad,
    maxSlots: bMaxSlotIndex + 1,
    protocols: [0, 1].filter((t) => bit(dwProtocols, t)),
    voltages: { v5: bit(bVoltageSupport, 0), v3: bit(bVoltageSupport, 1), v1_8: bit(bVoltageSupport, 2) },
    ...(wLcdLayout === 0 ? {} : { lcd: { lines: wLcdLayout >> 8, charactersPerLine: wLcdLayout & 0xff } }),
  };
}

/**
 * The fields after bLength and bDescriptorType, in order (CCID 1.10 table 5.1-1). Each field's
 * size is its name's prefix: b = 1 byte, w and bcd = 2, dw = 4 (little-endian); the first
 * starts at offset 2. Parsing, encoding and the EZ100PU's built-in descriptor (quirks.ts) all read this one list.
 */
export const CCID_DESCRIPTOR_FIELDS = [
  'bcdCCID',
  'bMaxSlotIndex',
  'bVoltageSupport',
  'dwProtocols',
  'dwDefaultClock',
  'dwMaximumClock',
  'bNumClockSupported',
  'dwDataRate',
  'dwMaxDataRate',
  'bNumDataRatesSupported',
  'dwMaxIFSD',
  'dwSynchProtocols',
  'dwMechanical',
  'dwFeatures',
  'dwMaxCCIDMessageLength',
  'bClassGetResponse',
  'bClassEnvelope',
  'wLcdLayout',
  'bPINSupport',
  'bMaxCCIDBusySlots',
] as const satisfies ReadonlyArray<keyof CcidClassDescriptorInit>;

type CcidDescriptorFields = Record<(typeof CCID_DESCRIPTOR_FIELDS)[number], number>;

/** Bytes of a field, from its name's prefix. */
function fieldSize(name: string): 1 | 2 | 4 {
  return name.startsWith('dw') ? 4 : name.startsWith('w') || name.startsWith('bcd') ? 2 : 1;
}

/**
 * Encodes the 54-byte CCID class descriptor (bLength 0x36; bDescriptorType
 * 0x21 unless given). Throws `CcidError('ccid/bad-descriptor')` on a field out
 * of its range.
 */
export function encodeCcidClassDescriptor(d: CcidClassDescriptorInit): Uint8Array {
  const b = new Uint8Array(CCID_CLASS_DESCRIPTOR_LENGTH);
  b[0] = CCID_CLASS_DESCRIPTOR_LENGTH;
  let o = 1;
  const put = (name: string, v: number, n: number): void => {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** (8 * n)) throw new CcidError('ccid/bad-descriptor', { field: name, max: 2 ** (8 * n) - 1, value: v });
    for (let i = 0; i < n; i++) b[o++] = v >>> (8 * i); // little-endian; the array keeps the low byte
  };
  put('bDescriptorType', d.bDescriptorType ?? CCID_CLASS_DESCRIPTOR_TYPE, 1);
  for (const k of CCID_DESCRIPTOR_FIELDS) put(k, d[k], fieldSize(k));
  return b;
}
