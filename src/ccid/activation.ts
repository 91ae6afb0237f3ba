/**
 * Activation of a card in a slot (docs/architecture.md, "How an APDU travels",
 * step 2): power on with the voltages the reader allows, parse the ATR, pick
 * the protocol, negotiate the fastest rate by PPS (ours, or the reader's), and
 * tell the reader with SetParameters. A refused PPS or SetParameters power-
 * cycles the card and goes on at the default rate (ISO/IEC 7816-3 §9.3).
 * Our own PPS exchange, needed only at TPDU level, is in tpdu-link.ts, which
 * the connection loads for a TPDU-level reader and hands in (`HostPps`).
 */
import { AbortError, ProtocolError, TransportError, WebCcidError } from '../errors.js';
import { parseAtr, type Atr } from '../iso7816/atr.js';
import { chooseRate, baudRate, type ChosenRate } from '../iso7816/rates.js';
import { encodeProtocolParams, paramsFromAtr } from '../iso7816/params.js';
import { atrTimeoutSeconds } from '../iso7816/timing.js';
import type { CardProtocol } from '../card/channel.js';
import { CCID_ERROR, COMMAND_STATUS_FAILED, ICC_STATUS_ABSENT, commandStatus, iccStatus, slotErrorFrom } from './messages.js';
import type { SlotPort } from './slot-port.js';

export interface ConnectOptions {
  /** Protocols the caller accepts (default both). T=1 is chosen when both remain. */
  preferredProtocols?: CardProtocol[];
  /** Negotiate the fastest rate card and reader allow (default true). */
  pps?: boolean;
  signal?: AbortSignal;
}

/** The link as negotiated: clock, Fi/Di and the resulting bit rate. */
export interface LinkParameters {
  fHz: number;
  fi: number;
  di: number;
  baud: number;
  /** How the rate was set: PPS by us, by the reader itself, specific mode, or left at the default. */
  negotiation: 'pps' | 'reader' | 'specific' | 'default' | 'pps-failed';
}

/** A card activated in a slot: its ATR, the protocol it runs and the link. */
export interface Activation {
  atr: Atr;
  protocol: CardProtocol;
  link: LinkParameters;
}

/**
 * Our PPS exchange (tpdu-link.ts): selects protocol `t` and, when given, `rate`; resolves true
 * when the card took the rate, false when it kept the default one; throws when it refused.
 */
export type HostPps = (
  port: SlotPort,
  slot: number,
  t: 0 | 1,
  rate: ChosenRate | undefined,
  options: { timeoutMs: number; signal: AbortSignal | undefined },
) => Promise<boolean>;

/**
 * Activates the card in `slot` (the caller holds the slot's lock). `hostPps` is our PPS exchange:
 * given for a TPDU-level reader, the only kind where we send the PPS ourselves.
 */
export async function activate(port: SlotPort, slot: number, options: ConnectOptions, hostPps?: HostPps): Promise<Activation> {
  const signal = options.signal;
  // IccPowerOff, abortable only when given a signal.
  const powerOff = (abortSignal?: AbortSignal) => port.command({ name: 'IccPowerOff', bSlot: slot }, { timeoutMs: port.commandTimeout(0), signal: abortSignal });
  let atr = await powerOn(port, slot, signal);
  let protocol: CardProtocol;
  try {
    protocol = chooseProtocol(port, atr, options.preferredProtocols);
  } catch (e) {
    // Leave no card powered behind a failed connect (whatever the signal says).
    await powerOff().catch(() => undefined);
    throw e;
  }
  let link: LinkParameters;
  try {
    link = await negotiate(port, slot, atr, protocol, options.pps ?? true, hostPps, signal);
  } catch (e) {
    if (!(e instanceof WebCcidError) || e instanceof TransportError || e instanceof AbortError) throw e;
    // A failed PPS or SetParameters is not fatal (ISO 7816-3 §9.3):
    // power-cycle and go on at the default rate.
    await powerOff(signal);
    atr = await powerOn(port, slot, signal);
    link = { ...(await negotiate(port, slot, atr, protocol, false, hostPps, signal)), negotiation: 'pps-failed' };
  }
  return { atr, protocol, link };
}

