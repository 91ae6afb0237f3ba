/**
 * The probe engine, shared by `npx webccid probe` / `npx webccid list` (src/node/probe.ts) and
 * the field kit page (web/probe.html).
 * Platform-independent: it gets a `UsbBackendLike` (the `usb` package's WebUSB in Node,
 * `navigator.usb` or the virtual `VirtualUsb` in a page).
 *
 * For every USB smart-card reader it reports the identity, the decoded CCID class descriptor and
 * the quirks in use; it powers each card, decodes its ATR, reads what the HCA profile reads
 * without a PIN (card number, basic data, card info, serial number, certificates), reads the NHI
 * card when it is one, runs the discovery of discovery.ts (commands that cannot harm a card)
 * and records every APDU in a trace (PIN, PUK and key material redacted; src/card/trace.ts).
 *
 * PIN steps only with `pinConsent`, and each only when the holder agrees at that point: first
 * the retry counter (VERIFY without data: no try spent), then, after the counter was shown, one
 * PIN-carrying VERIFY (typed, or keyed on the reader's pinpad). Never retried, never in the trace.
 */
import { toHex, wipe } from '../bytes.js';
import { AbortError, isWebCcidError, PinBlockedError, PinIncorrectError, WebCcidError } from '../errors.js';
import type { Atr } from '../iso7816/atr.js';
import { CcidReader } from '../ccid/reader.js';
import type { CcidConnection } from '../ccid/connection.js';
import type { CcidClassDescriptor } from '../ccid/descriptor.js';
import type { ReaderQuirks } from '../ccid/quirks.js';
import type { CardChannel, CardProtocol } from '../card/channel.js';
import { createTraceFile, traceReaderInfo, TracingChannel, type TraceFile, type TraceSession } from '../card/trace.js';
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';
import { ProfileUnconfirmedError } from '../hca/errors.js';
import { HcaCard, type PinStatus } from '../hca/card.js';
import { isKnownNhiAtr, readNhiCard, type NhiCardData } from '../nhi/card.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import { mayBeCcid } from '../usb/candidates.js';
import { loadX509 } from '../x509.js';
import { discoverCard, type DiscoveryReport } from './discovery.js';
import { reportError, type ProbeError } from './types.js';

export type { ProbeError } from './types.js';

import { USB_CLASS_CCID as CLASS_SMART_CARD } from '../usb/config-descriptor.js';

export { mayBeCcid };

/** What the probe learnt about one certificate file. */
export interface ProbeCertificate {
  index: number;
  present: boolean;
  /** DER length. */
  size?: number;
  subject?: string;
  issuer?: string;
  serialNumber?: string;
  notBefore?: string;
  notAfter?: string;
  /** Card type from the certificate policies, by the profile's OIDs. */
  cardType?: 'personnel' | 'institution';
  /** The DER could not be parsed as an X.509 certificate. */
  parseError?: string;
  error?: ProbeError;
}

/** What the HCA profile could read from the card. */
export interface ProbeHcaReport {
  /** The ATR is in the profile's list. */
  atrKnown: boolean;
  /** The profile the card was opened with (given, or chosen among the candidates). */
  profileId?: string;
  /** Without a given profile: each candidate's SELECT and the card's answer. */
  selection?: Array<{ profileId: string; command: string; sw: number }>;
  /** SELECT of the profile's AID worked (the card answered as an HCA card). */
  selected: boolean;
  openError?: ProbeError;
  cardNumber?: string;
  cardInfo?: unknown;
  basicData?: unknown;
  serialNumber?: string;
  certificates: ProbeCertificate[];
  /** Per read, when it failed. */
  errors: Record<string, ProbeError>;
  pin?: ProbePinReport;
}

/** What the NHI read found (the values only with `keepCardData`; otherwise their lengths). */
export interface ProbeNhiReport {
  /** The ATR is one of the public NHI ATRs. */
  atrKnown: boolean;
  /** The card answered the NHI SELECT and the basic-data read with the public layout. */
  read: boolean;
  data?: NhiCardData;
  error?: ProbeError;
}

