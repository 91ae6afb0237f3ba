/**
 * probe.html: the field kit. Step 1 reads the NHI card (<nhi-card-reader>: the reader and the
 * driver work with a real card); step 2 runs the probe engine (src/probe, the same as
 * `npx webccid probe`) on the page's USB backend (the virtual reader, or `navigator.usb`), asks
 * the holder before each PIN step, shows the reader, descriptor, quirks, ATR and the per-field
 * findings, and offers the redacted report (a trace file with the findings) to download or copy.
 *
 * Test hooks: `probe-run`, `probe-counter-opt-in`, `probe-verify` (the panel), `probe-verify-opt-in`,
 * `probe-pin`, `probe-verify-once`, `probe-verify-pinpad`, `probe-skip-verify`, `probe-result`,
 * `probe-reader`, `probe-atr`, `probe-findings` (rows `finding-<field>` with `data-verdict`),
 * `probe-download`, `probe-copy`, `probe-json`, `probe-log`, `probe-error`.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { startPage, type PageContext } from '../shell.js';
import { words } from '../i18n.js';
import { probeWords } from '../probe-words.js';
import { loadHardware } from '../hardware.js';
import { NhiCardReader } from '../../../src/components/nhi-card-reader/nhi-card-reader.js';
import { defineElements } from '../elements.js';
import { HCA_PROFILE } from '../../../src/hca/profile.js';
import { probeReaders } from '../../../src/probe/engine.js';
import type { PinConsent, ProbeReaderReport, ProbeReport } from '../../../src/probe/types.js';
import { createProbeReportFile, type ProbeReportFile } from '../../../src/probe/summary.js';
import type { UsbBackendLike } from '../../../src/usb/device.js';
import { useEnglishErrorText } from '../../../src/error-text-all.js';

// The field kit shows the driver's messages (log, reader and slot errors) and writes them into the
// report for the developers, as `npx webccid probe` does: in English, with the advisories (OS
// holding the reader, protected class), not the compact form the other pages leave them in.
useEnglishErrorText();

defineElements(['nhi-card-reader', NhiCardReader]);

type Ask =
  | { kind: 'verify'; retriesLeft: number; maxTries: number; pinpad: boolean; resolve: (answer: Uint8Array | 'pinpad' | null) => void }
  | undefined;

const run = {
  running: false,
  counterOptIn: false,
  verifyOptIn: false,
  log: [] as string[],
  report: undefined as ProbeReport | undefined,
  file: undefined as ProbeReportFile | undefined,
  json: '',
  error: '',
  ask: undefined as Ask,
  copied: '' as '' | 'ok' | 'failed',
};

function backendOf(ctx: PageContext): UsbBackendLike | undefined {
  if (ctx.source === 'virtual') return ctx.env?.usb;
  const usb = (globalThis.navigator as { usb?: unknown } | undefined)?.usb;
  return usb ? (usb as UsbBackendLike) : undefined;
}

async function probe(ctx: PageContext): Promise<void> {
  const backend = backendOf(ctx);
  if (run.running || !backend) return;
  Object.assign(run, { running: true, log: [], report: undefined, file: undefined, json: '', error: '', ask: undefined, copied: '', verifyOptIn: false });
  ctx.update();
  const consent: PinConsent = {
    readCounter: async () => run.counterOptIn,
    verify: (status) =>
      new Promise((resolve) => {
        run.ask = { kind: 'verify', ...status, resolve };
        ctx.update();
      }),
  };
  const resume = await ctx.pauseSession();
  try {
    const report = await probeReaders({
      backend,
      pinConsent: consent,
      redactCardData: true,
      tool: { name: 'webccid field kit', version: '1' },
      log: (line) => {
        run.log.push(line);
        ctx.update();
      },
    });
    run.report = report;
    run.file = createProbeReportFile(report, HCA_PROFILE, { redactCardData: true });
    run.json = `${JSON.stringify(run.file, null, 2)}\n`;
    if (report.readers.length === 0) run.error = probeWords().noReader;
  } catch (e) {
    run.error = e instanceof Error ? e.message : String(e);
  } finally {
    run.ask = undefined;
    run.running = false;
    await resume();
    ctx.update();
  }
}

function answer(ctx: PageContext, value: Uint8Array | 'pinpad' | null): void {
  const ask = run.ask;
  run.ask = undefined;
  ask?.resolve(value);
  ctx.update();
}

function submitPin(ctx: PageContext, event: Event): void {
  event.preventDefault();
  const form = event.currentTarget as HTMLFormElement;
  const input = form.querySelector<HTMLInputElement>('input[type="password"]');
  const text = input?.value ?? '';
  if (input) input.value = '';
  if (!run.verifyOptIn || text.length === 0) return;
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  answer(ctx, bytes); // the engine wipes the bytes after the VERIFY
}

function verifyPanel(ctx: PageContext): TemplateResult | typeof nothing {
  const ask = run.ask;
  if (!ask) return nothing;
  const p = probeWords();
  return html`<section class="card probe-verify" data-testid="probe-verify" aria-labelledby="verify-title">
    <h3 id="verify-title">${p.counterTitle}</h3>
    <p data-testid="probe-counter" data-left=${ask.retriesLeft}>${p.counterText(ask.retriesLeft, ask.maxTries)}</p>
    <p class="note" role="alert">${p.verifyWarning}${ask.retriesLeft === 1 ? html`<br /><strong>${p.lastTry}</strong>` : nothing}</p>
    <form @submit=${(e: Event) => submitPin(ctx, e)}>
      <label class="check">
        <input type="checkbox" data-testid="probe-verify-opt-in" .checked=${run.verifyOptIn} @change=${(e: Event) => {
          run.verifyOptIn = (e.target as HTMLInputElement).checked;
          ctx.update();
        }} />
        ${p.verifyOptIn}
      </label>
      ${run.verifyOptIn
        ? html`<label class="pin">${p.pinLabel}
            <input type="password" autocomplete="off" inputmode="numeric" maxlength="16" data-testid="probe-pin" />
          </label>`
        : nothing}
      <div class="probe-actions">
        <button type="submit" data-testid="probe-verify-once" ?disabled=${!run.verifyOptIn}>${p.verifyOnce}</button>
        ${ask.pinpad
          ? html`<button type="button" data-testid="probe-verify-pinpad" ?disabled=${!run.verifyOptIn} @click=${() => answer(ctx, 'pinpad')}>${p.verifyPinpad}</button>`
          : nothing}
        <button type="button" class="secondary" data-testid="probe-skip-verify" @click=${() => answer(ctx, null)}>${p.skipVerify}</button>
      </div>
    </form>
  </section>`;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function readerView(r: ProbeReaderReport): TemplateResult {
  const p = probeWords();
  const d = r.descriptor;
  const quirks = Object.entries(r.quirks ?? {});
  return html`<section class="card" data-testid="probe-reader" aria-label=${`${p.readerTitle} ${r.id}`}>
    <h3>${p.readerTitle}: ${[r.manufacturer, r.name].filter(Boolean).join(' ') || r.id} <span class="muted">(${r.id})</span></h3>
    ${r.interfaceClass === undefined ? nothing : html`<p>${r.chromeProtected ? p.protectedClass : r.interfaceClass === 0xff ? p.vendorClass : `0x${hex2(r.interfaceClass)}`}</p>`}
    ${r.error ? html`<p class="problem">${r.error.message} [${r.error.code}]</p>` : nothing}
    ${d
      ? html`<h4>${p.descriptorTitle}</h4>
          <dl class="facts">
            <dt>bcdCCID</dt><dd>${(d.bcdCCID >> 8).toString(16)}.${(d.bcdCCID & 0xff).toString(16).padStart(2, '0')}</dd>
            <dt>exchange level</dt><dd>${d.exchangeLevel}</dd>
            <dt>protocols</dt><dd>T=${d.protocols.join(', T=')}</dd>
            <dt>clock</dt><dd>${d.dwDefaultClock} kHz (max ${d.dwMaximumClock})</dd>
            <dt>data rate</dt><dd>${d.dwDataRate} bit/s (max ${d.dwMaxDataRate})</dd>
            <dt>dwMaxIFSD</dt><dd>${d.dwMaxIFSD}</dd>
            <dt>dwMaxCCIDMessageLength</dt><dd>${d.dwMaxCCIDMessageLength}</dd>
            <dt>dwFeatures</dt><dd>0x${d.dwFeatures.toString(16).toUpperCase().padStart(8, '0')}</dd>
            <dt>pinpad</dt><dd>${d.pinpad.verify ? 'verify' : ''} ${d.pinpad.modify ? 'modify' : ''}${!d.pinpad.verify && !d.pinpad.modify ? p.none : ''}</dd>
            <dt>slots</dt><dd>${d.maxSlots}</dd>
          </dl>`
      : nothing}
    <h4>${p.quirksTitle}</h4>
    <p data-testid="probe-quirks">${quirks.length === 0 ? p.none : quirks.map(([k, v]) => `${k}: ${String(v)}`).join('; ')}</p>
    ${r.slots.map(
      (s) => html`<h4>${p.slot} ${s.slot}</h4>
        ${s.atr
          ? html`<p><strong>${p.atrTitle}</strong></p>
              <p class="mono" data-testid="probe-atr">${s.atr}</p>
              ${s.atrInfo
                ? html`<p class="muted">
                    T=${s.atrInfo.protocols.join(', T=')}; Fi ${s.atrInfo.fi} Di ${s.atrInfo.di}; f max ${s.atrInfo.fMaxHz / 1e6} MHz${s.atrInfo.ifsc === undefined ? '' : `; IFSC ${s.atrInfo.ifsc}`};
                    ${s.atrInfo.historicalText ? `"${s.atrInfo.historicalText}"` : s.atrInfo.historicalBytes}; TCK ${s.atrInfo.tckValid === false ? 'WRONG' : s.atrInfo.tckValid ? 'ok' : '-'}
                  </p>`
                : nothing}`
          : html`<p class="muted">${s.state === 'absent' ? p.noCard : s.error ? `${s.error.message} [${s.error.code}]` : s.state}</p>`}`,
    )}
  </section>`;
}

function findingsView(file: ProbeReportFile): TemplateResult {
  const p = probeWords();
  const label = { confirmed: p.confirmed, contradicted: p.contradicted, open: p.open } as const;
  return html`<section class="card" data-testid="probe-findings" aria-labelledby="findings-title">
    <h3 id="findings-title">${p.findingsTitle}</h3>
    ${file.probe.findings.map(
      (f) => html`<p><strong>${f.readerId} / ${p.slot} ${f.slot}</strong>: ${f.kind.toUpperCase()}</p>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">${p.field}</th><th scope="col">${p.verdict}</th><th scope="col">${p.evidence}</th></tr></thead>
            <tbody>
              ${f.fields.map(
                (x) => html`<tr data-testid=${`finding-${x.field}`} data-verdict=${x.verdict}>
                  <td class="mono">${x.field}</td>
                  <td><span class=${`verdict ${x.verdict}`}>${label[x.verdict]}</span></td>
                  <td>${x.evidence}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`,
    )}
  </section>`;
}

function download(): void {
  const blob = new Blob([run.json], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `webccid-probe-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function copy(ctx: PageContext): Promise<void> {
  try {
    await navigator.clipboard.writeText(run.json);
    run.copied = 'ok';
  } catch {
    run.copied = 'failed';
  }
  ctx.update();
}

function resultView(ctx: PageContext): TemplateResult | typeof nothing {
  const p = probeWords();
  if (!run.report && !run.error) return nothing;
  return html`<div data-testid="probe-result" class="probe-result">
    ${run.error ? html`<p class="problem" role="alert" data-testid="probe-error">${p.failed}: ${run.error}</p>` : nothing}
    ${run.file
      ? html`<div class="probe-actions">
            <button type="button" data-testid="probe-download" @click=${download}>${p.download}</button>
            <button type="button" class="secondary" data-testid="probe-copy" @click=${() => void copy(ctx)}>${p.copy}</button>
            <span role="status" data-testid="probe-copied">${run.copied === 'ok' ? p.copied : run.copied === 'failed' ? p.copyFailed : ''}</span>
          </div>
          <p class="muted">${p.reportNote}</p>
          ${findingsView(run.file)} ${run.report!.readers.map(readerView)}
          <details class="card">
            <summary>JSON</summary>
            <pre class="mono" tabindex="0" data-testid="probe-json">${run.json}</pre>
          </details>`
      : nothing}
  </div>`;
}

startPage(
  'probe',
  (ctx) => {
    const w = words();
    const p = probeWords();
    const canRun = !run.running && backendOf(ctx) !== undefined && ctx.session !== undefined;
    return html`<h1>${p.title}</h1>
      <p class="lead">${p.intro} <a href="./docs/field-test.md" target="_blank" rel="noopener">${p.guide}</a></p>
      <section class="flow probe-step" aria-labelledby="step1">
        <h2 id="step1">${p.step1}</h2>
        <p>${p.step1Text}</p>
        ${run.running ? nothing : html`<nhi-card-reader .session=${ctx.session}></nhi-card-reader>`}
      </section>
      <section class="flow probe-step" aria-labelledby="step2">
        <h2 id="step2">${p.step2}</h2>
        <p>${p.step2Text}</p>
        <p><strong>${p.neverTitle}:</strong> ${p.neverText}</p>
        <label class="check">
          <input type="checkbox" data-testid="probe-counter-opt-in" .checked=${run.counterOptIn} ?disabled=${run.running} @change=${(e: Event) => {
            run.counterOptIn = (e.target as HTMLInputElement).checked;
            ctx.update();
          }} />
          ${p.counterOptIn}
        </label>
        <div class="probe-actions">
          <button type="button" data-testid="probe-run" ?disabled=${!canRun} @click=${() => void probe(ctx)}>
            ${run.running ? p.running : run.report ? p.again : p.run}
          </button>
        </div>
        ${verifyPanel(ctx)}
        ${run.log.length > 0
          ? html`<details class="card" ?open=${run.running}>
              <summary>${p.logTitle}</summary>
              <pre class="mono" tabindex="0" data-testid="probe-log">${run.log.join('\n')}</pre>
            </details>`
          : nothing}
        ${resultView(ctx)}
      </section>
      <p class="driver-link"><a href=${ctx.href('driver')}>${w.driver}</a> — ${p.driverDesc}</p>`;
  },
  () => `${probeWords().title} — ${words().appName}`,
  loadHardware,
);

