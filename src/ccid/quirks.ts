/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * Reader quirks as data (docs/design.md §4.9): a table keyed by VID:PID (and a
 * bcdDevice range where the firmware matters), resolved once by
 * `CcidReader.open` and passed down. The driver core never tests a VID:PID
 * itself; it only reads the resolved `ReaderQuirks` at these points:
 *
 * - open: `descriptor` (a built-in class descriptor for a reader that has
 *   none), then `applyDescriptorQuirks` (`descriptorPatch`, `exchangeLevel`,
 *   `forceShortApdu`, `noPinpad`), `timeoutFactor`, `startupCommand`;
 * - the bulk pipe: `adaptOutgoingFrame` / `adaptIncomingFrame`
 *   (`bigEndianLength`, `atrLeadingZero`).
 *
 * Sources (behaviour only, no code taken):
 * - Castles EZ100PU: the ezIFD project's README (a libccid fork that drives the
 *   EZ100PU: no CCID class descriptor, a fake one copied from Castles' EZCCID;
 *   dwLength big-endian, both directions; the PowerOn answer's ATR prefixed by
 *   0x00; the vendor driver sends a 0x60 command at start, "NULL command?",
 *   answered by an identification string; the open driver works without it),
 *   and a clean-room Windows driver's notes (vendor-class interface, bulk OUT
 *   0x01 / IN 0x82 / interrupt IN 0x83, big-endian dwLength on commands and
 *   answers, the extra 0x00 dropped only when a TS byte 3B/3F follows, one
 *   slot, T=0/T=1, TPDU, 271-byte messages, 3.58 MHz, 9600..115200 bps).
 *   The EZCCID descriptor itself is libccid's fixture
 *   `CASTLES_EZCCID_Smart_Card_Reader.txt`.
 * - The other entries: libccid's `ccid_open_hack_pre/post` (src/ccid.c) and
 *   its changelog; the VID:PID values are libccid's reader IDs (src/ccid.h).
 */
import { CcidError } from '../errors.js';
import { concatBytes, readU32LE, writeU32LE } from '../bytes.js';
import {
  CCID_DESCRIPTOR_FIELDS,
  encodeCcidClassDescriptor,
  exchangeLevelOf,
  withExchangeLevel,
  parseCcidClassDescriptor,
  type CcidClassDescriptor,
  type CcidClassDescriptorInit,
  type CcidExchangeLevel,
} from './descriptor.js';
import { CCID_HEADER_LENGTH, RDR_to_PC_DataBlock } from './messages.js';
import {
  findCcidInterface,
  findCcidInterfaces,
  type CcidInterfaceInfo,
  type ConfigurationDescriptor,
} from '../usb/config-descriptor.js';

/** What the driver does differently for one reader model. Every field is optional; absent = standard CCID. */
export interface ReaderQuirks {
  /** Built-in CCID class descriptor, used when the device carries none (the EZ100PU). */
  descriptor?: CcidClassDescriptorInit;
  /** Raw class-descriptor fields to replace (e.g. libccid's dwMaxDataRate = 9600 for the O2Micro OZ776). */
  descriptorPatch?: Partial<CcidClassDescriptorInit>;
  /** dwLength of every bulk message is big-endian, commands and answers (the EZ100PU). */
  bigEndianLength?: boolean;
  /** The PowerOn answer carries a 0x00 before the ATR's TS byte (the EZ100PU); it is dropped. */
  atrLeadingZero?: boolean;
  /**
   * A vendor frame written to bulk-out once at open, before any CCID command;
   * one bulk-in answer is read (bounded by `startupTimeoutMs`) and ignored.
   * See `EZ100PU_STARTUP_COMMAND`: its exact form is an assumption, so no table
   * entry sets it; pass it in `CcidReaderOptions.quirks` to try it.
   */
  startupCommand?: Uint8Array;
  /** Time allowed for the startup command's answer, ms (default 1000). */
  startupTimeoutMs?: number;
  /** Multiplies every command timeout (slow firmware). `CcidReaderOptions.timeoutFactor` wins over it. */
  timeoutFactor?: number;
  /** Lower an extended-APDU reader to short APDUs (readers that announce extended APDUs they cannot do). */
  forceShortApdu?: boolean;
  /** Replace the exchange level the descriptor announces (libccid: readers whose firmware chains although they say otherwise). */
  exchangeLevel?: Exclude<CcidExchangeLevel, 'character'>;
  /** The reader advertises a pinpad (bPINSupport) it does not have, or whose secure PIN entry is unsafe: ignore it. */
  noPinpad?: boolean;
}

