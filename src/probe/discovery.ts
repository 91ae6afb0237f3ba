/**
 * The probe's discovery: commands that cannot harm a card, to learn what it holds when its
 * profile is not public. Only these are sent, each once:
 *
 * - SELECT of the MF (3F00) with the interindustry class 00 and the proprietary class 80 (the
 *   sibling cards of the government PKI use CLA 80, docs/design.md §5.1);
 * - SELECT of EF.DIR (2F00) and EF.ATR (2F01) under the MF, and when found READ BINARY of their
 *   first bytes (EF.DIR as records with READ RECORD when it is a record file, 6981);
 * - SELECT of DF 5030 (the PKCS#15-like DF of the sibling cards), CLA 00 and 80;
 * - GET DATA of card production data: CPLC (9F7F, CLA 80 and 00), IIN (0042), CIN (0045) and
 *   card data (0066);
 * - SELECT by AID of the candidate applications: the profile's AID, the NHI application, the
 *   GlobalPlatform issuer security domains (A000000151000000, A000000003000000) and PKCS#15
 *   (A000000063504B43532D3135).
 *
 * Nothing here writes, verifies, authenticates or changes a counter: no VERIFY, no CHANGE /
 * RESET RETRY COUNTER, no PSO, no INTERNAL / EXTERNAL AUTHENTICATE, no UPDATE / WRITE, no
 * GET CHALLENGE. A SELECT of another application may deselect the current one (on a Java Card
 * that drops a verified PIN), so the probe runs discovery before any PIN step and selects the
 * profile's application again afterwards.
 */
import { fromHex, toHex } from '../bytes.js';
import type { CardChannel } from '../card/channel.js';
import { describeStatusWord } from '../iso7816/status-text.js';
import { NHI_AID } from '../nhi/card.js';
import { reportError, type ProbeError } from './error.js';

/** One discovery command and what the card answered. */
export interface DiscoveryStep {
  /** Stable identifier, e.g. "select-mf", "select-aid:nhi". */
  id: string;
  /** What the command asks (English). */
  what: string;
  /** The command, hex. */
  command: string;
  /** SW1 SW2 as 4 hex digits. */
  sw?: string;
  status?: string;
  /** The card answered success (9000, or 61xx / 62xx with data). */
  found: boolean;
  /** Bytes of response data. */
  dataLength?: number;
  /** Response data (hex): FCIs, EF.DIR, EF.ATR; card production data only with `keepCardData`. */
  data?: string;
  error?: ProbeError;
}

export interface DiscoveryReport {
  steps: DiscoveryStep[];
  /** AIDs listed in EF.DIR (tag 4F), hex. */
  applications: string[];
  /** The candidate applications the card selected, by name. */
  selectedAids: string[];
}

/** The candidate applications tried with SELECT by AID. */
export const CANDIDATE_AIDS: ReadonlyArray<{ name: string; aid: string; what: string }> = [
  { name: 'nhi', aid: toHex(NHI_AID), what: 'NHI application (健保卡)' },
  { name: 'gp-isd', aid: 'A0 00 00 01 51 00 00 00', what: 'GlobalPlatform issuer security domain' },
  { name: 'gp-isd-op', aid: 'A0 00 00 00 03 00 00 00', what: 'Open Platform card manager' },
  { name: 'pkcs15', aid: 'A0 00 00 00 63 50 4B 43 53 2D 31 35', what: 'PKCS#15 application' },
];

function sw(response: Uint8Array): number {
  return response.length >= 2 ? (response[response.length - 2]! << 8) | response[response.length - 1]! : -1;
}

function ok(s: number): boolean {
  return s === 0x9000 || (s >> 8) === 0x61 || s === 0x6282;
}

/** AIDs (tag 4F) inside EF.DIR records (application templates, tag 61). */
export function aidsInEfDir(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const walk = (b: Uint8Array) => {
    let i = 0;
    while (i + 1 < b.length) {
      const tag = b[i]!;
      if (tag === 0x00 || tag === 0xff) {
        i++;
        continue;
      }
      let len = b[i + 1]!;
      let head = 2;
      if (len === 0x81) {
        len = b[i + 2] ?? 0;
        head = 3;
      } else if (len === 0x82) {
        len = ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0);
        head = 4;
      }
      const value = b.subarray(i + head, i + head + len);
      if (tag === 0x61) walk(value);
      else if (tag === 0x4f && value.length >= 5 && value.length <= 16) out.push(toHex(value));
      i += head + len;
    }
  };
  walk(bytes);
  return out;
}

