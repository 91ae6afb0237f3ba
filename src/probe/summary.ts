/**
 * What a probe run says about the card profile: for each profile field, whether the card
 * confirmed it, contradicted it, or left it open; and the redacted report file.
 *
 * The report file is a trace file (src/card/trace.ts, `format: "webccid-trace"`, version 1: it
 * replays like any trace) with one more top-level key, `probe`, holding the findings (readers,
 * descriptor, quirks, ATRs, discovery, per-field verdicts). With `redactCardData` (the default)
 * the card holder's data is replaced by its length there too, as the trace already does.
 */
import type { TraceFile } from '../card/trace.js';
import type { HcaProfile } from '../hca/profile.js';
import type { ProbeReaderReport, ProbeReport, ProbeSlotReport } from './types.js';

export type Verdict = 'confirmed' | 'contradicted' | 'open';

/** One profile field and what the card said about it. */
export interface FieldFinding {
  /** Profile field path, e.g. "aid", "files.basicData", "pin.reference"; "nhi" for the NHI layout. */
  field: string;
  /** The profile's own status for the field before the probe. */
  was?: 'confirmed' | 'assumed';
  verdict: Verdict;
  /** Why (English, one sentence). */
  evidence: string;
}

/** The findings of one card. */
export interface CardFindings {
  readerId: string;
  slot: number;
  atr: string;
  /** What kind of card this seems to be. */
  kind: 'hca' | 'nhi' | 'unknown';
  fields: FieldFinding[];
}

function fileFinding(slot: ProbeSlotReport, field: 'cardInfo' | 'basicData' | 'serialNumber', profile: HcaProfile): FieldFinding {
  const hca = slot.hca!;
  const was = profile.files[field].status;
  const error = hca.errors[field];
  const value = field === 'cardInfo' ? hca.cardInfo : field === 'basicData' ? hca.basicData : hca.serialNumber;
  if (value !== undefined) return { field: `files.${field}`, was, verdict: 'confirmed', evidence: 'read and parsed' };
  if (error && (error.code === 'apdu/file-not-found' || error.code === 'hca/bad-file')) {
    return { field: `files.${field}`, was, verdict: 'contradicted', evidence: `${error.code}${error.sw ? ` (SW ${error.sw})` : ''}` };
  }
  return { field: `files.${field}`, was, verdict: 'open', evidence: error ? `read failed: ${error.code}` : 'not read' };
}

/** The per-field verdicts for one probed card. */
export function findingsOf(reader: ProbeReaderReport, slot: ProbeSlotReport, profile: HcaProfile): CardFindings {
  const fields: FieldFinding[] = [];
  const hca = slot.hca;
  const nhi = slot.nhi;
  const kind: CardFindings['kind'] = hca?.selected ? 'hca' : nhi?.read ? 'nhi' : 'unknown';
  const base = { readerId: reader.id, slot: slot.slot, atr: slot.atr ?? '' };
  if (!hca) return { ...base, kind, fields };
  fields.push({
    field: 'atrs',
    was: profile.atrs.status,
    verdict: hca.atrKnown ? 'confirmed' : 'open',
    evidence: hca.atrKnown ? "the card's ATR is in the profile's list" : "the card's ATR is not in the profile's list",
  });
  if (hca.selected) fields.push({ field: 'aid', was: profile.aid.status, verdict: 'confirmed', evidence: 'SELECT by the profile\'s AID answered 90 00' });
  else if (hca.atrKnown) {
    fields.push({ field: 'aid', was: profile.aid.status, verdict: 'contradicted', evidence: `an HCA ATR, but SELECT of the profile's AID was refused${hca.openError?.sw ? ` (SW ${hca.openError.sw})` : ''}` });
  } else fields.push({ field: 'aid', was: profile.aid.status, verdict: 'open', evidence: kind === 'nhi' ? 'an NHI card, not an HCA card' : 'not an HCA card (unknown ATR, AID refused)' });
  if (hca.selected) {
    fields.push(fileFinding(slot, 'cardInfo', profile), fileFinding(slot, 'basicData', profile), fileFinding(slot, 'serialNumber', profile));
    const signature = hca.certificates.find((c) => c.index === 1);
    const was = profile.files.certificates.status;
    if (signature?.present && !signature.parseError) {
      fields.push({ field: 'files.certificates', was, verdict: 'confirmed', evidence: 'certificate 1 (signature) is an X.509 certificate' });
      const cardType = signature.cardType;
      fields.push({
        field: cardType === 'institution' ? 'oids.institutionCard' : 'oids.personnelCard',
        was: 'confirmed',
        verdict: cardType ? 'confirmed' : 'open',
        evidence: cardType ? `the signature certificate carries the ${cardType} card policy OID` : 'no card-type policy OID in the signature certificate',
      });
    } else {
      fields.push({ field: 'files.certificates', was, verdict: 'contradicted', evidence: signature?.parseError ? 'certificate 1 does not parse as X.509' : 'certificate 1 (signature) not found' });
    }
  } else {
    for (const f of ['files.cardInfo', 'files.basicData', 'files.serialNumber', 'files.certificates']) fields.push({ field: f, verdict: 'open', evidence: 'the HCA application was not selected' });
  }
  const pin = hca.pin;
  if (!pin || pin.counterRead === false) {
    const why = !hca.selected ? 'the HCA application was not selected' : 'the retry counter was not read (needs the holder\'s agreement)';
    fields.push({ field: 'pin.reference', was: profile.pin.reference.status, verdict: 'open', evidence: why });
  } else if (pin.retriesBefore !== undefined || pin.blocked) {
    fields.push({ field: 'pin.reference', was: profile.pin.reference.status, verdict: 'confirmed', evidence: `VERIFY without data answered with a retry counter (${pin.retriesBefore ?? 0} left)` });
    fields.push({ field: 'pin.statusMethod', was: profile.pin.statusMethod.status, verdict: 'confirmed', evidence: 'VERIFY without data gave the counter' });
    const max = profile.pin.maxTries.value;
    const left = pin.retriesBefore ?? 0;
    fields.push({
      field: 'pin.maxTries',
      was: profile.pin.maxTries.status,
      verdict: left > max ? 'contradicted' : 'open',
      evidence: left > max ? `the card has ${left} tries left, more than ${max}` : `${left} left fits ${max} (a counter below the maximum cannot show the maximum)`,
    });
  } else {
    const sw = pin.error?.sw;
    const refused = sw === '6A88' || sw === '6A86' || sw === '6D00';
    fields.push({ field: 'pin.reference', was: profile.pin.reference.status, verdict: refused ? 'contradicted' : 'open', evidence: `VERIFY without data: ${pin.error?.code ?? pin.outcome}${sw ? ` (SW ${sw})` : ''}` });
  }
  if (pin?.outcome === 'verified' && pin.via === 'host') {
    fields.push({ field: 'pin.encoding', was: profile.pin.encoding.status, verdict: 'confirmed', evidence: 'the card accepted the PIN in the profile\'s encoding' });
  } else if (pin?.outcome === 'failed' && (pin.error?.sw === '6700' || pin.error?.sw === '6A80')) {
    fields.push({ field: 'pin.encoding', was: profile.pin.encoding.status, verdict: 'contradicted', evidence: `the card refused the PIN block's form (SW ${pin.error.sw})` });
  } else {
    fields.push({ field: 'pin.encoding', was: profile.pin.encoding.status, verdict: 'open', evidence: pin?.outcome === 'wrong' ? 'a wrong PIN says nothing about the encoding' : 'no PIN was verified' });
  }
  for (const f of ['puk.reference', 'puk.encoding', 'unblock', 'signing.method', 'signing.keyReference']) {
    fields.push({ field: f, verdict: 'open', evidence: 'the probe never sends a PUK or signs' });
  }
  if (nhi) {
    fields.push({
      field: 'nhi',
      verdict: nhi.read ? 'confirmed' : 'open',
      evidence: nhi.read ? 'the NHI application answered the public SELECT and basic-data read' : `not an NHI card (${nhi.error?.code ?? 'not read'})`,
    });
  }
  return { ...base, kind, fields };
}

