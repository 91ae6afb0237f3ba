/**
 * Loader for the real-reader fixtures in `test/fixtures/ccid-readers/`:
 * the output of libccid's `parse` tool for 691 USB smart-card readers.
 *
 * A file holds one block per CCID interface found on the device (composite and
 * dual readers have several). Each block starts with ` idVendor:` and prints
 * the device's strings, the interface descriptor, then (if the interface has
 * one) ` CCID Class Descriptor` and its 22 fields, one a line, each followed by
 * indented explanation lines. How libccid prints each field (parse.c), and so
 * how this loader reads it back:
 *
 * | field                                     | printed as                 | read as                        |
 * |-------------------------------------------|----------------------------|--------------------------------|
 * | bLength, bDescriptorType, bMaxSlotIndex,  | `0x%02X`                   | hex                            |
 * | bVoltageSupport, bClassGetResponse,       |                            |                                |
 * | bClassEnvelope, bPINSupport               |                            |                                |
 * | bcdCCID                                   | `%X.%02X` (byte 3, byte 2) | `1.10` -> 0x0110, `10.01` -> 0x1001 |
 * | dwProtocols                               | `0x%02X%02X 0x%02X%02X` (bytes 9 8, 7 6) | high word, low word |
 * | dwDefaultClock, dwMaximumClock            | `%.3f MHz` of kHz / 1000   | exact kHz from the digits      |
 * | dwDataRate, dwMaxDataRate                 | `%d bps`                   | unsigned 32-bit                |
 * | dwMaxIFSD, dwMaxCCIDMessageLength,        | `%d` (`bytes` suffix)      | unsigned 32-bit                |
 * | bNumClockSupported, bNumDataRatesSupported, bMaxCCIDBusySlots | `%d` (maybe ` (will use whatever is returned)`) | decimal |
 * | dwSynchProtocols, dwMechanical, dwFeatures | `0x%08X`                  | hex                            |
 * | wLcdLayout                                | `0x%04X`                   | hex                            |
 *
 * Explanation lines (`T=1`, `....02 Automatic parameter configuration ...`,
 * `PIN Verification supported`, ...) are kept verbatim (trimmed) in `details`,
 * keyed by the field they follow. `Support N kHz` / `Support N bps` lines are
 * the reader's answers to GET CLOCK FREQUENCIES / GET DATA RATES: they go to
 * `clocksKHz` / `dataRates` (as unsigned 32-bit values, exactly what the reader
 * sent; a few readers answer garbage, printed by libccid as negative numbers),
 * and only when at least one such line is present.
 *
 * The 54 bytes of the class descriptor are rebuilt from the printed fields
 * (`classDescriptor`): every field of table 5.1-1 is printed, so the bytes are
 * exact. `supported_readers.txt` (the reader list, not a `parse` output) is
 * read by `loadSupportedReaders`.
 *
 * Pure parsing is `parseReaderFixture(text)`; file access is in the `load*` functions.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { writeU16LE, writeU32LE } from '../../src/bytes.js';

/** Names of the 22 fields of the CCID class descriptor, in descriptor order. */
export const CCID_CLASS_FIELD_NAMES = [
  'bLength',
  'bDescriptorType',
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
] as const;
export type CcidClassFieldName = (typeof CCID_CLASS_FIELD_NAMES)[number];

/** Byte offset and size of each field (CCID 1.10 table 5.1-1). */
const LAYOUT: Record<CcidClassFieldName, [offset: number, size: 1 | 2 | 4]> = {
  bLength: [0, 1],
  bDescriptorType: [1, 1],
  bcdCCID: [2, 2],
  bMaxSlotIndex: [4, 1],
  bVoltageSupport: [5, 1],
  dwProtocols: [6, 4],
  dwDefaultClock: [10, 4],
  dwMaximumClock: [14, 4],
  bNumClockSupported: [18, 1],
  dwDataRate: [19, 4],
  dwMaxDataRate: [23, 4],
  bNumDataRatesSupported: [27, 1],
  dwMaxIFSD: [28, 4],
  dwSynchProtocols: [32, 4],
  dwMechanical: [36, 4],
  dwFeatures: [40, 4],
  dwMaxCCIDMessageLength: [44, 4],
  bClassGetResponse: [48, 1],
  bClassEnvelope: [49, 1],
  wLcdLayout: [50, 2],
  bPINSupport: [52, 1],
  bMaxCCIDBusySlots: [53, 1],
};

