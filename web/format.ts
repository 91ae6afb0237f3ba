/**
 * Pure formatting for the demo page: descriptor, identity, ATR and link as
 * rows of label / value, CCID frames as one-line summaries. No DOM here.
 */
import { ccidMessages, toHex, type Atr, type CcidClassDescriptor, type CcidReader, type LinkParameters } from '../src/index.js';
import { S } from './strings.js';

/** One row of a two-column table. `mono` values are bytes or codes. */
export interface Row {
  label: string;
  value: string;
  mono?: boolean;
  /** A secondary line under the value. */
  note?: string;
}

/** A named flag, on or off. */
export interface Flag {
  name: string;
  on: boolean;
  title: string;
}

export function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

export function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

export function hex8(n: number): string {
  return (n >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** Printable ASCII, dots for the rest. */
export function asciiOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '·';
  return s;
}

/** True when most bytes are printable (worth showing as text). */
export function looksTextual(bytes: Uint8Array): boolean {
  if (bytes.length < 3) return false;
  let printable = 0;
  for (const b of bytes) if (b >= 0x20 && b < 0x7f) printable++;
  return printable / bytes.length >= 0.75;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatNumber(n: number): string {
  return NUMBER.format(n);
}

/** kHz -> "3.58 MHz". */
export function formatKHz(kHz: number): string {
  if (kHz >= 1000) return `${trim(kHz / 1000, 3)} MHz`;
  return `${kHz} kHz`;
}

/** Hz -> "3.58 MHz". */
export function formatHz(hz: number): string {
  return formatKHz(hz / 1000);
}

/** bit/s, rounded: "115,483 bit/s". */
export function formatBaud(bps: number): string {
  return `${formatNumber(Math.round(bps))} bit/s`;
}

function trim(n: number, digits: number): string {
  return Number(n.toFixed(digits)).toString();
}

function bcd(v: number): string {
  return `${(v >> 8).toString(16)}.${hex2(v & 0xff)}`;
}

const LEVEL_NAMES: Record<CcidClassDescriptor['exchangeLevel'], string> = {
  character: 'character (not supported by this driver)',
  tpdu: 'TPDU (the host runs T=0 / T=1)',
  'short-apdu': 'short APDU (the reader runs the protocol)',
  'extended-apdu': 'short and extended APDU (the reader runs the protocol)',
};

export function exchangeLevelName(level: CcidClassDescriptor['exchangeLevel']): string {
  return LEVEL_NAMES[level];
}

function protocolList(ts: number[]): string {
  return ts.length > 0 ? ts.map((t) => `T=${t}`).join(', ') : 'none';
}


/** The rows of the descriptor table. */
export function descriptorRows(reader: CcidReader): Row[] {
  const d = reader.descriptor;
  const voltages = [d.voltages.v5 && '5 V', d.voltages.v3 && '3 V', d.voltages.v1_8 && '1.8 V'].filter(Boolean).join(', ') || 'none';
  const clocks = reader.clockFrequenciesKHz;
  const rates = reader.dataRates;
  const rows: Row[] = [
    { label: 'CCID version', value: bcd(d.bcdCCID) },
    { label: 'Exchange level', value: exchangeLevelName(d.exchangeLevel) },
    { label: 'Protocols', value: protocolList(d.protocols) },
    { label: 'Voltages', value: voltages },
    {
      label: 'Clock',
      value: `${formatKHz(d.dwDefaultClock)} default, ${formatKHz(d.dwMaximumClock)} max`,
      ...(clocks ? { note: `${S.listedByReader(clocks.length)}: ${clocks.map(formatKHz).join(', ')}` } : {}),
    },
    {
      label: 'Data rate',
      value: `${formatBaud(d.dwDataRate)} default, ${formatBaud(d.dwMaxDataRate)} max`,
      ...(rates ? { note: `${S.listedByReader(rates.length)}: ${summariseRates(rates)}` } : {}),
    },
    { label: 'dwMaxIFSD', value: `${d.dwMaxIFSD} bytes`, note: 'largest T=1 block from the card' },
    { label: 'dwMaxCCIDMessageLength', value: `${d.dwMaxCCIDMessageLength} bytes` },
    { label: 'PIN pad', value: d.pinpad.verify || d.pinpad.modify ? [d.pinpad.verify && 'verify', d.pinpad.modify && 'modify'].filter(Boolean).join(' and ') : 'none' },
    { label: 'LCD', value: d.lcd ? `${d.lcd.lines} × ${d.lcd.charactersPerLine} characters` : 'none' },
    { label: 'Slots', value: `${d.maxSlots}`, note: `${d.bMaxCCIDBusySlots} busy at once` },
    {
      label: 'Class bytes',
      value: `${hex2(d.bClassGetResponse)} / ${hex2(d.bClassEnvelope)}`,
      mono: true,
      note: 'CLA the reader uses for GET RESPONSE / ENVELOPE (FF: the command’s own)',
    },
  ];
  return rows;
}

/** Lowest..highest and a count, for long lists. */
function summariseRates(rates: number[]): string {
  if (rates.length <= 6) return rates.map((r) => formatNumber(r)).join(', ') + ' bit/s';
  const sorted = [...rates].sort((a, b) => a - b);
  return `${formatNumber(sorted[0]!)} … ${formatNumber(sorted[sorted.length - 1]!)} bit/s`;
}

/** dwFeatures as named flags. */
export function featureFlags(d: CcidClassDescriptor): Flag[] {
  const f = d.features;
  return [
    { name: 'auto parameters', on: f.autoParameters, title: '0x02: parameters set from the ATR by the reader' },
    { name: 'auto activation', on: f.autoActivation, title: '0x04: card powered on insertion' },
    { name: 'auto voltage', on: f.autoVoltage, title: '0x08: reader picks the voltage' },
    { name: 'auto clock', on: f.autoClock, title: '0x10: clock follows the active parameters' },
    { name: 'auto baud', on: f.autoBaud, title: '0x20: baud rate follows the active parameters' },
    { name: 'auto PPS', on: f.autoPps && !f.autoPpsProprietary, title: '0x80: the reader does PPS itself' },
    { name: 'auto PPS (proprietary)', on: f.autoPpsProprietary, title: '0x40: the reader negotiates by its own algorithm' },
    { name: 'clock stop', on: f.clockStop, title: '0x100: the reader can stop the card clock' },
    { name: 'NAD ≠ 00', on: f.nadOtherThan00, title: '0x200: T=1 NAD other than 00 accepted' },
    { name: 'auto IFSD', on: f.autoIfsd, title: '0x400: the reader sends S(IFS) itself' },
    { name: 'USB wake-up', on: f.usbWakeUp, title: '0x100000: wake-up on card insertion / removal' },
  ];
}

/** Every raw field of the class descriptor, hex and decimal. */
export function rawDescriptorRows(d: CcidClassDescriptor): Row[] {
  const fields: Array<[keyof CcidClassDescriptor, number]> = [
    ['bLength', 1], ['bDescriptorType', 1], ['bcdCCID', 2], ['bMaxSlotIndex', 1], ['bVoltageSupport', 1],
    ['dwProtocols', 4], ['dwDefaultClock', 4], ['dwMaximumClock', 4], ['bNumClockSupported', 1], ['dwDataRate', 4],
    ['dwMaxDataRate', 4], ['bNumDataRatesSupported', 1], ['dwMaxIFSD', 4], ['dwSynchProtocols', 4], ['dwMechanical', 4],
    ['dwFeatures', 4], ['dwMaxCCIDMessageLength', 4], ['bClassGetResponse', 1], ['bClassEnvelope', 1], ['wLcdLayout', 2],
    ['bPINSupport', 1], ['bMaxCCIDBusySlots', 1],
  ];
  return fields.map(([name, size]) => {
    const v = d[name] as number;
    const h = size === 1 ? hex2(v) : size === 2 ? hex4(v) : hex8(v);
    return { label: name, value: `0x${h}  (${v})`, mono: true };
  });
}

/** Interface class in words, with Chrome's protection. */
export function interfaceClassText(cls: number): string {
  if (cls === 0x0b) return '0x0B smart card (CCID)';
  if (cls === 0xff) return '0xFF vendor-specific (CCID descriptor inside)';
  return `0x${hex2(cls)}`;
}

/** Identity rows. */
export function identityRows(reader: CcidReader, virtual: boolean): Row[] {
  const id = reader.identity;
  const rows: Row[] = [
    { label: S.vidPid, value: `${hex4(id.vendorId)}:${hex4(id.productId)}`, mono: true },
    { label: S.product, value: id.productName ?? '—' },
    { label: S.manufacturer, value: id.manufacturerName ?? '—' },
  ];
  if (id.serialNumber) rows.push({ label: S.serial, value: id.serialNumber, mono: true });
  rows.push({
    label: S.interfaceRow,
    value: `#${id.interfaceNumber}, class ${interfaceClassText(id.interfaceClass)}`,
    note: virtual ? S.virtualNote : id.interfaceClass === 0x0b ? `Real reader, ${S.protectedNote}` : `Real reader, ${S.notProtectedNote}`,
  });
  return rows;
}

/** Whether Chrome protects the interface (for a badge). */
export function isProtectedClass(cls: number): boolean {
  return cls === 0x0b;
}

function groupBytes(atr: Atr): string {
  const parts: string[] = [];
  atr.groups.forEach((g, i) => {
    const n = i + 1;
    if (g.ta !== undefined) parts.push(`TA${n}=${hex2(g.ta)}`);
    if (g.tb !== undefined) parts.push(`TB${n}=${hex2(g.tb)}`);
    if (g.tc !== undefined) parts.push(`TC${n}=${hex2(g.tc)}`);
    if (g.td !== undefined) parts.push(`TD${n}=${hex2(g.td)}`);
  });
  return parts.join(' ') || 'none';
}

/** Every field of the decoded ATR. */
export function atrRows(atr: Atr): Row[] {
  const rows: Row[] = [
    { label: 'Bytes', value: toHex(atr.bytes), mono: true },
    {
      label: 'Convention',
      value: `${atr.convention} (TS ${hex2(atr.bytes[0] ?? 0)})`,
      ...(atr.decodedFromRaw ? { note: 'raw inverse bytes decoded here' } : {}),
    },
    { label: 'Protocols offered', value: protocolList(atr.protocols) },
    { label: 'Interface bytes', value: groupBytes(atr), mono: true },
    {
      label: 'Fi / Di',
      value: `${atr.fi} / ${atr.di}`,
      note: `TA1 indexes ${atr.fiIndex} / ${atr.diIndex}${atr.ta1Reserved ? ' (reserved values: defaults used)' : ''}; ${atr.fi / atr.di} clocks per bit`,
    },
    { label: 'f max', value: formatHz(atr.fMaxHz) },
    {
      label: 'Extra guard time (TC1)',
      value: atr.extraGuardTime === 255 ? '255 (minimum guard time)' : `${atr.extraGuardTime} etu`,
    },
  ];
  if (atr.specificMode) {
    const m = atr.specificMode;
    rows.push({
      label: 'Specific mode (TA2)',
      value: `T=${m.protocol}`,
      note: `${m.implicit ? 'implicit parameters' : 'parameters from the interface bytes'}; ${m.canChange ? 'can change to negotiable mode' : 'cannot change mode'}`,
    });
  }
  if (atr.protocols.includes(1)) {
    rows.push({
      label: 'T=1: IFSC, BWI, CWI, EDC',
      value: `${atr.ifsc ?? 32} bytes, ${atr.bwi ?? 4}, ${atr.cwi ?? 13}, ${(atr.edc ?? 'lrc').toUpperCase()}`,
    });
  }
  if (atr.protocols.includes(0)) rows.push({ label: 'T=0: WI', value: `${atr.wi ?? 10}` });
  if (atr.clockStop !== undefined) rows.push({ label: 'Clock stop', value: atr.clockStop });
  if (atr.classes !== undefined) rows.push({ label: 'Classes', value: atr.classes.join(', ') || 'none' });
  rows.push({
    label: 'Historical bytes',
    value: atr.historicalBytes.length > 0 ? toHex(atr.historicalBytes) : 'none',
    mono: true,
    ...(atr.historicalBytes.length > 0 ? { note: `${S.ascii}: “${asciiOf(atr.historicalBytes)}”` } : {}),
  });
  rows.push({
    label: 'TCK',
    value:
      atr.tck === undefined
        ? 'none (only T=0 offered)'
        : `${hex2(atr.tck)} ${atr.tckValid ? '(valid)' : '(INVALID checksum)'}`,
    mono: atr.tck !== undefined,
  });
  return rows;
}

/** The negotiated link and protocol. */
export function linkRows(link: LinkParameters, protocol: string, t1Sizes: { ifsc: number; ifsd: number } | undefined): Row[] {
  const rows: Row[] = [
    { label: 'Protocol', value: protocol === 't1' ? 'T=1 (block)' : 'T=0 (character)' },
    { label: 'Bit rate', value: formatBaud(link.baud), note: `clock ${formatHz(link.fHz)}, Fi ${link.fi} / Di ${link.di}` },
    { label: 'Negotiated', value: S.negotiation[link.negotiation] ?? link.negotiation },
  ];
  if (t1Sizes) rows.push({ label: 'IFSC / IFSD', value: `${t1Sizes.ifsc} / ${t1Sizes.ifsd} bytes` });
  return rows;
}

/** "PC_to_RDR_XfrBlock slot 0 seq 5" style summary of a CCID frame; never throws. */
export function describeFrame(direction: 'out' | 'in', frame: Uint8Array): string {
  try {
    if (direction === 'out') {
      const c = ccidMessages.decodeCommand(frame);
      return `PC_to_RDR_${c.name} · slot ${c.bSlot} · seq ${c.bSeq}`;
    }
    const r = ccidMessages.decodeResponse(frame);
    const failed = ccidMessages.commandStatus(r.bStatus) === ccidMessages.COMMAND_STATUS_FAILED;
    const extension = ccidMessages.commandStatus(r.bStatus) === ccidMessages.COMMAND_STATUS_TIME_EXTENSION;
    const status = failed ? ` · failed, bError ${hex2(r.bError)}${errorName(r.bError)}` : extension ? ' · time extension' : '';
    return `RDR_to_PC_${r.name} · slot ${r.bSlot} · seq ${r.bSeq}${status}`;
  } catch {
    return direction === 'out' ? 'malformed command' : 'malformed or unknown frame';
  }
}

function errorName(bError: number): string {
  const entry = Object.entries(ccidMessages.CCID_ERROR).find(([, v]) => v === bError);
  return entry ? ` ${entry[0]}` : '';
}