/** One row of the quirk table, as the driver reads it. */
export interface ReaderQuirkRow {
  vendorId: number;
  productId: number;
  /** Inclusive bcdDevice range (firmware release) the row applies to; absent = every release. */
  bcdDevice?: { min?: number; max?: number };
  quirks: ReaderQuirks;
}

/** One row of the quirk table with its documentation. */
export interface ReaderQuirkEntry extends ReaderQuirkRow {
  /** The reader's name, for messages and docs. */
  name: string;
  /** Where the behaviour is documented. */
  source: string;
}

/**
 * The Castles EZCCID's class descriptor (libccid fixture
 * CASTLES_EZCCID_Smart_Card_Reader.txt), which the EZ100PU borrows: TPDU level,
 * 5 V, 3.58 MHz, 9600..115200 bps, T=0 and T=1, IFSD 252, 271-byte messages,
 * automatic clock and baud change, no automatic PPS. One change:
 * bNumClockSupported and bNumDataRatesSupported are 0, so the driver sends no
 * class-specific GET_CLOCK_FREQUENCIES / GET_DATA_RATES request to a
 * vendor-class interface that was never shown to answer them (rates are then
 * bounded by dwMaxDataRate, as the clean-room driver does).
 */
export const EZCCID_CLASS_DESCRIPTOR: Readonly<CcidClassDescriptorInit> = /* @__PURE__ */ Object.freeze(
  // The values in CCID_DESCRIPTOR_FIELDS order (CCID 1.10 table 5.1-1).
  Object.fromEntries(
    [
      0x0100, // bcdCCID
      0, // bMaxSlotIndex: one slot
      0x01, // bVoltageSupport: 5 V
      0x03, // dwProtocols: T=0, T=1
      3580, // dwDefaultClock, kHz
      3580, // dwMaximumClock
      0, // bNumClockSupported (the EZCCID: 1)
      9600, // dwDataRate, bps
      115200, // dwMaxDataRate
      0, // bNumDataRatesSupported (the EZCCID: 15)
      252, // dwMaxIFSD
      0, // dwSynchProtocols
      0, // dwMechanical
      0x00010130, // dwFeatures: TPDU, clock stop, automatic baud and clock change
      271, // dwMaxCCIDMessageLength
      0, // bClassGetResponse
      0, // bClassEnvelope
      0, // wLcdLayout
      0, // bPINSupport
      1, // bMaxCCIDBusySlots
    ].map((v, i) => [CCID_DESCRIPTOR_FIELDS[i], v]),
  ) as CcidClassDescriptorInit,
);

/**
 * ASSUMED form of the EZ100PU vendor driver's start-up command: a 10-byte
 * header with bMessageType 0x60 and nothing else (dwLength 0, slot 0, bSeq 0).
 * Public sources confirm only "a 60h command at init, answered by an
 * identification string"; the open-source drivers work without sending it, so
 * it is off by default. Enable with
 * `CcidReader.open(device, { quirks: { startupCommand: EZ100PU_STARTUP_COMMAND } })`.
 */
export const EZ100PU_STARTUP_COMMAND: Uint8Array = /* @__PURE__ */ Uint8Array.of(0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0);

const SPE_UNSAFE = 'libccid src/ccid.c ccid_open_hack_post: "the Secure Pin Entry is bogus so disable it" (the PIN typed on the pinpad also reaches the host)';
const FAKE_PINPAD = 'libccid src/ccid.c ccid_open_hack_post: "The chip advertises pinpad but actually doesn\'t have one"; "Firmware uses chaining" (extended APDU)';