export async function powerOn(port: SlotPort, slot: number, signal: AbortSignal | undefined): Promise<Atr> {
  const d = port.descriptor;
  const timeoutMs = port.commandTimeout(atrTimeoutSeconds(d.dwDefaultClock * 1000 || 4_000_000));
  // bPowerSelect: automatic when the reader chooses, else 5 V (1), 3 V (2), 1.8 V (3) in the
  // order of bVoltageSupport's bits 0, 1, 2, as far as the reader supports them.
  const supported = [1, 2, 3].filter((v) => (d.bVoltageSupport >> (v - 1)) & 1);
  const choices = d.features.autoVoltage || supported.length === 0 ? [0] : supported;
  for (let i = 0; ; i++) {
    const r = await port.command({ name: 'IccPowerOn', bSlot: slot, bPowerSelect: choices[i]! }, { timeoutMs, allowFailure: true, signal });
    if (commandStatus(r.bStatus) === COMMAND_STATUS_FAILED) {
      const retry = r.bError === CCID_ERROR.ICC_CLASS_NOT_SUPPORTED && i + 1 < choices.length && iccStatus(r.bStatus) !== ICC_STATUS_ABSENT;
      if (retry) continue;
      throw slotErrorFrom(r.bStatus, r.bError);
    }
    return parseAtr(r.abData.slice());
  }
}

/**
 * T=1 when card, reader and caller all allow it, else T=0; a card in specific mode (TA2) runs
 * only its own protocol.
 */
function chooseProtocol(port: SlotPort, atr: Atr, preferred: CardProtocol[] | undefined): CardProtocol {
  const d = port.descriptor;
  const common = atr.protocols.filter((t) => d.protocols.includes(t) && (!preferred || preferred.includes(t ? 't1' : 't0')));
  const t = atr.specificMode ? atr.specificMode.protocol : common.includes(1) ? 1 : 0;
  if (common.includes(t)) return t ? 't1' : 't0';
  const list = (ts: number[]) => ts.map((t) => `T=${t}`).join(', ') || 'none';
  throw new ProtocolError('protocol/no-common-protocol', {
    card: list(atr.protocols),
    specificMode: atr.specificMode ? list([t]) : 'no',
    reader: list(d.protocols),
    accepted: preferred ? preferred.join(', ') || 'none' : 'any',
  });
}

/**
 * ISO 7816-3 §9 and docs/design.md §4.5: the fastest rate both card and reader
 * allow, by PPS (ours at TPDU level, or the reader's own when it says it does
 * PPS), then SetParameters so the reader uses it.
 */
async function negotiate(
  port: SlotPort,
  slot: number,
  atr: Atr,
  protocol: CardProtocol,
  wantPps: boolean,
  hostPps: HostPps | undefined,
  signal: AbortSignal | undefined,
): Promise<LinkParameters> {
  const d = port.descriptor;
  const fHz = d.dwDefaultClock * 1000;
  const t = protocol === 't1' ? 1 : 0;
  const opts = { timeoutMs: port.commandTimeout(0.5), signal };
  const chosen = wantPps
    ? chooseRate({ ta1: atr.groups[0]?.ta, specificMode: atr.specificMode !== undefined, clockKHz: d.dwDefaultClock, maxDataRate: d.dwMaxDataRate, dataRates: port.dataRates })
    : undefined;
  // Who sets a new rate: the card itself (specific mode), the reader, or we by PPS (TPDU level).
  const by = atr.specificMode ? 'specific' : d.features.autoPps ? 'reader' : hostPps ? 'pps' : undefined;
  let link: LinkParameters = { fHz, fi: 372, di: 1, baud: Math.floor(baudRate({ fi: 372, di: 1, fHz })), negotiation: 'default' };
  const at = chosen && { fHz, fi: chosen.fi, di: chosen.di, baud: chosen.baud };
  // ISO/IEC 7816-3 §9.1: in negotiable mode the card runs the first protocol it offers (TD1, T=0
  // without TD1, §8.2.3) until a PPS selects another, even at the default rate (libccid does
  // the same: PPS when the protocol is not the default one).
  if (by === 'pps' && (chosen || t !== (atr.groups[0]?.protocol ?? 0))) {
    if ((await hostPps!(port, slot, t, chosen, opts)) && at) link = { ...at, negotiation: 'pps' };
  } else if (at && by) {
    link = { ...at, negotiation: by };
  }
  if (!d.features.autoPpsProprietary) {
    const params = paramsFromAtr(atr, t, link.negotiation === 'default' ? undefined : chosen);
    const r = await port.command({ name: 'SetParameters', bSlot: slot, bProtocolNum: t, abData: encodeProtocolParams(params) }, { ...opts, allowFailure: true });
    if (commandStatus(r.bStatus) === COMMAND_STATUS_FAILED && link.negotiation !== 'default') {
      // The card runs at the new rate but the reader would not follow.
      throw new ProtocolError('protocol/pps-failed', { bProtocolNum: t, negotiation: link.negotiation });
    }
  }
  return link;
}
