/**
 * Power and parameters of a slot: IccPowerOn (the ATR, the protocol and rate
 * an APDU-level or auto-PPS reader negotiates itself, its S(IFS request)),
 * Get/Reset/SetParameters, SetDataRateAndClockFrequency, and a PPS sent
 * through a TPDU reader (ISO 7816-3 §9).
 */
import { CCID_FEATURE } from '../../ccid/descriptor.js';
import { CCID_ERROR } from '../../ccid/messages.js';
import { parseAtr, type Atr } from '../../iso7816/atr.js';
import { decodeProtocolParams, encodeProtocolParams, paramsFromAtr, type ProtocolParams } from '../../iso7816/params.js';
import { decodePpsRequest } from '../../iso7816/pps.js';
import { baudRate, chooseRate, DI_TABLE, FI_TABLE, RATE_TOLERANCE } from '../../iso7816/rates.js';
import { T1Host } from '../../iso7816/t1.js';
import { T1Card } from '../../iso7816/t1-card.js';
import { T0CardEngine } from '../t0-card.js';
import { cardTransmit, EMPTY, muteWait, wire, type Answer, type Rate, type ReaderContext, type SlotState } from './slot.js';

function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= b * RATE_TOLERANCE;
}

/** Whether the reader itself picks the rate (APDU level, auto-PPS). */
function autoRate(reader: ReaderContext): boolean {
  const f = reader.descriptor.dwFeatures;
  return reader.exchangeLevel === 'short-apdu' || reader.exchangeLevel === 'extended-apdu' || (f & (CCID_FEATURE.AUTO_PPS | CCID_FEATURE.AUTO_PPS_PROPRIETARY)) !== 0;
}

function autoParameters(reader: ReaderContext): boolean {
  return autoRate(reader) || (reader.descriptor.dwFeatures & CCID_FEATURE.AUTO_PARAMETERS) !== 0;
}