/** A reader in QUIRK_GROUPS: `0xVVVV_PPPP` (VID, PID), or that with an inclusive bcdDevice range. */
type QuirkReaderId = number | readonly [vidPid: number, bcdMin: number, bcdMax: number];

/**
 * The quirk table's data (docs/design.md §4.9): what the driver core reads. Each group is the
 * quirks, then the readers that have them. The readers' names and the sources are in
 * `READER_QUIRKS` (same readers, same order), which only tools, docs and tests use, so an
 * application bundle leaves them out.
 */
const QUIRK_GROUPS: ReadonlyArray<readonly [ReaderQuirks, ...QuirkReaderId[]]> = [
  [{ descriptor: EZCCID_CLASS_DESCRIPTOR, bigEndianLength: true, atrLeadingZero: true }, 0x0ca6_0010],
  // Readers that advertise a pinpad they lack, or whose pinpad is unsafe.
  [{ noPinpad: true }, 0x03f0_1024, 0x03f0_0036, 0x0bf8_1017, 0x0783_0006],
  [{ noPinpad: true, exchangeLevel: 'extended-apdu' }, 0x076b_3a21, 0x076b_3031, 0x076b_6632, 0x046a_00a7, 0x0bf8_1024],
  // Readers that need longer timeouts (usbSlackMs 300 ms x factor).
  [{ timeoutFactor: 2 }, 0x04e6_5293],
  [{ timeoutFactor: 4 }, 0x09d8_0427, 0x09d8_0428],
  [{ timeoutFactor: 20 }, 0x0b81_0200],
  // Readers forced to short APDUs.
  [{ forceShortApdu: true }, 0x0d46_3010],
  // The Cherry KC 1000 SC, firmware 1.00 only.
  [{ exchangeLevel: 'extended-apdu' }, [0x046a_00a1, 0x0100, 0x0100]],
  // Descriptor corrections.
  [{ descriptorPatch: { dwMaxDataRate: 9600 } }, 0x0b97_7762, 0x0b97_7772],
  [{ descriptorPatch: { dwMaxIFSD: 254 } }, 0x09be_0002],
];

/** QUIRK_GROUPS as one row per reader. */
const QUIRK_ROWS: readonly ReaderQuirkRow[] = /* @__PURE__ */ QUIRK_GROUPS.flatMap(([quirks, ...readers]) =>
  readers.map((r): ReaderQuirkRow => {
    const [id, min, max] = typeof r === 'number' ? [r] : r;
    return { vendorId: id >>> 16, productId: id & 0xffff, ...(min === undefined ? {} : { bcdDevice: { min, max } }), quirks };
  }),
);

/** The name and the source of each reader of QUIRK_GROUPS, in the same order (VID:PID repeated to keep them aligned). */
const QUIRK_NOTES: ReadonlyArray<readonly [number, number, string, string]> = [
  [0x0ca6, 0x0010, 'Castles EZ100PU', 'ezIFD README (Castles EZUSB/EZ100PU libccid fork); clean-room EZ100PU Windows driver notes (CLEANROOM.md)'],
  [0x03f0, 0x1024, 'HP USB Smart Card Keyboard', SPE_UNSAFE],
  [0x03f0, 0x0036, 'HP USB CCID Smartcard Keyboard', SPE_UNSAFE],
  [0x0bf8, 0x1017, 'Fujitsu Smartcard Keyboard', SPE_UNSAFE],
  [0x0783, 0x0006, 'C3PO LTC31 v2', 'libccid src/ccid.c ccid_open_hack_post (bPINSupport = 0)'],
  [0x076b, 0x3a21, 'HID OMNIKEY (Aviator chip)', FAKE_PINPAD],
  [0x076b, 0x3031, 'HID OMNIKEY 3x21', FAKE_PINPAD],
  [0x076b, 0x6632, 'HID OMNIKEY 6121', FAKE_PINPAD],
  [0x046a, 0x00a7, 'Cherry Smart Terminal xx44', FAKE_PINPAD],
  [0x0bf8, 0x1024, 'Fujitsu Smartcard Reader D323', FAKE_PINPAD],
  [0x04e6, 0x5293, 'SCM SCL011', 'libccid src/ccid.c ccid_open_hack_pre: "The SCM SCL011 reader needs 350 ms to answer"'],
  [0x09d8, 0x0427, 'Elatec TWN4 CCID (CDC)', 'libccid src/ccid.c ccid_open_hack_pre: "The reader answers after up to 1 s if no tag is present"'],
  [0x09d8, 0x0428, 'Elatec TWN4 CCID', 'libccid src/ccid.c ccid_open_hack_pre: "The reader answers after up to 1 s if no tag is present"'],
  [0x0b81, 0x0200, 'id3 CL1356D/T', 'libccid src/ccid.c ccid_open_hack_pre: "the firmware needs some time to initialize", read timeout 60 s'],
  [0x0d46, 0x3010, 'KOBIL TriBank (EMV CAP - SecOVID Reader III)', 'libccid 1.4.35 changelog: "The Kobil TriBank reader does NOT support extended APDU"'],
  [0x046a, 0x00a1, 'Cherry KC 1000 SC (firmware 1.00)', 'libccid src/ccid.c ccid_open_hack_post: firmware 1.00 at short APDU level chains case 2 answers over 128 bytes'],
  [0x0b97, 0x7762, 'O2Micro OZ776', 'libccid src/ccid.c ccid_open_hack_pre'],
  [0x0b97, 0x7772, 'O2Micro OZ776 (7772)', 'libccid src/ccid.c ccid_open_hack_pre'],
  [0x09be, 0x0002, 'MySmartPad', 'libccid src/ccid.c ccid_open_hack_pre'],
];

