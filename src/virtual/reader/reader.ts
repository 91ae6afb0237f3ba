/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * # The virtual CCID reader
 *
 * A byte-level USB CCID reader behind the USB seam: `createVirtualReader()`
 * returns an object that IS a `UsbDeviceLike` (pass it to the driver as a
 * device) and also exposes `stats`, `injectFault`, `insertCard`, `removeCard`,
 * `unplug`, `plug`. It parses real PC_to_RDR frames (src/ccid/messages.ts) from
 * bulk-OUT and answers RDR_to_PC frames on bulk-IN, NotifySlotChange /
 * HardwareError on interrupt-IN.
 *
 * USB: endpoints bulk-OUT 1, bulk-IN 2 (0x82), interrupt-IN 3 (0x83); answers
 * GET_DESCRIPTOR device / configuration (with the 54-byte CCID class
 * descriptor) / string, and the CCID class requests ABORT (0x01),
 * GET_CLOCK_FREQUENCIES (0x02), GET_DATA_RATES (0x03) (these stall when the
 * reader has no table). Transfers and their errors behave like Chrome's (see
 * usb-device.ts). A transferIn that comes before the answer stays pending.
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
 *
 * ## Exchange levels
 * - TPDU: XfrBlock carries T=1 blocks (the card's `T1Card` answers with its
 *   block) or T=0 TPDUs (`T0CardEngine`: data + SW, 61xx / 6Cxx). A PPS
 *   (FF ...) as the first XfrBlock after the ATR goes to the card; on success
 *   card and reader take the new Fi/Di and protocol.
 * - short / extended APDU: the reader runs T=1 (`T1Host` against the card's
 *   `T1Card`, IFSD = dwMaxIFSD) or T=0 (`T0Host`: GET RESPONSE with
 *   bClassGetResponse, ENVELOPE with bClassEnvelope for long commands) itself.
 *   Extended level chains per CCID 1.10 §6.1.4 (wLevelParameter 1 / 3 / 2 for
 *   commands, 0x10 to fetch the rest of a response, bChainParameter 0x10 /
 *   1 / 3 / 2 in the answers) when a message exceeds dwMaxCCIDMessageLength.
 *   Short level answers an extended APDU with SW 6700 (`strict`).
 * - character level: declared only; XfrBlock answers "command not supported".
 * - APDU-level and auto-PPS (0x80 / 0x40) readers negotiate the fastest rate
 *   both sides allow at IccPowerOn; auto-parameters (0x02) readers take the
 *   card's protocol from the ATR; auto-IFSD (0x400) TPDU readers send
 *   S(IFS request) with dwMaxIFSD themselves.
 *
 * ## Faults (`reader.injectFault({ kind, ...trigger })`, faults.ts)
 * time-extension, wtx, card-mute, corrupt-block, endless-chain, wtx-flood,
 * card-removal, card-insertion, unplug, stall, stale-seq, hardware-error,
 * garbage, mute, wrong-length, transfer-error. One-shot by
 * default; `times: n` or `persistent: true`; filter by `slot` / `command`.
 * Immediate actions: `removeCard(slot)`, `insertCard(card, slot)`, `unplug()`,
 * `plug()`.
 *
 * ## Abort (CCID 1.10 §5.3.1)
 * The ABORT control request (wValue = bSeq << 8 | bSlot) then PC_to_RDR_Abort
 * with the same bSeq: the command in progress (or muted) on the slot is
 * answered CMD_ABORTED, other commands to the slot meanwhile get CMD_ABORTED,
 * and the Abort is answered with a SlotStatus once both halves arrived.
 */
import { concatBytes, writeU16LE, writeU32LE } from '../../bytes.js';
import { isWebCcidError, WebCcidError } from '../../errors.js';
import {
  CCID_ERROR,
  CCID_HEADER_LENGTH,
  CCID_REQUEST_ABORT,
  CCID_REQUEST_GET_CLOCK_FREQUENCIES,
  CCID_REQUEST_GET_DATA_RATES,
  RDR_to_PC_DataRateAndClockFrequency,
  RDR_to_PC_SlotStatus,
  RESPONSE_FOR,
  decodeCommand,
  encodeNotification,
  encodeResponse,
  peekHeader,
  type CcidCommand,
  type CcidCommandName,
  type CcidResponse,
} from '../../ccid/messages.js';
import {
  CCID_FEATURE,
  encodeCcidClassDescriptor,
  exchangeLevelOf,
  type CcidClassDescriptorInit,
  type CcidExchangeLevel,
} from '../../ccid/descriptor.js';
import { encodeConfigurationDescriptor } from '../../usb/config-descriptor.js';
import { parseApdu } from '../../iso7816/apdu.js';
import { parseAtr, type Atr } from '../../iso7816/atr.js';
import { decodeProtocolParams, encodeProtocolParams, paramsFromAtr, type ProtocolParams } from '../../iso7816/params.js';
import { decodePpsRequest } from '../../iso7816/pps.js';
import { baudRate, chooseRate, DI_TABLE, FI_TABLE, RATE_TOLERANCE } from '../../iso7816/rates.js';
import { T0Host } from '../../iso7816/t0.js';
import { decodeT1Block, encodeT1Block, T1Host } from '../../iso7816/t1.js';
import { decodeSecurePinData } from '../../ccid/secure.js';
import { T1Card } from '../../iso7816/t1-card.js';
import { t1BlockWaitingTime, wireTimeSeconds } from '../../iso7816/timing.js';
import type { VirtualCard } from '../card.js';
import { FaultRegistry, type FaultHandle, type VirtualFault } from '../faults.js';
import {
  NON_COMPLIANT_READER_PRESETS,
  VIRTUAL_READER_PRESETS,
  type NonCompliantReaderPresetName,
  type VirtualReaderPreset,
  type VirtualReaderPresetName,
  type VirtualReaderQuirks,
} from '../presets.js';
import { swapLengthByteOrder } from '../../ccid/quirks.js';
import { T0CardEngine } from '../t0-card.js';
import { VirtualUsbDevice, type ClaimRefusal, type ControlInAnswer, type UsbTrafficStats } from '../usb-device.js';

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

/** Counters for benchmarks and tests. All times are modelled seconds, independent of `timeScale`. */
export interface VirtualReaderStats extends UsbTrafficStats {
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
  /** usbSeconds + wireSeconds + processingSeconds. */
  modelledSeconds: number;
}

interface Rate {
  fiIndex: number;
  diIndex: number;
}

interface SlotState {
  index: number;
  card: VirtualCard | null;
  lastCard: VirtualCard | null;
  powered: boolean;
  atr?: Atr;
  /** Reader side: protocol and parameters in force. */
  params?: ProtocolParams;
  readerRate: Rate;
  /** Card side: the protocol it runs and its rate. */
  cardProtocol: 0 | 1;
  cardRate: Rate;
  ppsAllowed: boolean;
  clockKHz: number;
  dataRate: number;
  clockStopped: boolean;
  t1?: T1Card;
  t0?: T0CardEngine;
  t1Host?: T1Host;
  busy: boolean;
  inFlight?: { cmd: CcidCommand; aborted: boolean };
  muted?: { cmd: CcidCommand; answerOnAbort: boolean };
  abort?: { bSeq: number; control: boolean; bulk?: CcidCommand };
  changed: boolean;
  xfrChain?: Uint8Array[];
  responseRest?: Uint8Array;
  classGetResponse: number;
  classEnvelope: number;
  lastAnswer?: Uint8Array;
  /** card-mute fault on a T=0 card: the next TPDU goes unanswered. */
  cardMuteNext?: boolean;
}

