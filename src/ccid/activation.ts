/**
 * Activation of a card in a slot (docs/architecture.md, "How an APDU travels",
 * step 2): power on with the voltages the reader allows, parse the ATR, pick
 * the protocol, negotiate the fastest rate by PPS (ours, or the reader's), and
 * tell the reader with SetParameters. A refused PPS or SetParameters power-
 * cycles the card and goes on at the default rate (ISO/IEC 7816-3 §9.3).
 */
import { AbortError, ProtocolError, TransportError, WebCcidError } from '../errors.js';
import { parseAtr, type Atr } from '../iso7816/atr.js';
import { chooseRate, baudRate } from '../iso7816/rates.js';
import { encodePpsRequest, checkPpsResponse } from '../iso7816/pps.js';
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

/** Activates the card in `slot` (the caller holds the slot's lock). */
export async function activate(port: SlotPort, slot: number, options: ConnectOptions): Promise<Activation> {
  const signal = options.signal;
  let atr = await powerOn(port, slot, signal);
  let protocol: CardProtocol;
  try {
    protocol = chooseProtocol(port, atr, options.preferredProtocols);
  } catch (e) {
    // Leave no card powered behind a failed connect.
    await port.command({ name: 'IccPowerOff', bSlot: slot }, { timeoutMs: port.commandTimeout(0) }).catch(() => undefined);
    throw e;
  }
  let link: LinkParameters;
  try {
    link = await negotiate(port, slot, atr, protocol, options.pps ?? true, signal);
  } catch (e) {
    if (!(e instanceof WebCcidError) || e instanceof TransportError || e instanceof AbortError) throw e;
    // A failed PPS or SetParameters is not fatal (ISO 7816-3 §9.3):
    // power-cycle and go on at the default rate.
    await port.command({ name: 'IccPowerOff', bSlot: slot }, { timeoutMs: port.commandTimeout(0), ...(signal ? { signal } : {}) });
    atr = await powerOn(port, slot, signal);
    link = { ...(await negotiate(port, slot, atr, protocol, false, signal)), negotiation: 'pps-failed' };
  }
  return { atr, protocol, link };
}

function defaultLink(port: SlotPort): Omit<LinkParameters, 'negotiation'> {
  const fHz = port.descriptor.dwDefaultClock * 1000;
  return { fHz, fi: 372, di: 1, baud: Math.floor(baudRate({ fi: 372, di: 1, fHz })) };
}

/** bPowerSelect: automatic when the reader chooses, else 5 V, 3 V, 1.8 V in the order the reader supports them. */
function voltageChoices(port: SlotPort): number[] {
  const d = port.descriptor;
  if (d.features.autoVoltage) return [0];
  const choices: number[] = [];
  if (d.bVoltageSupport & 0x01) choices.push(1);
  if (d.bVoltageSupport & 0x02) choices.push(2);
  if (d.bVoltageSupport & 0x04) choices.push(3);
  return choices.length > 0 ? choices : [0];
}

export async function powerOn(port: SlotPort, slot: number, signal: AbortSignal | undefined): Promise<Atr> {
  const fHz = port.descriptor.dwDefaultClock * 1000 || 4_000_000;
  const timeoutMs = port.commandTimeout(atrTimeoutSeconds(fHz));
  const choices = voltageChoices(port);
  for (let i = 0; ; i++) {
    const r = await port.command(
      { name: 'IccPowerOn', bSlot: slot, bPowerSelect: choices[i]! },
      { timeoutMs, allowFailure: true, ...(signal ? { signal } : {}) },
    );
    if (commandStatus(r.bStatus) === COMMAND_STATUS_FAILED) {
      const retry = r.bError === CCID_ERROR.ICC_CLASS_NOT_SUPPORTED && i + 1 < choices.length && iccStatus(r.bStatus) !== ICC_STATUS_ABSENT;
      if (retry) continue;
      throw slotErrorFrom(r.bStatus, r.bError);
    }
    return parseAtr(r.abData.slice());
  }
}

/** The protocol a card in negotiable mode runs after its ATR: T of TD1, T=0 without TD1 (ISO/IEC 7816-3 §8.2.3). */
function defaultProtocol(atr: Atr): number {
  return atr.groups[0]?.protocol ?? 0;
}