function withNotes(rows: readonly ReaderQuirkRow[], notes: typeof QUIRK_NOTES): readonly ReaderQuirkEntry[] {
  if (notes.length !== rows.length) throw new Error('quirk notes and rows differ in number');
  return Object.freeze(
    rows.map((row, i) => {
      const [vendorId, productId, name, source] = notes[i]!;
      if (vendorId !== row.vendorId || productId !== row.productId) throw new Error(`quirk notes out of step at row ${i}`);
      return { ...row, name, source };
    }),
  );
}

/** The quirk table (docs/design.md §4.9), each row with the reader's name and where the behaviour is documented. */
export const READER_QUIRKS: readonly ReaderQuirkEntry[] = /* @__PURE__ */ withNotes(QUIRK_ROWS, QUIRK_NOTES);

/** The identity fields a quirk lookup uses (a `USBDevice` has them all). */
export interface QuirkLookupDevice {
  vendorId: number;
  productId: number;
  deviceVersionMajor?: number;
  deviceVersionMinor?: number;
  deviceVersionSubminor?: number;
}

/** bcdDevice as the device descriptor has it (WebUSB splits it into three numbers). */
export function bcdDeviceOf(device: QuirkLookupDevice): number {
  return ((device.deviceVersionMajor ?? 0) << 8) | (((device.deviceVersionMinor ?? 0) & 0x0f) << 4) | ((device.deviceVersionSubminor ?? 0) & 0x0f);
}

/** The table rows that apply to `device` (VID:PID and, when given, bcdDevice range). */
export function findQuirkEntries<T extends ReaderQuirkRow>(device: QuirkLookupDevice, table: readonly T[] = QUIRK_ROWS as readonly T[]): T[] {
  const bcd = bcdDeviceOf(device);
  return table.filter(({ vendorId, productId, bcdDevice: { min = 0, max = 0xffff } = {} }) =>
    vendorId === device.vendorId && productId === device.productId && bcd >= min && bcd <= max,
  );
}

/**
 * The quirks in force for `device`: the table's rows merged in order, then
 * `override` on top (a field set there wins, `false` switches a flag off).
 * `override === false` ignores the table.
 */