interface Answer {
  status?: 0 | 1 | 2;
  error?: number;
  data?: Uint8Array;
  chain?: number;
  clockStatus?: number;
  protocolNum?: number;
  clockKHz?: number;
  rate?: number;
}

const EMPTY = new Uint8Array(0);
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

function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = out.length;
  out[1] = 0x03;
  for (let i = 0; i < text.length; i++) writeU16LE(out, 2 + 2 * i, text.charCodeAt(i));
  return out;
}

function dwordList(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => writeU32LE(out, 4 * i, v >>> 0));
  return out;
}

function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= b * RATE_TOLERANCE;
}

/** A virtual CCID reader (see the module comment). */
export class VirtualReader extends VirtualUsbDevice {
  /** The raw CCID class descriptor fields. */
  readonly descriptor: CcidClassDescriptorInit;
  readonly exchangeLevel: CcidExchangeLevel;
  readonly classDescriptor: Uint8Array;
  readonly configurationDescriptor: Uint8Array;
  readonly deviceDescriptor: Uint8Array;
  readonly clockFrequencies: readonly number[];
  readonly dataRates: readonly number[];
  /** Modelled card processing time per command, ms (may be changed). */
  processingMs: number;
  /** See `VirtualReaderOptions.zeroLengthPacket` (may be changed). */
  zeroLengthPacket: boolean;
  /** See `VirtualReaderOptions.strict` (may be changed). */
  strict: boolean;
  onSecure: VirtualReaderOptions['onSecure'];
  onEscape: VirtualReaderOptions['onEscape'];
  /** The wire quirks this reader plays (preset's, then the options'). */
  readonly quirks: VirtualReaderQuirks;

  private readonly slots: SlotState[];
  private readonly faults = new FaultRegistry();
  private readonly counters = {
    commands: 0,
    answers: 0,
    timeExtensions: 0,
    apdus: 0,
    wireBytes: 0,
    wireSeconds: 0,
    processingSeconds: 0,
  };
  private readonly strings: string[];
  private readonly hasInterrupt: boolean;
  private readonly bulkPacketSize: number;
  private readonly initialNotification: boolean;

  constructor(options: VirtualReaderOptions = {}) {
    const preset = resolvePreset(options.preset);
    const descriptor = buildDescriptor(preset, options);
    const level = exchangeLevelOf(descriptor.dwFeatures);
    const bulkPacketSize = options.bulkPacketSize ?? 64;
    const interruptPacketSize = options.interruptPacketSize ?? 8;
    const hasInterrupt = options.interruptEndpoint ?? true;
    const interfaceClass = options.interfaceClass ?? preset.interfaceClass ?? 0x0b;
    const E = VIRTUAL_READER_ENDPOINTS;
    const endpoints = [
      { endpointNumber: E.bulkOut, direction: 'out' as const, type: 'bulk' as const, packetSize: bulkPacketSize },
      { endpointNumber: E.bulkIn, direction: 'in' as const, type: 'bulk' as const, packetSize: bulkPacketSize },
      ...(hasInterrupt
        ? [{ endpointNumber: E.interruptIn, direction: 'in' as const, type: 'interrupt' as const, packetSize: interruptPacketSize, interval: 16 }]
        : []),
    ];
    super({
      vendorId: options.vendorId ?? preset.vendorId,
      productId: options.productId ?? preset.productId,
      bcdDevice: options.bcdDevice ?? preset.bcdDevice ?? 0x0100,
      manufacturerName: options.manufacturerName === undefined ? (preset.manufacturerName ?? null) : options.manufacturerName,
      productName: options.productName === undefined ? (preset.productName ?? null) : options.productName,
      serialNumber: options.serialNumber === undefined ? 'VIRTUAL0001' : options.serialNumber,
      configurations: [
        {
          configurationValue: 1,
          interfaces: [{ interfaceNumber: 0, interfaceClass, interfaceSubclass: 0, interfaceProtocol: 0, endpoints }],
        },
      ],
      latencyMs: options.latencyMs ?? 0,
      timeScale: options.timeScale ?? 0,
      ...(options.claimRefusal === undefined ? {} : { claimRefusal: options.claimRefusal }),
      ...(options.accessDenied === undefined ? {} : { accessDenied: options.accessDenied }),
    });
    this.descriptor = descriptor;
    this.exchangeLevel = level;
    this.clockFrequencies = options.clockFrequencies ?? preset.clockFrequencies ?? [];
    this.dataRates = options.dataRates ?? preset.dataRates ?? [];
    this.processingMs = options.processingMs ?? 0;
    this.zeroLengthPacket = options.zeroLengthPacket ?? false;
    this.strict = options.strict ?? true;
    this.onSecure = options.onSecure;
    this.onEscape = options.onEscape;
    this.hasInterrupt = hasInterrupt;
    this.bulkPacketSize = bulkPacketSize;
    this.initialNotification = options.initialNotification ?? true;
    this.quirks = { ...(preset.quirks ?? {}), ...(options.quirks ?? {}) };
    this.strings = [this.manufacturerName ?? '', this.productName ?? '', this.serialNumber ?? ''];

    this.classDescriptor = encodeCcidClassDescriptor(descriptor);
    const epDescriptors = endpoints.map((e) => ({
      bEndpointAddress: e.endpointNumber | (e.direction === 'in' ? 0x80 : 0),
      bmAttributes: e.type === 'bulk' ? 0x02 : 0x03,
      wMaxPacketSize: e.packetSize,
      bInterval: 'interval' in e ? (e.interval ?? 0) : 0,
    }));
    const withDescriptor = !this.quirks.noClassDescriptor;
    const after = withDescriptor && options.classDescriptorPlacement === 'after-endpoints';
    let config = encodeConfigurationDescriptor({
      bConfigurationValue: 1,
      interfaces: [
        {
          bInterfaceNumber: 0,
          bAlternateSetting: 0,
          bInterfaceClass: interfaceClass,
          bInterfaceSubClass: 0,
          bInterfaceProtocol: 0,
          extra: after || !withDescriptor ? [] : [this.classDescriptor],
          endpoints: epDescriptors,
        },
      ],
    });
    if (after) {
      config = concatBytes(config, this.classDescriptor);
      writeU16LE(config, 2, config.length);
    }
    this.configurationDescriptor = config;
    const dev = new Uint8Array(18);
    dev[0] = 18;
    dev[1] = 0x01;
    writeU16LE(dev, 2, 0x0200);
    dev[7] = 64;
    writeU16LE(dev, 8, this.vendorId);
    writeU16LE(dev, 10, this.productId);
    writeU16LE(dev, 12, options.bcdDevice ?? preset.bcdDevice ?? 0x0100);
    dev[14] = this.manufacturerName === null ? 0 : 1;
    dev[15] = this.productName === null ? 0 : 2;
    dev[16] = this.serialNumber === null ? 0 : 3;
    dev[17] = 1;
    this.deviceDescriptor = dev;

    const count = descriptor.bMaxSlotIndex + 1;
    const cards = options.cards ?? [options.card ?? null];
    this.slots = [];
    for (let i = 0; i < count; i++) {
      const card = cards[i] ?? null;
      this.slots.push({
        index: i,
        card,
        lastCard: card,
        powered: false,
        readerRate: { fiIndex: 1, diIndex: 1 },
        cardProtocol: 0,
        cardRate: { fiIndex: 1, diIndex: 1 },
        ppsAllowed: false,
        clockKHz: descriptor.dwDefaultClock,
        dataRate: descriptor.dwDataRate,
        clockStopped: false,
        busy: false,
        changed: card !== null,
        classGetResponse: descriptor.bClassGetResponse,
        classEnvelope: descriptor.bClassEnvelope,
      });
    }
    if (this.initialNotification) this.notifySlotChange(true);
  }