export interface ProbePinReport {
  /** Tries left before the PIN locks, as the card said before the verification (no try spent). */
  retriesBefore?: number;
  blocked?: boolean;
  /** The holder did not agree to read the counter (nothing PIN-related was sent). */
  counterRead?: boolean;
  /**
   * 'verified' | 'wrong' (retriesLeft after) | 'refused' (the card refused the PIN sent in an
   * assumed format: wrong PIN, or wrong format; `error` says which profile fields are assumed) |
   * 'blocked' | 'skipped' | 'failed'.
   */
  outcome: 'verified' | 'wrong' | 'refused' | 'blocked' | 'skipped' | 'failed';
  retriesLeft?: number;
  via?: 'host' | 'pinpad';
  error?: ProbeError;
}

/** One slot of a reader. */
export interface ProbeSlotReport {
  slot: number;
  state: 'absent' | 'present' | 'active' | 'unknown';
  atr?: string;
  atrInfo?: {
    protocols: number[];
    convention: 'direct' | 'inverse';
    fi: number;
    di: number;
    fMaxHz: number;
    ifsc?: number;
    historicalBytes: string;
    /** The historical bytes as printable ASCII, when they are. */
    historicalText?: string;
    tckValid: boolean | undefined;
    /** What was wrong with the ATR but parsed around (Atr.defects). */
    defects: string[];
  };
  protocol?: CardProtocol;
  link?: { baud: number; fHz: number; fi: number; di: number; negotiation: string };
  hca?: ProbeHcaReport;
  nhi?: ProbeNhiReport;
  discovery?: DiscoveryReport;
  error?: ProbeError;
}

/** One USB device that may be a CCID reader. */
export interface ProbeReaderReport {
  index: number;
  /** "072F:90CC". */
  id: string;
  vendorId: number;
  productId: number;
  name?: string;
  manufacturer?: string;
  /** The CCID interface class: 0x0B, or 0xFF (vendor class carrying a CCID descriptor). */
  interfaceClass?: number;
  /** Chrome refuses class 0x0B interfaces on ordinary pages (protected class). */
  chromeProtected: boolean;
  exchangeLevel?: string;
  pinpad?: { verify: boolean; modify: boolean };
  /** The decoded CCID class descriptor in use (after quirks). */
  descriptor?: CcidClassDescriptor;
  /** The quirks in force for this reader (src/ccid/quirks.ts): field names, byte values as hex. */
  quirks?: Record<string, unknown>;
  slots: ProbeSlotReport[];
  error?: ProbeError;
}

export interface ProbeReport {
  readers: ProbeReaderReport[];
  /** The trace of every card session (written with `--out`). */
  trace: TraceFile;
}

export interface ListOptions {
  /** USB backend: the `usb` package's WebUSB, `navigator.usb`, a `VirtualUsb`. */
  backend: UsbBackendLike;
  /** Where the human-readable lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** What the holder is asked before each PIN step (see the module comment). */
export interface PinConsent {
  /** Asked once the HCA application answered: may the retry counter be read (VERIFY without data, no try spent)? */
  readCounter(context: { slot: number; readerId: string }): Promise<boolean>;
  /**
   * Asked after the counter was read: the PIN (ASCII bytes, wiped after use) for one VERIFY,
   * 'pinpad' to key it on the reader (when `pinpad` is true), or null / an empty array to stop.
   * Rejecting with `AbortError` stops too.
   */
  verify(status: { retriesLeft: number; maxTries: number; pinpad: boolean }): Promise<Uint8Array | 'pinpad' | null>;
}

export interface ProbeOptions extends ListOptions {
  profile?: HcaProfile;
  /** Without it no PIN-related command is sent at all. */
  pinConsent?: PinConsent;
  /** Skip the discovery (discovery.ts). Default: run it. */
  discovery?: boolean;
  /** Redact the card's file contents (name, ID number, certificates) in the trace and the report. */
  redactCardData?: boolean;
  /** Tool name and version recorded in the trace. */
  tool?: { name: string; version: string };
  /** Clock of the trace (tests). */
  now?: () => number;
  date?: () => Date;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** The CCID-capable interface class the device descriptor shows (0x0B preferred, else 0xFF). */
function deviceInterfaceClass(device: UsbDeviceLike): number | undefined {
  const classes = device.configurations.flatMap((c) => c.interfaces.flatMap((i) => i.alternates.map((a) => a.interfaceClass)));
  if (classes.includes(CLASS_SMART_CARD)) return CLASS_SMART_CARD;
  return classes.includes(0xff) ? 0xff : undefined;
}

async function candidateDevices(backend: UsbBackendLike): Promise<UsbDeviceLike[]> {
  let devices: UsbDeviceLike[];
  try {
    devices = await backend.getDevices();
  } catch {
    return [];
  }
  return devices.filter(mayBeCcid);
}

function baseReport(device: UsbDeviceLike, index: number): ProbeReaderReport {
  const interfaceClass = deviceInterfaceClass(device);
  return {
    index,
    id: `${hex4(device.vendorId)}:${hex4(device.productId)}`,
    vendorId: device.vendorId,
    productId: device.productId,
    ...(device.productName ? { name: device.productName } : {}),
    ...(device.manufacturerName ? { manufacturer: device.manufacturerName } : {}),
    ...(interfaceClass === undefined ? {} : { interfaceClass }),
    chromeProtected: interfaceClass === CLASS_SMART_CARD,
    slots: [],
  };
}

/** The quirks as JSON: byte arrays as hex, a built-in descriptor as its presence. */
export function describeQuirks(quirks: ReaderQuirks): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(quirks)) {
    if (v === undefined) continue;
    if (v instanceof Uint8Array) out[k] = toHex(v);
    else if (k === 'descriptor') out[k] = 'built-in class descriptor (the reader has none)';
    else out[k] = v;
  }
  return out;
}

