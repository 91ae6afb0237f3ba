/**
 * Presets modelled on real readers: identity and class descriptor as printed
 * by libccid's `parse` tool in test/fixtures/ccid-readers/ (the file is
 * named in `fixture`; src/virtual/presets.test.ts checks each preset against
 * it), plus a fast "ideal" reader. Data only: nothing here reads files.
 *
 * `clockFrequencies` / `dataRates` are the reader's GET_CLOCK_FREQUENCIES /
 * GET_DATA_RATES answers as the fixture lists them (empty when it lists none:
 * the request then stalls).
 */
import type { CcidClassDescriptorInit } from '../ccid/descriptor.js';

/** A reader's identity and CCID class descriptor. */
export interface VirtualReaderPreset {
  /** The fixture file the values come from (none for 'ideal'). */
  fixture?: string;
  vendorId: number;
  productId: number;
  bcdDevice?: number;
  manufacturerName?: string | null;
  productName?: string | null;
  interfaceClass?: number;
  descriptor: CcidClassDescriptorInit;
  clockFrequencies?: number[];
  dataRates?: number[];
  /** Ways the reader departs from CCID on the wire (non-compliant readers only, see VirtualReaderQuirks). */
  quirks?: VirtualReaderQuirks;
}

/**
 * How a non-compliant reader departs from CCID, as the virtual reader plays it
 * (the driver's side is src/ccid/quirks.ts).
 */
export interface VirtualReaderQuirks {
  /** The configuration descriptor carries no CCID class descriptor (the reader still behaves by `descriptor`). */
  noClassDescriptor?: boolean;
  /** dwLength is big-endian in both directions. */
  bigEndianLength?: boolean;
  /** The PowerOn answer carries a 0x00 before the ATR. */
  atrLeadingZero?: boolean;
  /**
   * A vendor message the reader answers outside CCID: a bulk-out frame whose
   * first byte is `messageType` gets `answer` (a whole bulk-in frame, bSeq
   * byte 6 copied from the request).
   */
  vendorCommand?: { messageType: number; answer: Uint8Array };
}

/** The preset names. */
export type VirtualReaderPresetName =
  | 'ideal'
  | 'castles-ezccid'
  | 'inmax-dwr18-hpc'
  | 'omnikey-3121'
  | 'gemplus-gempc-pinpad'
  | 'gemcore-sim-pro'
  | 'sysmocom-octsim'
  | 'scm-scr3310-nttcom';

/** Names of the presets of readers that are not CCID-compliant on the wire. */
export type NonCompliantReaderPresetName = 'castles-ez100pu';