/** Findings of every card of a probe run. */
export function summarizeProbe(report: ProbeReport, profile: HcaProfile): CardFindings[] {
  const out: CardFindings[] = [];
  for (const r of report.readers) for (const s of r.slots) if (s.hca || s.nhi) out.push(findingsOf(r, s, profile));
  return out;
}

/** The findings as plain text (English), one block per card. */
export function formatFindings(findings: CardFindings[]): string {
  if (findings.length === 0) return 'No card was probed.';
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`Reader ${f.readerId}, slot ${f.slot}: ${f.kind === 'hca' ? 'HCA card' : f.kind === 'nhi' ? 'NHI card' : 'unknown card'} (ATR ${f.atr})`);
    for (const verdict of ['confirmed', 'contradicted', 'open'] as const) {
      const these = f.fields.filter((x) => x.verdict === verdict);
      if (these.length === 0) continue;
      lines.push(`  ${verdict}:`);
      for (const x of these) lines.push(`    ${x.field}: ${x.evidence}`);
    }
  }
  return lines.join('\n');
}

/** The report file: the trace, plus the findings under `probe`. */
export interface ProbeReportFile extends TraceFile {
  probe: {
    readers: ProbeReaderReport[];
    findings: CardFindings[];
    /** The card holder's data is replaced by its length. */
    redacted: boolean;
  };
}

function redactText(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  return `[REDACTED ${text.length} chars]`;
}

/** A copy of the readers with the card holder's data replaced by its length. */
export function redactReaders(readers: ProbeReaderReport[]): ProbeReaderReport[] {
  const copy = JSON.parse(JSON.stringify(readers)) as ProbeReaderReport[];
  for (const r of copy) {
    for (const s of r.slots) {
      const hca = s.hca;
      if (hca) {
        if (hca.cardNumber !== undefined) hca.cardNumber = redactText(hca.cardNumber);
        if (hca.basicData !== undefined) hca.basicData = redactText(hca.basicData);
        if (hca.cardInfo !== undefined) hca.cardInfo = redactText(hca.cardInfo);
        if (hca.serialNumber !== undefined) hca.serialNumber = redactText(hca.serialNumber);
        for (const c of hca.certificates) {
          if (c.subject !== undefined) c.subject = redactText(c.subject);
          if (c.serialNumber !== undefined) c.serialNumber = redactText(c.serialNumber);
        }
      }
      if (s.nhi?.data) {
        const d = s.nhi.data as unknown as Record<string, string>;
        for (const k of Object.keys(d)) d[k] = redactText(d[k]);
      }
    }
  }
  return copy;
}

/** Builds the report file of a probe run (see the module comment). */
export function createProbeReportFile(report: ProbeReport, profile: HcaProfile, options: { redactCardData?: boolean } = {}): ProbeReportFile {
  const redacted = options.redactCardData ?? true;
  return {
    ...report.trace,
    probe: {
      readers: redacted ? redactReaders(report.readers) : report.readers,
      findings: summarizeProbe(report, profile),
      redacted,
    },
  };
}