function fillFromReader(report: ProbeReaderReport, reader: CcidReader): void {
  report.interfaceClass = reader.identity.interfaceClass;
  report.chromeProtected = reader.identity.interfaceClass === CLASS_SMART_CARD;
  report.exchangeLevel = reader.descriptor.exchangeLevel;
  report.pinpad = { ...reader.descriptor.pinpad };
  report.descriptor = JSON.parse(JSON.stringify(reader.descriptor)) as CcidClassDescriptor;
  report.quirks = describeQuirks(reader.quirks);
}

function printReader(log: (line: string) => void, r: ProbeReaderReport): void {
  const name = [r.manufacturer, r.name].filter(Boolean).join(' ') || '(no name)';
  log(`Reader ${r.index}: ${r.id} ${name}`);
  if (r.interfaceClass !== undefined) {
    const cls = `0x${hex2(r.interfaceClass)}`;
    log(
      `  interface class ${cls}${r.chromeProtected ? ' (smart card: Chrome refuses it on ordinary pages, protected class)' : ' (vendor class: not protected in Chrome)'}`,
    );
  }
  if (r.exchangeLevel) log(`  exchange level: ${r.exchangeLevel}`);
  if (r.descriptor) {
    const d = r.descriptor;
    log(
      `  descriptor: CCID ${(d.bcdCCID >> 8).toString(16)}.${(d.bcdCCID & 0xff).toString(16).padStart(2, '0')}, T=${d.protocols.join('/T=')}, ` +
        `${d.dwDefaultClock} kHz (max ${d.dwMaximumClock}), ${d.dwDataRate} bit/s (max ${d.dwMaxDataRate}), ` +
        `IFSD ${d.dwMaxIFSD}, messages up to ${d.dwMaxCCIDMessageLength} bytes, ${d.maxSlots} slot(s)`,
    );
  }
  if (r.quirks) {
    const names = Object.keys(r.quirks);
    log(`  quirks: ${names.length === 0 ? 'none' : names.join(', ')}`);
  }
  if (r.pinpad) {
    const ops = [r.pinpad.verify ? 'verify' : '', r.pinpad.modify ? 'modify' : ''].filter(Boolean).join(' + ');
    log(`  pinpad: ${ops || 'no'}`);
  }
  if (r.error) log(`  error: ${r.error.message} [${r.error.code}]`);
}

/**
 * Lists every USB device that may be a CCID reader, opens it to read its CCID descriptor
 * (exchange level, pinpad) and the state of each slot; powers no card.
 */
