/**
 * Field reports become profile changes and tests: what a recorded trace (src/card/trace.ts; the
 * probe's, or a field report carrying one) shows about the HCA profile.
 *
 * `analyseTrace` reads the exchanges and finds which candidate profile the card answered as
 * (its application SELECT accepted) and which assumed fields the card's answers confirm:
 * - the application, its class byte (and AID): the candidate's SELECT answered 9000 / 61xx;
 * - the ATR: added to `atrs` when it is not listed;
 * - a file: its SELECT answered 9000 and a READ BINARY right after it too; a text file is
 *   confirmed with its format only when its (unredacted) content parses, a certificate file when
 *   it starts with a DER SEQUENCE;
 * - `pin.reference` and `pin.statusMethod`: VERIFY without data on it answered 63Cx or 9000;
 * - the PIN format (`pin.encoding`, `pin.protection`): a VERIFY / CHANGE REFERENCE DATA carrying
 *   the PIN (or the pinpad's) answered 9000 with a block of the profile's length. A refusal (63Cx)
 *   is NOT evidence either way (wrong PIN, or wrong format) and is reported as such;
 * - the unblock method and the PUK format: RESET RETRY COUNTER answered 9000;
 * - signing: MSE SET then PSO COMPUTE DIGITAL SIGNATURE (or INTERNAL AUTHENTICATE) answered 9000.
 * The result is an override in the form `--profile` takes (full `{ value, status, source }` fields
 * over `HCA_PROFILE`), and the findings in words. `exerciseProfile` drives a profile against a card
 * (a `ReplayChannel` in the generated tests) and lists what each operation gave.
 *
 * `scripts/report-to-test.ts` puts both together: report in, profile override and regression test
 * out (docs/hca-profile.md, "Reports become tests").
 */
import { bytesEqual, fromHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import type { CardChannel } from '../card/channel.js';
import { REDACTED_INS, type TraceEntry, type TraceSession } from '../card/trace.js';
import { parsePattern } from '../card/replay.js';
import {
  CRT_TAG_ALGORITHM_REFERENCE,
  CRT_TAG_DIRECT_KEY_REFERENCE,
  CRT_TAG_KEY_REFERENCE,
  INS_CHANGE_REFERENCE_DATA,
  INS_INTERNAL_AUTHENTICATE,
  INS_MANAGE_SECURITY_ENVIRONMENT,
  INS_PERFORM_SECURITY_OPERATION,
  INS_READ_BINARY,
  INS_RESET_RETRY_COUNTER,
  INS_SELECT,
  INS_VERIFY,
  isCounter,
  MSE_CRT_DIGITAL_SIGNATURE,
  MSE_SET_FOR_COMPUTATION,
  PSO_P1_DIGITAL_SIGNATURE,
  PSO_P2_DATA_TO_SIGN,
  RESET_WITH_PUK_AND_NEW_PIN,
  SELECT_BY_DF_NAME,
  SELECT_BY_FILE_ID,
  SELECT_EF_UNDER_CURRENT_DF,
  sw1Of,
  SW1_MORE_DATA,
  SW_AUTH_METHOD_BLOCKED,
  SW_END_OF_FILE,
  SW_OK,
} from './apdu.js';
import { HcaCard } from './card.js';
import { parseCardInfo } from './format.js';
import { derTotalLength, parseBasicData } from './card-format.js';
import { memoryPinTrialStore } from './pin-guard.js';
import { HCA_PROFILE, HCA_PROFILE_CANDIDATES, type HcaProfile, type ProfileField } from './profile.js';

/** A profile override: nested objects ending in full profile fields (or plain values such as `id`). */
export type ProfileOverride = { [key: string]: unknown };

export interface TraceAnalysis {
  /** The candidate profile the card answered as, or undefined when none was selected. */
  candidateId: string | undefined;
  /** Over `HCA_PROFILE`: the candidate's differences, then every field the trace confirms. */
  override: ProfileOverride;
  /** What the trace shows, in words (including what it does not prove). */
  findings: string[];
  /** Paths of the fields the trace confirmed. */
  confirmed: string[];
}

/** One recorded command, decoded as far as the redaction allows. */
interface Decoded {
  entry: TraceEntry;
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data, when not redacted. */
  data: Uint8Array | undefined;
  /** Length of the command data (redacted or not). */
  dataLength: number;
  sw: number | undefined;
  /** Response data, when present and not redacted. */
  responseData: Uint8Array | undefined;
}

function decode(entry: TraceEntry): Decoded | undefined {
  let parts;
  try {
    parts = parsePattern(String(entry.command ?? ''), 'command');
  } catch {
    return undefined;
  }
  const first = parts[0];
  if (!first || !('bytes' in first) || first.bytes.length < 4) return undefined;
  const head = first.bytes;
  const [cla, ins, p1, p2] = [head[0]!, head[1]!, head[2]!, head[3]!];
  let data: Uint8Array | undefined;
  let dataLength = 0;
  if (parts.length === 1) {
    // Short APDU: header, [Lc data], [Le].
    if (head.length > 5 && head[4]! > 0 && head.length >= 5 + head[4]!) {
      dataLength = head[4]!;
      data = head.slice(5, 5 + dataLength);
    }
  } else {
    const any = parts.find((p) => 'any' in p);
    dataLength = any && 'any' in any ? any.any : 0;
  }
  let sw: number | undefined;
  let responseData: Uint8Array | undefined;
  if (entry.sw && /^[0-9A-Fa-f]{4}$/.test(entry.sw)) sw = parseInt(entry.sw, 16);
  if (entry.response !== undefined && !entry.response.includes('REDACTED')) {
    try {
      const r = fromHex(entry.response);
      if (r.length >= 2) {
        sw ??= (r[r.length - 2]! << 8) | r[r.length - 1]!;
        responseData = r.slice(0, r.length - 2);
      }
    } catch {
      // leave undefined
    }
  }
  return { entry, cla, ins, p1, p2, data, dataLength, sw, responseData };
}

function ok(sw: number | undefined): boolean {
  return sw === SW_OK || (sw !== undefined && sw1Of(sw) === SW1_MORE_DATA);
}

/**
 * Throws `WebCcidError('report/unredacted-secret')` when a command that carries a PIN, a PUK or
 * key material (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER, PSO, INTERNAL / GENERAL
 * AUTHENTICATE) has its data field in clear: such a report must not enter the repository.
 */
export function assertRedacted(sessions: TraceSession[]): void {
  for (const [i, s] of sessions.entries()) {
    for (const e of s.entries) {
      if ((e.kind ?? 'apdu') !== 'apdu') continue;
      const d = decode(e);
      if (d && REDACTED_INS.has(d.ins) && d.data !== undefined && d.data.length > 0) {
        // The facts say where, never what: the unredacted data is not in the error.
        throw new WebCcidError('report/unredacted-secret', { session: i, entry: e.index, ins: d.ins.toString(16).toUpperCase().padStart(2, '0') });
      }
    }
  }
}

function fieldAt(profile: HcaProfile, path: string): ProfileField<unknown> {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], profile) as ProfileField<unknown>;
}

