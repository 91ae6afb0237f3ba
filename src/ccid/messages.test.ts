/**
 * Tests of the CCID message codec against byte layouts written by hand from
 * USB CCID rev 1.10 §6.1 (PC_to_RDR), §6.2 (RDR_to_PC bulk-in) and §6.3
 * (interrupt-in). Header: bMessageType, dwLength (LE, length of abData), bSlot,
 * bSeq, three message-specific bytes, then abData.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromHex, toHex } from '../bytes.js';
import { CcidError, SlotError } from '../errors.js';
import {
  CCID_ERROR,
  CCID_HEADER_LENGTH,
  commandStatus,
  decodeCommand,
  decodeNotification,
  decodeResponse,
  encodeCommand,
  encodeNotification,
  encodeResponse,
  iccStatus,
  peekHeader,
  RESPONSE_FOR,
  slotErrorFrom,
  type CcidCommand,
  type CcidNotification,
  type CcidResponse,
} from './ccid-messages.js';
import * as M from './ccid-messages.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CcidError) return e.code;
    throw e;
  }
  return undefined;
}

/** decode() fills abData with an empty array where encode() took none. */
function withData<T extends { abData?: Uint8Array }>(m: T): T {
  return { ...m, abData: m.abData ?? new Uint8Array(0) };
}

const PIN_VERIFY =
  // bPINOperation=00 (verify), bTimeOut, bmFormatString, bmPINBlockString, bmPINLengthFormat,
  // wPINMaxExtraDigit=0x0408 (LE), bEntryValidationCondition, bNumberMessage, wLangId=0x0409 (LE),
  // bMsgIndex, bTeoPrologue[3], abPINApdu (13 bytes)
  '00 1E 82 08 00 08 04 02 01 09 04 00 00 00 00 00 20 00 81 08 FF FF FF FF FF FF FF FF';

describe('message type constants (CCID 1.10 §6)', () => {
  it('has the spec values', () => {
    expect([
      M.PC_to_RDR_SetParameters,
      M.PC_to_RDR_IccPowerOn,
      M.PC_to_RDR_IccPowerOff,
      M.PC_to_RDR_GetSlotStatus,
      M.PC_to_RDR_Secure,
      M.PC_to_RDR_T0APDU,
      M.PC_to_RDR_Escape,
      M.PC_to_RDR_GetParameters,
      M.PC_to_RDR_ResetParameters,
      M.PC_to_RDR_IccClock,
      M.PC_to_RDR_XfrBlock,
      M.PC_to_RDR_Mechanical,
      M.PC_to_RDR_Abort,
      M.PC_to_RDR_SetDataRateAndClockFrequency,
    ]).toEqual([0x61, 0x62, 0x63, 0x65, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x71, 0x72, 0x73]);
    expect([M.RDR_to_PC_DataBlock, M.RDR_to_PC_SlotStatus, M.RDR_to_PC_Parameters, M.RDR_to_PC_Escape, M.RDR_to_PC_DataRateAndClockFrequency]).toEqual([
      0x80, 0x81, 0x82, 0x83, 0x84,
    ]);
    expect([M.RDR_to_PC_NotifySlotChange, M.RDR_to_PC_HardwareError]).toEqual([0x50, 0x51]);
    expect([M.CCID_REQUEST_ABORT, M.CCID_REQUEST_GET_CLOCK_FREQUENCIES, M.CCID_REQUEST_GET_DATA_RATES]).toEqual([1, 2, 3]);
    expect([M.LEVEL_SINGLE, M.LEVEL_BEGIN, M.LEVEL_END, M.LEVEL_CONTINUE, M.LEVEL_EMPTY_CONTINUE]).toEqual([0, 1, 2, 3, 0x10]);
    expect(CCID_HEADER_LENGTH).toBe(10);
    expect(CCID_ERROR).toEqual({
      CMD_ABORTED: 0xff,
      ICC_MUTE: 0xfe,
      XFR_PARITY_ERROR: 0xfd,
      XFR_OVERRUN: 0xfc,
      HW_ERROR: 0xfb,
      BAD_ATR_TS: 0xf8,
      BAD_ATR_TCK: 0xf7,
      ICC_PROTOCOL_NOT_SUPPORTED: 0xf6,
      ICC_CLASS_NOT_SUPPORTED: 0xf5,
      PROCEDURE_BYTE_CONFLICT: 0xf4,
      DEACTIVATED_PROTOCOL: 0xf3,
      BUSY_WITH_AUTO_SEQUENCE: 0xf2,
      PIN_TIMEOUT: 0xf0,
      PIN_CANCELLED: 0xef,
      CMD_SLOT_BUSY: 0xe0,
      CMD_NOT_SUPPORTED: 0x00,
    });
  });

  it('pairs every command with the response type of §6.2', () => {
    expect(RESPONSE_FOR).toEqual({
      IccPowerOn: 'DataBlock',
      IccPowerOff: 'SlotStatus',
      GetSlotStatus: 'SlotStatus',
      XfrBlock: 'DataBlock',
      GetParameters: 'Parameters',
      ResetParameters: 'Parameters',
      SetParameters: 'Parameters',
      Escape: 'Escape',
      IccClock: 'SlotStatus',
      T0APDU: 'SlotStatus',
      Secure: 'DataBlock',
      Mechanical: 'SlotStatus',
      Abort: 'SlotStatus',
      SetDataRateAndClockFrequency: 'DataRateAndClockFrequency',
    });
  });
});