export async function listReaders(options: ListOptions): Promise<ProbeReaderReport[]> {
  const backend = options.backend;
  const log = options.log ?? (() => undefined);
  const devices = await candidateDevices(backend);
  if (devices.length === 0) log('No USB smart-card reader found.');
  const reports: ProbeReaderReport[] = [];
  for (const [index, device] of devices.entries()) {
    const report = baseReport(device, index);
    reports.push(report);
    let reader: CcidReader | undefined;
    try {
      reader = await CcidReader.open(device, { backend, watchInterrupt: false });
      fillFromReader(report, reader);
      for (let slot = 0; slot < reader.slotCount; slot++) {
        try {
          report.slots.push({ slot, state: (await reader.status(slot)).state });
        } catch (e) {
          report.slots.push({ slot, state: 'unknown', error: reportError(e) });
        }
      }
    } catch (e) {
      report.error = reportError(e);
    } finally {
      await reader?.close();
    }
    printReader(log, report);
    for (const s of report.slots) log(`  slot ${s.slot}: ${s.state === 'absent' ? 'no card' : `card ${s.state}`}`);
  }
  return reports;
}

function atrInfo(atr: Atr): NonNullable<ProbeSlotReport['atrInfo']> {
  const h = atr.historicalBytes;
  const printable = h.length > 0 && h.every((b) => b >= 0x20 && b < 0x7f);
  return {
    protocols: [...atr.protocols],
    convention: atr.convention,
    fi: atr.fi,
    di: atr.di,
    fMaxHz: atr.fMaxHz,
    ...(atr.ifsc === undefined ? {} : { ifsc: atr.ifsc }),
    historicalBytes: toHex(h),
    ...(printable ? { historicalText: String.fromCharCode(...h) } : {}),
    tckValid: atr.tckValid,
    defects: [...atr.defects],
  };
}

function normaliseHex(hex: string): string {
  return hex.replace(/[^0-9a-f]/gi, '').toUpperCase();
}