/** The presets. */
export const VIRTUAL_READER_PRESETS: Record<VirtualReaderPresetName, VirtualReaderPreset> = {
  /**
   * A fast, well-behaved reader (not a real product): extended APDU level, every
   * automatic feature, 4 MHz up to 20 MHz, up to 1 Mbit/s without a rate table,
   * 64 KB messages so no chaining is needed. Test VID:PID 1209:CC1D (pid.codes test range).
   */
  ideal: {
    vendorId: 0x1209,
    productId: 0xcc1d,
    bcdDevice: 0x0100,
    manufacturerName: 'webccid',
    productName: 'Virtual CCID Reader',
    interfaceClass: 0x0b,
    descriptor: {
      bcdCCID: 0x0110,
      bMaxSlotIndex: 0x00,
      bVoltageSupport: 0x07,
      dwProtocols: 0x00000003,
      dwDefaultClock: 4000,
      dwMaximumClock: 20000,
      bNumClockSupported: 0,
      dwDataRate: 10752,
      dwMaxDataRate: 1000000,
      bNumDataRatesSupported: 0,
      dwMaxIFSD: 254,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x000407be,
      dwMaxCCIDMessageLength: 65554,
      bClassGetResponse: 0xff,
      bClassEnvelope: 0xff,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [],
    dataRates: [],
  },
  /** Castles EZCCID (0CA6:00A0): TPDU level, 3.58 MHz, 9600..115200 bps, no auto PPS. Fixture: CASTLES_EZCCID_Smart_Card_Reader.txt. */
  'castles-ezccid': {
    fixture: 'CASTLES_EZCCID_Smart_Card_Reader.txt',
    vendorId: 0x0CA6,
    productId: 0x00A0,
    bcdDevice: 0x0010,
    manufacturerName: "CASTLES",
    productName: "EZCCID Smart Card Reader",
    interfaceClass: 0x0B,
    descriptor: {
      bcdCCID: 0x0100,
      bMaxSlotIndex: 0x00,
      bVoltageSupport: 0x01,
      dwProtocols: 0x00000003,
      dwDefaultClock: 3580,
      dwMaximumClock: 3580,
      bNumClockSupported: 1,
      dwDataRate: 9600,
      dwMaxDataRate: 115200,
      bNumDataRatesSupported: 15,
      dwMaxIFSD: 252,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x00010130,
      dwMaxCCIDMessageLength: 271,
      bClassGetResponse: 0x00,
      bClassEnvelope: 0x00,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [3580],
    dataRates: [9600, 12800, 13950, 18600, 19200, 23040, 27900, 28800, 37200, 38400, 55800, 57600, 74400, 111600, 115200],
  },
  /** INMAX DWR18 HPC (1403:750D): short APDU level, auto PPS and IFSD. Fixture: INMAX_DWR18_HPC.txt. */
  'inmax-dwr18-hpc': {
    fixture: 'INMAX_DWR18_HPC.txt',
    vendorId: 0x1403,
    productId: 0x750D,
    bcdDevice: 0x0014,
    manufacturerName: "INMAX",
    productName: "DWR18 HPC",
    interfaceClass: 0x0B,
    descriptor: {
      bcdCCID: 0x0110,
      bMaxSlotIndex: 0x00,
      bVoltageSupport: 0x01,
      dwProtocols: 0x00000003,
      dwDefaultClock: 4000,
      dwMaximumClock: 4000,
      bNumClockSupported: 1,
      dwDataRate: 10752,
      dwMaxDataRate: 10752,
      bNumDataRatesSupported: 21,
      dwMaxIFSD: 254,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x000207BA,
      dwMaxCCIDMessageLength: 271,
      bClassGetResponse: 0xFF,
      bClassEnvelope: 0xFF,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [4000],
    dataRates: [689655, 500000, 344827, 250000, 215053, 171673, 156250, 129032, 125000, 93676, 86021, 62500, 43010, 31250, 21505, 15625, 10752, 7812, 5376, 2688, 1344],
  },
  /** HID OMNIKEY 3x21 (076B:3031): extended APDU level (0x40000), 4.8 MHz. Fixture: HID_Global_OMNIKEY_3x21_Smart_Card_Reader.txt. */
  'omnikey-3121': {
    fixture: 'HID_Global_OMNIKEY_3x21_Smart_Card_Reader.txt',
    vendorId: 0x076B,
    productId: 0x3031,
    bcdDevice: 0x0106,
    manufacturerName: "HID Global",
    productName: "OMNIKEY 3x21 Smart Card Reader",
    interfaceClass: 0x0B,
    descriptor: {
      bcdCCID: 0x0110,
      bMaxSlotIndex: 0x00,
      bVoltageSupport: 0x07,
      dwProtocols: 0x00000003,
      dwDefaultClock: 4800,
      dwMaximumClock: 4800,
      bNumClockSupported: 1,
      dwDataRate: 10752,
      dwMaxDataRate: 412903,
      bNumDataRatesSupported: 106,
      dwMaxIFSD: 254,
      dwSynchProtocols: 0x00000007,
      dwMechanical: 0x00000000,
      dwFeatures: 0x000407BA,
      dwMaxCCIDMessageLength: 271,
      bClassGetResponse: 0xFF,
      bClassEnvelope: 0xFF,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [4800],
    dataRates: [10752, 21505, 43010, 86021, 172043, 344086, 129032, 215053, 12903, 25806, 51612, 103225, 206451, 412903, 154838, 258064, 7168, 14336, 28673, 57347, 114695, 229390, 143369, 8602, 17204, 34408, 68817, 137634, 275268, 5376, 64516, 107526, 6451, 77419, 8064, 16129, 32258, 96774, 161290, 3584, 4301, 2688, 53763, 3225, 38709, 4032, 48387, 80645, 2150, 2580, 5161, 10322, 20645, 41290, 82580, 30967, 7812, 15625, 31250, 62500, 125000, 250000, 93750, 156250, 9375, 18750, 37500, 75000, 150000, 300000, 600000, 112500, 187500, 5208, 10416, 20833, 41666, 83333, 166666, 104166, 6250, 12500, 25000, 50000, 100000, 200000, 3906, 46875, 78125, 4687, 56250, 5859, 11718, 23437, 70312, 117187, 2604, 52083, 3125, 1953, 39062, 2343, 28125, 2929, 35156, 58593],
  },
  /** Gemplus GemPC Pinpad (08E6:3478): TPDU level, bPINSupport 0x03 (verify + modify). Fixture: GemPCPinpad.txt. */
  'gemplus-gempc-pinpad': {
    fixture: 'GemPCPinpad.txt',
    vendorId: 0x08E6,
    productId: 0x3478,
    bcdDevice: 0x0100,
    manufacturerName: "Gemplus",
    productName: "USB GemPCPinpad SmartCard Reader",
    interfaceClass: 0x0B,
    descriptor: {
      bcdCCID: 0x0100,
      bMaxSlotIndex: 0x00,
      bVoltageSupport: 0x07,
      dwProtocols: 0x00000003,
      dwDefaultClock: 4000,
      dwMaximumClock: 4000,
      bNumClockSupported: 0,
      dwDataRate: 10752,
      dwMaxDataRate: 500000,
      bNumDataRatesSupported: 0,
      dwMaxIFSD: 254,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x00010230,
      dwMaxCCIDMessageLength: 271,
      bClassGetResponse: 0x00,
      bClassEnvelope: 0x00,
      wLcdLayout: 0x0000,
      bPINSupport: 0x03,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [4000],
    dataRates: [10753, 14337, 15625, 17204, 20833, 21505, 23438, 25806, 28674, 31250, 32258, 34409, 39063, 41667, 43011, 46875, 52083, 53763, 57348, 62500, 64516, 68817, 71685, 78125, 83333, 86022, 93750, 104167, 107527, 114695, 125000, 129032, 143369, 156250, 166667, 172043, 215054, 229391, 250000, 344086, 500000],
  },
  /** Gemplus GemCore SIM Pro (08E6:3480): TPDU level, 2 slots (bMaxSlotIndex 1), one busy at a time. Fixture: GemCoreSIMPro.txt. */
  'gemcore-sim-pro': {
    fixture: 'GemCoreSIMPro.txt',
    vendorId: 0x08E6,
    productId: 0x3480,
    bcdDevice: 0x0100,
    manufacturerName: "Gemplus",
    productName: "GemCore SIM Pro Smart Card Reader",
    interfaceClass: 0x0B,
    descriptor: {
      bcdCCID: 0x0100,
      bMaxSlotIndex: 0x01,
      bVoltageSupport: 0x07,
      dwProtocols: 0x00000003,
      dwDefaultClock: 4000,
      dwMaximumClock: 4000,
      bNumClockSupported: 0,
      dwDataRate: 10752,
      dwMaxDataRate: 500000,
      bNumDataRatesSupported: 0,
      dwMaxIFSD: 254,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x00010230,
      dwMaxCCIDMessageLength: 271,
      bClassGetResponse: 0x00,
      bClassEnvelope: 0x00,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [4000],
    dataRates: [10753, 14337, 15625, 17204, 20833, 21505, 23438, 25806, 28674, 31250, 32258, 34409, 39063, 41667, 43011, 46875, 52083, 53763, 57348, 62500, 64516, 68817, 71685, 78125, 83333, 86022, 93750, 104167, 107527, 114695, 125000, 129032, 143369, 156250, 166667, 172043, 215054, 229391, 250000, 344086, 500000],
  },
  /** sysmocom sysmoOCTSIM (1D50:6141): TPDU level, 8 slots, 8 busy at once. Fixture: sysmocom_sysmoOCTSIM.txt. */
  'sysmocom-octsim': {
    fixture: 'sysmocom_sysmoOCTSIM.txt',
    vendorId: 0x1D50,
    productId: 0x6141,
    bcdDevice: 0x0000,
    manufacturerName: "sysmocom - s.f.m.c. GmbH",
    productName: "sysmoOCTSIM 0.2.40-172b",
    interfaceClass: 0x0B,
    descriptor: {
      bcdCCID: 0x0110,
      bMaxSlotIndex: 0x07,
      bVoltageSupport: 0x07,
      dwProtocols: 0x00000001,
      dwDefaultClock: 2500,
      dwMaximumClock: 20000,
      bNumClockSupported: 4,
      dwDataRate: 6720,
      dwMaxDataRate: 921600,
      bNumDataRatesSupported: 0,
      dwMaxIFSD: 0,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x000100B0,
      dwMaxCCIDMessageLength: 272,
      bClassGetResponse: 0xFF,
      bClassEnvelope: 0xFF,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 8,
    },
    clockFrequencies: [],
    dataRates: [],
  },
  /**
   * SCM SCR3310-NTTCom (04E6:511A): a vendor-class (0xFF) CCID reader, TPDU
   * level with automatic parameters and PPS, 4.8 MHz, IFSD 252. Fixture:
   * SCR3310-NTTCom.txt. Its class descriptor lists no clocks / rates
   * (bNum* = 0) but the reader answers the requests.
   */
  'scm-scr3310-nttcom': {
    fixture: 'SCR3310-NTTCom.txt',
    vendorId: 0x04E6,
    productId: 0x511A,
    bcdDevice: 0x0203,
    manufacturerName: 'NTT Communications Corp.',
    productName: 'SCR3310-NTTCom USB SmartCard Reader',
    interfaceClass: 0xFF,
    descriptor: {
      bcdCCID: 0x0110,
      bMaxSlotIndex: 0x00,
      bVoltageSupport: 0x07,
      dwProtocols: 0x00000003,
      dwDefaultClock: 4800,
      dwMaximumClock: 8000,
      bNumClockSupported: 0,
      dwDataRate: 12903,
      dwMaxDataRate: 412903,
      bNumDataRatesSupported: 0,
      dwMaxIFSD: 252,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x000101BA,
      dwMaxCCIDMessageLength: 271,
      bClassGetResponse: 0xFF,
      bClassEnvelope: 0xFF,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [4000, 4800, 6000, 8000, 12000],
    dataRates: [
      10752, 21505, 43010, 86021, 172043, 344086, 129032, 215053, 12903, 25806, 51612, 103225, 206451, 412903, 154838, 258064, 10752,
      21505, 43010, 86021, 172043, 344086, 129032, 215053, 10752, 21505, 43010, 86021, 172043, 344086, 129032, 215053, 7168, 14336,
      28673, 57347, 114695, 229390, 86021, 143369, 5376, 10752, 21505, 43010, 86021, 172043, 64516, 107526, 4301, 8602, 17204, 34408,
      68817, 137634, 51612, 86021, 9375, 18750, 37500, 75000, 150000, 300000, 112500, 187500, 7812, 15625, 31250, 62500, 125000, 250000,
      93750, 156250, 7812, 15625, 31250, 62500, 125000, 250000, 93750, 156250, 5208, 10416, 20833, 41666, 83333, 166666, 62500, 104166,
      3906, 7812, 15625, 31250, 62500, 125000, 46875, 78125,
    ],
  },
};

/**
 * The Castles EZ100PU's identification answer to the vendor 0x60 command.
 * ASSUMED: public sources say only that the vendor driver's 0x60 command "gets
 * back some identification string"; the frame shape (an RDR_to_PC_Escape-like
 * header, the string as data) is this model's choice.
 */
const EZ100PU_IDENTIFICATION = new TextEncoder().encode('EZ100PU (virtual)');
const EZ100PU_ID_FRAME = new Uint8Array(10 + EZ100PU_IDENTIFICATION.length);
EZ100PU_ID_FRAME[0] = 0x83;
EZ100PU_ID_FRAME[4] = EZ100PU_IDENTIFICATION.length; // big-endian dwLength, as the reader sends it
EZ100PU_ID_FRAME.set(EZ100PU_IDENTIFICATION, 10);

/**
 * Readers that are not CCID-compliant on the wire (kept apart from
 * VIRTUAL_READER_PRESETS, whose every entry is a class-compliant reader).
 */
export const NON_COMPLIANT_READER_PRESETS: Record<NonCompliantReaderPresetName, VirtualReaderPreset> = {
  /**
   * Castles EZ100PU (0CA6:0010), as public sources describe it (src/ccid/quirks.ts
   * cites them): a vendor-class (0xFF) interface with bulk OUT 0x01, bulk IN
   * 0x82, interrupt IN 0x83 and no CCID class descriptor; it behaves like the
   * EZCCID (TPDU, 5 V, 3.58 MHz, up to 115200 bps, 271-byte messages) but
   * dwLength is big-endian both ways and the PowerOn answer has a 0x00 before
   * the ATR. It answers the vendor 0x60 command with an identification frame
   * (form assumed). It answers no GET_CLOCK_FREQUENCIES / GET_DATA_RATES (unknown
   * on the real reader; the driver's built-in descriptor does not ask).
   */
  'castles-ez100pu': {
    vendorId: 0x0CA6,
    productId: 0x0010,
    bcdDevice: 0x0100,
    manufacturerName: 'Castles Technology Co., Ltd.',
    productName: 'EZ100PU',
    interfaceClass: 0xFF,
    descriptor: {
      bcdCCID: 0x0100,
      bMaxSlotIndex: 0x00,
      bVoltageSupport: 0x01,
      dwProtocols: 0x00000003,
      dwDefaultClock: 3580,
      dwMaximumClock: 3580,
      bNumClockSupported: 0,
      dwDataRate: 9600,
      dwMaxDataRate: 115200,
      bNumDataRatesSupported: 0,
      dwMaxIFSD: 252,
      dwSynchProtocols: 0x00000000,
      dwMechanical: 0x00000000,
      dwFeatures: 0x00010130,
      dwMaxCCIDMessageLength: 271,
      bClassGetResponse: 0x00,
      bClassEnvelope: 0x00,
      wLcdLayout: 0x0000,
      bPINSupport: 0x00,
      bMaxCCIDBusySlots: 1,
    },
    clockFrequencies: [],
    dataRates: [],
    quirks: {
      noClassDescriptor: true,
      bigEndianLength: true,
      atrLeadingZero: true,
      vendorCommand: { messageType: 0x60, answer: EZ100PU_ID_FRAME },
    },
  },
};

/** Names of all presets. */
export const VIRTUAL_READER_PRESET_NAMES = Object.keys(VIRTUAL_READER_PRESETS) as VirtualReaderPresetName[];