// [description, command, hand-written bytes]
const COMMANDS: Array<[string, CcidCommand, string]> = [
  ['IccPowerOn 5 V (§6.1.1)', { name: 'IccPowerOn', bSlot: 0, bSeq: 1, bPowerSelect: 1 }, '62 00000000 00 01 01 0000'],
  ['IccPowerOn automatic voltage', { name: 'IccPowerOn', bSlot: 1, bSeq: 0xff, bPowerSelect: 0 }, '62 00000000 01 FF 00 0000'],
  ['IccPowerOff (§6.1.2)', { name: 'IccPowerOff', bSlot: 1, bSeq: 2 }, '63 00000000 01 02 000000'],
  ['GetSlotStatus (§6.1.3)', { name: 'GetSlotStatus', bSlot: 0, bSeq: 3 }, '65 00000000 00 03 000000'],
  [
    'XfrBlock short APDU (§6.1.4)',
    { name: 'XfrBlock', bSlot: 0, bSeq: 4, bBWI: 0, wLevelParameter: 0, abData: fromHex('00 A4 04 00') },
    '6F 04000000 00 04 00 0000 00A40400',
  ],
  [
    'XfrBlock extended APDU begin, bBWI 5',
    { name: 'XfrBlock', bSlot: 0, bSeq: 5, bBWI: 5, wLevelParameter: 0x0001, abData: fromHex('AA BB') },
    '6F 02000000 00 05 05 0100 AABB',
  ],
  ['XfrBlock empty, "give me more" (0x0010)', { name: 'XfrBlock', bSlot: 0, bSeq: 6, bBWI: 0, wLevelParameter: 0x0010, abData: new Uint8Array(0) }, '6F 00000000 00 06 00 1000'],
  ['XfrBlock wLevelParameter little-endian', { name: 'XfrBlock', bSlot: 2, bSeq: 7, bBWI: 0xff, wLevelParameter: 0x1234, abData: fromHex('01') }, '6F 01000000 02 07 FF 3412 01'],
  ['GetParameters (§6.1.5)', { name: 'GetParameters', bSlot: 0, bSeq: 8 }, '6C 00000000 00 08 000000'],
  ['ResetParameters (§6.1.6)', { name: 'ResetParameters', bSlot: 0, bSeq: 9 }, '6D 00000000 00 09 000000'],
  [
    'SetParameters T=1 (§6.1.7)',
    { name: 'SetParameters', bSlot: 0, bSeq: 10, bProtocolNum: 1, abData: fromHex('11 10 00 45 00 FE 00') },
    '61 07000000 00 0A 01 0000 11100045 00FE00',
  ],
  [
    'SetParameters T=0',
    { name: 'SetParameters', bSlot: 0, bSeq: 11, bProtocolNum: 0, abData: fromHex('11 00 00 0A 00') },
    '61 05000000 00 0B 00 0000 1100000A00',
  ],
  ['Escape (§6.1.8)', { name: 'Escape', bSlot: 0, bSeq: 12, abData: fromHex('01 02 03') }, '6B 03000000 00 0C 000000 010203'],
  ['IccClock stop (§6.1.9)', { name: 'IccClock', bSlot: 0, bSeq: 13, bClockCommand: 1 }, '6E 00000000 00 0D 01 0000'],
  [
    'T0APDU (§6.1.10)',
    { name: 'T0APDU', bSlot: 0, bSeq: 14, bmChanges: 3, bClassGetResponse: 0x00, bClassEnvelope: 0x80 },
    '6A 00000000 00 0E 03 00 80',
  ],
  [
    'Secure PIN verify (§6.1.11)',
    { name: 'Secure', bSlot: 0, bSeq: 15, bBWI: 0, wLevelParameter: 0, abData: fromHex(PIN_VERIFY) },
    `69 1C000000 00 0F 00 0000 ${PIN_VERIFY}`,
  ],
  ['Mechanical lock (§6.1.12)', { name: 'Mechanical', bSlot: 0, bSeq: 16, bFunction: 4 }, '71 00000000 00 10 04 0000'],
  ['Abort (§6.1.13)', { name: 'Abort', bSlot: 3, bSeq: 17 }, '72 00000000 03 11 000000'],
  [
    'SetDataRateAndClockFrequency 4000 kHz, 10752 bps (§6.1.14)',
    { name: 'SetDataRateAndClockFrequency', bSlot: 0, bSeq: 18, dwClockFrequency: 4000, dwDataRate: 10752 },
    '73 08000000 00 12 000000 A00F0000 002A0000',
  ],
  [
    'SetDataRateAndClockFrequency 32-bit values',
    { name: 'SetDataRateAndClockFrequency', bSlot: 0, bSeq: 19, dwClockFrequency: 0xfedcba98, dwDataRate: 0x01020304 },
    '73 08000000 00 13 000000 98BADCFE 04030201',
  ],
];

