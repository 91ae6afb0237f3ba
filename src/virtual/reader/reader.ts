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
 * The model is split by concern (see index.ts): options.ts (the options,
 * documented there), usb-side.ts, slot.ts, commands.ts, parameters.ts,
 * exchange.ts (the exchange levels), secure.ts, abort.ts (CCID 1.10 §5.3.1),
 * frames.ts.
 *
 * ## Faults (`reader.injectFault({ kind, ...trigger })`, faults.ts)
 * time-extension, wtx, card-mute, corrupt-block, endless-chain, wtx-flood,
 * card-removal, card-insertion, unplug, stall, stale-seq, hardware-error,
 * garbage, mute, wrong-length, transfer-error. One-shot by
 * default; `times: n` or `persistent: true`; filter by `slot` / `command`.
 * Immediate actions: `removeCard(slot)`, `insertCard(card, slot)`, `unplug()`,
 * `plug()`.
 */
import { writeU32LE } from '../../bytes.js';
import { isWebCcidError, WebCcidError } from '../../errors.js';
import { CCID_ERROR, CCID_HEADER_LENGTH, CCID_REQUEST_ABORT, type CcidCommand } from '../../ccid/messages.js';
import { decodeCommand, encodeNotification, peekHeader } from '../../ccid/messages-device.js';
import { encodeCcidClassDescriptor, exchangeLevelOf, type CcidClassDescriptorInit, type CcidExchangeLevel } from '../../ccid/descriptor.js';
import type { ProtocolParams } from '../../iso7816/params.js';
import { swapLengthByteOrder } from '../../ccid/quirks.js';
import type { VirtualCard } from '../card.js';
import { FaultRegistry, type FaultHandle, type VirtualFault } from '../faults.js';
import type { VirtualReaderQuirks } from '../presets.js';
import { VirtualUsbDevice, type ControlInAnswer } from '../usb-device.js';
import { abortBulk, abortControl } from './abort.js';
import { executeCommand } from './commands.js';
import { frame, rawSlotStatus } from './frames.js';
import { buildDescriptor, resolvePreset, type ReaderCounters, type VirtualReaderOptions, type VirtualReaderStats } from './options.js';
import {
  EMPTY,
  iccStatus,
  newSlotState,
  resetCardState,
  type Answer,
  type Rate,
  type ReaderContext,
  type SlotState,
} from './slot.js';
import { answerControlIn, readerConfigurationDescriptor, readerDeviceDescriptor, readerEndpoints, VIRTUAL_READER_ENDPOINTS } from './usb-side.js';

/** A virtual CCID reader (see the module comment): the USB device, its slots, and the command dispatch. */
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
  /** What the slot-level modules see of this reader. */
  private readonly context: ReaderContext;
  private readonly faults = new FaultRegistry();
  private readonly counters: ReaderCounters = {
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
    const endpoints = readerEndpoints(bulkPacketSize, interruptPacketSize, hasInterrupt);
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
    this.configurationDescriptor = readerConfigurationDescriptor({
      interfaceClass,
      endpoints,
      classDescriptor: this.quirks.noClassDescriptor ? null : this.classDescriptor,
      placement: options.classDescriptorPlacement ?? 'before-endpoints',
    });
    this.deviceDescriptor = readerDeviceDescriptor({
      vendorId: this.vendorId,
      productId: this.productId,
      bcdDevice: options.bcdDevice ?? preset.bcdDevice ?? 0x0100,
      manufacturerName: this.manufacturerName,
      productName: this.productName,
      serialNumber: this.serialNumber,
    });
    const reader = this;
    this.context = {
      descriptor,
      exchangeLevel: level,
      clockFrequencies: this.clockFrequencies,
      dataRates: this.dataRates,
      get strict() {
        return reader.strict;
      },
      get processingMs() {
        return reader.processingMs;
      },
      get onSecure() {
        return reader.onSecure;
      },
      get onEscape() {
        return reader.onEscape;
      },
      quirks: this.quirks,
      counters: this.counters,
      sleep: (seconds) => this.sleep(seconds),
      answer: (cmd, slot, a) => this.queueFrame(frame(cmd, slot, a)),
    };

    const count = descriptor.bMaxSlotIndex + 1;
    const cards = options.cards ?? [options.card ?? null];
    this.slots = [];
    for (let i = 0; i < count; i++) this.slots.push(newSlotState(i, cards[i] ?? null, descriptor));
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
    resetCardState(s, this.descriptor);
    s.changed = true;
    this.notifySlotChange(false);
  }

  /** Pulls the card out of a slot now (NotifySlotChange); returns it. */
  removeCard(slot = 0): VirtualCard | null {
    const s = this.slot(slot);
    const card = s.card;
    if (!card) return null;
    s.card = null;
    resetCardState(s, this.descriptor);
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
      resetCardState(s, this.descriptor);
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
    return answerControlIn(
      {
        deviceDescriptor: this.deviceDescriptor,
        configurationDescriptor: this.configurationDescriptor,
        strings: this.strings,
        configurationValue: this.configuration?.configurationValue ?? 0,
        clockFrequencies: this.clockFrequencies,
        dataRates: this.dataRates,
      },
      setup,
    );
  }

  protected override handleControlOut(setup: USBControlTransferParameters, _data: Uint8Array): 'ok' | 'stall' {
    if (setup.requestType === 'class' && setup.recipient === 'interface' && setup.request === CCID_REQUEST_ABORT) {
      const bSlot = setup.value & 0xff;
      const bSeq = (setup.value >> 8) & 0xff;
      const s = this.slots[bSlot];
      if (!s) return 'stall';
      abortControl(this.context, s, bSeq);
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
      const icc = s ? iccStatus(s) : 2;
      this.queueFrame(rawSlotStatus(head.bSlot, head.bSeq, (1 << 6) | icc, bError));
      return;
    }
    const slot = this.slots[cmd.bSlot];
    if (!slot) {
      this.queueFrame(frame(cmd, undefined, { status: 1, error: 5 }, 2));
      return;
    }
    if (head.dwLength > maxData) {
      this.queueFrame(frame(cmd, slot, { status: 1, error: 1 }));
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
      abortBulk(this.context, slot, cmd);
      return;
    }
    if (slot.abort?.control) {
      this.queueFrame(frame(cmd, slot, { status: 1, error: CCID_ERROR.CMD_ABORTED }));
      return;
    }
    const busySlots = this.slots.filter((s) => s.busy).length;
    if (slot.busy || busySlots >= Math.max(1, this.descriptor.bMaxCCIDBusySlots)) {
      this.queueFrame(frame(cmd, slot, { status: 1, error: CCID_ERROR.CMD_SLOT_BUSY }));
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
          this.queueFrame(frame(cmd, slot, { status: 2, error: multiplier & 0xff }));
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
        answer = await executeCommand(this.context, slot, cmd, wtx?.multiplier ?? (wtx ? 2 : undefined), extend);
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

    const bytes = frame(cmd, slot, answer);
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
            : rawSlotStatus(slot.index, (cmd.bSeq - 1 - i) & 0xff, iccStatus(slot), 0);
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

  // ---- slots and answers ----------------------------------------------------------------

  private slot(i: number): SlotState {
    const s = this.slots[i];
    if (!s) throw new WebCcidError('virtual/bad-slot', `No slot ${i}: the reader has ${this.slots.length}.`);
    return s;
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

/** Creates a virtual reader: `createVirtualReader({ preset: 'castles-ezccid', card: createHcaLikeCard() })`. */
export function createVirtualReader(options: VirtualReaderOptions = {}): VirtualReader {
  return new VirtualReader(options);
}
