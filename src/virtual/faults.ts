/**
 * Faults the virtual reader can inject (see `VirtualReader.injectFault`).
 *
 * Every fault fires on the next command(s) that match its `slot` and
 * `command` filters (default: any slot, any command except PC_to_RDR_Abort;
 * XfrBlock only for the card-wire faults wtx, card-mute, corrupt-block,
 * endless-chain and wtx-flood),
 * once by default, `times` times, or on every match when `persistent`.
 * USB-level faults (`transfer-error`, `stall` on the OUT endpoint) act on the
 * next transfer instead.
 */
import type { CcidCommandName } from '../ccid/messages.js';
import type { VirtualCard } from './card.js';
import type { UnplugStep } from './usb-device.js';

/** Faults about the card's wire: without a `command` filter they wait for an XfrBlock. */
const CARD_FAULTS: ReadonlySet<string> = new Set(['wtx', 'card-mute', 'corrupt-block', 'endless-chain', 'wtx-flood']);

/** Filters and repetition shared by every fault. */
export interface FaultTrigger {
  /** Only commands to this slot. */
  slot?: number;
  /** Only these commands (by name, e.g. 'XfrBlock'). */
  command?: CcidCommandName | CcidCommandName[];
  /** Fire on this many matching commands (default 1). */
  times?: number;
  /** Fire on every matching command until removed. */
  persistent?: boolean;
}

/** What can go wrong. */
export type VirtualFaultSpec =
  /** `count` RDR_to_PC frames with bmCommandStatus = 2 (bError = `multiplier`) before the answer, `intervalMs` apart (modelled). */
  | { kind: 'time-extension'; count?: number; multiplier?: number; intervalMs?: number }
  /** The T=1 card sends S(WTX request) with `multiplier` before its answer (TPDU level: the host sees it; APDU level: the reader answers it and sends the host a time extension). On T=0 cards it becomes a time extension. */
  | { kind: 'wtx'; multiplier?: number }
  /** The card is pulled out before the command runs: NotifySlotChange, then "ICC absent" answers. */
  | { kind: 'card-removal' }
  /** A card is put in before the command runs (`card`, default the slot's last card): NotifySlotChange. */
  | { kind: 'card-insertion'; card?: VirtualCard }
  /** The reader is unplugged when the command arrives: pending and later transfers reject NotFoundError, the backend fires 'disconnect' (in `order`, one step per task, when given: see `VirtualUsbDevice.unplug`). */
  | { kind: 'unplug'; order?: UnplugStep[] }
  /** Bulk-IN halts when the answer is ready ('in', default): reads answer 'stall' until clearHalt('in'), then the answer comes (unless `dropAnswer`). 'out': the OUT endpoint halts at once: the next transferOut answers 'stall' and is not processed. */
  | { kind: 'stall'; endpoint?: 'in' | 'out'; dropAnswer?: boolean }
  /** An extra answer with an old bSeq (the previous answer again, or a SlotStatus with bSeq - 1) comes before the real one. */
  | { kind: 'stale-seq'; count?: number }
  /** Interrupt-IN RDR_to_PC_HardwareError (`code`, default 0x01 overcurrent) and the command fails with bError HW_ERROR (0xFB). */
  | { kind: 'hardware-error'; code?: number }
  /** A malformed frame (`bytes`, default 5 bytes of junk) on bulk-IN before the answer, or instead of it (`replace`). */
  | { kind: 'garbage'; bytes?: Uint8Array; replace?: boolean }
  /** No answer at all: the slot stays busy until the host's ABORT (control request + PC_to_RDR_Abort). The muted command is then answered CMD_ABORTED unless `answerOnAbort: false`. */
  | { kind: 'mute'; answerOnAbort?: boolean }
  /** The answer's dwLength is off by `delta` (default +1) from the data it carries. */
  | { kind: 'wrong-length'; delta?: number }
  /** The card does not answer this command's block / TPDU (TPDU level: the reader answers ICC_MUTE after BWT; APDU level: the reader's T=1 engine retransmits). */
  | { kind: 'card-mute' }
  /** T=1: one byte of the card's next block is XORed with `mask` (default the last byte, EDC): the host must ask again with an R-block. */
  | { kind: 'corrupt-block'; index?: number; mask?: number }
  /** An adversarial T=1 card from this command on, until powered off: every response is an empty I-block with M = 1 and every R-block gets the next one (a chain without end). */
  | { kind: 'endless-chain' }
  /** An adversarial T=1 card from this command on, until powered off: every block is answered with S(WTX request) with `multiplier` (default 1). */
  | { kind: 'wtx-flood'; multiplier?: number }
  /** The next transfer in that direction rejects NetworkError (a failed transfer); the next `times` transfers with `times`. */
  | { kind: 'transfer-error'; direction?: 'in' | 'out' | 'control' };

/** A fault to inject: what and when. */
export type VirtualFault = VirtualFaultSpec & FaultTrigger;

/** Handle of an injected fault. */
export interface FaultHandle {
  readonly fault: VirtualFault;
  /** How many commands it fired on. */
  readonly fired: number;
  /** False once used up or removed. */
  readonly active: boolean;
  remove(): void;
}

class FaultEntry implements FaultHandle {
  fired = 0;
  removed = false;
  constructor(
    readonly fault: VirtualFault,
    private readonly owner: FaultRegistry,
  ) {}
  get active(): boolean {
    if (this.removed) return false;
    return this.fault.persistent === true || this.fired < (this.fault.times ?? 1);
  }
  remove(): void {
    this.removed = true;
    this.owner.forget(this);
  }
}

/** The faults waiting for their command. */
export class FaultRegistry {
  private entries: FaultEntry[] = [];

  add(fault: VirtualFault): FaultHandle {
    const e = new FaultEntry(fault, this);
    this.entries.push(e);
    return e;
  }

  forget(e: FaultHandle): void {
    this.entries = this.entries.filter((x) => x !== e);
  }

  clear(): void {
    for (const e of this.entries) e.removed = true;
    this.entries = [];
  }

  get size(): number {
    return this.entries.length;
  }

  /** The faults that fire for this command (each counted as fired). */
  take(name: CcidCommandName, slot: number): VirtualFault[] {
    const out: VirtualFault[] = [];
    for (const e of this.entries) {
      if (!e.active) continue;
      const f = e.fault;
      if (f.slot !== undefined && f.slot !== slot) continue;
      if (f.command === undefined) {
        if (name === 'Abort') continue;
        if (CARD_FAULTS.has(f.kind) && name !== 'XfrBlock') continue;
      } else if (Array.isArray(f.command) ? !f.command.includes(name) : f.command !== name) continue;
      e.fired++;
      out.push(f);
    }
    this.entries = this.entries.filter((e) => e.active);
    return out;
  }
}
