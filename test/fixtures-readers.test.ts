/**
 * Every real reader of libccid's list (fixtures/ccid-readers/, `parse` output):
 * rebuild the 54-byte CCID class descriptor from the printed fields, decode it
 * with parseCcidClassDescriptor and check every decoded field, and every
 * derived flag, against what libccid printed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCcidClassDescriptor, encodeCcidClassDescriptor, type CcidClassDescriptor } from '../src/ccid/descriptor.js';
import { findCcidInterface, parseConfigurationDescriptor } from '../src/usb/config-descriptor.js';
import { encodeConfigurationDescriptor } from '../src/usb/config-descriptor-encode.js';
import { isWebCcidError } from '../src/errors.js';
import {
  CCID_CLASS_FIELD_NAMES,
  listReaderFixtures,
  loadReaderFixture,
  loadSupportedReaders,
  parseReaderFixture,
  READER_FIXTURES_DIR,
  ReaderFixtureFormatError,
  type ReaderFixture,
  type ReaderFixtureInterface,
} from './helpers/reader-fixture.js';

const files = listReaderFixtures();
const loadReaderFixtureText = (name: string): string => readFileSync(path.join(READER_FIXTURES_DIR, name), 'latin1');
const fixtures = new Map<string, ReaderFixture>(files.map((f) => [f, loadReaderFixture(f)]));
const allInterfaces = [...fixtures.values()].flatMap((f) => f.interfaces.map((i) => ({ file: f.fileName, i })));

/** The meaning of one explanation line printed under dwFeatures (libccid parse.c, old and new wording). */
function featureToken(line: string, dwFeatures: number): string {
  let text = line;
  const m = /^([0-9A-F.]{6}) (.*)$/.exec(line);
  if (m) {
    const prefix = m[1]!;
    text = m[2]!;
    // The hex in the prefix must be the bits it names: "....02" byte 0, "..01.." byte 1, "04...." byte 2.
    const byteIndex = prefix.startsWith('....') ? 0 : prefix.startsWith('..') ? 1 : 2;
    const value = parseInt(prefix.replace(/\./g, ''), 16);
    const actual = (dwFeatures >>> (8 * byteIndex)) & 0xff;
    if (byteIndex === 2 && /level exchange/.test(text)) {
      if ((actual & 0x07) !== value) return `bad-prefix:${line}`;
    } else if ((actual & value) !== value) {
      return `bad-prefix:${line}`;
    }
  }
  const table: Array<[RegExp, string]> = [
    [/^No special characteristics$/, 'none'],
    [/^Automatic parameter configuration based on ATR data$/, 'autoParameters'],
    [/^Automatic activation of ICC on inserting$/, 'autoActivation'],
    [/^Automatic ICC voltage selection$/, 'autoVoltage'],
    [/^Automatic ICC clock frequency change according to parameters$/, 'autoClock'],
    [/^Automatic baud rate change according to frequency and Fi, Di( params| parameters)?$/, 'autoBaud'],
    [/^Automatic parameters negotiation made by the CCID$/, 'autoPpsProprietary'],
    [/^Automatic PPS made by the CCID$/, 'autoPps80'],
    [/^CCID can set ICC in clock stop mode$/, 'clockStop'],
    [/^NAD value other than 00 accepted \(T=1\)$/, 'nadOtherThan00'],
    [/^Automatic IFSD exchange as first exchange \(T=1\)$/, 'autoIfsd'],
    [/^(Unknown \(ICCD\?\)|ICCD token)$/, 'bit0x800'],
    [/^Character level exchange$/, 'level:character'],
    [/^TPDU level exchange$/, 'level:tpdu'],
    [/^Short APDU level exchange$/, 'level:short-apdu'],
    [/^Short and Extended APDU level exchange$/, 'level:extended-apdu'],
    [/^USB Wake up signaling supported on card insertion and removal$/, 'usbWakeUp'],
  ];
  for (const [re, token] of table) if (re.test(text)) return token;
  return `unknown:${line}`;
}