function textOf(value: unknown): string {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

async function describeCertificate(der: Uint8Array, index: number, profile: HcaProfile): Promise<ProbeCertificate> {
  const out: ProbeCertificate = { index, present: true, size: der.length };
  try {
    const x509 = await loadX509();
    const cert = new x509.X509Certificate(der.slice());
    out.subject = cert.subject;
    out.issuer = cert.issuer;
    out.serialNumber = cert.serialNumber;
    out.notBefore = cert.notBefore.toISOString();
    out.notAfter = cert.notAfter.toISOString();
    const policies = cert.getExtension(x509.CertificatePolicyExtension);
    const oids = policies?.policies ?? [];
    if (oids.includes(profile.oids.personnelCard.value)) out.cardType = 'personnel';
    else if (oids.includes(profile.oids.institutionCard.value)) out.cardType = 'institution';
  } catch (e) {
    out.parseError = e instanceof Error ? e.message : String(e);
  }
  return out;
}

function printableRecord(value: unknown): string {
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${textOf(v)}`)
      .join(', ');
  }
  return textOf(value);
}

/**
 * What the probe reads from one card over any channel (a reader connection, or a `ReplayChannel`
 * playing a recorded trace back): the HCA report of one slot, with the PIN steps when
 * `pinConsent` is given. Never throws for a card problem.
 */
export async function probeHcaCard(
  channel: CardChannel,
  options: { profile?: HcaProfile; log?: (line: string) => void; pinConsent?: PinConsent; slot?: number; readerId?: string } = {},
): Promise<ProbeHcaReport> {
  const log = options.log ?? (() => undefined);
  const { report, profile } = await readHca(channel, options.profile, log);
  if (options.pinConsent && report.selected) {
    report.pin = await checkPin(channel, profile, log, options.pinConsent, { slot: options.slot ?? 0, readerId: options.readerId ?? '' });
  }
  return report;
}

/**
 * Opens the card as an HCA card (with `given`, that profile; otherwise the candidate whose
 * harmless SELECT the card answers) and reads everything the profile says is public.
 */
async function readHca(
  channel: CardChannel,
  given: HcaProfile | undefined,
  log: (line: string) => void,
): Promise<{ report: ProbeHcaReport; profile: HcaProfile }> {
  let profile = given ?? HCA_PROFILE;
  const atrHex = normaliseHex(toHex(channel.atr.bytes));
  const atrKnown = profile.atrs.value.some((a) => normaliseHex(a.hex) === atrHex);
  const report: ProbeHcaReport = { atrKnown, selected: false, certificates: [], errors: {} };
  log(`    ATR ${atrKnown ? 'is in' : 'is not in'} the profile's list (${profile.id})`);
  let card: HcaCard;
  try {
    card = await HcaCard.open(channel, given ? { profile } : {});
    report.selected = true;
    report.profileId = card.profile.id;
    if (!card.selection.given) report.selection = card.selection.tried.map((t) => ({ ...t }));
    if (card.profile !== profile) {
      profile = card.profile;
      log(`    the card answered as profile ${profile.id}`);
    }
  } catch (e) {
    report.openError = reportError(e);
    log(`    not opened as an HCA card: ${report.openError.message} [${report.openError.code}]`);
    return { report, profile };
  }
  log('    HCA application selected');
  const step = async <T>(name: string, run: () => Promise<T>, show: (value: T) => void): Promise<T | undefined> => {
    try {
      const value = await run();
      show(value);
      return value;
    } catch (e) {
      report.errors[name] = reportError(e);
      log(`    ${name}: failed: ${report.errors[name].message} [${report.errors[name].code}]`);
      return undefined;
    }
  };
  await step('cardNumber', () => card.readCardNumber(), (v) => {
    report.cardNumber = v;
    log(`    card number: ${report.cardNumber}`);
  });
  await step('cardInfo', () => card.readCardInfo(), (v) => {
    report.cardInfo = v;
    log(`    card info: ${printableRecord(v)}`);
  });
  await step('basicData', () => card.readBasicData(), (v) => {
    report.basicData = v;
    log(`    basic data: ${printableRecord(v)}`);
  });
  await step('serialNumber', () => card.readSerialNumber(), (v) => {
    report.serialNumber = v.text === undefined ? v.hex : `${v.text} (${v.hex})`;
    log(`    serial number: ${report.serialNumber}`);
  });
  for (const index of [0, 1, 2, 3] as const) {
    let der: Uint8Array;
    try {
      der = await card.readCertificate(index);
    } catch (e) {
      const error = reportError(e);
      const absent = error.code === 'hca/certificate-absent';
      report.certificates.push({ index, present: false, ...(absent ? {} : { error }) });
      log(`    certificate ${index}: ${absent ? 'absent' : `failed: ${error.message} [${error.code}]`}`);
      continue;
    }
    const c = await describeCertificate(der, index, profile);
    report.certificates.push(c);
    if (c.parseError) log(`    certificate ${index}: ${c.size} bytes, not parsable as X.509 (${c.parseError})`);
    else {
      log(`    certificate ${index}: ${c.size} bytes, subject ${c.subject}`);
      log(`      issuer ${c.issuer}; valid ${c.notBefore} .. ${c.notAfter}${c.cardType ? `; ${c.cardType} card` : ''}`);
    }
  }
  return { report, profile };
}

async function readNhi(channel: CardChannel, log: (line: string) => void): Promise<ProbeNhiReport> {
  const report: ProbeNhiReport = { atrKnown: isKnownNhiAtr(channel.atr.bytes), read: false };
  try {
    report.data = await readNhiCard(channel);
    report.read = true;
    const d = report.data;
    log(`    NHI card: card number ${d.cardNumber}, name ${d.name}, ID ${d.idNumber}, born ${d.birthDate}, sex ${d.sex}, issued ${d.issueDate}`);
  } catch (e) {
    report.error = reportError(e);
    log(`    not an NHI card: ${report.error.message} [${report.error.code}]`);
  }
  return report;
}

async function checkPin(
  channel: CardChannel,
  profile: HcaProfile,
  log: (line: string) => void,
  consent: PinConsent,
  context: { slot: number; readerId: string },
): Promise<ProbePinReport> {
  if (!(await consent.readCounter(context))) {
    log('    PIN: retry counter not read (not agreed).');
    return { counterRead: false, outcome: 'skipped' };
  }
  let card: HcaCard;
  let before: PinStatus;
  try {
    // Selected again: the discovery selected other DFs.
    card = await HcaCard.open(channel, { profile });
    before = await card.pinStatus();
  } catch (e) {
    if (e instanceof PinBlockedError) {
      log(`    PIN: ${e.message}`);
      return { counterRead: true, blocked: true, retriesBefore: 0, outcome: 'blocked' };
    }
    const error = reportError(e);
    log(`    PIN status: failed: ${error.message} [${error.code}]`);
    return { counterRead: true, outcome: 'failed', error };
  }
  const base: Pick<ProbePinReport, 'retriesBefore' | 'blocked' | 'counterRead'> = { counterRead: true, retriesBefore: before.retriesLeft, blocked: before.blocked };
  if (before.blocked) {
    log('    PIN: blocked. Unlock the card with its PUK (the unlock flow) before verifying the PIN.');
    return { ...base, outcome: 'blocked' };
  }
  if (before.verified) {
    log('    PIN: already verified in this card session.');
    return { ...base, outcome: 'verified' };
  }
  log(`    PIN: ${before.retriesLeft} of ${profile.pin.maxTries.value} tries left (no try spent)`);
  const pinpadAvailable = channel.pinpad?.verify === true && channel.verifyPinSecure !== undefined;
  let answer: Uint8Array | 'pinpad' | null;
  try {
    answer = await consent.verify({ retriesLeft: before.retriesLeft, maxTries: profile.pin.maxTries.value, pinpad: pinpadAvailable });
  } catch (e) {
    if (e instanceof AbortError) {
      log('    PIN entry cancelled: verification skipped.');
      return { ...base, outcome: 'skipped', via: 'host' };
    }
    throw e;
  }
  const onPinpad = answer === 'pinpad' && pinpadAvailable;
  const pin = answer instanceof Uint8Array ? answer : undefined;
  const via = onPinpad ? 'pinpad' : 'host';
  try {
    if (onPinpad) {
      log(`    Enter the PIN on the reader's keypad${before.retriesLeft === 1 ? ' (last try: a wrong PIN blocks the card)' : ''}.`);
      await card.verifyPinOnPinpad();
    } else {
      if (!pin || pin.length === 0) {
        log('    PIN verification skipped.');
        return { ...base, outcome: 'skipped', ...(answer === null ? {} : { via: 'host' as const }) };
      }
      await card.verifyPin(pin);
    }
    log('    PIN verified.');
    return { ...base, outcome: 'verified', via };
  } catch (e) {
    if (onPinpad && (isWebCcidError(e, 'ccid/pin-cancelled') || isWebCcidError(e, 'ccid/pin-timeout'))) {
      log(`    PIN entry ${e.code === 'ccid/pin-cancelled' ? 'cancelled' : 'timed out'} on the reader: verification skipped.`);
      return { ...base, outcome: 'skipped', via };
    }
    if (e instanceof PinIncorrectError) {
      log(`    ${e.message}`);
      return { ...base, outcome: 'wrong', retriesLeft: e.retriesLeft, via };
    }
    if (e instanceof ProfileUnconfirmedError && e.reason === 'refused') {
      if (e.cause instanceof Error) log(`    ${e.cause.message}`);
      log(`    ${e.message} Assumed: ${e.fields.join(', ')}.`);
      return { ...base, outcome: 'refused', ...(e.retriesLeft === undefined ? {} : { retriesLeft: e.retriesLeft }), via, error: reportError(e) };
    }
    if (e instanceof PinBlockedError) {
      log(`    ${e.message}`);
      return { ...base, outcome: 'blocked', retriesLeft: 0, via };
    }
    const error = reportError(e);
    log(`    PIN verification failed: ${error.message} [${error.code}]`);
    return { ...base, outcome: 'failed', via, error };
  } finally {
    if (pin) wipe(pin);
  }
}

/**
 * Probes every reader and card (see the module comment). Resolves with the report and the trace;
 * never throws for a reader or card problem (each is reported in place).
 */
export async function probeReaders(options: ProbeOptions): Promise<ProbeReport> {
  const backend = options.backend;
  const log = options.log ?? (() => undefined);
  const profile = options.profile ?? HCA_PROFILE;
  const sessions: TraceSession[] = [];
  const devices = await candidateDevices(backend);
  if (devices.length === 0) log('No USB smart-card reader found.');
  const readers: ProbeReaderReport[] = [];
  for (const [index, device] of devices.entries()) {
    const report = baseReport(device, index);
    readers.push(report);
    let reader: CcidReader | undefined;
    try {
      reader = await CcidReader.open(device, { backend, watchInterrupt: false });
      fillFromReader(report, reader);
    } catch (e) {
      report.error = reportError(e);
    }
    printReader(log, report);
    if (!reader) continue;
    try {
      for (let slot = 0; slot < reader.slotCount; slot++) {
        const slotReport: ProbeSlotReport = { slot, state: 'unknown' };
        report.slots.push(slotReport);
        try {
          slotReport.state = (await reader.status(slot)).state;
        } catch (e) {
          slotReport.error = reportError(e);
          log(`  slot ${slot}: status failed: ${slotReport.error.message} [${slotReport.error.code}]`);
          continue;
        }
        if (slotReport.state === 'absent') {
          log(`  slot ${slot}: no card`);
          continue;
        }
        let connection: CcidConnection;
        try {
          connection = await reader.connect(slot);
        } catch (e) {
          slotReport.error = reportError(e);
          log(`  slot ${slot}: the card could not be powered: ${slotReport.error.message} [${slotReport.error.code}]`);
          continue;
        }
        slotReport.state = 'active';
        slotReport.atr = toHex(connection.atr.bytes);
        slotReport.atrInfo = atrInfo(connection.atr);
        slotReport.protocol = connection.protocol;
        slotReport.link = { ...connection.link };
        const a = slotReport.atrInfo;
        log(`  slot ${slot}: card powered, ATR ${slotReport.atr}`);
        log(
          `    protocols T=${a.protocols.join(', T=')}; Fi ${a.fi} Di ${a.di}; f max ${a.fMaxHz / 1e6} MHz` +
            `${a.ifsc === undefined ? '' : `; IFSC ${a.ifsc}`}; historical bytes ${a.historicalBytes}` +
            `${a.historicalText ? ` ("${a.historicalText}")` : ''}${a.defects.length > 0 ? `; ATR defects: ${a.defects.join(', ')}` : ''}`,
        );
        log(`    using T=${connection.protocol === 't1' ? 1 : 0} at ${connection.link.baud} bit/s (${connection.link.negotiation})`);
        const tracing = new TracingChannel(connection, {
          ...(options.now ? { now: options.now } : {}),
          ...(options.date ? { date: options.date } : {}),
          ...(options.redactCardData ? { redactCardData: true } : {}),
        });
        try {
          const hca = await readHca(tracing, options.profile, log);
          slotReport.hca = hca.report;
          if (!slotReport.hca.selected) slotReport.nhi = await readNhi(tracing, log);
          if (options.discovery ?? true) {
            log('    discovery (commands that cannot harm the card):');
            slotReport.discovery = await discoverCard(tracing, {
              profileAid: hca.profile.aid.value,
              keepCardData: !options.redactCardData,
              log,
            });
          }
          if (options.pinConsent && slotReport.hca.selected) {
            slotReport.hca.pin = await checkPin(tracing, hca.profile, log, options.pinConsent, { slot, readerId: report.id });
          }
        } catch (e) {
          slotReport.error = reportError(e);
          log(`    failed: ${slotReport.error.message} [${slotReport.error.code}]`);
        }
        sessions.push(
          tracing.session({
            slot,
            reader: traceReaderInfo({
              vendorId: report.vendorId,
              productId: report.productId,
              ...(report.name ? { name: report.name } : {}),
              ...(report.exchangeLevel ? { exchangeLevel: report.exchangeLevel } : {}),
              ...(report.pinpad ? { pinpad: report.pinpad } : {}),
            }),
          }),
        );
        await connection.disconnect('unpower').catch(() => undefined);
      }
    } finally {
      await reader.close();
    }
  }
  const trace = createTraceFile({
    tool: options.tool ?? { name: 'webccid', version: '0.0.0' },
    profileId: profile.id,
    sessions,
    ...(options.date ? { createdAt: options.date() } : {}),
  });
  return { readers, trace };
}
