/**
 * A field report becomes a profile change and a regression test in one step.
 *
 *   npx tsx scripts/report-to-test.ts <report.json> [--name NAME] [--out DIR]
 *
 * <report.json>: a trace (`npx webccid probe --out`), or any report that carries one (the probe
 * page's field report). Refused when a PIN-carrying command is not redacted. Writes, in DIR
 * (default test/reports):
 * - NAME.report.json: the report, as given;
 * - NAME.profile.json: the profile override the report supports (the form `--profile` and
 *   `applyProfileOverride` take): the candidate the card answered as, every field the card's
 *   answers confirm, with the report as source;
 * - NAME.test.ts: a test that (1) derives the same override from the report, and (2) drives the
 *   corrected profile against the recorded card (a `ReplayChannel` in lookup order) and expects
 *   what each operation gave when the test was made.
 * It prints what the report shows (and what it does not). Review the three files, then commit
 * them, and copy the override's confirmed fields into HCA_PROFILE / docs/hca-profile.md if the
 * card is representative.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { ReplayChannel, traceSessionsOf } from '../src/card/replay.js';
import { HCA_PROFILE } from '../src/hca/profile.js';
import { analyseTrace, applyProfileOverride, assertRedacted, EXERCISE_STEPS, exerciseProfile, type ExerciseStep } from '../src/hca/report.js';

function usage(message: string): never {
  console.error(`report-to-test: ${message}\nusage: npx tsx scripts/report-to-test.ts <report.json> [--name NAME] [--out DIR]`);
  process.exit(2);
}

const args = process.argv.slice(2);
let input: string | undefined;
let name: string | undefined;
let out = 'test/reports';
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '--name') name = args[++i] ?? usage('--name needs a value');
  else if (a === '--out') out = args[++i] ?? usage('--out needs a value');
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (input === undefined) input = a;
  else usage(`unexpected argument ${a}`);
}
if (!input) usage('no report given');
name ??= basename(input).replace(/\.json$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) usage(`bad name "${name}"`);

const text = readFileSync(input, 'utf8');
const document: unknown = JSON.parse(text);
const sessions = traceSessionsOf(document);
assertRedacted(sessions);
const source = `field report ${name}`;
const analysis = analyseTrace(sessions, { source });
const profile = applyProfileOverride(HCA_PROFILE, analysis.override);

// What the corrected profile gives against the recorded card: only the steps the recording can answer.
const steps: ExerciseStep[] = [];
const outcomes = await exerciseProfile(ReplayChannel.fromJson(document, { order: 'lookup' }), profile, { steps: EXERCISE_STEPS });
for (const o of outcomes) {
  if (o.step !== 'open' && !o.result.startsWith('replay/unexpected-command')) steps.push(o.step);
}
// Run again with only those steps: the expectation is exactly what the test will see.
const final = await exerciseProfile(ReplayChannel.fromJson(document, { order: 'lookup' }), profile, { steps });

const dir = resolve(out);
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `${name}.report.json`), text.endsWith('\n') ? text : `${text}\n`);
writeFileSync(join(dir, `${name}.profile.json`), `${JSON.stringify(analysis.override, null, 2)}\n`);
const src = relative(dir, resolve('src')).split('\\').join('/');
const test = `/**
 * Regression test made by scripts/report-to-test.ts from the field report ${name}.report.json
 * (${new Date().toISOString().slice(0, 10)}). The card is the recorded one, played back by a
 * ReplayChannel; the profile is HCA_PROFILE with ${name}.profile.json over it.
 *
 * What the report shows:
${analysis.findings.map((f) => ` * - ${f.replace(/\*\//g, '* /')}`).join('\n')}
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ReplayChannel, traceSessionsOf } from '${src}/card/replay.js';
import { HCA_PROFILE } from '${src}/hca/profile.js';
import { analyseTrace, applyProfileOverride, exerciseProfile, type ExerciseStep } from '${src}/hca/report.js';

const report: unknown = JSON.parse(readFileSync(new URL('./${name}.report.json', import.meta.url), 'utf8'));
const override = JSON.parse(readFileSync(new URL('./${name}.profile.json', import.meta.url), 'utf8'));

describe('field report ${name}', () => {
  it('gives this profile change', () => {
    expect(analyseTrace(traceSessionsOf(report), { source: ${JSON.stringify(source)} }).override).toEqual(override);
  });

  it('the corrected profile, against the recorded card, gives what it gave', async () => {
    const profile = applyProfileOverride(HCA_PROFILE, override);
    const steps: ExerciseStep[] = ${JSON.stringify(steps)};
    const outcomes = await exerciseProfile(ReplayChannel.fromJson(report, { order: 'lookup' }), profile, { steps });
    expect(outcomes).toEqual(${JSON.stringify(final, null, 2).replace(/\n/g, '\n    ')});
  });
});
`;
writeFileSync(join(dir, `${name}.test.ts`), test);
console.log(`Candidate: ${analysis.candidateId ?? '(none)'}`);
for (const f of analysis.findings) console.log(`  ${f}`);
console.log('With the corrected profile, against the recorded card:');
for (const o of final) console.log(`  ${o.step}: ${o.result}`);
console.log(`Wrote ${relative(process.cwd(), join(dir, name))}.{report.json,profile.json,test.ts}`);