/** The dwFeatures lines libccid prints, as tokens, from our decoding. */
function expectedFeatureTokens(d: CcidClassDescriptor): string[] {
  const f = d.features;
  const t: string[] = [];
  if (d.dwFeatures === 0) t.push('none');
  if (f.autoParameters) t.push('autoParameters');
  if (f.autoActivation) t.push('autoActivation');
  if (f.autoVoltage) t.push('autoVoltage');
  if (f.autoClock) t.push('autoClock');
  if (f.autoBaud) t.push('autoBaud');
  if (f.autoPpsProprietary) t.push('autoPpsProprietary');
  if (f.autoPps && !f.autoPpsProprietary) t.push('autoPps80');
  if (f.autoPps && f.autoPpsProprietary && d.dwFeatures & 0x80) t.push('autoPps80');
  if (f.clockStop) t.push('clockStop');
  if (f.nadOtherThan00) t.push('nadOtherThan00');
  if (f.autoIfsd) t.push('autoIfsd');
  if (d.dwFeatures & 0x800) t.push('bit0x800');
  t.push(`level:${d.exchangeLevel}`);
  if (f.usbWakeUp) t.push('usbWakeUp');
  return t;
}

function flags(pairs: Array<[boolean, string]>): string[] {
  return pairs.filter(([on]) => on).map(([, s]) => s);
}

function checkNumberedAnswer(lines: string[], what: 'clock frequencies' | 'data rates', declared: number, got: number[] | undefined): void {
  const request = what === 'clock frequencies' ? 'GET CLOCK FREQUENCIES' : 'GET_DATA_RATES';
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if (new RegExp(`^IFD does not support ${request} request(: .*)?$`).test(line)) continue;
    if ((m = new RegExp(`^wrong size for ${request}: (\\d+)$`).exec(line))) {
      expect(Number(m[1]) % 4, line).not.toBe(0);
      continue;
    }
    if ((m = new RegExp(`^Got (\\d+) ${what} but was expecting (\\d+)$`).exec(line))) {
      // an old parse printed 256 for bNum…Supported = 0
      expect(Number(m[2]), line).toBe(declared === 0 ? 256 : declared);
      expect(got?.length, line).toBe(Math.min(Number(m[1]), declared || 256));
      continue;
    }
    expect.unreachable(`unexpected line under bNum…Supported: ${line}`);
  }
  if (got && declared > 0) expect(got.length).toBeLessThanOrEqual(declared);
}

/**
 * Explanation lines that an older version of libccid's parse did not print
 * (the field is there, its explanation is not): `file field` entries.
 */
const omitted: string[] = [];

