/**
 * Regression test made by scripts/report-to-test.ts from the field report example-gpki-sibling.report.json
 * (2026-12-05). The card is the recorded one, played back by a
 * ReplayChannel; the profile is HCA_PROFILE with example-gpki-sibling.profile.json over it.
 *
 * What the report shows:
 * - Candidate hca-default-2026.1: its application SELECT answered 6E00.
 * - Candidate hca-candidate-gpki-sibling-2026.1: its application SELECT answered 9000, 9000.
 * - Confirmed application: the card accepted the application SELECT.
 * - Confirmed commandClass: the card accepted SELECT in class 80.
 * - Confirmed files.cardInfo: the file exists and its content parses in this format.
 * - Confirmed files.basicData: the file exists and its content parses in this format.
 * - Confirmed files.serialNumber: the file exists and reads.
 * - Confirmed files.certificates: certificates 0, 1, 2, 3 exist and read.
 * - VERIFY without data on 81 answered 6E00: the PIN reference or the status method is wrong.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReplayChannel, traceSessionsOf } from '../../src/card/replay.js';
import { HCA_PROFILE } from '../../src/hca/profile.js';
import { analyseTrace, applyProfileOverride, exerciseProfile, type ExerciseStep } from '../../src/hca/report.js';

const report: unknown = JSON.parse(readFileSync(new URL('./example-gpki-sibling.report.json', import.meta.url), 'utf8'));
const override = JSON.parse(readFileSync(new URL('./example-gpki-sibling.profile.json', import.meta.url), 'utf8'));

describe('field report example-gpki-sibling', () => {
  it('gives this profile change', () => {
    expect(analyseTrace(traceSessionsOf(report), { source: "field report example-gpki-sibling" }).override).toEqual(override);
  });

  it('the corrected profile, against the recorded card, gives what it gave', async () => {
    const profile = applyProfileOverride(HCA_PROFILE, override);
    const steps: ExerciseStep[] = ["cardInfo","basicData","serialNumber","certificate0","certificate1","certificate2","certificate3","pinStatus","verifyPin"];
    const outcomes = await exerciseProfile(ReplayChannel.fromJson(report, { order: 'lookup' }), profile, { steps });
    expect(outcomes).toEqual([
      {
        "step": "open",
        "result": "ok"
      },
      {
        "step": "cardInfo",
        "result": "ok 000012345678"
      },
      {
        "step": "basicData",
        "result": "ok 10 characters of ID"
      },
      {
        "step": "serialNumber",
        "result": "ok 564843413132333435363738"
      },
      {
        "step": "certificate0",
        "result": "ok 881 bytes"
      },
      {
        "step": "certificate1",
        "result": "ok 888 bytes"
      },
      {
        "step": "certificate2",
        "result": "ok 888 bytes"
      },
      {
        "step": "certificate3",
        "result": "ok 846 bytes"
      },
      {
        "step": "pinStatus",
        "result": "apdu/cla-not-supported 6E00"
      },
      {
        "step": "verifyPin",
        "result": "hca/profile-unconfirmed"
      }
    ]);
  });
});
