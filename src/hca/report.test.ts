/**
 * Reports become profile changes: what `analyseTrace` confirms from hand-written traces (each rule
 * of the module comment, and what does not count as evidence), `assertRedacted`, and
 * `applyProfileOverride`.
 */
import { describe, expect, it } from 'vitest';
import type { TraceSession } from '../card/trace.js';
import { analyseTrace, applyProfileOverride, assertRedacted } from './report.js';
import { HCA_GPKI_SIBLING_PROFILE, HCA_PROFILE } from './profile.js';

const ATR = '3B F9 18 00 00 81 31 FE 45 50 56 5F 4A 32 44 30 38 31 B6';

function trace(rows: Array<[string, string]>, atr = ATR): TraceSession[] {
  return [
    {
      atr,
      protocol: 't1',
      startedAt: '2026-01-01T00:00:00.000Z',
      entries: rows.map(([command, response], index) => ({ index, kind: 'apdu', atMs: index, durationMs: 1, command, response, sw: response.replace(/\s/g, '').slice(-4) })),
    },
  ];
}

const SELECT_AID = '00 A4 04 0C 08 D1 58 00 00 01 48 43 41';

describe('analyseTrace', () => {
  it('an accepted PIN, unblock and signature confirm the PIN, PUK and signing fields', () => {
    const a = analyseTrace(
      trace([
        [SELECT_AID, '90 00'],
        ['00 20 00 81', '63 C3'],
        ['00 20 00 81 08 [REDACTED 8 bytes]', '90 00'],
        ['00 2C 00 81 10 [REDACTED 16 bytes]', '90 00'],
        ['00 22 41 B6 06 84 01 01 80 01 02', '90 00'],
        ['00 2A 9E 9A 33 [REDACTED 51 bytes] 00', '[REDACTED 256 bytes] 90 00'],
      ]),
      { source: 'test report' },
    );
    expect(a.candidateId).toBe(HCA_PROFILE.id);
    expect(a.confirmed).toEqual(
      expect.arrayContaining(['aid', 'application', 'commandClass', 'pin.reference', 'pin.statusMethod', 'pin.encoding', 'pin.protection', 'unblock', 'puk.encoding', 'signing.method', 'signing.keyReference', 'signing.algorithmReference']),
    );
    const profile = applyProfileOverride(HCA_PROFILE, a.override);
    expect(profile.pin.encoding).toMatchObject({ value: HCA_PROFILE.pin.encoding.value, status: 'confirmed' });
    expect(profile.pin.encoding.source).toContain('test report');
    expect(profile.signing.keyReference).toMatchObject({ value: 1, status: 'confirmed' });
  });

  it('a refused PIN, a wrong-length accepted block, an unknown reference: nothing about the PIN confirmed', () => {
    const a = analyseTrace(
      trace([
        [SELECT_AID, '90 00'],
        ['00 20 00 81', '6A 88'],
        ['00 20 00 81 08 [REDACTED 8 bytes]', '63 C2'],
        ['00 20 00 81 0A [REDACTED 10 bytes]', '90 00'],
      ]),
      { source: 't' },
    );
    expect(a.confirmed.filter((p) => p.startsWith('pin.'))).toEqual([]);
    expect(a.findings.join('\n')).toMatch(/6A88/);
  });

  it('a redacted file confirms the FID exists, not its format; a new ATR is added', () => {
    const a = analyseTrace(
      trace(
        [
          [SELECT_AID, '90 00'],
          ['00 A4 00 0C 02 00 02', '90 00'],
          ['00 B0 00 00 00', '[REDACTED 40 bytes] 62 82'],
        ],
        '3B 88 80 01 00 00 00 00 00 00 00 00 09',
      ),
      { source: 't' },
    );
    expect(a.confirmed).not.toContain('files.cardInfo');
    expect(a.findings.join('\n')).toMatch(/files\.cardInfo: FID 0002 exists and reads, but its content is redacted/);
    expect((a.override.atrs as { value: unknown[] }).value).toHaveLength(2);
  });

  it('the sibling candidate: its fields over the default, the class and DF confirmed', () => {
    const a = analyseTrace(trace([[SELECT_AID, '6E 00'], ['80 A4 00 0C 02 50 30', '90 00']]), { source: 't' });
    expect(a.candidateId).toBe(HCA_GPKI_SIBLING_PROFILE.id);
    const p = applyProfileOverride(HCA_PROFILE, a.override);
    expect(p.commandClass).toMatchObject({ value: 0x80, status: 'confirmed' });
    expect(p.application.value).toEqual({ selectBy: 'fid', fid: 0x5030 });
    expect(p.pin.protection.value).toBe('vendor-wrapped');
  });

  it('no candidate selected: no override', () => {
    const a = analyseTrace(trace([[SELECT_AID, '6A 82']]), { source: 't' });
    expect(a.candidateId).toBeUndefined();
    expect(a.override).toEqual({});
  });
});

describe('assertRedacted', () => {
  it('refuses a trace with a PIN in clear, accepts a redacted one', () => {
    expect(() => assertRedacted(trace([['00 20 00 81 08 34 39 33 38 31 37 FF FF', '90 00']]))).toThrow(expect.objectContaining({ code: 'report/unredacted-secret' }));
    expect(() => assertRedacted(trace([['00 20 00 81 08 [REDACTED 8 bytes]', '90 00'], ['00 20 00 81', '63 C3']]))).not.toThrow();
  });
});

describe('applyProfileOverride', () => {
  it('whole fields replace, objects merge, the base is not changed', () => {
    const p = applyProfileOverride(HCA_PROFILE, { id: 'x', pin: { reference: { value: 1, status: 'confirmed', source: 's' } } });
    expect(p.id).toBe('x');
    expect(p.pin.reference).toEqual({ value: 1, status: 'confirmed', source: 's' });
    expect(p.pin.encoding).toEqual(HCA_PROFILE.pin.encoding);
    expect(HCA_PROFILE.pin.reference.value).toBe(0x81);
  });
});