/** Checks one interface: raw fields, derived fields, and the printed explanation lines. */
function checkInterface(i: ReaderFixtureInterface, file: string): void {
  expect(i.classDescriptor, 'class descriptor rebuilt').toBeDefined();
  const bytes = i.classDescriptor!;
  expect(bytes.length).toBe(54);
  const d = parseCcidClassDescriptor(bytes);

  // every raw field, as printed
  for (const name of CCID_CLASS_FIELD_NAMES) expect(d[name], name).toBe(i.fields[name]);
  // and back to the same bytes
  expect(encodeCcidClassDescriptor(d)).toEqual(bytes);

  const details = (k: string): string[] => i.details[k] ?? [];
  /**
   * The lines printed under `k` must be exactly `expected`. For the three fields
   * whose explanations old parse versions did not print, none at all is accepted
   * (and recorded in `omitted`).
   */
  const expectDetails = (k: string, expected: string[]): void => {
    const oldParseMayOmit = k === 'dwSynchProtocols' || k === 'bClassGetResponse' || k === 'bClassEnvelope';
    if (oldParseMayOmit && i.details[k] === undefined && expected.length > 0) {
      omitted.push(`${file} ${k}`);
      return;
    }
    expect(details(k), k).toEqual(expected);
  };
  // fields with no explanation lines
  for (const k of ['bLength', 'bcdCCID', 'bMaxSlotIndex', 'dwDefaultClock', 'dwMaximumClock', 'dwDataRate', 'dwMaxDataRate', 'dwMaxIFSD', 'dwMaxCCIDMessageLength', 'bMaxCCIDBusySlots', 'classDescriptor']) {
    expect(details(k), k).toEqual([]);
  }
  expectDetails('bDescriptorType', d.bDescriptorType === 0xff ? ['PROPRIETARY bDescriptorType'] : []);
  expectDetails('bVoltageSupport', flags([[d.voltages.v5, '5.0V'], [d.voltages.v3, '3.0V'], [d.voltages.v1_8, '1.8V']]));
  expectDetails('dwProtocols', d.protocols.map((t) => `T=${t}`));
  const sync = d.dwSynchProtocols & 0xff;
  expectDetails('dwSynchProtocols', flags([[!!(sync & 1), '2-wire protocol'], [!!(sync & 2), '3-wire protocol'], [!!(sync & 4), 'I2C protocol']]));
  const mech = d.dwMechanical & 0xff;
  expectDetails('dwMechanical', 
    flags([
      [mech === 0, 'No special characteristics'],
      [!!(mech & 1), 'Card accept mechanism'],
      [!!(mech & 2), 'Card ejection mechanism'],
      [!!(mech & 4), 'Card capture mechanism'],
      [!!(mech & 8), 'Card lock/unlock mechanism'],
    ]),
  );
  expect(details('dwFeatures').map((l) => featureToken(l, d.dwFeatures)), 'dwFeatures').toEqual(expectedFeatureTokens(d));
  expectDetails('bClassGetResponse', d.bClassGetResponse === 0xff ? ['echoes the APDU class'] : []);
  expectDetails('bClassEnvelope', d.bClassEnvelope === 0xff ? ['echoes the APDU class'] : []);
  expectDetails('wLcdLayout', 
    d.lcd ? flags([[d.lcd.lines > 0, `${d.lcd.lines} lines`], [d.lcd.charactersPerLine > 0, `${d.lcd.charactersPerLine} characters per line`]]) : [],
  );
  expect(d.features.lcdPresent).toBe(d.lcd !== undefined);
  expectDetails('bPINSupport', flags([[d.pinpad.verify, 'PIN Verification supported'], [d.pinpad.modify, 'PIN Modification supported']]));
  expect(d.features.pinpad).toBe(d.pinpad.verify || d.pinpad.modify);
  checkNumberedAnswer(details('bNumClockSupported'), 'clock frequencies', d.bNumClockSupported, i.clocksKHz);
  checkNumberedAnswer(details('bNumDataRatesSupported'), 'data rates', d.bNumDataRatesSupported, i.dataRates);
  expect(d.maxSlots).toBe(d.bMaxSlotIndex + 1);

  // interface part
  const ifLines = details('interface');
  const endpointText = ['Control only', 'Interrupt-IN', 'bulk-IN and bulk-OUT', 'bulk-IN, bulk-OUT and Interrupt-IN'][i.bNumEndpoints] ?? 'UNKNOWN value';
  const known = new Set([
    endpointText,
    'NOT A CCID DEVICE',
    'Class is 0xFF (proprietary)',
    'UNSUPPORTED SubClass',
    'bulk transfer, optional interrupt-IN (CCID)',
    'bulk transfer, optional interrupt-IN',
    'ICCD Version A, Control transfers, (no interrupt-IN)',
    'ICCD Version B, Control transfers, (optional interrupt-IN)',
    'UNSUPPORTED InterfaceProtocol',
  ]);
  for (const l of ifLines) expect(known.has(l), `interface line ${l}`).toBe(true);
  expect(ifLines.includes('NOT A CCID DEVICE')).toBe(i.bInterfaceClass !== 0x0b);
  expect(ifLines.includes('UNSUPPORTED SubClass')).toBe(i.bInterfaceSubClass !== 0);
  const protoText = ifLines.find((l) => /transfer|InterfaceProtocol/.test(l));
  if (protoText) {
    // (an old parse printed "UNSUPPORTED InterfaceProtocol" for ICCD)
    const expected = i.bInterfaceProtocol === 0 ? /^bulk transfer/ : i.bInterfaceProtocol === 1 ? /^(ICCD Version A|UNSUPPORTED)/ : i.bInterfaceProtocol === 2 ? /^(ICCD Version B|UNSUPPORTED)/ : /^UNSUPPORTED/;
    expect(protoText).toMatch(expected);
  }
}

/**
 * Models the reader's configuration descriptor from the fixture (class
 * descriptor first, then bulk-out, bulk-in, interrupt-in as bNumEndpoints says;
 * ICCD interfaces get an interrupt endpoint or none), then checks that
 * findCcidInterface finds it (bulk readers) or refuses it (ICCD, control only).
 */