/** IccPowerOn: the ATR, then what the reader negotiates itself. */
export async function powerOn(reader: ReaderContext, slot: SlotState, bPowerSelect: number): Promise<Answer> {
  const voltages = [0, 0x01, 0x02, 0x04];
  if (bPowerSelect > 3 || (bPowerSelect > 0 && (reader.descriptor.bVoltageSupport & voltages[bPowerSelect]!) === 0)) {
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
    ? new T1Card({ ifsc: atr.ifsc ?? 32, edc: atr.edc ?? 'lrc', handle: (apdu) => cardTransmit(reader, card, apdu) })
    : undefined;
  slot.t0 = new T0CardEngine(card);
  await wire(reader, slot, atrBytes.length, { fiIndex: 1, diIndex: 1 });
  setDefaultParams(reader, slot, true);

  if (autoRate(reader) && !atr.specificMode) {
    const chosen = chooseRate({
      ta1: atr.groups[0]?.ta,
      clockKHz: slot.clockKHz,
      maxDataRate: reader.descriptor.dwMaxDataRate,
      ...(reader.dataRates.length > 0 ? { dataRates: [...reader.dataRates] } : {}),
    });
    // The reader's own PPS: 4 bytes each way at the default rate.
    await wire(reader, slot, 8, { fiIndex: 1, diIndex: 1 });
    slot.ppsAllowed = false;
    if (chosen) {
      slot.cardRate = { fiIndex: chosen.fiIndex, diIndex: chosen.diIndex };
      slot.readerRate = { ...slot.cardRate };
      if (slot.params) slot.params.bmFindexDindex = (chosen.fiIndex << 4) | chosen.diIndex;
    }
  }
  if (slot.params?.protocol === 1 && slot.t1) {
    const apduLevel = reader.exchangeLevel === 'short-apdu' || reader.exchangeLevel === 'extended-apdu';
    if (apduLevel) {
      slot.t1Host = new T1Host({ ifsc: atr.ifsc ?? 32, ifsd: 32, edc: atr.edc ?? 'lrc' });
    }
    const ifsd = Math.min(254, Math.max(1, reader.descriptor.dwMaxIFSD || 254));
    if (apduLevel || (reader.descriptor.dwFeatures & CCID_FEATURE.AUTO_IFSD) !== 0) {
      await negotiateIfsd(reader, slot, ifsd);
    }
  }
  return { data: atrBytes };
}

/** The reader's own S(IFS request) to the card. */
async function negotiateIfsd(reader: ReaderContext, slot: SlotState, ifsd: number): Promise<void> {
  const t1 = slot.t1;
  if (!t1) return;
  const host = slot.t1Host ?? new T1Host({ ifsc: slot.atr?.ifsc ?? 32, ifsd: 32, edc: slot.atr?.edc ?? 'lrc' });
  let action = host.negotiateIfsd(ifsd);
  for (let i = 0; i < 16 && action.kind === 'send'; i++) {
    const r = t1.receive(action.block);
    await wire(reader, slot, action.block.length + (r?.length ?? 0));
    try {
      action = host.receive(r);
    } catch {
      return;
    }
  }
}

/** Parameters after power-on (`fromAtr`) or ResetParameters. */
export function setDefaultParams(reader: ReaderContext, slot: SlotState, fromAtr: boolean): void {
  const atr = slot.atr;
  if (!atr) {
    slot.params = undefined;
    return;
  }
  const auto = autoParameters(reader);
  const protocol: 0 | 1 = auto ? slot.cardProtocol : fromAtr ? 0 : (slot.params?.protocol ?? 0);
  const rate = auto ? slot.cardRate : { fiIndex: 1, diIndex: 1 };
  slot.params = paramsFromAtr(atr, protocol, rate);
  slot.readerRate = { ...rate };
}

/** The Parameters answer: the protocol and parameters in force. */
export function parametersAnswer(slot: SlotState): Answer {
  const p = slot.params;
  if (!p) return { protocolNum: 0, data: EMPTY, status: 1, error: CCID_ERROR.ICC_MUTE };
  return { protocolNum: p.protocol, data: encodeProtocolParams(p) };
}

function rateSupported(reader: ReaderContext, slot: SlotState, rate: Rate): boolean {
  const fi = FI_TABLE[rate.fiIndex];
  const di = DI_TABLE[rate.diIndex];
  if (fi === undefined || di === undefined) return false;
  if (rate.fiIndex === 1 && rate.diIndex === 1) return true;
  const baud = baudRate({ fi, di, fHz: slot.clockKHz * 1000 });
  if (baud > reader.descriptor.dwMaxDataRate * (1 + RATE_TOLERANCE)) return false;
  if (reader.dataRates.length > 0 && !reader.dataRates.some((r) => near(baud, r))) return false;
  return true;
}

/** SetParameters: the reader takes the protocol and rate the host asks for, if it supports them. */
export function setParameters(reader: ReaderContext, slot: SlotState, protocolNum: number, data: Uint8Array): Answer {
  if ((protocolNum !== 0 && protocolNum !== 1) || (reader.descriptor.dwProtocols & (1 << protocolNum)) === 0) {
    return { status: 1, error: 7, protocolNum: slot.params?.protocol ?? 0, data: EMPTY };
  }
  let p: ProtocolParams;
  try {
    p = decodeProtocolParams(protocolNum, data);
  } catch {
    return { status: 1, error: 1, protocolNum, data: EMPTY };
  }
  const rate = { fiIndex: p.bmFindexDindex >> 4, diIndex: p.bmFindexDindex & 0x0f };
  if (!rateSupported(reader, slot, rate)) return { status: 1, error: 10, protocolNum, data: EMPTY };
  if (p.protocol === 1 && (p.bIFSC < 1 || p.bIFSC > 254)) return { status: 1, error: 15, protocolNum, data: EMPTY };
  slot.params = p;
  slot.readerRate = rate;
  if (p.protocol === 1 && slot.t1 && (reader.exchangeLevel === 'short-apdu' || reader.exchangeLevel === 'extended-apdu')) {
    slot.t1Host ??= new T1Host({ ifsc: slot.atr?.ifsc ?? 32, ifsd: 32, edc: slot.atr?.edc ?? 'lrc' });
  }
  return parametersAnswer(slot);
}

/** SetDataRateAndClockFrequency: the nearest supported clock and rate. */
export function setDataRateAndClock(reader: ReaderContext, slot: SlotState, clockKHz: number, rate: number): Answer {
  const clocks = reader.clockFrequencies.length > 0 ? [...reader.clockFrequencies] : [reader.descriptor.dwDefaultClock, reader.descriptor.dwMaximumClock];
  const pick = (values: number[], want: number): number => {
    const sorted = [...new Set(values)].filter((v) => v > 0).sort((a, b) => a - b);
    const exact = sorted.find((v) => near(want, v));
    if (exact !== undefined) return exact;
    const lower = sorted.filter((v) => v <= want);
    return lower.length > 0 ? lower[lower.length - 1]! : (sorted[0] ?? want);
  };
  slot.clockKHz = pick(clocks, clockKHz);
  slot.dataRate =
    reader.dataRates.length > 0 ? pick([...reader.dataRates], rate) : Math.min(rate, reader.descriptor.dwMaxDataRate) || reader.descriptor.dwDataRate;
  return { clockKHz: slot.clockKHz, rate: slot.dataRate };
}


/** A PPS exchange through a TPDU reader (7816-3 §9). */
export async function pps(reader: ReaderContext, slot: SlotState, request: Uint8Array): Promise<Answer> {
  slot.ppsAllowed = false;
  const atr = slot.atr!;
  const sameRate = slot.readerRate.fiIndex === slot.cardRate.fiIndex && slot.readerRate.diIndex === slot.cardRate.diIndex;
  if (reader.strict && !sameRate) {
    // The reader already switched its rate (SetParameters before PPS): the card hears noise.
    await wire(reader, slot, request.length);
    return muteWait(reader, slot);
  }
  let req;
  try {
    req = decodePpsRequest(request);
  } catch {
    await wire(reader, slot, request.length);
    return muteWait(reader, slot);
  }
  if (!atr.protocols.includes(req.protocol) || (req.protocol !== 0 && req.protocol !== 1)) {
    await wire(reader, slot, request.length);
    return muteWait(reader, slot);
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
  await wire(reader, slot, request.length + response.length);
  slot.cardProtocol = protocol;
  slot.cardRate = rate;
  if (rateSupported(reader, slot, rate)) {
    slot.readerRate = { ...rate };
    if (slot.atr) slot.params = paramsFromAtr(slot.atr, protocol, rate);
  }
  if (protocol === 1 && !slot.t1) {
    const card = slot.card!;
    slot.t1 = new T1Card({ ifsc: atr.ifsc ?? 32, edc: atr.edc ?? 'lrc', handle: (apdu) => cardTransmit(reader, card, apdu) });
  }
  return { data: response, chain: 0 };
}

