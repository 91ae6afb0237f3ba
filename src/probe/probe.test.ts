/**
 * The probe engine (shared by `npx webccid probe` and the field kit page) on every virtual reader
 * preset: reader, descriptor, quirks, ATR, the HCA reads, the NHI read, the discovery (only
 * commands that cannot harm a card), the PIN steps only after each consent, the findings, and
 * the report file (a trace file with the findings, the holder's data redacted).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../bytes.js';
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';
import type { TraceFile } from '../card/trace.js';
import {
  createT0Card,
  createVirtualReader,
  NON_COMPLIANT_READER_PRESETS,
  VIRTUAL_READER_PRESETS,
  VirtualCard,
  VirtualUsb,
  type VirtualReaderPresetName,
  type NonCompliantReaderPresetName,
} from '../virtual/index.js';
import { createVirtualHcaCard, VIRTUAL_HCA_DEFAULTS } from '../virtual/hca-card.js';
import { createVirtualNhiCard, VIRTUAL_NHI_DEFAULTS } from '../virtual/nhi-card.js';
import { encodeBig5 } from '../virtual/big5.js';
import { createProbeReportFile, formatFindings, probeReaders, type PinConsent, type ProbeReport } from './index.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const PIN = '482915';

/** Instructions that carry or test a secret, or change the card: none may be sent without consent. */
const NEVER_WITHOUT_CONSENT = new Set([0x20, 0x21, 0x24, 0x2c, 0x2a, 0x88, 0x82, 0x86, 0x84, 0xd6, 0xdc, 0xe0, 0xe4, 0xda, 0xdb]);
/** What the probe may send without consent: SELECT, READ BINARY, READ RECORD, GET DATA (and GET RESPONSE on T=0). */
const HARMLESS = new Set(['A4', 'B0', 'B2', 'CA', 'C0']);

function insOf(command: string): number {
  return Number.parseInt(command.split(' ')[1]!, 16);
}

function allCommands(report: ProbeReport): string[] {
  return report.trace.sessions.flatMap((s) => s.entries.map((e) => e.command));
}

beforeAll(async () => {
  await createVirtualHcaCard(); // warm the memoised test PKI
}, 60_000);

describe('the probe on every virtual reader preset', () => {
  const presets = [...Object.keys(VIRTUAL_READER_PRESETS), ...Object.keys(NON_COMPLIANT_READER_PRESETS)] as Array<VirtualReaderPresetName | NonCompliantReaderPresetName>;
  it.each(presets)('%s: reader, descriptor, quirks, ATR, reads and discovery; nothing PIN-related sent', async (preset) => {
    const p = preset in VIRTUAL_READER_PRESETS ? VIRTUAL_READER_PRESETS[preset as VirtualReaderPresetName] : NON_COMPLIANT_READER_PRESETS[preset as NonCompliantReaderPresetName];
    const t1 = (p.descriptor.dwProtocols & 2) !== 0;
    const card = t1 ? await createVirtualHcaCard({ pin: PIN }) : createT0Card({ pin: PIN });
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset, card })] });
    const lines: string[] = [];
    const report = await probeReaders({ backend: usb, log: (l) => lines.push(l), redactCardData: true });
    const r = report.readers[0]!;
    expect(r.id).toBe(`${p.vendorId.toString(16).toUpperCase().padStart(4, '0')}:${p.productId.toString(16).toUpperCase().padStart(4, '0')}`);
    expect(r.error).toBeUndefined();
    expect(r.descriptor).toMatchObject({ dwProtocols: p.descriptor.dwProtocols, dwMaxCCIDMessageLength: p.descriptor.dwMaxCCIDMessageLength, maxSlots: p.descriptor.bMaxSlotIndex + 1 });
    if (preset === 'castles-ez100pu') {
      expect(r.quirks).toMatchObject({ bigEndianLength: true, atrLeadingZero: true, descriptor: expect.stringContaining('built-in') });
      expect(lines.join('\n')).toMatch(/quirks: .*bigEndianLength/);
    } else if (Object.keys(r.quirks ?? {}).length === 0) {
      expect(lines).toContain('  quirks: none');
    }
    expect(r.slots).toHaveLength(p.descriptor.bMaxSlotIndex + 1);
    const s = r.slots[0]!;
    expect(s.atr).toBe(toHex(card.atr));
    expect(s.hca?.selected).toBe(true);
    expect(s.hca?.cardNumber).toBe(VIRTUAL_HCA_DEFAULTS.cardNumber);
    expect(s.discovery!.steps.length).toBeGreaterThan(10);
    expect(s.discovery!.selectedAids).toContain('profile');
    for (const c of allCommands(report)) {
      expect(HARMLESS.has(c.split(' ')[1]!), c).toBe(true);
      expect(NEVER_WITHOUT_CONSENT.has(insOf(c))).toBe(false);
    }
    expect(card.triesLeft(HCA_PROFILE.pin.reference.value)).toBe(3);
  }, 30_000);
});