describe('commands (PC_to_RDR)', () => {
  it.each(COMMANDS)('encodes %s', (_n, cmd, hex) => {
    expect(toHex(encodeCommand(cmd))).toBe(toHex(fromHex(hex)));
  });

  it.each(COMMANDS)('decodes %s', (_n, cmd, hex) => {
    const decoded = decodeCommand(fromHex(hex));
    const want = cmd.name === 'SetDataRateAndClockFrequency' ? { ...cmd, abData: fromHex(hex).slice(10) } : withData(cmd);
    expect(decoded).toEqual(want);
  });

  it('dwLength counts abData for a long XfrBlock (300 bytes, 0x012C)', () => {
    const abData = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const out = encodeCommand({ name: 'XfrBlock', bSlot: 0, bSeq: 0, bBWI: 0, wLevelParameter: 0, abData });
    expect(toHex(out.subarray(0, 10))).toBe('6F 2C 01 00 00 00 00 00 00 00');
    expect(out.length).toBe(310);
    expect(decodeCommand(out)).toMatchObject({ name: 'XfrBlock', abData });
  });

  const badFrames: Array<[string, string, string]> = [
    ['empty', '', 'ccid/malformed-frame'],
    ['9-byte header', '65 00000000 00 00 0000', 'ccid/malformed-frame'],
    ['dwLength larger than the bytes', '6F 05000000 00 00 00 0000 01020304', 'ccid/length-mismatch'],
    ['dwLength smaller than the bytes', '6F 01000000 00 00 00 0000 0102', 'ccid/length-mismatch'],
    ['dwLength 0xFFFFFFFF', '6F FFFFFFFF 00 00 00 0000', 'ccid/length-mismatch'],
    ['unknown type 0x60', '60 00000000 00 00 000000', 'ccid/unexpected-message'],
    ['reserved type 0x64', '64 00000000 00 00 000000', 'ccid/unexpected-message'],
    ['a response type (0x80)', '80 00000000 00 00 000000', 'ccid/unexpected-message'],
    ['SetDataRateAndClockFrequency with 4 data bytes', '73 04000000 00 00 000000 A00F0000', 'ccid/malformed-frame'],
    ['SetDataRateAndClockFrequency with no data', '73 00000000 00 00 000000', 'ccid/malformed-frame'],
  ];
  it.each(badFrames)('decode rejects %s', (_n, hex, code) => {
    expect(codeOf(() => decodeCommand(fromHex(hex)))).toBe(code);
  });

  const badCommands: Array<[string, CcidCommand]> = [
    ['bSlot 256', { name: 'GetSlotStatus', bSlot: 256, bSeq: 0 }],
    ['bSeq -1', { name: 'GetSlotStatus', bSlot: 0, bSeq: -1 }],
    ['bSeq 1.5', { name: 'GetSlotStatus', bSlot: 0, bSeq: 1.5 }],
    ['bPowerSelect 256', { name: 'IccPowerOn', bSlot: 0, bSeq: 0, bPowerSelect: 256 }],
    ['bBWI -1', { name: 'XfrBlock', bSlot: 0, bSeq: 0, bBWI: -1, wLevelParameter: 0, abData: new Uint8Array(0) }],
    ['wLevelParameter 0x10000', { name: 'XfrBlock', bSlot: 0, bSeq: 0, bBWI: 0, wLevelParameter: 0x10000, abData: new Uint8Array(0) }],
    ['Secure wLevelParameter NaN', { name: 'Secure', bSlot: 0, bSeq: 0, bBWI: 0, wLevelParameter: NaN, abData: new Uint8Array(0) }],
    ['bProtocolNum 300', { name: 'SetParameters', bSlot: 0, bSeq: 0, bProtocolNum: 300, abData: new Uint8Array(0) }],
    ['bClockCommand -2', { name: 'IccClock', bSlot: 0, bSeq: 0, bClockCommand: -2 }],
    ['bClassEnvelope 0x100', { name: 'T0APDU', bSlot: 0, bSeq: 0, bmChanges: 0, bClassGetResponse: 0, bClassEnvelope: 0x100 }],
    ['bFunction 999', { name: 'Mechanical', bSlot: 0, bSeq: 0, bFunction: 999 }],
    // The 32-bit fields are range-checked like every other field: written unchecked, -1 would
    // go out as 0xFFFFFFFF, 2^32 as 0 and 1.5 as 1.
    ['dwClockFrequency -1', { name: 'SetDataRateAndClockFrequency', bSlot: 0, bSeq: 0, dwClockFrequency: -1, dwDataRate: 9600 }],
    ['dwDataRate 2^32', { name: 'SetDataRateAndClockFrequency', bSlot: 0, bSeq: 0, dwClockFrequency: 4000, dwDataRate: 2 ** 32 }],
    ['dwDataRate 9600.5', { name: 'SetDataRateAndClockFrequency', bSlot: 0, bSeq: 0, dwClockFrequency: 4000, dwDataRate: 9600.5 }],
  ];
  it.each(badCommands)('encode rejects %s with a CcidError (ccid/bad-field)', (_n, cmd) => {
    expect(codeOf(() => encodeCommand(cmd))).toBe('ccid/bad-field');
  });

  it('round trip: decode(encode(cmd)) gives cmd back (property)', () => {
    fc.assert(
      fc.property(arbCommand, (cmd) => {
        const bytes = encodeCommand(cmd);
        expect(bytes.length).toBe(CCID_HEADER_LENGTH + (cmd.name === 'SetDataRateAndClockFrequency' ? 8 : (cmd.abData?.length ?? 0)));
        const back = decodeCommand(bytes);
        if (cmd.name === 'SetDataRateAndClockFrequency') expect({ ...back, abData: undefined }).toEqual({ ...cmd, abData: undefined });
        else expect(back).toEqual(withData(cmd));
      }),
      { numRuns: 1000 },
    );
  });

  it('any bytes: decodeCommand gives a command or a CcidError; a decoded frame re-encodes to the same bytes but RFU (property)', () => {
    fc.assert(
      fc.property(arbFrameBytes(commandTypes), (bytes) => {
        let cmd: CcidCommand;
        try {
          cmd = decodeCommand(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(CcidError);
          return;
        }
        const again = encodeCommand(cmd);
        expect(toHex(again.subarray(0, 7))).toBe(toHex(bytes.subarray(0, 7)));
        expect(toHex(again.subarray(10))).toBe(toHex(bytes.subarray(10)));
      }),
      { numRuns: 3000 },
    );
  });
});

// [description, response, hand-written bytes]
const ATR = '3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6';
const RESPONSES: Array<[string, CcidResponse, string]> = [
  [
    'DataBlock with the ATR (§6.2.1)',
    { name: 'DataBlock', bSlot: 0, bSeq: 1, bStatus: 0x00, bError: 0x00, bChainParameter: 0, abData: fromHex(ATR) },
    `80 13000000 00 01 00 00 00 ${ATR}`,
  ],
  [
    'DataBlock time extension, multiplier 5',
    { name: 'DataBlock', bSlot: 0, bSeq: 2, bStatus: 0x80, bError: 0x05, bChainParameter: 0, abData: new Uint8Array(0) },
    '80 00000000 00 02 80 05 00',
  ],
  [
    'DataBlock failed: ICC mute, card present and inactive',
    { name: 'DataBlock', bSlot: 0, bSeq: 3, bStatus: 0x41, bError: 0xfe, bChainParameter: 0, abData: new Uint8Array(0) },
    '80 00000000 00 03 41 FE 00',
  ],
  [
    'DataBlock chained response, begins (bChainParameter 0x01)',
    { name: 'DataBlock', bSlot: 1, bSeq: 4, bStatus: 0x00, bError: 0x00, bChainParameter: 0x01, abData: fromHex('90 00') },
    '80 02000000 01 04 00 00 01 9000',
  ],
  [
    'SlotStatus: card active, clock running (§6.2.2)',
    { name: 'SlotStatus', bSlot: 0, bSeq: 5, bStatus: 0x00, bError: 0x00, bClockStatus: 0x00, abData: new Uint8Array(0) },
    '81 00000000 00 05 00 00 00',
  ],
  [
    'SlotStatus: no card, clock stopped in L',
    { name: 'SlotStatus', bSlot: 0, bSeq: 6, bStatus: 0x02, bError: 0x00, bClockStatus: 0x01, abData: new Uint8Array(0) },
    '81 00000000 00 06 02 00 01',
  ],
  [
    'Parameters T=1 (§6.2.3)',
    { name: 'Parameters', bSlot: 0, bSeq: 7, bStatus: 0x00, bError: 0x00, bProtocolNum: 1, abData: fromHex('11 10 00 45 00 FE 00') },
    '82 07000000 00 07 00 00 01 11100045 00FE00',
  ],
  [
    'Escape (§6.2.4)',
    { name: 'Escape', bSlot: 0, bSeq: 8, bStatus: 0x00, bError: 0x00, abData: fromHex('AB CD') },
    '83 02000000 00 08 00 00 00 ABCD',
  ],
  [
    'DataRateAndClockFrequency (§6.2.5)',
    { name: 'DataRateAndClockFrequency', bSlot: 0, bSeq: 9, bStatus: 0x00, bError: 0x00, dwClockFrequency: 4000, dwDataRate: 10752, abData: fromHex('A0 0F 00 00 00 2A 00 00') },
    '84 08000000 00 09 00 00 00 A00F0000 002A0000',
  ],
];

describe('responses (RDR_to_PC bulk-in)', () => {
  it.each(RESPONSES)('encodes %s', (_n, r, hex) => {
    expect(toHex(encodeResponse(r))).toBe(toHex(fromHex(hex)));
  });

  it.each(RESPONSES)('decodes %s', (_n, r, hex) => {
    expect(decodeResponse(fromHex(hex))).toEqual(r);
  });

  it('decodes a failed DataRateAndClockFrequency with no data', () => {
    const r = decodeResponse(fromHex('84 00000000 00 0A 40 00 00'));
    expect(r).toMatchObject({ name: 'DataRateAndClockFrequency', bStatus: 0x40, bError: 0x00 });
    expect(commandStatus(r.bStatus)).toBe(1);
  });

  it('bounds dwLength by maxDataLength', () => {
    const frame = fromHex('80 04000000 00 01 00 00 00 01020304');
    expect(decodeResponse(frame, { maxDataLength: 4 }).abData).toEqual(fromHex('01020304'));
    expect(codeOf(() => decodeResponse(frame, { maxDataLength: 3 }))).toBe('ccid/length-mismatch');
    // a huge dwLength is refused before anything is allocated
    expect(codeOf(() => decodeResponse(fromHex('80 FFFFFF7F 00 01 00 00 00'), { maxDataLength: 261 }))).toBe('ccid/length-mismatch');
  });

  const badFrames: Array<[string, string, string]> = [
    ['empty', '', 'ccid/malformed-frame'],
    ['header cut at 9 bytes', '80 00000000 00 01 00 00', 'ccid/malformed-frame'],
    ['dwLength 2, 1 data byte (short read)', '80 02000000 00 01 00 00 00 90', 'ccid/length-mismatch'],
    ['dwLength 0, 2 data bytes', '80 00000000 00 01 00 00 00 9000', 'ccid/length-mismatch'],
    ['a command type (0x6F)', '6F 00000000 00 01 00 00 00', 'ccid/unexpected-message'],
    ['an interrupt type (0x50)', '50 00000000 00 01 00 00 00', 'ccid/unexpected-message'],
    ['unknown type 0x85', '85 00000000 00 01 00 00 00', 'ccid/unexpected-message'],
    ['successful DataRateAndClockFrequency with 4 bytes', '84 04000000 00 01 00 00 00 A00F0000', 'ccid/malformed-frame'],
  ];
  it.each(badFrames)('decode rejects %s', (_n, hex, code) => {
    expect(codeOf(() => decodeResponse(fromHex(hex)))).toBe(code);
  });

  it.each([
    ['bStatus 256', { name: 'SlotStatus', bSlot: 0, bSeq: 0, bStatus: 256, bError: 0, bClockStatus: 0, abData: new Uint8Array(0) }],
    ['bError -1', { name: 'Escape', bSlot: 0, bSeq: 0, bStatus: 0, bError: -1, abData: new Uint8Array(0) }],
    ['bChainParameter 0x100', { name: 'DataBlock', bSlot: 0, bSeq: 0, bStatus: 0, bError: 0, bChainParameter: 0x100, abData: new Uint8Array(0) }],
    ['bProtocolNum 1.5', { name: 'Parameters', bSlot: 0, bSeq: 0, bStatus: 0, bError: 0, bProtocolNum: 1.5, abData: new Uint8Array(0) }],
    ['bSeq 256', { name: 'DataBlock', bSlot: 0, bSeq: 256, bStatus: 0, bError: 0, bChainParameter: 0, abData: new Uint8Array(0) }],
    // Like the command's, the 32-bit fields are range-checked (-1 is not written as 0xFFFFFFFF).
    ['dwDataRate -1', { name: 'DataRateAndClockFrequency', bSlot: 0, bSeq: 0, bStatus: 0, bError: 0, dwClockFrequency: 4000, dwDataRate: -1, abData: new Uint8Array(0) }],
  ] as Array<[string, CcidResponse]>)('encode rejects %s with a CcidError (ccid/bad-field)', (_n, r) => {
    expect(codeOf(() => encodeResponse(r))).toBe('ccid/bad-field');
  });

  it('peekHeader reads type, dwLength, slot and sequence only', () => {
    expect(peekHeader(fromHex('80 13000000 02 07 00 00 00'))).toEqual({ bMessageType: 0x80, dwLength: 0x13, bSlot: 2, bSeq: 7 });
    expect(peekHeader(fromHex('84 FFFFFFFF 00 00 00 00 00'))).toMatchObject({ dwLength: 0xffffffff });
    expect(codeOf(() => peekHeader(fromHex('80 00')))).toBe('ccid/malformed-frame');
  });

  it('round trip: decode(encode(r)) gives r back (property)', () => {
    fc.assert(
      fc.property(arbResponse, (r) => {
        const back = decodeResponse(encodeResponse(r));
        if (r.name === 'DataRateAndClockFrequency') {
          expect(back).toMatchObject({ ...r, abData: expect.any(Uint8Array) });
          expect(back.abData.length).toBe(8);
        } else {
          expect(back).toEqual(r);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('any bytes: decodeResponse gives a response or a CcidError; a decoded frame re-encodes to the same bytes but RFU (property)', () => {
    fc.assert(
      fc.property(arbFrameBytes(responseTypes), fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }), (bytes, maxDataLength) => {
        let r: CcidResponse;
        try {
          r = decodeResponse(bytes, maxDataLength === undefined ? undefined : { maxDataLength });
        } catch (e) {
          expect(e).toBeInstanceOf(CcidError);
          return;
        }
        expect(r.abData.length).toBe(bytes.length - 10);
        const again = encodeResponse(r);
        // type, bSlot, bSeq, bStatus, bError always come back
        expect([again[0], ...again.subarray(5, 9)]).toEqual([bytes[0], ...bytes.subarray(5, 9)]);
        if (r.name !== 'Escape' && r.name !== 'DataRateAndClockFrequency') expect(again[9]).toBe(bytes[9]); // byte 9 is RFU for those two
        // the encoder always writes the 8 bytes of §6.2.5 (a failed answer may have carried none)
        if (r.name === 'DataRateAndClockFrequency' && r.abData.length !== 8) return;
        expect(toHex(again.subarray(1, 5))).toBe(toHex(bytes.subarray(1, 5)));
        expect(toHex(again.subarray(10))).toBe(toHex(bytes.subarray(10)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('bStatus and bError (§6.2.6, table 6.2-2)', () => {
  it.each([
    [0x00, 0, 0],
    [0x01, 0, 1],
    [0x02, 0, 2],
    [0x40, 1, 0],
    [0x42, 1, 2],
    [0x80, 2, 0],
    [0x81, 2, 1],
    [0xc0, 3, 0],
  ])('bStatus %i: bmCommandStatus %i, bmICCStatus %i', (bStatus, cmd, icc) => {
    expect(commandStatus(bStatus)).toBe(cmd);
    expect(iccStatus(bStatus)).toBe(icc);
  });

  it.each([
    [0x41, 0xff, 'ccid/cmd-aborted'],
    [0x41, 0xfe, 'ccid/icc-mute'],
    [0x40, 0xfd, 'ccid/xfr-parity-error'],
    [0x40, 0xfc, 'ccid/xfr-overrun'],
    [0x40, 0xfb, 'ccid/hw-error'],
    [0x41, 0xf8, 'ccid/bad-atr-ts'],
    [0x41, 0xf7, 'ccid/bad-atr-tck'],
    [0x40, 0xf6, 'ccid/icc-protocol-not-supported'],
    [0x41, 0xf5, 'ccid/icc-class-not-supported'],
    [0x40, 0xf4, 'ccid/procedure-byte-conflict'],
    [0x40, 0xf3, 'ccid/deactivated-protocol'],
    [0x40, 0xf2, 'ccid/busy-with-auto-sequence'],
    [0x40, 0xf0, 'ccid/pin-timeout'],
    [0x40, 0xef, 'ccid/pin-cancelled'],
    [0x40, 0xe0, 'ccid/cmd-slot-busy'],
    [0x40, 0x00, 'ccid/command-not-supported'],
    [0x40, 0x01, 'ccid/bad-parameter'],
    [0x40, 0x07, 'ccid/bad-parameter'],
    [0x40, 0x7f, 'ccid/bad-parameter'],
    [0x42, 0xfe, 'ccid/card-absent'],
    [0x40, 0x81, 'ccid/slot-error'],
    [0x40, 0xc0, 'ccid/slot-error'],
    [0x40, 0xf9, 'ccid/slot-error'],
    [0x40, 0x80, 'ccid/slot-error'],
  ])('bStatus %i, bError %i -> %s', (bStatus, bError, code) => {
    const e = slotErrorFrom(bStatus, bError);
    expect(e).toBeInstanceOf(SlotError);
    expect(e).toBeInstanceOf(CcidError);
    expect(e.code).toBe(code);
    expect(e.bStatus).toBe(bStatus);
    expect(e.bError).toBe(bError);
    expect(e.iccStatus).toBe(bStatus & 3);
  });

  it('each CCID_ERROR constant gives the error of its name (the constants and the error table agree)', () => {
    for (const [name, bError] of Object.entries(CCID_ERROR)) {
      const code = name === 'CMD_NOT_SUPPORTED' ? 'ccid/command-not-supported' : `ccid/${name.toLowerCase().replaceAll('_', '-')}`;
      expect(slotErrorFrom(0x40, bError).code).toBe(code);
    }
  });

  it('every bStatus / bError pair gives a SlotError (exhaustive)', () => {
    for (let s = 0; s < 256; s++) for (let b = 0; b < 256; b++) expect(slotErrorFrom(s, b)).toBeInstanceOf(SlotError);
  });
});

// [description, notification, hand-written bytes]
const NOTIFICATIONS: Array<[string, CcidNotification, string]> = [
  [
    'NotifySlotChange: card inserted in slot 0 (§6.3.1)',
    { name: 'NotifySlotChange', slots: [{ present: true, changed: true }, ...absentSlots(3)] },
    '50 03',
  ],
  ['NotifySlotChange: card removed from slot 0', { name: 'NotifySlotChange', slots: [{ present: false, changed: true }, ...absentSlots(3)] }, '50 02'],
  ['NotifySlotChange: present, unchanged', { name: 'NotifySlotChange', slots: [{ present: true, changed: false }, ...absentSlots(3)] }, '50 01'],
  [
    'NotifySlotChange: slot 1 removed, slot 3 present (2 bits a slot, slot 0 in bits 0-1)',
    {
      name: 'NotifySlotChange',
      slots: [{ present: false, changed: false }, { present: false, changed: true }, { present: false, changed: false }, { present: true, changed: false }],
    },
    '50 48',
  ],
  [
    'NotifySlotChange: 8 slots, slot 5 inserted',
    { name: 'NotifySlotChange', slots: [...absentSlots(5), { present: true, changed: true }, ...absentSlots(2)] },
    '50 00 0C',
  ],
  ['HardwareError: overcurrent on slot 0 (§6.3.2)', { name: 'HardwareError', bSlot: 0, bSeq: 7, bHardwareErrorCode: 0x01 }, '51 00 07 01'],
];

function absentSlots(n: number): Array<{ present: boolean; changed: boolean }> {
  return Array.from({ length: n }, () => ({ present: false, changed: false }));
}

describe('notifications (interrupt-in)', () => {
  it.each(NOTIFICATIONS)('encodes %s', (_n, m, hex) => {
    expect(toHex(encodeNotification(m))).toBe(toHex(fromHex(hex)));
  });

  it.each(NOTIFICATIONS)('decodes %s', (_n, m, hex) => {
    expect(decodeNotification(fromHex(hex))).toEqual(m);
  });

  it('a single slot is padded to one byte (4 slots); 5 slots take two bytes', () => {
    expect(toHex(encodeNotification({ name: 'NotifySlotChange', slots: [{ present: true, changed: true }] }))).toBe('50 03');
    expect(encodeNotification({ name: 'NotifySlotChange', slots: absentSlots(5) }).length).toBe(3);
  });

  it.each([
    ['empty', '', 'ccid/malformed-frame'],
    ['NotifySlotChange without bmSlotICCState', '50', 'ccid/malformed-frame'],
    ['HardwareError of 3 bytes', '51 00 07', 'ccid/malformed-frame'],
    ['HardwareError of 5 bytes', '51 00 07 01 00', 'ccid/malformed-frame'],
    ['a bulk type (0x80)', '80 00', 'ccid/unexpected-message'],
    ['unknown type 0x52', '52 00 00 00', 'ccid/unexpected-message'],
  ])('decode rejects %s', (_n, hex, code) => {
    expect(codeOf(() => decodeNotification(fromHex(hex)))).toBe(code);
  });

  it.each([
    ['bSlot 256', { name: 'HardwareError', bSlot: 256, bSeq: 0, bHardwareErrorCode: 1 }],
    ['bHardwareErrorCode -1', { name: 'HardwareError', bSlot: 0, bSeq: 0, bHardwareErrorCode: -1 }],
  ] as Array<[string, CcidNotification]>)('encode rejects %s with a CcidError', (_n, m) => {
    expect(() => encodeNotification(m)).toThrow(CcidError);
  });

  it('NotifySlotChange with no slots: encode refuses it (ccid/bad-field) rather than send a bare "50" that decode refuses', () => {
    // CCID 1.1 §6.3.1: bmSlotICCState has 2 bits per slot, slot 0 always included, so at least one byte.
    expect(codeOf(() => encodeNotification({ name: 'NotifySlotChange', slots: [] }))).toBe('ccid/bad-field');
    expect(codeOf(() => decodeNotification(fromHex('50')))).toBe('ccid/malformed-frame');
  });

  it('round trip (property)', () => {
    const slot = fc.record({ present: fc.boolean(), changed: fc.boolean() });
    const arb: fc.Arbitrary<CcidNotification> = fc.oneof(
      fc.array(slot, { minLength: 1, maxLength: 40 }).map((slots): CcidNotification => ({ name: 'NotifySlotChange', slots })),
      fc.record({ bSlot: u8, bSeq: u8, bHardwareErrorCode: u8 }).map((r): CcidNotification => ({ name: 'HardwareError', ...r })),
    );
    fc.assert(
      fc.property(arb, (m) => {
        const back = decodeNotification(encodeNotification(m));
        if (m.name === 'NotifySlotChange' && back.name === 'NotifySlotChange') {
          // padded to whole bytes with absent, unchanged slots
          expect(back.slots.length).toBe(Math.ceil(m.slots.length / 4) * 4);
          expect(back.slots.slice(0, m.slots.length)).toEqual(m.slots);
          expect(back.slots.slice(m.slots.length).every((s) => !s.present && !s.changed)).toBe(true);
        } else {
          expect(back).toEqual(m);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('any bytes: a notification or a CcidError (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((b) => Uint8Array.of(0x50 + (b.length & 1), ...b))), (bytes) => {
        try {
          const m = decodeNotification(bytes);
          if (m.name === 'NotifySlotChange') {
            expect(m.slots.length).toBe((bytes.length - 1) * 4);
            expect(toHex(encodeNotification(m))).toBe(toHex(bytes));
          } else {
            expect(toHex(encodeNotification(m))).toBe(toHex(bytes));
          }
        } catch (e) {
          expect(e).toBeInstanceOf(CcidError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---- arbitraries ----
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const data = fc.uint8Array({ maxLength: 300 });
const head = { bSlot: u8, bSeq: u8 };

const arbCommand: fc.Arbitrary<CcidCommand> = fc.oneof(
  fc.record({ name: fc.constant('IccPowerOn' as const), ...head, bPowerSelect: u8 }),
  fc.record({ name: fc.constant('IccPowerOff' as const), ...head }),
  fc.record({ name: fc.constant('GetSlotStatus' as const), ...head }),
  fc.record({ name: fc.constant('XfrBlock' as const), ...head, bBWI: u8, wLevelParameter: u16, abData: data }),
  fc.record({ name: fc.constant('GetParameters' as const), ...head }),
  fc.record({ name: fc.constant('ResetParameters' as const), ...head }),
  fc.record({ name: fc.constant('SetParameters' as const), ...head, bProtocolNum: u8, abData: data }),
  fc.record({ name: fc.constant('Escape' as const), ...head, abData: data }),
  fc.record({ name: fc.constant('IccClock' as const), ...head, bClockCommand: u8 }),
  fc.record({ name: fc.constant('T0APDU' as const), ...head, bmChanges: u8, bClassGetResponse: u8, bClassEnvelope: u8 }),
  fc.record({ name: fc.constant('Secure' as const), ...head, bBWI: u8, wLevelParameter: u16, abData: data }),
  fc.record({ name: fc.constant('Mechanical' as const), ...head, bFunction: u8 }),
  fc.record({ name: fc.constant('Abort' as const), ...head }),
  fc.record({ name: fc.constant('SetDataRateAndClockFrequency' as const), ...head, dwClockFrequency: u32, dwDataRate: u32 }),
);

const rhead = { ...head, bStatus: u8, bError: u8, abData: data };
const arbResponse: fc.Arbitrary<CcidResponse> = fc.oneof(
  fc.record({ name: fc.constant('DataBlock' as const), ...rhead, bChainParameter: u8 }),
  fc.record({ name: fc.constant('SlotStatus' as const), ...rhead, bClockStatus: u8 }),
  fc.record({ name: fc.constant('Parameters' as const), ...rhead, bProtocolNum: u8 }),
  fc.record({ name: fc.constant('Escape' as const), ...rhead }),
  fc
    .record({ ...head, bStatus: u8, bError: u8, dwClockFrequency: u32, dwDataRate: u32 })
    .map((r) => {
      const abData = new Uint8Array(8);
      new DataView(abData.buffer).setUint32(0, r.dwClockFrequency, true);
      new DataView(abData.buffer).setUint32(4, r.dwDataRate, true);
      return { name: 'DataRateAndClockFrequency' as const, ...r, abData };
    }),
);

const commandTypes = [0x61, 0x62, 0x63, 0x65, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x71, 0x72, 0x73];
const responseTypes = [0x80, 0x81, 0x82, 0x83, 0x84];

/** Random bytes, and frames with a plausible type and a dwLength that matches or nearly matches. */
function arbFrameBytes(types: number[]): fc.Arbitrary<Uint8Array> {
  const plausible = fc
    .tuple(fc.constantFrom(...types, 0x00, 0x50, 0x64, 0x85), fc.uint8Array({ minLength: 5, maxLength: 5 }), fc.uint8Array({ maxLength: 40 }), fc.integer({ min: -2, max: 2 }))
    .map(([type, rest, body, skew]) => {
      const out = new Uint8Array(10 + body.length);
      out[0] = type;
      new DataView(out.buffer).setUint32(1, Math.max(0, body.length + (skew === 2 ? 0 : skew)), true);
      out.set(rest, 5);
      out.set(body, 10);
      return out;
    });
  return fc.oneof(fc.uint8Array({ maxLength: 40 }), plausible);
}