function checkFindInterface(i: ReaderFixtureInterface): 'found' | 'refused' {
  const bulk = [
    { bEndpointAddress: 0x01, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 },
    { bEndpointAddress: 0x82, bmAttributes: 2, wMaxPacketSize: 64, bInterval: 0 },
  ];
  const intr = { bEndpointAddress: 0x83, bmAttributes: 3, wMaxPacketSize: 8, bInterval: 16 };
  const endpoints = i.bNumEndpoints >= 3 ? [...bulk, intr] : i.bNumEndpoints === 2 ? bulk : i.bNumEndpoints === 1 ? [intr] : [];
  const raw = encodeConfigurationDescriptor({
    bConfigurationValue: 1,
    interfaces: [
      {
        bInterfaceNumber: i.bInterfaceNumber,
        bAlternateSetting: i.bAlternateSetting,
        bInterfaceClass: i.bInterfaceClass,
        bInterfaceSubClass: i.bInterfaceSubClass,
        bInterfaceProtocol: i.bInterfaceProtocol,
        extra: [i.classDescriptor!],
        endpoints,
      },
    ],
  });
  const config = parseConfigurationDescriptor(raw);
  try {
    const found = findCcidInterface(config);
    expect(found.classDescriptor).toEqual(i.classDescriptor);
    expect(found.bulkIn.bEndpointAddress).toBe(0x82);
    return 'found';
  } catch (e) {
    expect(isWebCcidError(e, 'ccid/no-interface')).toBe(true);
    expect(i.bNumEndpoints).toBeLessThan(2);
    return 'refused';
  }
}