describe('the PIN steps: only after each consent, the counter first', () => {
  async function run(consent: PinConsent | undefined, options: { pinTriesLeft?: number } = {}) {
    const card = await createVirtualHcaCard({ pin: PIN, ...options });
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'castles-ezccid', card })] });
    const report = await probeReaders({ backend: usb, ...(consent ? { pinConsent: consent } : {}) });
    const verifies = allCommands(report).filter((c) => c.startsWith('00 20'));
    return { card, report, verifies, pin: report.readers[0]!.slots[0]!.hca!.pin };
  }

  it('no consent object: no VERIFY at all', async () => {
    const { verifies, pin } = await run(undefined);
    expect(verifies).toEqual([]);
    expect(pin).toBeUndefined();
  });

  it('counter refused: no VERIFY at all, and verify() is never asked', async () => {
    let asked = false;
    const { verifies, pin } = await run({ readCounter: async () => false, verify: async () => ((asked = true), null) });
    expect(verifies).toEqual([]);
    expect(asked).toBe(false);
    expect(pin).toMatchObject({ counterRead: false, outcome: 'skipped' });
  });

  it('counter agreed, PIN declined: exactly one VERIFY without data (no try spent); verify() saw the counter', async () => {
    const seen: unknown[] = [];
    const { verifies, pin, card } = await run({ readCounter: async () => true, verify: async (s) => (seen.push(s), null) }, { pinTriesLeft: 2 });
    expect(verifies).toEqual(['00 20 00 81']);
    expect(seen).toEqual([{ retriesLeft: 2, maxTries: 3, pinpad: false }]);
    expect(pin).toMatchObject({ counterRead: true, retriesBefore: 2, outcome: 'skipped' });
    expect(card.triesLeft(0x81)).toBe(2);
  });

  it('both agreed: one PIN-carrying VERIFY, redacted in the trace, its buffer wiped', async () => {
    const buffer = ascii(PIN);
    const { verifies, pin, report } = await run({ readCounter: async () => true, verify: async () => buffer });
    expect(verifies).toEqual(['00 20 00 81', '00 20 00 81 08 [REDACTED 8 bytes]']);
    expect(pin).toMatchObject({ outcome: 'verified', via: 'host' });
    expect(buffer.every((b) => b === 0)).toBe(true);
    const json = JSON.stringify(createProbeReportFile(report, HCA_PROFILE));
    expect(json).not.toContain(toHex(ascii(PIN)));
    expect(json).not.toContain(PIN);
  });
});

