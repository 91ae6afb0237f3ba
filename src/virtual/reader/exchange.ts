/**
 * XfrBlock at the reader's exchange level (CCID 1.10 §6.1.4). The rate and
 * IFSD negotiated at power-on are parameters.ts's.
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
 */
import { concatBytes } from '../../bytes.js';
import { CCID_ERROR, CCID_HEADER_LENGTH } from '../../ccid/messages.js';
import { parseApdu } from '../../iso7816/apdu.js';
import { T0Host } from '../../iso7816/t0.js';
import { T1Host } from '../../iso7816/t1.js';
import { T0CardEngine } from '../t0-card.js';
import { pps } from './parameters.js';
import { EMPTY, muteWait, processing, wire, type Answer, type ReaderContext, type SlotState } from './slot.js';

/** Sends a time extension (bStatus 2, bError = multiplier) for the command in progress. */
export type ExtendTime = (multiplier: number) => Promise<void>;

/** XfrBlock: the command's data at the reader's exchange level. */
export async function xfrBlock(
  reader: ReaderContext,
  slot: SlotState,
  data: Uint8Array,
  wLevel: number,
  wtx: number | undefined,
  extend: ExtendTime,
): Promise<Answer> {
  switch (reader.exchangeLevel) {
    case 'character':
      return { status: 1, error: CCID_ERROR.CMD_NOT_SUPPORTED };
    case 'tpdu':
      if (wLevel !== 0) return { status: 1, error: 8 };
      return tpduExchange(reader, slot, data, wtx);
    case 'short-apdu': {
      if (wLevel !== 0) return { status: 1, error: 8 };
      if (reader.strict) {
        try {
          if (parseApdu(data).extended) return { data: Uint8Array.of(0x67, 0x00), chain: 0 };
        } catch {
          return { data: Uint8Array.of(0x67, 0x00), chain: 0 };
        }
      }
      return apduExchange(reader, slot, data, wtx, extend);
    }
    case 'extended-apdu':
      return extendedXfr(reader, slot, data, wLevel, wtx, extend);
  }
}

async function extendedXfr(
  reader: ReaderContext,
  slot: SlotState,
  data: Uint8Array,
  wLevel: number,
  wtx: number | undefined,
  extend: ExtendTime,
): Promise<Answer> {
  const maxData = reader.descriptor.dwMaxCCIDMessageLength - CCID_HEADER_LENGTH;
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
      const r = await apduExchange(reader, slot, whole, wtx, extend);
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
  const r = await apduExchange(reader, slot, data, wtx, extend);
  return r.data && r.status === undefined ? respond(r.data) : r;
}

/** Whether reader and card agree on protocol and rate (always, unless `strict`). */
function inSync(reader: ReaderContext, slot: SlotState): boolean {
  if (!reader.strict) return true;
  const p = slot.params;
  if (!p || p.protocol !== slot.cardProtocol) return false;
  return slot.readerRate.fiIndex === slot.cardRate.fiIndex && slot.readerRate.diIndex === slot.cardRate.diIndex;
}

/** TPDU level: one T=1 block or T=0 TPDU (or a PPS) through to the card. */
async function tpduExchange(reader: ReaderContext, slot: SlotState, data: Uint8Array, wtx: number | undefined): Promise<Answer> {
  const card = slot.card!;
  if (slot.ppsAllowed && data[0] === 0xff) return pps(reader, slot, data);
  slot.ppsAllowed = false;
  if (!inSync(reader, slot)) {
    await wire(reader, slot, data.length);
    return muteWait(reader, slot);
  }
  if (slot.cardProtocol === 1) {
    const t1 = slot.t1;
    if (!t1) return muteWait(reader, slot);
    if (wtx !== undefined) t1.requestWtx(Math.min(255, Math.max(1, wtx)));
    const before = t1.commands;
    const r = t1.receive(data);
    if (t1.commands !== before) await processing(reader);
    await wire(reader, slot, data.length + (r?.length ?? 0));
    if (!r) return muteWait(reader, slot);
    return { data: r, chain: 0 };
  }
  if (slot.cardMuteNext) {
    slot.cardMuteNext = false;
    await wire(reader, slot, data.length);
    return muteWait(reader, slot);
  }
  const engine = slot.t0 ?? new T0CardEngine(card);
  const before = card.apduCount;
  const r = engine.exchange(data);
  reader.counters.apdus += card.apduCount - before;
  if (card.apduCount !== before) await processing(reader);
  if (!r) {
    await wire(reader, slot, data.length);
    return muteWait(reader, slot);
  }
  await wire(reader, slot, r.wireBytes);
  return { data: r.response, chain: 0 };
}

/** APDU level: the reader runs the card protocol. Answers data + SW. */
async function apduExchange(
  reader: ReaderContext,
  slot: SlotState,
  apdu: Uint8Array,
  wtx: number | undefined,
  extend: ExtendTime,
): Promise<Answer> {
  const card = slot.card!;
  if (!inSync(reader, slot)) return muteWait(reader, slot);
  if (slot.cardProtocol === 1) {
    const t1 = slot.t1;
    if (!t1) return muteWait(reader, slot);
    const host = (slot.t1Host ??= new T1Host({ ifsc: slot.atr?.ifsc ?? 32, ifsd: 32, edc: slot.atr?.edc ?? 'lrc' }));
    if (wtx !== undefined) t1.requestWtx(Math.min(255, Math.max(1, wtx)));
    let action;
    try {
      action = host.transmit(apdu);
      for (let i = 0; i < 100_000 && action.kind === 'send'; i++) {
        if (action.bwtMultiplier > 1) await extend(action.bwtMultiplier);
        const before = t1.commands;
        const r = t1.receive(action.block);
        if (t1.commands !== before) await processing(reader);
        await wire(reader, slot, action.block.length + (r?.length ?? 0));
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
    return muteWait(reader, slot);
  }
  const run = async (one: Uint8Array): Promise<Uint8Array | undefined> => {
    let action = host.transmit(one);
    for (let i = 0; i < 1000 && action.kind === 'send'; i++) {
      const before = card.apduCount;
      const r = engine.exchange(action.tpdu);
      reader.counters.apdus += card.apduCount - before;
      if (card.apduCount !== before) await processing(reader);
      if (!r) return undefined;
      await wire(reader, slot, r.wireBytes);
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
        if (!out) return muteWait(reader, slot);
        if (!last && !(out.length === 2 && out[0] === 0x90 && out[1] === 0x00)) return { data: out, chain: 0 };
      }
      return { data: out!, chain: 0 };
    }
    const out = await run(apdu);
    if (!out) return muteWait(reader, slot);
    return { data: out, chain: 0 };
  } catch {
    return { data: Uint8Array.of(0x67, 0x00), chain: 0 };
  }
}