function setPath(target: ProfileOverride, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as ProfileOverride;
  o[keys[keys.length - 1]!] = value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * `base` with `override` merged over it: nested objects key by key; an object with a `value` key
 * (a whole profile field), an array or a plain value replaces what was there.
 */
export function applyProfileOverride(base: HcaProfile, override: ProfileOverride): HcaProfile {
  const merge = (b: unknown, patch: unknown): unknown => {
    if (!isPlainObject(patch) || 'value' in patch || !isPlainObject(b)) return structuredClone(patch);
    const out: Record<string, unknown> = { ...b };
    for (const [k, v] of Object.entries(patch)) out[k] = merge(b[k], v);
    return out;
  };
  return merge(base, override) as HcaProfile;
}

/** The paths of every `{ value, status, source }` field of a profile. */
function fieldPaths(node: unknown, path: string[] = []): string[] {
  if (!isPlainObject(node)) return [];
  if ('value' in node && 'status' in node && 'source' in node) return [path.join('.')];
  return Object.entries(node).flatMap(([k, v]) => fieldPaths(v, [...path, k]));
}

/** Analyses the sessions of a trace (see the module comment). `source` names the report in the fields it confirms. */
export function analyseTrace(
  sessions: TraceSession[],
  options: { source: string; candidates?: readonly HcaProfile[]; base?: HcaProfile },
): TraceAnalysis {
  const base = options.base ?? HCA_PROFILE;
  const candidates = options.candidates ?? HCA_PROFILE_CANDIDATES;
  const findings: string[] = [];
  const confirmedSet = new Set<string>();
  const decoded = sessions.map((s) => s.entries.filter((e) => (e.kind ?? 'apdu') === 'apdu').map(decode).filter((d): d is Decoded => d !== undefined));
  const all = decoded.flat();

  // 1. Which candidate's application SELECT did the card accept?
  const appSelect = (p: HcaProfile) => (d: Decoded) => {
    if (d.ins !== INS_SELECT || d.cla !== p.commandClass.value || !d.data) return false;
    const app = p.application.value;
    if (app.selectBy === 'fid') return d.p1 === SELECT_BY_FILE_ID && d.data.length === 2 && ((d.data[0]! << 8) | d.data[1]!) === app.fid;
    return d.p1 === SELECT_BY_DF_NAME && bytesEqual(d.data, fromHex(p.aid.value));
  };
  const candidate = candidates.find((p) => all.some((d) => appSelect(p)(d) && ok(d.sw)));
  for (const p of candidates) {
    const tries = all.filter(appSelect(p));
    if (tries.length > 0) findings.push(`Candidate ${p.id}: its application SELECT answered ${tries.map((d) => (d.sw ?? 0).toString(16).toUpperCase().padStart(4, '0')).join(', ')}.`);
  }
  const override: ProfileOverride = {};
  if (!candidate) {
    findings.push('No candidate profile was selected: the card did not accept any candidate\'s application SELECT. Nothing about the profile can be confirmed.');
    return { candidateId: undefined, override, findings, confirmed: [] };
  }
  // The candidate's differences from the base, as whole fields.
  if (candidate.id !== base.id) {
    for (const path of fieldPaths(candidate)) {
      if (JSON.stringify(fieldAt(candidate, path)) !== JSON.stringify(fieldAt(base, path))) setPath(override, path, structuredClone(fieldAt(candidate, path)));
    }
  }
  const profile = applyProfileOverride(base, override);
  const confirm = (path: string, why: string, value?: unknown) => {
    const current = fieldAt(profile, path);
    setPath(override, path, { value: value === undefined ? structuredClone(current.value) : value, status: 'confirmed', source: `${options.source}: ${why}` });
    confirmedSet.add(path);
    findings.push(`Confirmed ${path}: ${why}.`);
  };
  confirm('application', 'the card accepted the application SELECT');
  confirm('commandClass', `the card accepted SELECT in class ${profile.commandClass.value.toString(16).toUpperCase().padStart(2, '0')}`);
  if (profile.application.value.selectBy === 'aid') confirm('aid', 'the card accepted SELECT of this AID');

  // 2. The ATR.
  const norm = (h: string) => h.replace(/\s+/g, '').toUpperCase();
  const atrs = [...profile.atrs.value];
  for (const s of sessions) {
    if (!atrs.some((a) => norm(a.hex) === norm(s.atr))) {
      atrs.push({ hex: s.atr, description: `from ${options.source}` });
      findings.push(`New ATR ${s.atr}: added to atrs.`);
    }
  }
  if (atrs.length !== profile.atrs.value.length) setPath(override, 'atrs', { value: atrs, status: 'confirmed', source: `${profile.atrs.source}; ${options.source}` });

  // 3. Files: SELECT of the FID answered 9000 and the READ BINARY right after it too.
  const cla = profile.commandClass.value;
  const fileContent = (fid: number): { exists: boolean; data: Uint8Array | undefined } => {
    for (const list of decoded) {
      for (let i = 0; i < list.length; i++) {
        const d = list[i]!;
        if (d.ins !== INS_SELECT || d.cla !== cla || (d.p1 !== SELECT_BY_FILE_ID && d.p1 !== SELECT_EF_UNDER_CURRENT_DF) || !d.data || d.data.length !== 2) continue;
        if (((d.data[0]! << 8) | d.data[1]!) !== fid || !ok(d.sw)) continue;
        const reads: Decoded[] = [];
        for (let j = i + 1; j < list.length && list[j]!.ins === INS_READ_BINARY; j++) reads.push(list[j]!);
        const good = reads.filter((r) => ok(r.sw) || r.sw === SW_END_OF_FILE);
        if (good.length === 0) continue;
        const redacted = good.some((r) => r.responseData === undefined);
        return { exists: true, data: redacted ? undefined : new Uint8Array(good.flatMap((r) => [...r.responseData!])) };
      }
    }
    return { exists: false, data: undefined };
  };
  const textFile = (path: 'files.cardInfo' | 'files.basicData', parse: (b: Uint8Array) => unknown) => {
    const fid = (fieldAt(profile, path).value as { fid: number }).fid;
    const f = fileContent(fid);
    if (!f.exists) return;
    if (!f.data) {
      findings.push(`${path}: FID ${fid.toString(16).toUpperCase().padStart(4, '0')} exists and reads, but its content is redacted: its format is not confirmed.`);
      return;
    }
    try {
      parse(f.data);
      confirm(path, 'the file exists and its content parses in this format');
    } catch {
      findings.push(`${path}: the file exists but its content does not parse as ${(fieldAt(profile, path).value as { format: string }).format}.`);
    }
  };
  textFile('files.cardInfo', parseCardInfo);
  textFile('files.basicData', parseBasicData);
  if (fileContent(profile.files.serialNumber.value.fid).exists) confirm('files.serialNumber', 'the file exists and reads');
  const certs = profile.files.certificates.value.map((fid) => fileContent(fid));
  if (certs[0]!.exists && certs[1]!.exists) {
    const der = certs.slice(0, 2).every((c) => c.data === undefined || (c.data.length > 4 && derTotalLength(c.data) !== 'erased' && c.data[0] === 0x30));
    if (der) confirm('files.certificates', `certificates ${certs.map((c, i) => (c.exists ? i : undefined)).filter((i) => i !== undefined).join(', ')} exist and read`);
  }

  // 4. PIN reference and the free status check.
  const pinRef = profile.pin.reference.value;
  const pukRef = profile.puk.reference.value;
  const empty = all.filter((d) => d.ins === INS_VERIFY && d.dataLength === 0 && d.p2 === pinRef);
  if (empty.some((d) => d.sw !== undefined && (d.sw === SW_OK || isCounter(d.sw) || d.sw === SW_AUTH_METHOD_BLOCKED))) {
    confirm('pin.reference', 'VERIFY without data on it answered with the retry counter');
    confirm('pin.statusMethod', 'VERIFY without data answered with the retry counter, no try spent');
  } else if (empty.length > 0) {
    findings.push(`VERIFY without data on ${pinRef.toString(16).toUpperCase()} answered ${empty.map((d) => d.sw?.toString(16).toUpperCase()).join(', ')}: the PIN reference or the status method is wrong.`);
  }

  // 5. The PIN format: only an accepted PIN proves it.
  const pinBlock = profile.pin.encoding.value.blockLength;
  const pinSent = all.filter((d) => (d.ins === INS_VERIFY && d.p2 === pinRef && d.dataLength > 0) || (d.ins === INS_CHANGE_REFERENCE_DATA && d.p2 === pinRef && d.dataLength > 0));
  const secure = sessions.flatMap((s) => s.entries.filter((e) => e.kind === 'secure-verify' || e.kind === 'secure-modify'));
  const acceptedPin =
    pinSent.some((d) => d.sw === SW_OK && d.dataLength === (d.ins === INS_VERIFY ? pinBlock : 2 * pinBlock)) ||
    secure.some((e) => e.sw === '9000' && e.command.replace(/\s+/g, '').toUpperCase().endsWith(pinRef.toString(16).toUpperCase().padStart(2, '0')));
  if (acceptedPin) {
    confirm('pin.reference', 'the card accepted a PIN sent to it');
    confirm('pin.encoding', 'the card accepted a PIN in this encoding');
    confirm('pin.protection', 'the card accepted the PIN block as sent');
  } else if (pinSent.length > 0 || secure.length > 0) {
    findings.push('A PIN was sent and refused: that does not tell a wrong PIN from a wrong format. The PIN format stays assumed; do not try again on this card.');
  }

  // 6. Unblock and the PUK format.
  const unblocked = all.some((d) => d.ins === INS_RESET_RETRY_COUNTER && d.p1 === RESET_WITH_PUK_AND_NEW_PIN && d.p2 === pinRef && d.sw === SW_OK && d.dataLength === profile.puk.encoding.value.blockLength + pinBlock);
  const pukVerified = all.some((d) => d.ins === INS_VERIFY && d.p2 === pukRef && d.sw === SW_OK && d.dataLength === profile.puk.encoding.value.blockLength);
  if (unblocked || pukVerified) {
    if (unblocked) confirm('unblock', 'RESET RETRY COUNTER with PUK and new PIN answered 9000', { method: 'reset-retry-counter' });
    confirm('puk.encoding', 'the card accepted the PUK in this encoding');
    confirm('puk.protection', 'the card accepted the PUK block as sent');
    if (pukVerified) confirm('puk.reference', 'VERIFY of the PUK answered 9000');
  }
  if (all.some((d) => d.ins === INS_VERIFY && d.dataLength === 0 && d.p2 === pukRef && d.sw !== undefined && isCounter(d.sw))) {
    confirm('puk.reference', 'VERIFY without data on it answered with the PUK retry counter');
  }

  // 7. Signing.
  const mse = all.find((d) => d.ins === INS_MANAGE_SECURITY_ENVIRONMENT && d.p1 === MSE_SET_FOR_COMPUTATION && d.p2 === MSE_CRT_DIGITAL_SIGNATURE && d.sw === SW_OK && d.data);
  if (mse && all.some((d) => d.ins === INS_PERFORM_SECURITY_OPERATION && d.p1 === PSO_P1_DIGITAL_SIGNATURE && d.p2 === PSO_P2_DATA_TO_SIGN && d.sw === SW_OK)) {
    confirm('signing.method', 'MSE SET then PSO COMPUTE DIGITAL SIGNATURE answered 9000', 'pso-cds');
    const tlv = mse.data!;
    for (let i = 0; i + 1 < tlv.length; ) {
      const length = tlv[i + 1]!;
      if (i + 2 + length > tlv.length) break;
      if ((tlv[i] === CRT_TAG_KEY_REFERENCE || tlv[i] === CRT_TAG_DIRECT_KEY_REFERENCE) && length === 1) confirm('signing.keyReference', 'MSE SET with this key reference answered 9000', tlv[i + 2]);
      if (tlv[i] === CRT_TAG_ALGORITHM_REFERENCE && length === 1) confirm('signing.algorithmReference', 'MSE SET with this algorithm reference answered 9000', tlv[i + 2]);
      i += 2 + length;
    }
  } else if (all.some((d) => d.ins === INS_INTERNAL_AUTHENTICATE && d.sw === SW_OK)) {
    confirm('signing.method', 'INTERNAL AUTHENTICATE answered 9000', 'internal-authenticate');
  }

  override.id = `${candidate.id}+confirmed`;
  return { candidateId: candidate.id, override, findings, confirmed: [...confirmedSet].sort() };
}

/** The operations `exerciseProfile` can run. */
export type ExerciseStep =
  | 'cardInfo'
  | 'basicData'
  | 'serialNumber'
  | 'certificate0'
  | 'certificate1'
  | 'certificate2'
  | 'certificate3'
  | 'pinStatus'
  | 'verifyPin';

export const EXERCISE_STEPS: readonly ExerciseStep[] = ['cardInfo', 'basicData', 'serialNumber', 'certificate0', 'certificate1', 'certificate2', 'certificate3', 'pinStatus', 'verifyPin'];

/** What one step gave: 'ok' (with a short summary) or the error code. */
export interface ExerciseOutcome {
  step: 'open' | ExerciseStep;
  result: string;
}

function describe(e: unknown): string {
  if (e instanceof WebCcidError) {
    const sw = (e as { sw?: unknown }).sw;
    return typeof sw === 'number' ? `${e.code} ${sw.toString(16).toUpperCase().padStart(4, '0')}` : e.code;
  }
  return e instanceof Error ? e.name : String(e);
}

/**
 * Opens the card with `profile` and runs `steps` in order, collecting each outcome (never
 * throws). 'verifyPin' sends `pin` (default: the shortest PIN the profile allows, all '0': only
 * for a `ReplayChannel`, where the recorded PIN is redacted and any bytes of its length match).
 */
export async function exerciseProfile(
  channel: CardChannel,
  profile: HcaProfile,
  options: { steps?: readonly ExerciseStep[]; pin?: string } = {},
): Promise<ExerciseOutcome[]> {
  const out: ExerciseOutcome[] = [];
  let card: HcaCard;
  try {
    card = await HcaCard.open(channel, { profile, pinTrials: memoryPinTrialStore() });
    out.push({ step: 'open', result: 'ok' });
  } catch (e) {
    out.push({ step: 'open', result: describe(e) });
    return out;
  }
  const run: Record<ExerciseStep, () => Promise<string>> = {
    cardInfo: async () => `ok ${(await card.readCardInfo()).cardNumber}`,
    basicData: async () => `ok ${(await card.readBasicData()).idNumber.length} characters of ID`,
    serialNumber: async () => `ok ${(await card.readSerialNumber()).hex}`,
    certificate0: async () => `ok ${(await card.readCertificate(0)).length} bytes`,
    certificate1: async () => `ok ${(await card.readCertificate(1)).length} bytes`,
    certificate2: async () => `ok ${(await card.readCertificate(2)).length} bytes`,
    certificate3: async () => `ok ${(await card.readCertificate(3)).length} bytes`,
    pinStatus: async () => {
      const s = await card.pinStatus();
      return `ok ${s.retriesLeft} left${s.blocked ? ', blocked' : ''}${s.verified ? ', verified' : ''}`;
    },
    verifyPin: async () => {
      await card.verifyPin(options.pin ?? '0'.repeat(profile.pin.minLength.value));
      return 'ok';
    },
  };
  for (const step of options.steps ?? EXERCISE_STEPS) {
    try {
      out.push({ step, result: await run[step]() });
    } catch (e) {
      out.push({ step, result: describe(e) });
    }
  }
  return out;
}