  // ---- public API ----------------------------------------------------------------

  /** Number of slots (bMaxSlotIndex + 1). */
  get slotCount(): number {
    return this.slots.length;
  }

  /** The card in a slot (null when empty). */
  cardIn(slot = 0): VirtualCard | null {
    return this.slots[slot]?.card ?? null;
  }

  /** The state of a slot, for tests: powered, protocol, Fi/Di of reader and card, clock, busy. */
  slotInfo(slot = 0): {
    present: boolean;
    powered: boolean;
    protocol: number | undefined;
    readerRate: Rate;
    cardRate: Rate;
    cardProtocol: number;
    clockKHz: number;
    dataRate: number;
    busy: boolean;
    params: ProtocolParams | undefined;
    cardIfsd: number | undefined;
  } {
    const s = this.slot(slot);
    return {
      present: s.card !== null,
      powered: s.powered,
      protocol: s.params?.protocol,
      readerRate: { ...s.readerRate },
      cardRate: { ...s.cardRate },
      cardProtocol: s.cardProtocol,
      clockKHz: s.clockKHz,
      dataRate: s.dataRate,
      busy: s.busy,
      params: s.params,
      cardIfsd: s.t1?.ifsd,
    };
  }

  /** Counters (a snapshot). */
  get stats(): VirtualReaderStats {
    const u = this.usbStats;
    const c = this.counters;
    return { ...u, ...c, modelledSeconds: u.usbSeconds + c.wireSeconds + c.processingSeconds };
  }

  /** Zeroes every counter. */
  resetStats(): void {
    Object.assign(this.usbStats, { transfersIn: 0, transfersOut: 0, controlTransfers: 0, bytesIn: 0, bytesOut: 0, usbSeconds: 0 });
    for (const k of Object.keys(this.counters) as Array<keyof typeof this.counters>) this.counters[k] = 0;
  }

  /** Injects a fault (see faults.ts); returns a handle to watch or remove it. */
  injectFault(fault: VirtualFault): FaultHandle {
    if (fault.kind === 'transfer-error') {
      const dir = fault.direction ?? 'in';
      const endpoint = dir === 'in' ? VIRTUAL_READER_ENDPOINTS.bulkIn : dir === 'out' ? VIRTUAL_READER_ENDPOINTS.bulkOut : undefined;
      const times = fault.times ?? 1;
      for (let i = 0; i < times; i++) this.failNextTransfer(dir, endpoint);
      return { fault, fired: times, active: false, remove() {} };
    }
    if (fault.kind === 'stall' && fault.endpoint === 'out') {
      this.haltEndpoint('out', VIRTUAL_READER_ENDPOINTS.bulkOut);
      return { fault, fired: 1, active: false, remove() {} };
    }
    return this.faults.add(fault);
  }

  /** Removes every pending fault (and transfer failures not yet used). */
  clearFaults(): void {
    this.faults.clear();
    this.clearTransferFailures();
  }

  /** Puts a card in a slot now (NotifySlotChange). */
  insertCard(card: VirtualCard, slot = 0): void {
    const s = this.slot(slot);
    if (s.card === card) return;
    s.card = card;
    s.lastCard = card;
    this.resetCardState(s);
    s.changed = true;
    this.notifySlotChange(false);
  }

  /** Pulls the card out of a slot now (NotifySlotChange); returns it. */
  removeCard(slot = 0): VirtualCard | null {
    const s = this.slot(slot);
    const card = s.card;
    if (!card) return null;
    s.card = null;
    this.resetCardState(s);
    s.changed = true;
    this.notifySlotChange(false);
    return card;
  }

  // ---- USB hooks -------------------------------------------------------------------

  protected override handlePlug(): void {
    for (const s of this.slots) {
      s.busy = false;
      s.inFlight = undefined;
      s.muted = undefined;
      s.abort = undefined;
      this.resetCardState(s);
      s.changed = s.card !== null;
    }
    if (this.initialNotification) this.notifySlotChange(true);
  }

  protected override handleUnplug(): void {
    for (const s of this.slots) {
      s.busy = false;
      s.muted = undefined;
      s.inFlight = undefined;
    }
  }

  protected override handleControlIn(setup: USBControlTransferParameters, _length: number): ControlInAnswer {
    if (setup.requestType === 'standard') {
      if (setup.request === 0x06) {
        const type = setup.value >> 8;
        const index = setup.value & 0xff;
        if (type === 0x01) return { status: 'ok', data: this.deviceDescriptor };
        if (type === 0x02 && index === 0) return { status: 'ok', data: this.configurationDescriptor };
        if (type === 0x03) {
          if (index === 0) return { status: 'ok', data: Uint8Array.of(4, 3, 0x09, 0x04) };
          const text = this.strings[index - 1];
          if (text) return { status: 'ok', data: utf16le(text) };
        }
        return { status: 'stall' };
      }
      if (setup.request === 0x00) return { status: 'ok', data: new Uint8Array(2) };
      if (setup.request === 0x08) return { status: 'ok', data: Uint8Array.of(this.configuration?.configurationValue ?? 0) };
      return { status: 'stall' };
    }
    if (setup.requestType === 'class' && setup.recipient === 'interface') {
      if (setup.request === CCID_REQUEST_GET_CLOCK_FREQUENCIES && this.clockFrequencies.length > 0) {
        return { status: 'ok', data: dwordList([...this.clockFrequencies]) };
      }
      if (setup.request === CCID_REQUEST_GET_DATA_RATES && this.dataRates.length > 0) {
        return { status: 'ok', data: dwordList([...this.dataRates]) };
      }
    }
    return { status: 'stall' };
  }

  protected override handleControlOut(setup: USBControlTransferParameters, _data: Uint8Array): 'ok' | 'stall' {
    if (setup.requestType === 'class' && setup.recipient === 'interface' && setup.request === CCID_REQUEST_ABORT) {
      const bSlot = setup.value & 0xff;
      const bSeq = (setup.value >> 8) & 0xff;
      const s = this.slots[bSlot];
      if (!s) return 'stall';
      this.abortControl(s, bSeq);
      return 'ok';
    }
    if (setup.requestType === 'standard') return 'ok';
    return 'stall';
  }

  protected override handleTransferOut(endpointNumber: number, wire: Uint8Array): void {
    if (endpointNumber !== VIRTUAL_READER_ENDPOINTS.bulkOut) return;
    this.counters.commands++;
    const vendor = this.quirks.vendorCommand;
    if (vendor && wire[0] === vendor.messageType) {
      const answer = vendor.answer.slice();
      if (answer.length > 6 && wire.length > 6) answer[6] = wire[6]!;
      if (this.connectedState) this.queueIn(VIRTUAL_READER_ENDPOINTS.bulkIn, answer);
      return;
    }
    const data = this.quirks.bigEndianLength ? swapLengthByteOrder(wire) : wire;
    if (data.length < CCID_HEADER_LENGTH) return; // not a message: a real reader ignores it
    const head = peekHeader(data);
    const maxData = this.descriptor.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH;
    let cmd: CcidCommand;
    try {
      cmd = decodeCommand(data);
    } catch (e) {
      if (!isWebCcidError(e)) throw e;
      // Unknown type: command not supported; bad dwLength: offset 1.
      const bError = e.code === 'ccid/length-mismatch' ? 1 : e.code === 'ccid/unexpected-message' ? CCID_ERROR.CMD_NOT_SUPPORTED : 1;
      const s = this.slots[head.bSlot];
      const icc = s ? this.iccStatus(s) : 2;
      this.queueFrame(this.rawSlotStatus(head.bSlot, head.bSeq, (1 << 6) | icc, bError));
      return;
    }
    const slot = this.slots[cmd.bSlot];
    if (!slot) {
      this.queueFrame(this.frame(cmd, undefined, { status: 1, error: 5 }, 2));
      return;
    }
    if (head.dwLength > maxData) {
      this.queueFrame(this.frame(cmd, slot, { status: 1, error: 1 }));
      return;
    }
    const faults = this.faults.take(cmd.name, cmd.bSlot);
    void this.runCommand(slot, cmd, faults);
  }