function chooseProtocol(port: SlotPort, atr: Atr, preferred: CardProtocol[] | undefined): CardProtocol {
  const readerSupports = (t: number) => (port.descriptor.dwProtocols & (1 << t)) !== 0;
  const allowed = (preferred ?? ['t0', 't1']).map((p) => (p === 't0' ? 0 : 1));
  const candidates = atr.protocols.filter((t) => (t === 0 || t === 1) && readerSupports(t) && allowed.includes(t));
  if (atr.specificMode) {
    const t = atr.specificMode.protocol;
    if (candidates.includes(t)) return t === 1 ? 't1' : 't0';
  } else if (candidates.length > 0) {
    return candidates.includes(1) ? 't1' : 't0';
  }
  throw new ProtocolError(
    'protocol/no-common-protocol',
    `The card offers T=${atr.protocols.join(', T=')}; the reader supports ${[0, 1].filter(readerSupports).map((t) => `T=${t}`).join(' and ') || 'neither T=0 nor T=1'}` +
      (preferred ? ` and the caller accepts ${preferred.join(', ')}` : '') +
      '.',
  );
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
  signal: AbortSignal | undefined,
): Promise<LinkParameters> {
  const d = port.descriptor;
  const base = defaultLink(port);
  const t = protocol === 't1' ? 1 : 0;
  const chosen = wantPps
    ? chooseRate({ ta1: atr.groups[0]?.ta, specificMode: atr.specificMode !== undefined, clockKHz: d.dwDefaultClock, maxDataRate: d.dwMaxDataRate, ...(port.dataRates ? { dataRates: port.dataRates } : {}) })
    : undefined;
  const timeoutMs = port.commandTimeout(0.5);
  const opts = { timeoutMs, ...(signal ? { signal } : {}) };
  let link: LinkParameters = { ...base, negotiation: 'default' };
  let rate: { fiIndex: number; diIndex: number } | undefined;
  if (chosen) {
    const at = { fHz: base.fHz, fi: chosen.fi, di: chosen.di, baud: chosen.baud };
    if (atr.specificMode) {
      link = { ...at, negotiation: 'specific' };
    } else if (d.features.autoPps) {
      link = { ...at, negotiation: 'reader' };
    } else if (d.exchangeLevel === 'tpdu') {
      const request = encodePpsRequest({ protocol: t, fiIndex: chosen.fiIndex, diIndex: chosen.diIndex });
      const r = await port.command({ name: 'XfrBlock', bSlot: slot, bBWI: 0, wLevelParameter: 0, abData: request }, opts);
      const verdict = checkPpsResponse(request, r.abData);
      if (!verdict.accepted) throw new ProtocolError('protocol/pps-failed', 'The card answered the PPS with something else than it was asked.');
      // A card may accept the protocol but keep the default rate (PPS1 left out of its answer).
      if (verdict.fiIndex === chosen.fiIndex && verdict.diIndex === chosen.diIndex) link = { ...at, negotiation: 'pps' };
    }
    if (link.negotiation !== 'default') rate = { fiIndex: chosen.fiIndex, diIndex: chosen.diIndex };
  } else if (d.exchangeLevel === 'tpdu' && !atr.specificMode && !d.features.autoPps && t !== defaultProtocol(atr)) {
    // ISO/IEC 7816-3 §9.1: in negotiable mode the card runs the first protocol
    // it offers (TD1) until a PPS selects another, even at the default rate
    // (libccid does the same: PPS when the protocol is not the default one).
    const request = encodePpsRequest({ protocol: t });
    const r = await port.command({ name: 'XfrBlock', bSlot: slot, bBWI: 0, wLevelParameter: 0, abData: request }, opts);
    if (!checkPpsResponse(request, r.abData).accepted) {
      throw new ProtocolError('protocol/pps-failed', `The card refused to switch to T=${t} (PPS).`);
    }
  }
  if (!d.features.autoPpsProprietary) {
    const params = paramsFromAtr(atr, t, rate);
    const r = await port.command({ name: 'SetParameters', bSlot: slot, bProtocolNum: t, abData: encodeProtocolParams(params) }, { ...opts, allowFailure: true });
    if (commandStatus(r.bStatus) === COMMAND_STATUS_FAILED && link.negotiation !== 'default') {
      // The card runs at the new rate but the reader would not follow.
      throw new ProtocolError('protocol/pps-failed', 'The reader refused the negotiated parameters (SetParameters).');
    }
  }
  return link;
}