/** One interface block of a fixture file. */
export interface ReaderFixtureInterface {
  /** Interface descriptor fields as printed (decimal, or hex for the class). */
  bLength: number;
  bDescriptorType: number;
  bInterfaceNumber: number;
  bAlternateSetting: number;
  bNumEndpoints: number;
  bInterfaceClass: number;
  bInterfaceSubClass: number;
  bInterfaceProtocol: number;
  /** The iInterface string; undefined when libccid could not read it. */
  iInterface?: string;
  /** The device of this block: normally the file's device; ELYCTIS_CL_reader.txt holds two devices. */
  vendorId: number;
  productId: number;
  manufacturer?: string;
  product?: string;
  /** The device's bcdDevice, as printed in this block (`0.10` -> 0x0010). */
  bcdDevice: number;
  /** The 54-byte class descriptor rebuilt from the printed fields; undefined when the block has none. */
  classDescriptor?: Uint8Array;
  /** Raw class-descriptor field values by spec name (empty when there is no class descriptor). */
  fields: Partial<Record<CcidClassFieldName, number>>;
  /** Explanation lines printed under each field (and under `interface` for the interface part), trimmed. */
  details: Record<string, string[]>;
  /** GET DATA RATES answer (bps), when the file lists one. */
  dataRates?: number[];
  /** GET CLOCK FREQUENCIES answer (kHz), when the file lists one. */
  clocksKHz?: number[];
}

/**
 * A parsed fixture file. The device fields come from the first block; each
 * interface also carries its own (one file, ELYCTIS_CL_reader.txt, lists two
 * different devices).
 */
export interface ReaderFixture {
  fileName: string;
  vendorId: number;
  productId: number;
  /** undefined when libccid could not read the string. */
  manufacturer?: string;
  product?: string;
  bcdDevice: number;
  interfaces: ReaderFixtureInterface[];
  /** Format oddities the loader worked around (wrapped lines, CRLF, several devices in one file). */
  oddities: string[];
}

/** One line of supported_readers.txt. */
export interface SupportedReader {
  vendorId: number;
  productId: number;
  name: string;
  /** The `# section:` it is listed under: supported, shouldwork, unsupported, disabled, duplicates. */
  section: string;
  /** The line is commented out (`#0x...`: the readers of the `disabled` section). */
  commentedOut?: boolean;
}

/** Thrown on any line the loader does not understand (so format surprises are seen, not skipped). */
export class ReaderFixtureFormatError extends Error {}

