/**
 * What the probe does with one card, over any channel (a reader connection through a
 * `TracingChannel`, or a `ReplayChannel` playing a trace back): the ATR decoded, the HCA profile's
 * public reads, the NHI read, and the PIN steps the holder agreed to (see src/probe/engine.ts).
 */
import { toHex, wipe } from '../bytes.js';
import { AbortError, isWebCcidError, PinBlockedError, PinIncorrectError } from '../errors.js';
import type { Atr } from '../iso7816/atr.js';
import type { CardChannel } from '../card/channel.js';
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';
import { ProfileUnconfirmedError } from '../hca/errors.js';
import { HcaCard, type PinStatus } from '../hca/card.js';
import { isKnownNhiAtr, readNhiCard } from '../nhi/card.js';
import { loadX509 } from '../x509.js';
import { reportError, type PinConsent, type ProbeCertificate, type ProbeHcaReport, type ProbeNhiReport, type ProbePinReport, type ProbeSlotReport } from './types.js';

/** The decoded ATR as the report shows it. */
export function atrInfo(atr: Atr): NonNullable<ProbeSlotReport['atrInfo']> {
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
export async function readHca(
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

/** Reads the card as an NHI card (its public layout); the report says whether the ATR is a known NHI one. */
export async function readNhi(channel: CardChannel, log: (line: string) => void): Promise<ProbeNhiReport> {
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

export async function checkPin(
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
