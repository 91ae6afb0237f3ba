/**
 * scripts/report-to-test.ts turns a probe report into a profile change and a regression test in
 * one step. Here it is run as a maintainer runs it (tsx, on a report file), on the example trace
 * of the virtual ISO card, and the test it writes is run by vitest in a child process: it passes
 * as written, and fails once the profile change beside it no longer matches the report. A report
 * whose PIN is in clear is refused, and nothing is written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/traces/virtual-iso-card-verified.json');
// Inside test/ so that the generated tests fall under vitest's include patterns and import src/ relatively.
const OUT = join(ROOT, 'test/reports', `tmp-report-to-test-${process.pid}`);
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

function script(...args: string[]) {
  return spawnSync(bin('tsx'), [join(ROOT, 'scripts/report-to-test.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

interface VitestJson {
  testResults: Array<{ name: string; assertionResults: Array<{ title: string; status: string }> }>;
}

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

describe('scripts/report-to-test.ts', () => {
  it('writes the report, the profile change and a test that passes, and fails when the change is tampered with', { timeout: 180_000 }, () => {
    mkdirSync(OUT, { recursive: true });
    const run = script(FIXTURE, '--name', 'iso-verified', '--out', OUT);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('Candidate: hca-default-2026.1');
    for (const ext of ['report.json', 'profile.json', 'test.ts']) expect(existsSync(join(OUT, `iso-verified.${ext}`))).toBe(true);
    expect(readFileSync(join(OUT, 'iso-verified.report.json'), 'utf8')).toBe(readFileSync(FIXTURE, 'utf8'));
    const override = JSON.parse(readFileSync(join(OUT, 'iso-verified.profile.json'), 'utf8'));
    // The recorded card accepted the PIN: the PIN format is confirmed, with the report as source.
    expect(override.pin.encoding).toMatchObject({ status: 'confirmed', source: expect.stringContaining('field report iso-verified') });

    // The same report again, its profile change then altered by hand: its test must fail.
    expect(script(FIXTURE, '--name', 'tampered', '--out', OUT).status).toBe(0);
    const tampered = JSON.parse(readFileSync(join(OUT, 'tampered.profile.json'), 'utf8'));
    tampered.pin.encoding.value.padByte = 0x00;
    writeFileSync(join(OUT, 'tampered.profile.json'), `${JSON.stringify(tampered, null, 2)}\n`);

    const result = join(OUT, 'result.json');
    spawnSync(bin('vitest'), ['run', OUT, '--reporter=json', `--outputFile=${result}`], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });
    const json = JSON.parse(readFileSync(result, 'utf8')) as VitestJson;
    const outcome = (file: string) => {
      const r = json.testResults.find((t) => t.name.endsWith(file));
      return Object.fromEntries((r?.assertionResults ?? []).map((a) => [a.title, a.status]));
    };
    expect(outcome('iso-verified.test.ts')).toEqual({
      'gives this profile change': 'passed',
      'the corrected profile, against the recorded card, gives what it gave': 'passed',
    });
    expect(outcome('tampered.test.ts')['gives this profile change']).toBe('failed');
  });

  it('refuses a report whose PIN is in clear, and writes nothing', { timeout: 60_000 }, () => {
    mkdirSync(OUT, { recursive: true });
    const clear = join(OUT, 'clear-pin.json');
    const text = readFileSync(FIXTURE, 'utf8');
    expect(text).toContain('00 20 00 81 08 [REDACTED 8 bytes]');
    writeFileSync(clear, text.replace('00 20 00 81 08 [REDACTED 8 bytes]', '00 20 00 81 08 31 32 33 34 35 36 FF FF'));
    const run = script(clear, '--name', 'clear-pin', '--out', join(OUT, 'clear'));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('report/unredacted-secret');
    expect(run.stderr).not.toContain('31 32 33 34 35 36');
    expect(existsSync(join(OUT, 'clear'))).toBe(false);
  });
});