function fail(fileName: string, lineNo: number, line: string, why: string): never {
  throw new ReaderFixtureFormatError(`${fileName}:${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

const HEX_FIELDS = new Set<string>([
  'bLength',
  'bDescriptorType',
  'bMaxSlotIndex',
  'bVoltageSupport',
  'dwSynchProtocols',
  'dwMechanical',
  'dwFeatures',
  'bClassGetResponse',
  'bClassEnvelope',
  'wLcdLayout',
  'bPINSupport',
]);

/** Reads one printed class-descriptor value back into its raw number; undefined if the text does not fit. */
function parseFieldValue(name: CcidClassFieldName, text: string): number | undefined {
  let m: RegExpMatchArray | null;
  if (HEX_FIELDS.has(name)) {
    m = /^0x([0-9A-Fa-f]+)$/.exec(text);
    return m ? parseInt(m[1]!, 16) : undefined;
  }
  switch (name) {
    case 'bcdCCID':
      m = /^([0-9A-Fa-f]{1,2})\.([0-9A-Fa-f]{2})$/.exec(text);
      return m ? (parseInt(m[1]!, 16) << 8) | parseInt(m[2]!, 16) : undefined;
    case 'dwProtocols':
      m = /^0x([0-9A-Fa-f]{4}) 0x([0-9A-Fa-f]{4})$/.exec(text);
      return m ? ((parseInt(m[1]!, 16) << 16) | parseInt(m[2]!, 16)) >>> 0 : undefined;
    case 'dwDefaultClock':
    case 'dwMaximumClock':
      m = /^(-?)(\d+)\.(\d{3}) MHz$/.exec(text);
      if (!m) return undefined;
      return ((m[1] ? -1 : 1) * (parseInt(m[2]!, 10) * 1000 + parseInt(m[3]!, 10))) >>> 0;
    case 'dwDataRate':
    case 'dwMaxDataRate':
      m = /^(-?\d+) bps$/.exec(text);
      return m ? parseInt(m[1]!, 10) >>> 0 : undefined;
    case 'dwMaxCCIDMessageLength':
      m = /^(-?\d+) bytes$/.exec(text);
      return m ? parseInt(m[1]!, 10) >>> 0 : undefined;
    case 'bNumClockSupported':
    case 'bNumDataRatesSupported':
      m = /^(\d+)(?: \(will use whatever is returned\))?$/.exec(text);
      return m ? parseInt(m[1]!, 10) : undefined;
    default:
      // dwMaxIFSD, bMaxCCIDBusySlots
      m = /^(-?\d+)$/.exec(text);
      return m ? parseInt(m[1]!, 10) >>> 0 : undefined;
  }
}

/** Rebuilds the descriptor bytes from raw field values (all 22 must be there). */
export function buildClassDescriptorBytes(fields: Partial<Record<CcidClassFieldName, number>>): Uint8Array {
  const b = new Uint8Array(54);
  for (const name of CCID_CLASS_FIELD_NAMES) {
    const v = fields[name];
    if (v === undefined) throw new ReaderFixtureFormatError(`missing class descriptor field ${name}`);
    const [offset, size] = LAYOUT[name];
    if (size === 1) b[offset] = v;
    else if (size === 2) writeU16LE(b, offset, v);
    else writeU32LE(b, offset, v);
  }
  return b;
}

const INTERFACE_KEYS = [
  'bLength',
  'bDescriptorType',
  'bInterfaceNumber',
  'bAlternateSetting',
  'bNumEndpoints',
  'bInterfaceClass',
  'bInterfaceSubClass',
  'bInterfaceProtocol',
] as const;

interface Block {
  vendorId: number;
  manufacturer?: string;
  productId?: number;
  product?: string;
  iface: Partial<ReaderFixtureInterface> & { details: Record<string, string[]>; fields: Partial<Record<CcidClassFieldName, number>> };
  inClass: boolean;
  lastKey: string;
}

/**
 * Parses the text of one `parse` output file. Throws `ReaderFixtureFormatError`
 * on any line it does not understand. CRLF line ends are accepted.
 */
export function parseReaderFixture(text: string, fileName = '<text>'): ReaderFixture {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  const oddities: string[] = [];
  let b: Block | undefined;
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    let m: RegExpExecArray | null;
    if ((m = /^ idVendor: 0x([0-9A-Fa-f]{4})$/.exec(line))) {
      b = { vendorId: parseInt(m[1]!, 16), iface: { details: {}, fields: {} }, inClass: false, lastKey: 'device' };
      blocks.push(b);
      return;
    }
    if (!b) fail(fileName, lineNo, line, 'text before the first idVendor line');
    const blk = b;
    if (blk.inClass) {
      if ((m = /^ {2}(\w+): ?(.*)$/.exec(line)) && (CCID_CLASS_FIELD_NAMES as readonly string[]).includes(m[1]!)) {
        const name = m[1] as CcidClassFieldName;
        if (blk.iface.fields[name] !== undefined) fail(fileName, lineNo, line, 'field printed twice');
        const v = parseFieldValue(name, m[2]!.trim());
        if (v === undefined) fail(fileName, lineNo, line, `unreadable ${name} value`);
        blk.iface.fields[name] = v;
        blk.lastKey = name;
        return;
      }
      if (/^ {3}/.test(line)) {
        const detail = line.trim();
        if ((m = /^Support (-?\d+) (kHz|bps)$/.exec(detail))) {
          const v = parseInt(m[1]!, 10) >>> 0;
          if (m[2] === 'kHz') (blk.iface.clocksKHz ??= []).push(v);
          else (blk.iface.dataRates ??= []).push(v);
          return;
        }
        (blk.iface.details[blk.lastKey] ??= []).push(detail);
        return;
      }
      const lastDetails = blk.iface.details[blk.lastKey];
      if (/^\S/.test(line) && lastDetails && lastDetails.length > 0) {
        // A wrapped explanation line (Yubico_Yubikey_neo.txt: "... Fi, Di" / "params").
        lastDetails[lastDetails.length - 1] += ` ${line.trim()}`;
        oddities.push(`line ${lineNo} continues the line before it`);
        return;
      }
      fail(fileName, lineNo, line, 'unexpected line in the class descriptor');
    }
    if ((m = /^ {2}iManufacturer: (.*)$/.exec(line))) {
      blk.manufacturer = m[1]!;
      return;
    }
    if ((m = /^ {2}iProduct: (.*)$/.exec(line))) {
      blk.product = m[1]!;
      return;
    }
    if (/^ {2}Can't get i(Manufacturer|Product) string/.test(line)) return;
    if ((m = /^ idProduct: 0x([0-9A-Fa-f]{4})$/.exec(line))) {
      blk.productId = parseInt(m[1]!, 16);
      return;
    }
    if ((m = /^ bcdDevice: ([0-9A-Fa-f]{1,2})\.([0-9A-Fa-f]{1,2}) \(firmware release\?\)$/.exec(line))) {
      blk.iface.bcdDevice = (parseInt(m[1]!, 16) << 8) | parseInt(m[2]!, 16);
      return;
    }
    if ((m = /^ bInterfaceClass: 0x([0-9A-Fa-f]{2})(?: \[.*\])?$/.exec(line))) {
      blk.iface.bInterfaceClass = parseInt(m[1]!, 16);
      blk.lastKey = 'interface';
      return;
    }
    if ((m = /^ (\w+): (\d+)$/.exec(line)) && (INTERFACE_KEYS as readonly string[]).includes(m[1]!)) {
      const key = m[1] as (typeof INTERFACE_KEYS)[number];
      if (blk.iface[key] !== undefined) fail(fileName, lineNo, line, 'interface field printed twice');
      blk.iface[key] = parseInt(m[2]!, 10);
      blk.lastKey = 'interface';
      return;
    }
    if ((m = /^ iInterface: (.*)$/.exec(line))) {
      blk.iface.iInterface = m[1]!;
      return;
    }
    if (/^ Can't get iInterface string/.test(line)) return;
    if (line === ' CCID Class Descriptor') {
      blk.inClass = true;
      blk.lastKey = 'classDescriptor';
      return;
    }
    if (/^ {2}\S/.test(line)) {
      (blk.iface.details['interface'] ??= []).push(line.trim());
      return;
    }
    fail(fileName, lineNo, line, 'unexpected line');
  });
  if (blocks.length === 0) throw new ReaderFixtureFormatError(`${fileName}: no idVendor line`);

  const interfaces = blocks.map((blk, k): ReaderFixtureInterface => {
    const f = blk.iface;
    for (const key of [...INTERFACE_KEYS, 'bcdDevice'] as const) {
      if (f[key] === undefined) throw new ReaderFixtureFormatError(`${fileName}: block ${k + 1} has no ${key}`);
    }
    if (blk.productId === undefined) throw new ReaderFixtureFormatError(`${fileName}: block ${k + 1} has no idProduct`);
    const out: ReaderFixtureInterface = {
      vendorId: blk.vendorId,
      productId: blk.productId,
      bLength: f.bLength!,
      bDescriptorType: f.bDescriptorType!,
      bInterfaceNumber: f.bInterfaceNumber!,
      bAlternateSetting: f.bAlternateSetting!,
      bNumEndpoints: f.bNumEndpoints!,
      bInterfaceClass: f.bInterfaceClass!,
      bInterfaceSubClass: f.bInterfaceSubClass!,
      bInterfaceProtocol: f.bInterfaceProtocol!,
      bcdDevice: f.bcdDevice!,
      fields: f.fields,
      details: f.details,
    };
    if (blk.manufacturer !== undefined) out.manufacturer = blk.manufacturer;
    if (blk.product !== undefined) out.product = blk.product;
    if (f.iInterface !== undefined) out.iInterface = f.iInterface;
    if (blk.inClass) {
      const missing = CCID_CLASS_FIELD_NAMES.filter((n) => f.fields[n] === undefined);
      // libccid stops printing after an unsupported bLength / bDescriptorType: no bytes then.
      if (missing.length === 0) out.classDescriptor = buildClassDescriptorBytes(f.fields);
    }
    if (f.dataRates) out.dataRates = f.dataRates;
    if (f.clocksKHz) out.clocksKHz = f.clocksKHz;
    return out;
  });
  const first = blocks[0]!;
  const fixture: ReaderFixture = {
    fileName,
    vendorId: first.vendorId,
    productId: first.productId!,
    bcdDevice: interfaces[0]!.bcdDevice,
    interfaces,
    oddities,
  };
  if (text.includes('\r')) oddities.push('CRLF line ends');
  if (blocks.some((blk) => blk.vendorId !== first.vendorId || blk.productId !== first.productId)) {
    oddities.push('blocks of different devices');
  }
  if (first.manufacturer !== undefined) fixture.manufacturer = first.manufacturer;
  if (first.product !== undefined) fixture.product = first.product;
  return fixture;
}

/** Absolute path of the `ccid-readers` fixture folder (test/fixtures/ccid-readers/, see its README.md). */
export const READER_FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/ccid-readers');

/** File names of every `parse` output in the folder (sorted; without supported_readers.txt). */
export function listReaderFixtures(): string[] {
  return readdirSync(READER_FIXTURES_DIR)
    .filter((f) => f.endsWith('.txt') && f !== 'supported_readers.txt')
    .sort();
}

/**
 * Reads and parses one fixture file, e.g. `loadReaderFixture('CASTLES_EZCCID_Smart_Card_Reader.txt')`
 * (the `.txt` may be left out). Files are read as Latin-1 (one has a binary iInterface string).
 */
export function loadReaderFixture(fileName: string): ReaderFixture {
  const name = fileName.endsWith('.txt') ? fileName : `${fileName}.txt`;
  const text = readFileSync(path.join(READER_FIXTURES_DIR, name), 'latin1');
  return parseReaderFixture(text, name);
}

/**
 * Parses supported_readers.txt: `0xVID:0xPID:Name` lines grouped by `# section: name`
 * (the `disabled` section lists its readers commented out: `#0xVID:0xPID:Name`).
 */
export function parseSupportedReaders(text: string): SupportedReader[] {
  const out: SupportedReader[] = [];
  let section = '';
  text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .forEach((line, i) => {
      let m: RegExpExecArray | null;
      if ((m = /^# section: (\w+)\s*$/.exec(line))) {
        section = m[1]!;
        return;
      }
      if ((m = /^(#?)0x([0-9A-Fa-f]{4}):0x([0-9A-Fa-f]{4}):(.+)$/.exec(line))) {
        const r: SupportedReader = { vendorId: parseInt(m[2]!, 16), productId: parseInt(m[3]!, 16), name: m[4]!.trim(), section };
        if (m[1]) r.commentedOut = true;
        out.push(r);
        return;
      }
      if (line.trim() === '' || line.startsWith('#')) return;
      throw new ReaderFixtureFormatError(`supported_readers.txt:${i + 1}: unexpected line ${JSON.stringify(line)}`);
    });
  return out;
}

/** Reads supported_readers.txt from the fixture folder. */
export function loadSupportedReaders(): SupportedReader[] {
  return parseSupportedReaders(readFileSync(path.join(READER_FIXTURES_DIR, 'supported_readers.txt'), 'latin1'));
}
