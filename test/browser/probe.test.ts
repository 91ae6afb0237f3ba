/**
 * The field kit (probe.html) on the virtual reader: step 1 reads the NHI card; step 2 runs the
 * probe engine (the same as `npx webccid probe`): reader, descriptor, quirks, ATR, findings, the
 * redacted report to download or copy. PIN steps only after each opt-in: the counter first
 * (no try spent), then a PIN-carrying VERIFY only after the second opt-in with its warning.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { browserSuite, expectAccessible, expectNoSecrets, finishTab, FLOW_TIMEOUT } from './harness.js';
import { cardTries, inBothLanguages, openPage, PUBLIC_TEXT, setDemoState, waitForReader } from './flows.js';

const NHI_ATR = '3B FA 18 00 00 81 31 FE 45 50 56 4A 43 4F 50 34 53 49 44 93';

browserSuite('browser: field kit (probe.html)', (app) => {
  it('NHI card: step 1 reads it; the probe shows reader, descriptor, ATR and findings; the report is redacted and downloads', async () => {
    const tab = await openPage(app, 'probe.html');
    await waitForReader(tab, 'card');
    await tab.byTestId('read-nhi').click();
    await tab.byTestId('nhi-works').waitFor({ state: 'visible' });

    await tab.byTestId('probe-run').click();
    await tab.byTestId('probe-findings').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await tab.byTestId('finding-nhi').getAttribute('data-verdict')).toBe('confirmed');
    expect(await tab.byTestId('finding-aid').getAttribute('data-verdict')).toBe('open');
    expect(await tab.byTestId('probe-atr').innerText()).toBe(NHI_ATR);
    expect(await tab.byTestId('probe-reader').innerText()).toMatch(/EZCCID/);
    expect(await tab.byTestId('probe-quirks').innerText()).toBeTruthy();
    const json = await tab.byTestId('probe-json').textContent();
    const file = JSON.parse(json ?? '{}') as { format: string; version: number; sessions: unknown[]; probe: { redacted: boolean } };
    expect(file).toMatchObject({ format: 'webccid-trace', version: 1, probe: { redacted: true } });
    expect(file.sessions.length).toBe(1);
    expect(json).not.toContain('王大明');
    expect(json).not.toContain('A123456789');
    expect(json).not.toMatch(/00 20 00/); // no VERIFY without consent

    const [download] = await Promise.all([tab.page.waitForEvent('download'), tab.byTestId('probe-download').click()]);
    const saved = readFileSync((await download.path())!, 'utf8');
    expect(JSON.parse(saved)).toMatchObject({ format: 'webccid-trace', probe: { redacted: true } });
    await tab.byTestId('probe-copy').click();
    await expect.poll(() => tab.byTestId('probe-copied').innerText()).not.toBe('');

    await inBothLanguages(tab, 'probe-nhi');
    await finishTab(tab);
  });

  it('HCA card: the counter only after the first opt-in, a PIN only after the second; verified once, no try lost', async () => {
    const tab = await openPage(app, 'probe.html');
    await waitForReader(tab, 'card');
    await setDemoState(tab, 'normal');
    await waitForReader(tab, 'card');

    // Without the first opt-in: no VERIFY at all.
    await tab.byTestId('probe-run').click();
    await tab.byTestId('probe-findings').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await tab.byTestId('probe-verify').count()).toBe(0);
    expect(await tab.byTestId('finding-pin.reference').getAttribute('data-verdict')).toBe('open');
    expect(await tab.byTestId('probe-json').textContent()).not.toMatch(/00 20 00/);
    await waitForReader(tab, 'card');

    // First opt-in: the counter is read (no try spent) and shown; verifying needs the second opt-in.
    await tab.byTestId('probe-counter-opt-in').check();
    await tab.byTestId('probe-run').click();
    await tab.byTestId('probe-verify').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await tab.byTestId('probe-counter').getAttribute('data-left')).toBe('3');
    expect(await tab.byTestId('probe-verify-once').isDisabled()).toBe(true);
    expect(await tab.byTestId('probe-pin').count()).toBe(0);
    await expectAccessible(tab.page, 'probe verify panel', { screenshot: 'probe-verify.zh-TW' });
    await tab.byTestId('probe-verify-opt-in').check();
    await tab.byTestId('probe-pin').fill('123456');
    await tab.byTestId('probe-verify-once').click();
    await tab.byTestId('probe-findings').waitFor({ state: 'visible', timeout: 30_000 });
    expect(await tab.byTestId('finding-pin.reference').getAttribute('data-verdict')).toBe('confirmed');
    expect(await tab.byTestId('finding-pin.encoding').getAttribute('data-verdict')).toBe('confirmed');
    expect(await tab.byTestId('finding-aid').getAttribute('data-verdict')).toBe('confirmed');
    const json = (await tab.byTestId('probe-json').textContent()) ?? '';
    expect(json).toContain('[REDACTED 8 bytes]');
    expect(json).not.toContain('31 32 33 34 35 36');
    expect((await cardTries(tab)).pin).toBe(3);
    // The demo card number, ID number and serial (VHCA + the card number's last 8 digits) contain 123456 by coincidence.
    await expectNoSecrets(tab.page, ['123456'], [...PUBLIC_TEXT, /serial number: [^\n<]*/g]);
    await inBothLanguages(tab, 'probe-hca');
    await finishTab(tab);
  });
}, { timeout: FLOW_TIMEOUT * 2 });