export function resolveReaderQuirks(
  device: QuirkLookupDevice,
  override?: ReaderQuirks | false,
  table: readonly ReaderQuirkRow[] = QUIRK_ROWS,
): ReaderQuirks {
  const merged: ReaderQuirks = {};
  if (override !== false) for (const e of findQuirkEntries(device, table)) Object.assign(merged, e.quirks);
  if (override) {
    for (const [k, v] of Object.entries(override)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}

/**
 * The descriptor the driver works with: `descriptorPatch`, then the exchange
 * level (`exchangeLevel`, or `forceShortApdu` lowering extended to short), then
 * `noPinpad` (bPINSupport 0). Re-encoded and re-parsed, so every derived field
 * (exchangeLevel, features, pinpad) agrees with the raw ones. Unchanged when
 * no field applies.
 */
export function applyDescriptorQuirks(d: CcidClassDescriptor, q: ReaderQuirks): CcidClassDescriptor {
  if (!q.descriptorPatch && !q.exchangeLevel && !q.forceShortApdu && !q.noPinpad) return d;
  const raw = { ...d, ...q.descriptorPatch }; // (the encoder reads the raw fields only)
  const level = q.exchangeLevel ?? (q.forceShortApdu && exchangeLevelOf(raw.dwFeatures) === 'extended-apdu' ? 'short-apdu' : undefined);
  if (level) raw.dwFeatures = withExchangeLevel(raw.dwFeatures, level);
  if (q.noPinpad) raw.bPINSupport = 0;
  return parseCcidClassDescriptor(encodeCcidClassDescriptor(raw));
}

/**
 * For a reader with a built-in descriptor (`q.descriptor`, the EZ100PU): its
 * CCID interface, which is the first interface of class 0xFF or 0x0B with a
 * bulk-in / bulk-out pair, given the built-in descriptor (a descriptor the
 * device does carry wins). `undefined` when `q.descriptor` is not set (then
 * `findCcidInterface` decides). Throws `CcidError('ccid/no-interface')` when
 * no interface has a bulk pair.
 */
export function findQuirkedCcidInterface(config: ConfigurationDescriptor, q: ReaderQuirks): CcidInterfaceInfo | undefined {
  if (!q.descriptor) return undefined;
  const builtIn = encodeCcidClassDescriptor(q.descriptor);
  // The interfaces as if each carried the built-in descriptor last: asked only when none carries
  // its own, so findCcidInterface picks (and explains the lack of) the first class 0x0B / 0xFF
  // interface with a bulk pair. The `iface` returned is that copy: its `extra` ends with the
  // built-in descriptor, which the device itself does not carry.
  const withBuiltIn = { ...config, interfaces: config.interfaces.map((i) => ({ ...i, extra: [...i.extra, builtIn] })) };
  return findCcidInterfaces(config)[0] ?? findCcidInterface(withBuiltIn);
}

/** Reverses the byte order of dwLength (bytes 1..4) of a bulk frame, in a copy. Frames shorter than a header are returned as they are. */
export function swapLengthByteOrder(frame: Uint8Array): Uint8Array {
  if (frame.length < CCID_HEADER_LENGTH) return frame;
  const out = frame.slice();
  out.set(frame.slice(1, 5).reverse(), 1);
  return out;
}

/** A frame as the reader wants it on the wire (`bigEndianLength`). */
export function adaptOutgoingFrame(frame: Uint8Array, q: ReaderQuirks): Uint8Array {
  return q.bigEndianLength ? swapLengthByteOrder(frame) : frame;
}

/**
 * A frame from the wire made standard: dwLength back to little-endian
 * (`bigEndianLength`), and for the answer to IccPowerOn the leading 0x00
 * dropped (`atrLeadingZero`) when a TS byte (3B or 3F) follows it, dwLength
 * shortened to match. Other frames pass unchanged.
 */
export function adaptIncomingFrame(frame: Uint8Array, q: ReaderQuirks, command: string): Uint8Array {
  let f = adaptOutgoingFrame(frame, q); // the swap is its own inverse
  const h = CCID_HEADER_LENGTH;
  if (
    q.atrLeadingZero &&
    command === 'IccPowerOn' &&
    f[0] === RDR_to_PC_DataBlock &&
    f[h] === 0x00 &&
    (f[h + 1] === 0x3b || f[h + 1] === 0x3f) && // (so the frame has a byte after the 0x00)
    readU32LE(f, 1) === f.length - h
  ) {
    f = concatBytes(f.subarray(0, h), f.subarray(h + 1));
    writeU32LE(f, 1, f.length - h);
  }
  return f;
}
