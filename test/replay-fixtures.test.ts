/**
 * The example traces (test/fixtures/traces/*.json, recorded with the probe's code against virtual
 * cards by scripts/record-virtual-traces.ts) and the trace example of docs/hca-profile.md replay
 * through `ReplayChannel`: the probe, run again on the recorded answers, sends exactly the
 * recorded commands in the recorded order and reports what it reported then. A change in what
 * the card operations send shows up here as `replay/mismatch` naming the exchange.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReplayChannel, traceSessionsOf } from '../src/card/replay.js';
import { HcaCard } from '../src/hca/card.js';
import { probeHcaCard, type ProbeHcaReport } from '../src/node/probe.js';
import { HCA_PROFILE } from '../src/hca/profile.js';
import { analyseTrace } from '../src/hca/report.js';

const DIR = new URL('./fixtures/traces/', import.meta.url);
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith('.json'));

interface Fixture {
  description: string;
  report: ProbeHcaReport;
}

describe('example traces replay', () => {
  it('there are example traces', () => {
    expect(FIXTURES.length).toBeGreaterThanOrEqual(3);
  });

  it.each(FIXTURES)('%s: the probe sends the recorded commands in order and reports the same', async (file) => {
    const doc = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Fixture;
    const replay = ReplayChannel.fromJson(doc);
    // The PIN is redacted in the trace: any PIN of the recorded block length matches.
    const report = await probeHcaCard(replay, { verifyPin: true, usePinpad: false, readPin: async () => new TextEncoder().encode('246810') });
    replay.assertComplete();
    expect(report).toEqual(doc.report);
  });
});

describe('what the example traces establish', () => {
  const load = (name: string) => traceSessionsOf(JSON.parse(readFileSync(new URL(`${name}.json`, DIR), 'utf8')));

  it('the ISO card with an accepted PIN confirms the default profile\'s PIN format', () => {
    const a = analyseTrace(load('virtual-iso-card-verified'), { source: 'example trace' });
    expect(a.candidateId).toBe(HCA_PROFILE.id);
    expect(a.confirmed).toEqual(expect.arrayContaining(['aid', 'pin.reference', 'pin.statusMethod', 'pin.encoding', 'pin.protection', 'files.cardInfo', 'files.certificates']));
  });

  it('a refused PIN confirms nothing about the PIN format', () => {
    const a = analyseTrace(load('virtual-iso-card-refused'), { source: 'example trace' });
    expect(a.confirmed).not.toContain('pin.encoding');
    expect(a.findings.join('\n')).toMatch(/does not tell a wrong PIN from a wrong format/);
  });

  it('the sibling card: the sibling candidate, its PIN still not implementable', () => {
    const a = analyseTrace(load('virtual-gpki-sibling-card'), { source: 'example trace' });
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