describe('findings and the report file', () => {
  it('an HCA card: AID and files confirmed, PIN fields open without consent, PUK and signing open', async () => {
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'omnikey-3121', card: await createVirtualHcaCard() })] });
    const report = await probeReaders({ backend: usb });
    const file = createProbeReportFile(report, HCA_PROFILE);
    const f = file.probe.findings[0]!;
    expect(f.kind).toBe('hca');
    const verdict = (field: string) => f.fields.find((x) => x.field === field)?.verdict;
    expect(verdict('atrs')).toBe('confirmed');
    expect(verdict('aid')).toBe('confirmed');
    expect(verdict('files.cardInfo')).toBe('confirmed');
    expect(verdict('files.certificates')).toBe('confirmed');
    expect(verdict('oids.personnelCard')).toBe('confirmed');
    expect(verdict('pin.reference')).toBe('open');
    expect(verdict('signing.method')).toBe('open');
    expect(formatFindings(file.probe.findings)).toMatch(/confirmed:\n {4}atrs: /);
  });

  it("an HCA ATR whose card refuses the profile's AID: the AID is contradicted", async () => {
    const other: HcaProfile = { ...HCA_PROFILE, aid: { value: 'A0 00 00 01 51 48 43 41', status: 'confirmed', source: 'test' } };
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'castles-ezccid', card: await createVirtualHcaCard({ profile: other }) })] });
    const report = await probeReaders({ backend: usb });
    const f = createProbeReportFile(report, HCA_PROFILE).probe.findings[0]!;
    expect(f.fields.find((x) => x.field === 'aid')).toMatchObject({ verdict: 'contradicted', evidence: expect.stringContaining('6A82') });
  });

  it('an NHI card: read, NHI layout confirmed, HCA fields open; the report keeps the holder out', async () => {
    const card = createVirtualNhiCard({ name: '陳怡君' });
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'castles-ezccid', card })] });
    const report = await probeReaders({ backend: usb, redactCardData: true });
    const s = report.readers[0]!.slots[0]!;
    expect(s.nhi).toMatchObject({ atrKnown: true, read: true, data: { name: '陳怡君', idNumber: VIRTUAL_NHI_DEFAULTS.idNumber } });
    expect(s.discovery!.selectedAids).toContain('nhi');
    const file = createProbeReportFile(report, HCA_PROFILE, { redactCardData: true });
    expect(file.probe.findings[0]).toMatchObject({ kind: 'nhi' });
    expect(file.probe.findings[0]!.fields.find((x) => x.field === 'nhi')?.verdict).toBe('confirmed');
    expect(file.probe.findings[0]!.fields.find((x) => x.field === 'aid')?.verdict).toBe('open');
    const json = JSON.stringify(file);
    for (const secret of ['陳怡君', VIRTUAL_NHI_DEFAULTS.idNumber, toHex(encodeBig5('陳怡君')), toHex(ascii(VIRTUAL_NHI_DEFAULTS.idNumber))]) {
      expect(json).not.toContain(secret);
    }
    // Still a trace file.
    const trace = file as TraceFile;
    expect(trace).toMatchObject({ format: 'webccid-trace', version: 1 });
    expect(trace.sessions[0]!.entries.some((e) => e.command.startsWith('00 CA 11 00'))).toBe(true);
  });

  it('EF.DIR: the AIDs it lists are reported', async () => {
    const aid = Uint8Array.of(0xa0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35);
    const record = Uint8Array.of(0x61, aid.length + 2, 0x4f, aid.length, ...aid);
    const card = new VirtualCard({
      atr: createT0Card().atr,
      fileSystem: { type: 'df', fid: 0x3f00, children: [{ type: 'ef', fid: 0x2f00, data: record }, { type: 'df', fid: 0x5030, aid, children: [] }] },
    });
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'castles-ezccid', card })] });
    const report = await probeReaders({ backend: usb });
    const d = report.readers[0]!.slots[0]!.discovery!;
    expect(d.applications).toEqual([toHex(aid)]);
    expect(d.selectedAids).toContain('pkcs15');
    expect(d.steps.find((x) => x.id === 'select-df-5030')?.found).toBe(true);
  });
});