/** Runs the discovery (see the module comment). Never throws for a card answer; a channel failure ends it. */
export async function discoverCard(
  channel: CardChannel,
  options: { profileAid?: string; keepCardData?: boolean; log?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<DiscoveryReport> {
  const log = options.log ?? (() => undefined);
  const report: DiscoveryReport = { steps: [], applications: [], selectedAids: [] };
  const send = async (id: string, what: string, hex: string, keepData: boolean): Promise<{ step: DiscoveryStep; data: Uint8Array }> => {
    const command = fromHex(hex);
    const step: DiscoveryStep = { id, what, command: toHex(command), found: false };
    report.steps.push(step);
    let data = new Uint8Array(0);
    try {
      const response = await channel.transmit(command, options.signal ? { signal: options.signal } : undefined);
      const s = sw(response);
      data = response.slice(0, Math.max(0, response.length - 2));
      step.sw = s.toString(16).toUpperCase().padStart(4, '0');
      step.status = describeStatusWord(s);
      step.found = ok(s);
      if (data.length > 0) {
        step.dataLength = data.length;
        if (keepData || options.keepCardData) step.data = toHex(data);
      }
    } catch (e) {
      step.error = reportError(e);
      throw Object.assign(new Error('discovery stopped'), { cause: e, step });
    }
    log(`    ${what}: ${step.sw}${step.found ? (step.dataLength ? ` (${step.dataLength} bytes)` : '') : ` ${step.status ?? ''}`}`);
    return { step, data };
  };
  try {
    await send('select-mf', 'SELECT MF 3F00 (CLA 00)', '00 A4 00 00 02 3F 00 00', true);
    await send('select-mf-cla80', 'SELECT MF 3F00 (CLA 80)', '80 A4 00 00 02 3F 00 00', true);
    // EF.DIR and EF.ATR, under the MF.
    await send('select-mf-again', 'SELECT MF 3F00 (CLA 00)', '00 A4 00 00 02 3F 00 00', true);
    const dir = await send('select-ef-dir', 'SELECT EF.DIR 2F00', '00 A4 00 00 02 2F 00 00', true);
    if (dir.step.found) {
      const read = await send('read-ef-dir', 'READ BINARY EF.DIR', '00 B0 00 00 00', true);
      if (read.step.found) report.applications.push(...aidsInEfDir(read.data));
      else if (read.step.sw === '6981') {
        for (let record = 1; record <= 8; record++) {
          const r = await send(`read-ef-dir-record-${record}`, `READ RECORD ${record} of EF.DIR`, `00 B2 ${record.toString(16).padStart(2, '0')} 04 00`, true);
          if (!r.step.found) break;
          report.applications.push(...aidsInEfDir(r.data));
        }
      }
    }
    await send('select-mf-again-2', 'SELECT MF 3F00 (CLA 00)', '00 A4 00 00 02 3F 00 00', true);
    const atrFile = await send('select-ef-atr', 'SELECT EF.ATR 2F01', '00 A4 00 00 02 2F 01 00', true);
    if (atrFile.step.found) await send('read-ef-atr', 'READ BINARY EF.ATR', '00 B0 00 00 00', true);
    await send('select-mf-again-3', 'SELECT MF 3F00 (CLA 00)', '00 A4 00 00 02 3F 00 00', true);
    await send('select-df-5030', 'SELECT DF 5030 (CLA 00)', '00 A4 00 00 02 50 30 00', true);
    await send('select-df-5030-cla80', 'SELECT DF 5030 (CLA 80)', '80 A4 00 00 02 50 30 00', true);
    // Card production data (read only).
    await send('get-data-cplc', 'GET DATA CPLC 9F7F (CLA 80)', '80 CA 9F 7F 00', false);
    await send('get-data-cplc-cla00', 'GET DATA CPLC 9F7F (CLA 00)', '00 CA 9F 7F 00', false);
    await send('get-data-iin', 'GET DATA IIN 0042', '00 CA 00 42 00', false);
    await send('get-data-cin', 'GET DATA CIN 0045', '00 CA 00 45 00', false);
    await send('get-data-card-data', 'GET DATA card data 0066 (CLA 80)', '80 CA 00 66 00', false);
    // Candidate applications.
    const candidates = [...(options.profileAid ? [{ name: 'profile', aid: options.profileAid, what: "the profile's HCA AID" }] : []), ...CANDIDATE_AIDS];
    for (const c of candidates) {
      const aid = fromHex(c.aid);
      const hex = `00 A4 04 00 ${aid.length.toString(16).padStart(2, '0')} ${toHex(aid)} 00`;
      const r = await send(`select-aid:${c.name}`, `SELECT ${c.what} (${toHex(aid, '')})`, hex, true);
      if (r.step.found) report.selectedAids.push(c.name);
    }
  } catch (e) {
    const step = (e as { step?: DiscoveryStep }).step;
    log(`    discovery stopped at ${step?.id ?? '?'}: ${step?.error?.message ?? String(e)}`);
  }
  return report;
}