describe('libccid reader fixtures', () => {
  it('parses every file: 691 readers, 773 interfaces, each with its class descriptor', () => {
    expect(files.length).toBe(691);
    expect(allInterfaces.length).toBe(773);
    expect(allInterfaces.filter(({ i }) => i.classDescriptor).length).toBe(773);
    const multi = [...fixtures.values()].filter((f) => f.interfaces.length > 1);
    expect(multi.length).toBe(62);
  });

  it.each(files)('%s: every printed field matches the decoded descriptor', (file) => {
    const fx = fixtures.get(file)!;
    expect(fx.interfaces.length).toBeGreaterThan(0);
    for (const i of fx.interfaces) checkInterface(i, file);
  });

  it('explanation lines missing only where an old parse did not print them', () => {
    omitted.length = 0;
    for (const { file, i } of allInterfaces) checkInterface(i, file);
    expect(omitted).toEqual([
      'CardMan3121.txt dwSynchProtocols',
      'CardMan3621.txt dwSynchProtocols',
      'CardMan3821.txt dwSynchProtocols',
      'CardMan5121.txt dwSynchProtocols',
      'CherryXX44.txt dwSynchProtocols',
      'SCR331-DI-NTTCom.txt bClassGetResponse',
      'SCR331-DI-NTTCom.txt bClassEnvelope',
    ]);
  });

  it('the checker catches a decoding that disagrees with the printed lines', () => {
    const text = loadReaderFixtureText('CASTLES_EZCCID_Smart_Card_Reader.txt');
    const check = (t: string) => () => checkInterface(parseReaderFixture(t).interfaces[0]!, 'mutated');
    expect(check(text)).not.toThrow();
    expect(check(text.replace('dwFeatures: 0x00010130', 'dwFeatures: 0x00020130'))).toThrow(/dwFeatures/);
    expect(check(text.replace('dwFeatures: 0x00010130', 'dwFeatures: 0x00010132'))).toThrow(/dwFeatures/);
    expect(check(text.replace('bVoltageSupport: 0x01', 'bVoltageSupport: 0x03'))).toThrow(/bVoltageSupport/);
    expect(check(text.replace('bPINSupport: 0x00', 'bPINSupport: 0x01'))).toThrow(/bPINSupport/);
    expect(check(text.replace('dwProtocols: 0x0000 0x0003', 'dwProtocols: 0x0000 0x0002'))).toThrow(/dwProtocols/);
    expect(check(text.replace('bNumDataRatesSupported: 15', 'bNumDataRatesSupported: 14'))).toThrow();
    expect(check(text.replace('   ....20 Automatic baud', '   ....40 Automatic baud'))).toThrow(/dwFeatures/);
    omitted.length = 0;
  });

  it('findCcidInterface accepts every bulk reader and refuses the ICCD / control-only interfaces', () => {
    const outcome = { found: 0, refused: 0 };
    for (const { i } of allInterfaces) outcome[checkFindInterface(i)]++;
    const notBulk = allInterfaces.filter(({ i }) => i.bNumEndpoints < 2).length;
    expect(outcome.refused).toBe(notBulk);
    expect(outcome.found + outcome.refused).toBe(773);
  });

  it('tallies: exchange levels, vendor-class interfaces, GET DATA RATES answers, odd files', () => {
    const levels: Record<string, number> = {};
    for (const { i } of allInterfaces) {
      const l = parseCcidClassDescriptor(i.classDescriptor!).exchangeLevel;
      levels[l] = (levels[l] ?? 0) + 1;
    }
    expect(levels).toEqual({ character: 6, tpdu: 278, 'short-apdu': 194, 'extended-apdu': 295 });
    expect(allInterfaces.filter(({ i }) => i.bInterfaceClass === 0xff).length).toBe(26);
    expect(allInterfaces.filter(({ i }) => i.fields.bDescriptorType === 0xff).map(({ file }) => file).length).toBe(5);
    expect(allInterfaces.filter(({ i }) => i.bInterfaceProtocol === 1 || i.bInterfaceProtocol === 2).length).toBe(12);
    // (the note that came with the snapshot said 173 files list data rates; the files say 236)
    expect([...fixtures.values()].filter((f) => f.interfaces.some((i) => i.dataRates)).length).toBe(236);
    expect([...fixtures.values()].filter((f) => f.interfaces.some((i) => i.clocksKHz)).length).toBe(219);
    const odd = [...fixtures.values()].filter((f) => f.oddities.length > 0).map((f) => `${f.fileName}: ${f.oddities.join('; ')}`);
    expect(odd).toEqual([
      'Bit4id_Digital_DNA_Key_v2.txt: CRLF line ends',
      'ELYCTIS_CL_reader.txt: blocks of different devices',
      'Yubico_Yubikey_neo.txt: line 46 continues the line before it',
    ]);
    // the character-level readers (the driver must reject them clearly)
    const character = allInterfaces.filter(({ i }) => parseCcidClassDescriptor(i.classDescriptor!).exchangeLevel === 'character').map(({ file }) => file);
    expect(character.sort()).toEqual(['BIFIT_iBank2key.txt', 'KEBTechnology_KONA_USB_SmartCard.txt', 'Oz776S.txt', 'Oz776_7772.txt', 'Winbond.txt', 'e-gate.txt']);
  });

  it("decodes the readers met with Taiwan's health cards", () => {
    const ez = loadReaderFixture('CASTLES_EZCCID_Smart_Card_Reader');
    expect([ez.vendorId, ez.productId, ez.manufacturer, ez.product, ez.bcdDevice]).toEqual([0x0ca6, 0x00a0, 'CASTLES', 'EZCCID Smart Card Reader', 0x0010]);
    const ezd = parseCcidClassDescriptor(ez.interfaces[0]!.classDescriptor!);
    expect(ezd).toMatchObject({ exchangeLevel: 'tpdu', dwDefaultClock: 3580, dwMaximumClock: 3580, dwDataRate: 9600, dwMaxDataRate: 115200, bVoltageSupport: 1, dwMaxIFSD: 252, dwMaxCCIDMessageLength: 271, bcdCCID: 0x0100 });
    expect(ez.interfaces[0]!.clocksKHz).toEqual([3580]);
    expect(ez.interfaces[0]!.dataRates).toEqual([9600, 12800, 13950, 18600, 19200, 23040, 27900, 28800, 37200, 38400, 55800, 57600, 74400, 111600, 115200]);
    expect(ezd.features).toMatchObject({ autoParameters: false, autoPps: false, autoClock: true, autoBaud: true, clockStop: true });

    for (const [file, pid] of [['INMAX_DWR18_HC', 0x750c], ['INMAX_DWR18_HPC', 0x750d]] as const) {
      const fx = loadReaderFixture(file);
      expect([fx.vendorId, fx.productId]).toEqual([0x1403, pid]);
      const d = parseCcidClassDescriptor(fx.interfaces[0]!.classDescriptor!);
      expect(d.exchangeLevel).toBe('short-apdu');
    }
    const hc = loadReaderFixture('INMAX_DWR18_HC.txt');
    expect(hc.interfaces[0]!.dataRates?.length).toBe(21);
    expect(parseCcidClassDescriptor(hc.interfaces[0]!.classDescriptor!)).toMatchObject({
      dwFeatures: 0x000207ba,
      bcdCCID: 0x0110,
      bClassGetResponse: 0xff,
      bClassEnvelope: 0xff,
      features: { autoParameters: true, autoVoltage: true, autoPps: true, autoPpsProprietary: false, autoIfsd: true, nadOtherThan00: true },
    });
    const it500 = loadReaderFixture('InfoThink_IT-500U_Reader');
    expect([it500.vendorId, it500.productId]).toEqual([0x1403, 0x7506]);
  });

  it('reads odd printed values exactly (bcdCCID 10.01, dwProtocols 0x0000 0x0300, negative GET answers)', () => {
    const bcds = new Set(allInterfaces.map(({ i }) => i.fields.bcdCCID));
    expect([...bcds].sort((a, b) => a! - b!)).toEqual([0x0100, 0x0101, 0x0110, 0x0200, 0x0210, 0x1000, 0x1001]);
    const weird = allInterfaces.find(({ i }) => i.fields.dwProtocols === 0x0300);
    expect(weird).toBeDefined();
    expect(parseCcidClassDescriptor(weird!.i.classDescriptor!).protocols).toEqual([]);
    expect(allInterfaces.some(({ i }) => i.fields.dwProtocols === 0x00020003)).toBe(true);
    const avtor = loadReaderFixture('Avtor_SecureToken_0x0020.txt');
    expect(avtor.interfaces[0]!.clocksKHz).toEqual([-217251840 >>> 0]);
    expect(avtor.interfaces[0]!.dataRates).toEqual([115200]);
  });

  it('keeps per-interface devices of ELYCTIS_CL_reader.txt apart', () => {
    const fx = loadReaderFixture('ELYCTIS_CL_reader.txt');
    expect(fx.interfaces.map((i) => [i.vendorId, i.productId, i.product])).toEqual([
      [0x1ffa, 0x0002, 'CL reader'],
      [0x04e6, 0x5810, 'CNT reader'],
      [0x04e6, 0x5810, 'CNT reader'],
    ]);
    expect([fx.vendorId, fx.productId]).toEqual([0x1ffa, 0x0002]);
  });

  it('the loader refuses text it does not understand', () => {
    expect(() => parseReaderFixture('hello')).toThrow(ReaderFixtureFormatError);
    expect(() => parseReaderFixture(' idVendor: 0x1234\n idProduct: 0x0001\n bcdDevice: 1.00 (firmware release?)\n bLength: 9\n bogus line')).toThrow(ReaderFixtureFormatError);
    expect(() => parseReaderFixture(' idVendor: 0x1234\n idProduct: 0x0001\n bcdDevice: 1.00 (firmware release?)\n bLength: 9')).toThrow(/no bDescriptorType/);
    const text = loadReaderFixtureText('CASTLES_EZCCID_Smart_Card_Reader.txt');
    expect(() => parseReaderFixture(text.replace('dwMaxIFSD: 252', 'dwMaxIFSD: lots'))).toThrow(/unreadable dwMaxIFSD/);
    expect(() => parseReaderFixture(text.replace('  dwMaxIFSD: 252', '  dwMaxIFSD: 252\n  dwMaxIFSD: 252'))).toThrow(/printed twice/);
    // a class descriptor cut short (libccid stops after an unsupported bLength): no bytes
    const cut = parseReaderFixture(text.slice(0, text.indexOf('  bcdCCID')));
    expect(cut.interfaces[0]!.classDescriptor).toBeUndefined();
    expect(cut.interfaces[0]!.fields).toEqual({ bLength: 0x36, bDescriptorType: 0x21 });
  });
});

describe('supported_readers.txt', () => {
  const list = loadSupportedReaders();
  it('lists 716 readers in five sections (disabled and duplicates commented out)', () => {
    const count: Record<string, number> = {};
    for (const r of list) count[r.section + (r.commentedOut ? ' (#)' : '')] = (count[r.section + (r.commentedOut ? ' (#)' : '')] ?? 0) + 1;
    expect(count).toEqual({ supported: 61, shouldwork: 552, unsupported: 29, 'disabled (#)': 14, 'duplicates (#)': 60 });
  });

  it('names every fixture device (vendor:product)', () => {
    const ids = new Set(list.map((r) => `${r.vendorId}:${r.productId}`));
    const missing = [...fixtures.values()].filter((f) => !ids.has(`${f.vendorId}:${f.productId}`)).map((f) => f.fileName);
    expect(missing).toEqual([]);
    const castles = list.find((r) => r.vendorId === 0x0ca6 && r.productId === 0x00a0);
    expect(castles?.name).toMatch(/EZCCID/);
  });
});
