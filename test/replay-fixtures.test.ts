/**
 * The example traces (test/fixtures/traces/*.json, recorded with the probe's code against virtual
 * cards by scripts/record-virtual-traces.ts) and the trace example of docs/hca-profile.md replay
 * through `ReplayChannel`: the probe (HcaCard underneath), and for the NHI card `readNhiCard`, run
 * again on the recorded answers, send exactly the recorded commands in the recorded order and
 * report what they reported then. A change in what the card operations send shows up here as
 * `replay/mismatch` naming the exchange. A redacted part of a recorded command (the PIN block)
 * matches any bytes of its length; every other byte must be the recorded one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayChannel, traceSessionsOf } from '../src/card/replay.js';
import { HcaCard } from '../src/hca/card.js';
import { probeHcaCard, type ProbeHcaReport } from '../src/node/probe.js';
import { HCA_PROFILE } from '../src/hca/profile.js';
import { analyseTrace } from '../src/hca/report.js';
import { readNhiCard, type NhiCardData } from '../src/nhi/card.js';

const DIR = new URL('./fixtures/traces/', import.meta.url);
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.json'));

interface Fixture {
  description: string;
  report: ProbeHcaReport;
  /** For a card that is not an HCA card: what the NHI read gave. */
  nhi?: { read: boolean; data?: NhiCardData };
}

const load = (file: string) => JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Fixture;

describe('example traces replay', () => {
  it('there are example traces', () => {
    expect(FIXTURES).toEqual(expect.arrayContaining(['virtual-iso-card-verified.json', 'virtual-iso-card-refused.json', 'virtual-gpki-sibling-card.json', 'virtual-nhi-card.json']));
  });

  it.each(FIXTURES)('%s: the probe (and the NHI read) sends the recorded commands in order and reports the same', async (file) => {
    const doc = load(file);
    const replay = ReplayChannel.fromJson(doc);
    // The PIN is redacted in the trace: any PIN of the recorded block length matches.
    const report = await probeHcaCard(replay, { verifyPin: true, usePinpad: false, readPin: async () => new TextEncoder().encode('246810') });
    expect(report).toEqual(doc.report);
    if (doc.nhi) {
      expect(doc.nhi.read).toBe(true);
      expect(await readNhiCard(replay)).toEqual(doc.nhi.data);
    }
    replay.assertComplete();
  });

  it('the NHI card: no HCA candidate answered, the NHI read gave the card\'s public data', () => {
    const doc = load('virtual-nhi-card.json');
    expect(doc.report.selected).toBe(false);
    expect(doc.nhi?.data).toMatchObject({ cardNumber: '000012345678', idNumber: 'A123456789' });
  });
});

describe('redacted bytes in a recorded command', () => {
  // A PIN the HCA profile's pinRule allows: 6 to 8 letters and digits.
  const pinArb = fc.stringMatching(/^[0-9A-Za-z]{6,8}$/);

  it('the redacted PIN block matches any PIN the holder may type: the recorded card accepts each', async () => {
    const doc = load('virtual-iso-card-verified.json');
    let verified = 0;
    await fc.assert(
      fc.asyncProperty(pinArb, async (pin) => {
        const replay = ReplayChannel.fromJson(doc);
        const report = await probeHcaCard(replay, { verifyPin: true, usePinpad: false, readPin: async () => new TextEncoder().encode(pin) });
        replay.assertComplete();
        expect(report.pin?.outcome).toBe('verified');
        verified++;
      }),
      { numRuns: 25 },
    );
    expect(verified).toBe(25);
  });

  it('a byte that is not redacted must be the recorded one: another PIN reference is replay/mismatch', async () => {
    const doc = load('virtual-iso-card-verified.json');
    const replay = ReplayChannel.fromJson(doc);
    const profile = { ...HCA_PROFILE, pin: { ...HCA_PROFILE.pin, reference: { ...HCA_PROFILE.pin.reference, value: 0x01 } } };
    const report = await probeHcaCard(replay, { profile, verifyPin: true, usePinpad: false, readPin: async () => new TextEncoder().encode('246810') });
    expect(report.selected).toBe(true);
    expect(report.pin?.error?.code).toBe('replay/mismatch');
  });
});

describe('what the example traces establish', () => {
  const sessionsOf = (name: string) => traceSessionsOf(load(`${name}.json`));

  it('the ISO card with an accepted PIN confirms the default profile\'s PIN format', () => {
    const a = analyseTrace(sessionsOf('virtual-iso-card-verified'), { source: 'example trace' });
    expect(a.candidateId).toBe(HCA_PROFILE.id);
    expect(a.confirmed).toEqual(expect.arrayContaining(['aid', 'pin.reference', 'pin.statusMethod', 'pin.encoding', 'pin.protection', 'files.cardInfo', 'files.certificates']));
  });

  it('a refused PIN confirms nothing about the PIN format', () => {
    const a = analyseTrace(sessionsOf('virtual-iso-card-refused'), { source: 'example trace' });
    expect(a.confirmed).not.toContain('pin.encoding');
    expect(a.findings.join('\n')).toMatch(/does not tell a wrong PIN from a wrong format/);
  });

  it('the sibling card: the sibling candidate, its PIN still not implementable', () => {
    const a = analyseTrace(sessionsOf('virtual-gpki-sibling-card'), { source: 'example trace' });
    expect(a.candidateId).toBe('hca-candidate-gpki-sibling-2026.1');
    expect(a.confirmed).toEqual(expect.arrayContaining(['application', 'commandClass']));
    expect(a.confirmed).not.toContain('pin.reference');
    expect((a.override.pin as { protection: { value: string } }).protection.value).toBe('vendor-wrapped');
  });
});

describe('the trace example in docs/hca-profile.md', () => {
  const doc = readFileSync(new URL('../docs/hca-profile.md', import.meta.url), 'utf8');
  const block = /### The trace format[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];

  it('parses as a trace and replays: SELECT answered, the redacted VERIFY matches any PIN block', async () => {
    expect(block).toBeDefined();
    const replay = ReplayChannel.fromJson(JSON.parse(block!), { order: 'lookup' });
    expect(replay.pinpad).toEqual({ verify: false, modify: false });
    const card = await HcaCard.open(replay, { profile: HCA_PROFILE });
    expect(card.profile.id).toBe(HCA_PROFILE.id);
    const answer = await replay.transmit(Uint8Array.of(0x00, 0x20, 0x00, 0x81, 0x08, 1, 2, 3, 4, 5, 6, 7, 8));
    expect([...answer]).toEqual([0x63, 0xc2]);
  });
});