  // ---- command processing ------------------------------------------------------------

  private async runCommand(slot: SlotState, cmd: CcidCommand, faults: VirtualFault[]): Promise<void> {
    const has = <K extends VirtualFault['kind']>(kind: K): Extract<VirtualFault, { kind: K }> | undefined =>
      faults.find((f): f is Extract<VirtualFault, { kind: K }> => f.kind === kind);

    const unplug = has('unplug');
    if (unplug) {
      this.unplug(unplug.order ? { order: unplug.order } : {});
      return;
    }
    if (has('card-removal')) this.removeCard(slot.index);
    const insertion = has('card-insertion');
    if (insertion) {
      const card = insertion.card ?? slot.lastCard;
      if (card) this.insertCard(card, slot.index);
    }

    if (cmd.name === 'Abort') {
      this.abortBulk(slot, cmd);
      return;
    }
    if (slot.abort?.control) {
      this.queueFrame(this.frame(cmd, slot, { status: 1, error: CCID_ERROR.CMD_ABORTED }));
      return;
    }
    const busySlots = this.slots.filter((s) => s.busy).length;
    if (slot.busy || busySlots >= Math.max(1, this.descriptor.bMaxCCIDBusySlots)) {
      this.queueFrame(this.frame(cmd, slot, { status: 1, error: CCID_ERROR.CMD_SLOT_BUSY }));
      return;
    }

    const mute = has('mute');
    if (mute) {
      slot.busy = true;
      slot.muted = { cmd, answerOnAbort: mute.answerOnAbort ?? true };
      return;
    }

    slot.busy = true;
    const flight = { cmd, aborted: false };
    slot.inFlight = flight;
    let answer: Answer;
    try {
      const hw = has('hardware-error');
      if (hw) {
        if (this.hasInterrupt) {
          this.queueIn(
            VIRTUAL_READER_ENDPOINTS.interruptIn,
            encodeNotification({ name: 'HardwareError', bSlot: slot.index, bSeq: cmd.bSeq, bHardwareErrorCode: hw.code ?? 0x01 }),
          );
        }
        answer = { status: 1, error: CCID_ERROR.HW_ERROR };
      } else {
        const wtx = has('wtx');
        const te = has('time-extension');
        const extend = async (multiplier: number): Promise<void> => {
          this.queueFrame(this.frame(cmd, slot, { status: 2, error: multiplier & 0xff }));
          this.counters.timeExtensions++;
          await this.sleep(0);
        };
        if (te) {
          for (let i = 0; i < (te.count ?? 1); i++) {
            await this.sleep((te.intervalMs ?? 100) / 1000);
            await extend(te.multiplier ?? 1);
          }
        }
        if (has('card-mute')) {
          if (slot.t1) slot.t1.skipNext();
          slot.cardMuteNext = true;
        }
        if (has('endless-chain')) slot.t1?.floodEmptyChain();
        const wtxFlood = has('wtx-flood');
        if (wtxFlood) slot.t1?.floodWtx(wtxFlood.multiplier ?? 1);
        const corrupt = has('corrupt-block');
        if (corrupt && slot.t1) {
          slot.t1.corruptNext({ ...(corrupt.index === undefined ? {} : { index: corrupt.index }), ...(corrupt.mask === undefined ? {} : { mask: corrupt.mask }) });
        }
        answer = await this.execute(slot, cmd, wtx?.multiplier ?? (wtx ? 2 : undefined), extend);
        slot.cardMuteNext = false;
      }
    } catch {
      // A model bug or an impossible card (e.g. an ATR the T=1 engine refuses): report a hardware error
      // rather than leaving an unhandled rejection and a silent reader.
      answer = { status: 1, error: CCID_ERROR.HW_ERROR };
    } finally {
      slot.busy = false;
      if (slot.inFlight === flight) slot.inFlight = undefined;
    }
    if (!this.connectedState) return;
    if (flight.aborted) answer = { status: 1, error: CCID_ERROR.CMD_ABORTED };

    const bytes = this.frame(cmd, slot, answer);
    const wrong = has('wrong-length');
    if (wrong) {
      const n = (bytes.length - CCID_HEADER_LENGTH + (wrong.delta ?? 1)) >>> 0;
      writeU32LE(bytes, 1, n);
    }
    const stale = has('stale-seq');
    if (stale) {
      for (let i = 0; i < (stale.count ?? 1); i++) {
        const prev = slot.lastAnswer;
        const old =
          prev && prev[6] !== cmd.bSeq
            ? prev
            : this.rawSlotStatus(slot.index, (cmd.bSeq - 1 - i) & 0xff, this.iccStatus(slot), 0);
        this.queueFrame(old);
      }
    }
    const garbage = has('garbage');
    if (garbage) {
      this.queueFrame(garbage.bytes ?? Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x00));
      if (garbage.replace) return;
    }
    const stall = has('stall');
    if (stall) {
      this.haltEndpoint('in', VIRTUAL_READER_ENDPOINTS.bulkIn);
      if (stall.dropAnswer) return;
    }
    slot.lastAnswer = bytes;
    this.queueFrame(bytes);
  }

  private async execute(
    slot: SlotState,
    cmd: CcidCommand,
    wtx: number | undefined,
    extend: (multiplier: number) => Promise<void>,
  ): Promise<Answer> {
    const absent = { status: 1 as const, error: CCID_ERROR.ICC_MUTE };
    switch (cmd.name) {
      case 'IccPowerOn': {
        const on = await this.powerOn(slot, cmd.bPowerSelect);
        if (!this.quirks.atrLeadingZero || on.status || !on.data) return on;
        return { ...on, data: concatBytes(Uint8Array.of(0x00), on.data) };
      }
      case 'IccPowerOff':
        this.resetCardState(slot);
        return { clockStatus: 0 };
      case 'GetSlotStatus':
        return { clockStatus: this.clockStatus(slot) };
      case 'XfrBlock': {
        if (!slot.card || !slot.powered) return absent;
        return this.xfrBlock(slot, cmd.abData, cmd.wLevelParameter, wtx, extend);
      }
      case 'GetParameters':
        if (!slot.card) return absent;
        return this.parametersAnswer(slot);
      case 'ResetParameters':
        if (!slot.card) return absent;
        this.setDefaultParams(slot, false);
        return this.parametersAnswer(slot);
      case 'SetParameters':
        if (!slot.card) return absent;
        return this.setParameters(slot, cmd.bProtocolNum, cmd.abData);
      case 'Escape': {
        const out = this.onEscape?.(cmd.abData, slot.index);
        return out === undefined ? { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED } : { data: out };
      }
      case 'IccClock':
        if (cmd.bClockCommand > 1) return { status: 1, error: 7 };
        if (!slot.card) return absent;
        slot.clockStopped = cmd.bClockCommand === 1;
        return { clockStatus: this.clockStatus(slot) };
      case 'T0APDU':
        if (this.exchangeLevel === 'tpdu' || this.exchangeLevel === 'character') return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
        if (cmd.bmChanges & 0x01) slot.classGetResponse = cmd.bClassGetResponse;
        if (cmd.bmChanges & 0x02) slot.classEnvelope = cmd.bClassEnvelope;
        return { clockStatus: this.clockStatus(slot) };
      case 'Secure':
        return this.secure(slot, cmd.bBWI, cmd.wLevelParameter, cmd.abData);
      case 'Mechanical':
        return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
      case 'SetDataRateAndClockFrequency':
        return this.setDataRateAndClock(slot, cmd.dwClockFrequency, cmd.dwDataRate);
      case 'Abort':
        return { clockStatus: 0 };
    }
  }

  // ---- power, parameters -------------------------------------------------------------

  private autoRate(): boolean {
    const f = this.descriptor.dwFeatures;
    return this.exchangeLevel === 'short-apdu' || this.exchangeLevel === 'extended-apdu' || (f & (CCID_FEATURE.AUTO_PPS | CCID_FEATURE.AUTO_PPS_PROPRIETARY)) !== 0;
  }

  private autoParameters(): boolean {
    return this.autoRate() || (this.descriptor.dwFeatures & CCID_FEATURE.AUTO_PARAMETERS) !== 0;
  }

  private async powerOn(slot: SlotState, bPowerSelect: number): Promise<Answer> {
    const voltages = [0, 0x01, 0x02, 0x04];
    if (bPowerSelect > 3 || (bPowerSelect > 0 && (this.descriptor.bVoltageSupport & voltages[bPowerSelect]!) === 0)) {
      return { status: 1, error: 7 };
    }
    const card = slot.card;
    if (!card) return { status: 1, error: CCID_ERROR.ICC_MUTE };
    const atrBytes = card.reset();
    let atr: Atr;
    try {
      atr = parseAtr(atrBytes);
    } catch {
      slot.powered = false;
      return { status: 1, error: CCID_ERROR.BAD_ATR_TS };
    }
    slot.atr = atr;
    slot.powered = true;
    slot.clockStopped = false;
    slot.xfrChain = undefined;
    slot.responseRest = undefined;
    const offersT1 = atr.protocols.includes(1);
    slot.cardProtocol = (atr.specificMode?.protocol ?? atr.protocols[0] ?? 0) === 1 ? 1 : 0;
    const specificRate = atr.specificMode && !atr.specificMode.implicit && atr.groups[0]?.ta !== undefined;
    slot.cardRate = specificRate ? { fiIndex: atr.fiIndex, diIndex: atr.diIndex } : { fiIndex: 1, diIndex: 1 };
    slot.ppsAllowed = !atr.specificMode;
    slot.t1 = offersT1
      ? new T1Card({ ifsc: atr.ifsc ?? 32, edc: atr.edc ?? 'lrc', handle: (apdu) => this.cardTransmit(card, apdu) })
      : undefined;
    slot.t0 = new T0CardEngine(card);
    await this.wire(slot, atrBytes.length, { fiIndex: 1, diIndex: 1 });
    this.setDefaultParams(slot, true);

    if (this.autoRate() && !atr.specificMode) {
      const chosen = chooseRate({
        atr,
        clockKHz: slot.clockKHz,
        maxDataRate: this.descriptor.dwMaxDataRate,
        ...(this.dataRates.length > 0 ? { dataRates: [...this.dataRates] } : {}),
      });
      // The reader's own PPS: 4 bytes each way at the default rate.
      await this.wire(slot, 8, { fiIndex: 1, diIndex: 1 });
      slot.ppsAllowed = false;
      if (chosen) {
        slot.cardRate = { fiIndex: chosen.fiIndex, diIndex: chosen.diIndex };
        slot.readerRate = { ...slot.cardRate };
        if (slot.params) slot.params.bmFindexDindex = (chosen.fiIndex << 4) | chosen.diIndex;
      }
    }
    if (slot.params?.protocol === 1 && slot.t1) {
      const apduLevel = this.exchangeLevel === 'short-apdu' || this.exchangeLevel === 'extended-apdu';
      if (apduLevel) {
        slot.t1Host = new T1Host({ ifsc: atr.ifsc ?? 32, ifsd: 32, edc: atr.edc ?? 'lrc' });
      }
      const ifsd = Math.min(254, Math.max(1, this.descriptor.dwMaxIFSD || 254));
      if (apduLevel || (this.descriptor.dwFeatures & CCID_FEATURE.AUTO_IFSD) !== 0) {
        await this.negotiateIfsd(slot, ifsd);
      }
    }
    return { data: atrBytes };
  }

  /** The reader's own S(IFS request) to the card. */
  private async negotiateIfsd(slot: SlotState, ifsd: number): Promise<void> {
    const t1 = slot.t1;
    if (!t1) return;
    const host = slot.t1Host ?? new T1Host({ ifsc: slot.atr?.ifsc ?? 32, ifsd: 32, edc: slot.atr?.edc ?? 'lrc' });
    let action = host.negotiateIfsd(ifsd);
    for (let i = 0; i < 16 && action.kind === 'send'; i++) {
      const r = t1.receive(action.block);
      await this.wire(slot, action.block.length + (r?.length ?? 0));
      try {
        action = host.receive(r);
      } catch {
        return;
      }
    }
  }

  /** Parameters after power-on (`fromAtr`) or ResetParameters. */
  private setDefaultParams(slot: SlotState, fromAtr: boolean): void {
    const atr = slot.atr;
    if (!atr) {
      slot.params = undefined;
      return;
    }
    const auto = this.autoParameters();
    const protocol: 0 | 1 = auto ? slot.cardProtocol : fromAtr ? 0 : (slot.params?.protocol ?? 0);
    const rate = auto ? slot.cardRate : { fiIndex: 1, diIndex: 1 };
    slot.params = paramsFromAtr(atr, protocol, rate);
    slot.readerRate = { ...rate };
  }

  private parametersAnswer(slot: SlotState): Answer {
    const p = slot.params;
    if (!p) return { protocolNum: 0, data: EMPTY, status: 1, error: CCID_ERROR.ICC_MUTE };
    return { protocolNum: p.protocol, data: encodeProtocolParams(p) };
  }

  private rateSupported(slot: SlotState, rate: Rate): boolean {
    const fi = FI_TABLE[rate.fiIndex];
    const di = DI_TABLE[rate.diIndex];
    if (fi === undefined || di === undefined) return false;
    if (rate.fiIndex === 1 && rate.diIndex === 1) return true;
    const baud = baudRate({ fi, di, fHz: slot.clockKHz * 1000 });
    if (baud > this.descriptor.dwMaxDataRate * (1 + RATE_TOLERANCE)) return false;
    if (this.dataRates.length > 0 && !this.dataRates.some((r) => near(baud, r))) return false;
    return true;
  }

  private setParameters(slot: SlotState, protocolNum: number, data: Uint8Array): Answer {
    if ((protocolNum !== 0 && protocolNum !== 1) || (this.descriptor.dwProtocols & (1 << protocolNum)) === 0) {
      return { status: 1, error: 7, protocolNum: slot.params?.protocol ?? 0, data: EMPTY };
    }
    let p: ProtocolParams;
    try {
      p = decodeProtocolParams(protocolNum, data);
    } catch {
      return { status: 1, error: 1, protocolNum, data: EMPTY };
    }
    const rate = { fiIndex: p.bmFindexDindex >> 4, diIndex: p.bmFindexDindex & 0x0f };
    if (!this.rateSupported(slot, rate)) return { status: 1, error: 10, protocolNum, data: EMPTY };
    if (p.protocol === 1 && (p.bIFSC < 1 || p.bIFSC > 254)) return { status: 1, error: 15, protocolNum, data: EMPTY };
    slot.params = p;
    slot.readerRate = rate;
    if (p.protocol === 1 && slot.t1 && (this.exchangeLevel === 'short-apdu' || this.exchangeLevel === 'extended-apdu')) {
      slot.t1Host ??= new T1Host({ ifsc: slot.atr?.ifsc ?? 32, ifsd: 32, edc: slot.atr?.edc ?? 'lrc' });
    }
    return this.parametersAnswer(slot);
  }

  private setDataRateAndClock(slot: SlotState, clockKHz: number, rate: number): Answer {
    const clocks = this.clockFrequencies.length > 0 ? [...this.clockFrequencies] : [this.descriptor.dwDefaultClock, this.descriptor.dwMaximumClock];
    const pick = (values: number[], want: number): number => {
      const sorted = [...new Set(values)].filter((v) => v > 0).sort((a, b) => a - b);
      const exact = sorted.find((v) => near(want, v));
      if (exact !== undefined) return exact;
      const lower = sorted.filter((v) => v <= want);
      return lower.length > 0 ? lower[lower.length - 1]! : (sorted[0] ?? want);
    };
    slot.clockKHz = pick(clocks, clockKHz);
    slot.dataRate =
      this.dataRates.length > 0 ? pick([...this.dataRates], rate) : Math.min(rate, this.descriptor.dwMaxDataRate) || this.descriptor.dwDataRate;
    return { clockKHz: slot.clockKHz, rate: slot.dataRate };
  }

  // ---- XfrBlock --------------------------------------------------------------------

  private async xfrBlock(
    slot: SlotState,
    data: Uint8Array,
    wLevel: number,
    wtx: number | undefined,
    extend: (multiplier: number) => Promise<void>,
  ): Promise<Answer> {
    switch (this.exchangeLevel) {
      case 'character':
        return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
      case 'tpdu':
        if (wLevel !== 0) return { status: 1, error: 8 };
        return this.tpdu(slot, data, wtx);
      case 'short-apdu': {
        if (wLevel !== 0) return { status: 1, error: 8 };
        if (this.strict) {
          try {
            if (parseApdu(data).extended) return { data: Uint8Array.of(0x67, 0x00), chain: 0 };
          } catch {
            return { data: Uint8Array.of(0x67, 0x00), chain: 0 };
          }
        }
        return this.apdu(slot, data, wtx, extend);
      }
      case 'extended-apdu':
        return this.extendedXfr(slot, data, wLevel, wtx, extend);
    }
  }

  private async extendedXfr(
    slot: SlotState,
    data: Uint8Array,
    wLevel: number,
    wtx: number | undefined,
    extend: (multiplier: number) => Promise<void>,
  ): Promise<Answer> {
    const maxData = this.descriptor.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH;
    const respond = (response: Uint8Array): Answer => {
      if (response.length <= maxData) return { data: response, chain: 0 };
      slot.responseRest = response.slice(maxData);
      return { data: response.slice(0, maxData), chain: 0x01 };
    };
    switch (wLevel) {
      case 0x0000:
        slot.xfrChain = undefined;
        slot.responseRest = undefined;
        break;
      case 0x0001:
        slot.xfrChain = [data.slice()];
        slot.responseRest = undefined;
        return { data: EMPTY, chain: 0x10 };
      case 0x0003:
        if (!slot.xfrChain) return { status: 1, error: 8 };
        slot.xfrChain.push(data.slice());
        return { data: EMPTY, chain: 0x10 };
      case 0x0002: {
        if (!slot.xfrChain) return { status: 1, error: 8 };
        const whole = concatBytes(...slot.xfrChain, data);
        slot.xfrChain = undefined;
        const r = await this.apdu(slot, whole, wtx, extend);
        return r.data && r.status === undefined ? respond(r.data) : r;
      }
      case 0x0010: {
        const rest = slot.responseRest;
        if (!rest) return { status: 1, error: 8 };
        if (rest.length <= maxData) {
          slot.responseRest = undefined;
          return { data: rest, chain: 0x02 };
        }
        slot.responseRest = rest.slice(maxData);
        return { data: rest.slice(0, maxData), chain: 0x03 };
      }
      default:
        return { status: 1, error: 8 };
    }
    const r = await this.apdu(slot, data, wtx, extend);
    return r.data && r.status === undefined ? respond(r.data) : r;
  }

  private inSync(slot: SlotState): boolean {
    if (!this.strict) return true;
    const p = slot.params;
    if (!p || p.protocol !== slot.cardProtocol) return false;
    return slot.readerRate.fiIndex === slot.cardRate.fiIndex && slot.readerRate.diIndex === slot.cardRate.diIndex;
  }

  /** Card wire time for `bytes` characters at a rate (default: the card's current one). */
  private async wire(slot: SlotState, bytes: number, rate?: Rate): Promise<void> {
    const r = rate ?? slot.cardRate;
    const fi = FI_TABLE[r.fiIndex] ?? 372;
    const di = DI_TABLE[r.diIndex] ?? 1;
    const seconds = wireTimeSeconds({
      bytes,
      fi,
      di,
      fHz: slot.clockKHz * 1000,
      guardEtu: slot.atr?.extraGuardTime ?? 0,
      protocol: slot.cardProtocol,
    });
    this.counters.wireBytes += bytes;
    this.counters.wireSeconds += seconds;
    await this.sleep(seconds);
  }

  private async muteWait(slot: SlotState): Promise<Answer> {
    // The reader waits the card's block waiting time, then reports it mute.
    const r = slot.cardRate;
    const seconds = t1BlockWaitingTime({
      bwi: slot.atr?.bwi ?? 4,
      fi: FI_TABLE[r.fiIndex] ?? 372,
      di: DI_TABLE[r.diIndex] ?? 1,
      fHz: slot.clockKHz * 1000,
    });
    await this.sleep(seconds);
    return { status: 1, error: CCID_ERROR.ICC_MUTE };
  }

  private cardTransmit(card: VirtualCard, apdu: Uint8Array): Uint8Array {
    this.counters.apdus++;
    return card.transmit(apdu);
  }

  private async processing(): Promise<void> {
    const s = this.processingMs / 1000;
    if (s <= 0) return;
    this.counters.processingSeconds += s;
    await this.sleep(s);
  }

  /** TPDU level: one T=1 block or T=0 TPDU (or a PPS) through to the card. */
  private async tpdu(slot: SlotState, data: Uint8Array, wtx: number | undefined): Promise<Answer> {
    const card = slot.card!;
    if (slot.ppsAllowed && data[0] === 0xff) return this.pps(slot, data);
    slot.ppsAllowed = false;
    if (!this.inSync(slot)) {
      await this.wire(slot, data.length);
      return this.muteWait(slot);
    }
    if (slot.cardProtocol === 1) {
      const t1 = slot.t1;
      if (!t1) return this.muteWait(slot);
      if (wtx !== undefined) t1.requestWtx(Math.min(255, Math.max(1, wtx)));
      const before = t1.commands;
      const r = t1.receive(data);
      if (t1.commands !== before) await this.processing();
      await this.wire(slot, data.length + (r?.length ?? 0));
      if (!r) return this.muteWait(slot);
      return { data: r, chain: 0 };
    }
    if (slot.cardMuteNext) {
      slot.cardMuteNext = false;
      await this.wire(slot, data.length);
      return this.muteWait(slot);
    }
    const engine = slot.t0 ?? new T0CardEngine(card);
    const before = card.apduCount;
    const r = engine.exchange(data);
    this.counters.apdus += card.apduCount - before;
    if (card.apduCount !== before) await this.processing();
    if (!r) {
      await this.wire(slot, data.length);
      return this.muteWait(slot);
    }
    await this.wire(slot, r.wireBytes);
    return { data: r.response, chain: 0 };
  }

  /** A PPS exchange through a TPDU reader (7816-3 §9). */
  private async pps(slot: SlotState, request: Uint8Array): Promise<Answer> {
    slot.ppsAllowed = false;
    const atr = slot.atr!;
    const sameRate = slot.readerRate.fiIndex === slot.cardRate.fiIndex && slot.readerRate.diIndex === slot.cardRate.diIndex;
    if (this.strict && !sameRate) {
      // The reader already switched its rate (SetParameters before PPS): the card hears noise.
      await this.wire(slot, request.length);
      return this.muteWait(slot);
    }
    let req;
    try {
      req = decodePpsRequest(request);
    } catch {
      await this.wire(slot, request.length);
      return this.muteWait(slot);
    }
    if (!atr.protocols.includes(req.protocol) || (req.protocol !== 0 && req.protocol !== 1)) {
      await this.wire(slot, request.length);
      return this.muteWait(slot);
    }
    const protocol = req.protocol as 0 | 1;
    let response: Uint8Array;
    let rate: Rate = { fiIndex: 1, diIndex: 1 };
    const fiOk = req.fiIndex !== undefined && FI_TABLE[req.fiIndex] === atr.fi && !atr.ta1Reserved;
    const di = req.diIndex === undefined ? undefined : DI_TABLE[req.diIndex];
    if (req.fiIndex === undefined || (fiOk && di !== undefined && di <= atr.di)) {
      response = request.slice();
      if (req.fiIndex !== undefined) rate = { fiIndex: req.fiIndex, diIndex: req.diIndex! };
    } else {
      // Refuse the rate: answer PPS0 without PPS1 (default Fi/Di), same protocol.
      const pps0 = request[1]! & 0x0f;
      response = Uint8Array.of(0xff, pps0, 0xff ^ pps0);
    }
    await this.wire(slot, request.length + response.length);
    slot.cardProtocol = protocol;
    slot.cardRate = rate;
    if (this.rateSupported(slot, rate)) {
      slot.readerRate = { ...rate };
      if (slot.atr) slot.params = paramsFromAtr(slot.atr, protocol, rate);
    }
    if (protocol === 1 && !slot.t1) {
      const card = slot.card!;
      slot.t1 = new T1Card({ ifsc: atr.ifsc ?? 32, edc: atr.edc ?? 'lrc', handle: (apdu) => this.cardTransmit(card, apdu) });
    }
    return { data: response, chain: 0 };
  }

  /** APDU level: the reader runs the card protocol. Answers data + SW. */
  private async apdu(
    slot: SlotState,
    apdu: Uint8Array,
    wtx: number | undefined,
    extend: (multiplier: number) => Promise<void>,
  ): Promise<Answer> {
    const card = slot.card!;
    if (!this.inSync(slot)) return this.muteWait(slot);
    if (slot.cardProtocol === 1) {
      const t1 = slot.t1;
      if (!t1) return this.muteWait(slot);
      const host = (slot.t1Host ??= new T1Host({ ifsc: slot.atr?.ifsc ?? 32, ifsd: 32, edc: slot.atr?.edc ?? 'lrc' }));
      if (wtx !== undefined) t1.requestWtx(Math.min(255, Math.max(1, wtx)));
      let action;
      try {
        action = host.transmit(apdu);
        for (let i = 0; i < 100_000 && action.kind === 'send'; i++) {
          if (action.bwtMultiplier > 1) await extend(action.bwtMultiplier);
          const before = t1.commands;
          const r = t1.receive(action.block);
          if (t1.commands !== before) await this.processing();
          await this.wire(slot, action.block.length + (r?.length ?? 0));
          action = host.receive(r);
        }
      } catch {
        slot.t1Host = undefined;
        return { status: 1, error: CCID_ERROR.XFR_PARITY_ERROR };
      }
      if (action.kind !== 'done') return { status: 1, error: CCID_ERROR.XFR_PARITY_ERROR };
      return { data: action.response, chain: 0 };
    }
    // T=0: the reader does GET RESPONSE / 6Cxx, and ENVELOPE for long commands.
    if (wtx !== undefined) await extend(wtx);
    const engine = slot.t0 ?? new T0CardEngine(card);
    const gr = slot.classGetResponse;
    const host = new T0Host(gr === 0xff ? {} : { getResponseCla: gr });
    if (slot.cardMuteNext) {
      slot.cardMuteNext = false;
      return this.muteWait(slot);
    }
    const run = async (one: Uint8Array): Promise<Uint8Array | undefined> => {
      let action = host.transmit(one);
      for (let i = 0; i < 1000 && action.kind === 'send'; i++) {
        const before = card.apduCount;
        const r = engine.exchange(action.tpdu);
        this.counters.apdus += card.apduCount - before;
        if (card.apduCount !== before) await this.processing();
        if (!r) return undefined;
        await this.wire(slot, r.wireBytes);
        action = host.receive(r.response);
      }
      return action.kind === 'done' ? action.response : undefined;
    };
    try {
      let parsed;
      try {
        parsed = parseApdu(apdu);
      } catch {
        return { data: Uint8Array.of(0x67, 0x00), chain: 0 };
      }
      if ((parsed.data?.length ?? 0) > 255) {
        // ENVELOPE chain (INS C2), CLA bit 0x10 on all but the last.
        const cla = slot.classEnvelope === 0xff ? parsed.cla : slot.classEnvelope;
        let out: Uint8Array | undefined;
        for (let off = 0; off < apdu.length; off += 255) {
          const part = apdu.subarray(off, off + 255);
          const last = off + 255 >= apdu.length;
          const env = concatBytes(Uint8Array.of(last ? cla : cla | 0x10, 0xc2, 0, 0, part.length), part, last ? Uint8Array.of(0) : EMPTY);
          out = await run(env);
          if (!out) return this.muteWait(slot);
          if (!last && !(out.length === 2 && out[0] === 0x90 && out[1] === 0x00)) return { data: out, chain: 0 };
        }
        return { data: out!, chain: 0 };
      }
      const out = await run(apdu);
      if (!out) return this.muteWait(slot);
      return { data: out, chain: 0 };
    } catch {
      return { data: Uint8Array.of(0x67, 0x00), chain: 0 };
    }
  }

  // ---- Secure ------------------------------------------------------------------------

  private async secure(slot: SlotState, bBWI: number, wLevelParameter: number, abData: Uint8Array): Promise<Answer> {
    if (this.descriptor.bPINSupport === 0) return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
    const card = slot.card;
    if (!card || !slot.powered) return { status: 1, error: CCID_ERROR.ICC_MUTE };
    const hook = this.onSecure;
    if (!hook) return { status: 1, error: CCID_ERROR.PIN_CANCELLED };
    // TPDU level with T=1: the reader wraps the APDU in the I-block whose prologue
    // (NAD PCB) the host gave in bTeoPrologue, and answers the card's block as is.
    const t1Card = this.exchangeLevel === 'tpdu' && slot.cardProtocol === 1 ? slot.t1 : undefined;
    let rawBlock: Uint8Array | null | undefined;
    const transmit = (apdu: Uint8Array): Uint8Array => {
      if (!t1Card) return this.cardTransmit(card, apdu);
      const edc = slot.atr?.edc ?? 'lrc';
      let prologue = Uint8Array.of(0, 0, 0);
      try {
        prologue = decodeSecurePinData(abData).bTeoPrologue.slice();
      } catch {
        // The hook decides about bad structures; an undecodable one gets the default prologue.
      }
      const pcb = prologue[1]!;
      const block = encodeT1Block({ kind: 'I', nad: prologue[0]!, ns: ((pcb >> 6) & 1) as 0 | 1, more: false, inf: apdu }, edc);
      rawBlock = t1Card.receive(block);
      block.fill(0);
      if (!rawBlock) return new Uint8Array(0);
      try {
        const answer = decodeT1Block(rawBlock, edc);
        if (answer.kind === 'I' && !answer.more) return answer.inf.slice();
      } catch {
        // garbled: the host's T=1 engine sees the raw block
      }
      return new Uint8Array(0);
    };
    const outcome = await hook({ slot: slot.index, bBWI, wLevelParameter, abData: abData.slice(), transmit });
    if ('error' in outcome) {
      if (outcome.error === 'bad-parameter') return { status: 1, error: Math.min(0x7f, Math.max(1, outcome.offset)) };
      return { status: 1, error: outcome.error === 'timeout' ? CCID_ERROR.PIN_TIMEOUT : CCID_ERROR.PIN_CANCELLED };
    }
    if (t1Card && rawBlock !== undefined) {
      if (rawBlock === null) return this.muteWait(slot);
      return { data: rawBlock, chain: 0 };
    }
    return { data: outcome.response, chain: 0 };
  }

  // ---- Abort ---------------------------------------------------------------------------

  private abortControl(slot: SlotState, bSeq: number): void {
    const bulk = slot.abort?.bulk;
    slot.abort = { bSeq, control: true, ...(bulk ? { bulk } : {}) };
    if (slot.inFlight) slot.inFlight.aborted = true;
    const muted = slot.muted;
    if (muted) {
      slot.muted = undefined;
      slot.busy = false;
      if (muted.answerOnAbort) this.queueFrame(this.frame(muted.cmd, slot, { status: 1, error: CCID_ERROR.CMD_ABORTED }));
    }
    if (bulk && bulk.bSeq === bSeq) this.finishAbort(slot, bulk);
  }

  private abortBulk(slot: SlotState, cmd: CcidCommand): void {
    if (slot.abort?.control && slot.abort.bSeq === cmd.bSeq) {
      this.finishAbort(slot, cmd);
      return;
    }
    slot.abort = { bSeq: cmd.bSeq, control: false, bulk: cmd };
  }

  private finishAbort(slot: SlotState, cmd: CcidCommand): void {
    slot.abort = undefined;
    slot.xfrChain = undefined;
    slot.responseRest = undefined;
    this.queueFrame(this.frame(cmd, slot, { clockStatus: this.clockStatus(slot) }));
  }

  // ---- frames ----------------------------------------------------------------------------

  private slot(i: number): SlotState {
    const s = this.slots[i];
    if (!s) throw new WebCcidError('virtual/bad-slot', `No slot ${i}: the reader has ${this.slots.length}.`);
    return s;
  }

  private resetCardState(s: SlotState): void {
    s.powered = false;
    s.atr = undefined;
    s.params = undefined;
    s.t1 = undefined;
    s.t0 = undefined;
    s.t1Host = undefined;
    s.readerRate = { fiIndex: 1, diIndex: 1 };
    s.cardRate = { fiIndex: 1, diIndex: 1 };
    s.cardProtocol = 0;
    s.ppsAllowed = false;
    s.xfrChain = undefined;
    s.responseRest = undefined;
    s.clockKHz = this.descriptor.dwDefaultClock;
    s.dataRate = this.descriptor.dwDataRate;
  }

  private iccStatus(s: SlotState): 0 | 1 | 2 {
    if (!s.card) return 2;
    return s.powered ? 0 : 1;
  }

  private clockStatus(s: SlotState): number {
    if (!s.card || !s.powered) return 0;
    return s.clockStopped ? 1 : 0;
  }

  private rawSlotStatus(bSlot: number, bSeq: number, bStatus: number, bError: number): Uint8Array {
    const out = new Uint8Array(CCID_HEADER_LENGTH);
    out[0] = RDR_to_PC_SlotStatus;
    out[5] = bSlot;
    out[6] = bSeq;
    out[7] = bStatus;
    out[8] = bError;
    return out;
  }

  /** The answer frame for a command. */
  private frame(cmd: CcidCommand, slot: SlotState | undefined, a: Answer, icc?: 0 | 1 | 2): Uint8Array {
    const name = RESPONSE_FOR[cmd.name as CcidCommandName];
    const iccStatus = icc ?? (slot ? this.iccStatus(slot) : 2);
    const bStatus = ((a.status ?? 0) << 6) | iccStatus;
    const bError = a.error ?? 0;
    const base = { bSlot: cmd.bSlot, bSeq: cmd.bSeq, bStatus, bError, abData: a.status ? EMPTY : (a.data ?? EMPTY) };
    let r: CcidResponse;
    switch (name) {
      case 'DataBlock':
        r = { name, ...base, bChainParameter: a.chain ?? 0 };
        break;
      case 'SlotStatus':
        r = { name, ...base, bClockStatus: a.clockStatus ?? (slot ? this.clockStatus(slot) : 0) };
        break;
      case 'Parameters': {
        const p = slot?.params;
        const ok = !a.status;
        r = {
          name,
          ...base,
          bProtocolNum: a.protocolNum ?? p?.protocol ?? 0,
          abData: ok ? (a.data ?? (p ? encodeProtocolParams(p) : EMPTY)) : EMPTY,
        };
        break;
      }
      case 'Escape':
        r = { name, ...base };
        break;
      case 'DataRateAndClockFrequency':
        if (a.status) {
          // A failed answer carries no data (encodeResponse would write the 8 bytes).
          const out = this.rawSlotStatus(cmd.bSlot, cmd.bSeq, bStatus, bError);
          out[0] = RDR_to_PC_DataRateAndClockFrequency;
          return out;
        }
        r = { name, ...base, dwClockFrequency: a.clockKHz ?? slot?.clockKHz ?? 0, dwDataRate: a.rate ?? slot?.dataRate ?? 0 };
        break;
    }
    return encodeResponse(r);
  }

  private queueFrame(frame: Uint8Array): void {
    if (!this.connectedState) return;
    this.counters.answers++;
    const bytes = this.quirks.bigEndianLength ? swapLengthByteOrder(frame) : frame;
    this.queueIn(VIRTUAL_READER_ENDPOINTS.bulkIn, bytes);
    if (this.zeroLengthPacket && bytes.length % this.bulkPacketSize === 0) this.queueIn(VIRTUAL_READER_ENDPOINTS.bulkIn, EMPTY);
  }

  private notifySlotChange(initial: boolean): void {
    if (!this.hasInterrupt || !this.connectedState) return;
    const slots = this.slots.map((s) => ({ present: s.card !== null, changed: initial ? s.card !== null : s.changed }));
    for (const s of this.slots) s.changed = false;
    this.queueIn(VIRTUAL_READER_ENDPOINTS.interruptIn, encodeNotification({ name: 'NotifySlotChange', slots }));
  }
}

// ---- options resolution ---------------------------------------------------------------

function resolvePreset(preset: VirtualReaderOptions['preset']): VirtualReaderPreset {
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

function buildDescriptor(preset: VirtualReaderPreset, options: VirtualReaderOptions): CcidClassDescriptorInit {
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

/** Creates a virtual reader: `createVirtualReader({ preset: 'castles-ezccid', card: createHcaLikeCard() })`. */
export function createVirtualReader(options: VirtualReaderOptions = {}): VirtualReader {
  return new VirtualReader(options);
}

