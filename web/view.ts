/**
 * The page, as lit-html templates of `DemoApp`'s state. No logic beyond
 * choosing what to show; actions call the app.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { live } from 'lit/directives/live.js';
import { describeStatusWord, toHex } from '../src/index.js';
import { VIRTUAL_READER_PRESET_NAMES, VIRTUAL_READER_PRESETS, type VirtualReaderPresetName } from '../src/virtual/index.js';
import type { CardKind, DemoApp, FaultKind, LogEntry, Refusal } from './app.js';
import type { Explained } from './explain.js';
import {
  asciiOf,
  atrRows,
  descriptorRows,
  exchangeLevelName,
  featureFlags,
  hex4,
  identityRows,
  isProtectedClass,
  linkRows,
  looksTextual,
  rawDescriptorRows,
  type Row,
} from './format.js';
import { DOCS_BASE, S } from './strings.js';

export function renderApp(app: DemoApp): TemplateResult {
  return html`
    <header class="top">
      <div>
        <h1>${S.title}</h1>
        <p class="tagline">${S.tagline}</p>
      </div>
      <p class="status" role="status" aria-live="polite">${app.busy ? html`<span class="spinner" aria-hidden="true"></span>` : nothing}${app.status}</p>
    </header>
    <main class="grid">
      ${pickerPanel(app)}
      <div class="column">${readerPanel(app)}</div>
      <div class="column">${cardPanel(app)} ${consolePanel(app)}</div>
    </main>
  `;
}

// ---- reader picker --------------------------------------------------------

function pickerPanel(app: DemoApp): TemplateResult {
  const busy = app.busy !== undefined;
  return html`
    <section class="panel picker" aria-labelledby="picker-h">
      <h2 id="picker-h">${S.pickerHeading}</h2>
      <fieldset class="source">
        <legend>${S.sourceLegend}</legend>
        ${sourceOption(app, 'virtual', S.sourceVirtual, S.sourceVirtualHint)}
        ${sourceOption(app, 'usb', S.sourceUsb, S.sourceUsbHint)}
      </fieldset>
      ${app.source === 'virtual' ? virtualControls(app, busy) : usbControls(app, busy)}
      ${app.problem ? problemBox(app.problem) : nothing}
    </section>
  `;
}

function sourceOption(app: DemoApp, value: 'virtual' | 'usb', label: string, hint: string): TemplateResult {
  return html`
    <label class="radio">
      <input
        type="radio"
        name="source"
        .checked=${live(app.source === value)}
        ?disabled=${app.busy !== undefined}
        @change=${() => void app.setSource(value)}
      />
      <span>${label} <small>${hint}</small></span>
    </label>
  `;
}

function virtualControls(app: DemoApp, busy: boolean): TemplateResult {
  const v = app.virtual;
  return html`
    <div class="fields">
      <label class="field">
        <span>${S.presetLabel}</span>
        <select ?disabled=${busy} @change=${(e: Event) => void app.setPreset(value(e) as VirtualReaderPresetName)}>
          ${VIRTUAL_READER_PRESET_NAMES.map((name) => {
            const p = VIRTUAL_READER_PRESETS[name];
            return html`<option value=${name} ?selected=${name === app.preset}>${p.productName ?? name} (${hex4(p.vendorId)}:${hex4(p.productId)})</option>`;
          })}
        </select>
      </label>
      <label class="field">
        <span>${S.cardLabel}</span>
        <select ?disabled=${busy} @change=${(e: Event) => app.setCardKind(value(e) as CardKind)}>
          ${(
            [
              ['hca', S.cardHca],
              ['nhi', S.cardNhi],
              ['t0', S.cardT0],
              ['none', S.cardNone],
            ] as const
          ).map(([k, label]) => html`<option value=${k} ?selected=${k === app.cardKind}>${label}</option>`)}
        </select>
      </label>
      <label class="field">
        <span>${S.refusalLabel}</span>
        <select ?disabled=${busy} @change=${(e: Event) => void app.setRefusal(value(e) as Refusal)}>
          ${(
            [
              ['none', S.refusalNone],
              ['protected-class', S.refusalProtected],
              ['os-held', S.refusalOsHeld],
              ['no-permission', S.refusalNoPermission],
            ] as const
          ).map(([k, label]) => html`<option value=${k} ?selected=${k === app.refusal}>${label}</option>`)}
        </select>
      </label>
      <label class="check">
        <input type="checkbox" .checked=${live(app.realTime)} ?disabled=${busy} @change=${(e: Event) => void app.setRealTime(checked(e))} />
        <span>${S.realTimeLabel}</span>
      </label>
      <div class="buttons">
        <button type="button" class="primary" ?disabled=${busy} @click=${() => void app.openVirtual()}>${S.openVirtual}</button>
        ${app.reader ? html`<button type="button" ?disabled=${busy} @click=${() => void app.closeReader()}>${S.closeReader}</button>` : nothing}
      </div>
    </div>
    ${v
      ? html`
          <div class="hardware" role="group" aria-labelledby="hw-h">
            <div class="buttons">
              <h3 id="hw-h">${S.virtualControls}:</h3>
              <button type="button" ?disabled=${!app.virtualPlugged} @click=${() => app.toggleCard()}>
                ${app.virtualCardIn ? S.removeCard : S.insertCard}
              </button>
              <button type="button" @click=${() => app.togglePlug()}>${app.virtualPlugged ? S.unplug : S.plugIn}</button>
              <label class="field inline">
                <span>${S.faultLabel}</span>
                <select @change=${(e: Event) => (app.fault = value(e) as FaultKind)}>
                  ${(Object.keys(S.faults) as FaultKind[]).map(
                    (k) => html`<option value=${k} ?selected=${k === app.fault}>${S.faults[k]}</option>`,
                  )}
                </select>
              </label>
              <button type="button" ?disabled=${!app.reader} @click=${() => app.injectFault()}>${S.faultInject}</button>
            </div>
          </div>
        `
      : nothing}
  `;
}

function usbControls(app: DemoApp, busy: boolean): TemplateResult {
  return html`
    <div class="buttons">
      <button type="button" class="primary" ?disabled=${busy || !app.webUsb} @click=${() => void app.chooseUsb()}>${S.chooseUsb}</button>
      ${app.reader ? html`<button type="button" ?disabled=${busy} @click=${() => void app.closeReader()}>${S.closeReader}</button>` : nothing}
    </div>
    <p class="hint">${S.usbHint}</p>
  `;
}

function problemBox(p: Explained): TemplateResult {
  return html`
    <div class="problem" role="alert">
      <h3>${p.title}</h3>
      <p>${p.body}</p>
      <p class="problem-foot">
        ${p.docs ? html`<a href=${p.docs.href} target="_blank" rel="noopener">${p.docs.label}</a>` : nothing}
        ${p.code
          ? html`<span class="code">${S.errorCode}: <a href=${`${DOCS_BASE}errors.md`} target="_blank" rel="noopener"><code>${p.code}</code></a></span>`
          : nothing}
      </p>
    </div>
  `;
}

// ---- reader panel -----------------------------------------------------------

function readerPanel(app: DemoApp): TemplateResult {
  const reader = app.reader;
  return html`
    <section class="panel reader" aria-labelledby="reader-h">
      <h2 id="reader-h">${S.readerHeading}</h2>
      ${!reader
        ? html`<p class="empty">${app.unplugged ? S.eventUnplugged : S.noReader}</p>`
        : html`
            <div class="badges">
              <span class="badge">${app.virtual ? S.badgeVirtual : S.badgeUsb}</span>
              ${isProtectedClass(reader.identity.interfaceClass)
                ? html`<span class="badge ${app.virtual ? '' : 'warn'}" title=${S.protectedNote}>class 0x0B</span>`
                : html`<span class="badge ok" title=${S.notProtectedNote}>class 0x${reader.identity.interfaceClass.toString(16).toUpperCase()}</span>`}
              <span class="badge">${exchangeLevelName(reader.descriptor.exchangeLevel).split(' (')[0]}</span>
            </div>
            ${table(identityRows(reader, app.virtual !== undefined), S.readerHeading)}
            <h3>${S.descriptorHeading}</h3>
            ${table(descriptorRows(reader), S.descriptorHeading)}
            <ul class="flags" aria-label="dwFeatures">
              ${featureFlags(reader.descriptor).map(
                (f) => html`<li class=${f.on ? 'on' : 'off'} title=${f.title}><span class="sr-only">${f.on ? 'yes: ' : 'no: '}</span>${f.name}</li>`,
              )}
            </ul>
            <details>
              <summary>${S.rawFields}</summary>
              ${table(rawDescriptorRows(reader.descriptor), S.rawFields)}
            </details>
          `}
    </section>
  `;
}

function table(rows: Row[], caption: string): TemplateResult {
  return html`
    <table class="kv">
      <caption class="sr-only">${caption}</caption>
      <tbody>
        ${rows.map(
          (r) => html`
            <tr>
              <th scope="row">${r.label}</th>
              <td>
                <span class=${r.mono ? 'mono' : ''}>${r.value}</span>
                ${r.note ? html`<div class="note">${r.note}</div>` : nothing}
              </td>
            </tr>
          `,
        )}
      </tbody>
    </table>
  `;
}

// ---- card panel ---------------------------------------------------------------

function cardPanel(app: DemoApp): TemplateResult {
  const reader = app.reader;
  const c = app.connection;
  const busy = app.busy !== undefined;
  const state = app.slots[app.slot] ?? 'unknown';
  return html`
    <section class="panel card" aria-labelledby="card-h">
      <h2 id="card-h">${S.cardHeading}</h2>
      ${!reader
        ? html`<p class="empty">${S.noReader}</p>`
        : html`
            <div class="row">
              ${reader.slotCount > 1
                ? html`<label class="field inline">
                    <span>${S.slotLabel}</span>
                    <select ?disabled=${busy} @change=${(e: Event) => app.setSlot(Number(value(e)))}>
                      ${app.slots.map(
                        (s, i) => html`<option value=${i} ?selected=${i === app.slot}>${i}: ${S.slotState[s]}</option>`,
                      )}
                    </select>
                  </label>`
                : html`<span class="slot-state ${state}">${S.slotLabel} 0: ${S.slotState[state]}</span>`}
              <button type="button" class="primary" ?disabled=${busy} @click=${() => void app.powerOn()}>
                ${c ? S.powerOnAgain : S.powerOn}
              </button>
              ${c ? html`<button type="button" ?disabled=${busy} @click=${() => void app.powerOff()}>${S.powerOff}</button>` : nothing}
            </div>
            ${!c
              ? html`<p class="empty">${S.notPowered}</p>`
              : html`
                  <h3>${S.atrHeading}</h3>
                  ${table(atrRows(c.atr), S.atrHeading)}
                  <h3>${S.linkHeading}</h3>
                  ${table(linkRows(c.link, c.protocol, c.t1Sizes), S.linkHeading)}
                `}
          `}
    </section>
  `;
}

// ---- console ----------------------------------------------------------------------

function consolePanel(app: DemoApp): TemplateResult {
  const busy = app.busy !== undefined;
  const ready = app.connection !== undefined;
  return html`
    <section class="panel console" aria-labelledby="console-h">
      <h2 id="console-h">${S.consoleHeading}</h2>
      <form
        class="apdu-form"
        @submit=${(e: Event) => {
          e.preventDefault();
          void app.send();
        }}
      >
        <label class="field grow" for="apdu">${S.apduLabel}</label>
        <div class="row">
          <input
            id="apdu"
            class="mono grow"
            type="text"
            autocomplete="off"
            spellcheck="false"
            .value=${live(app.apduText)}
            @input=${(e: Event) => (app.apduText = (e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="primary" ?disabled=${busy || !ready}>${S.send}</button>
        </div>
      </form>
      <div class="row quick" role="group" aria-label=${S.quickLabel}>
        <span class="muted">${S.quickLabel}:</span>
        ${S.quick.map(
          (q) => html`<button
            type="button"
            class="small"
            title=${q.title}
            @click=${() => {
              app.apduText = q.hex;
              app.update();
              if (app.connection && !app.busy) void app.send();
            }}
          >
            ${q.label}
          </button>`,
        )}
      </div>
      <div class="row log-head">
        <h3>${S.logHeading}</h3>
        <label class="check">
          <input type="checkbox" .checked=${live(app.trace)} @change=${(e: Event) => app.setTrace(checked(e))} />
          <span>${S.traceLabel}</span>
        </label>
        <button type="button" class="small" @click=${() => app.clearLog()}>${S.clearLog}</button>
      </div>
      <ol id="log" class="log" aria-label=${S.logHeading} tabindex="0">
        ${app.log.length === 0 ? html`<li class="empty">${S.logEmpty}</li>` : app.log.map(logItem)}
      </ol>
    </section>
  `;
}

function swClass(sw: number): string {
  const sw1 = sw >> 8;
  if (sw === 0x9000 || sw1 === 0x61) return 'ok';
  if (sw1 === 0x62 || sw1 === 0x63) return 'warn';
  return 'bad';
}

function logItem(e: LogEntry): TemplateResult {
  switch (e.kind) {
    case 'event':
      return html`<li class="ev"><time>${e.time}</time><span>${e.text}</span></li>`;
    case 'error':
      return html`<li class="err"><time>${e.time}</time><span><strong>${e.explained.title}.</strong> ${e.explained.body}</span></li>`;
    case 'frame':
      return html`<li class="frame ${e.direction}">
        <time>${e.time}</time>
        <span><span class="arrow" aria-label=${e.direction === 'out' ? 'to reader' : 'from reader'}>${e.direction === 'out' ? '⇢' : '⇠'}</span>
          ${e.summary}<code class="mono bytes">${toHex(e.bytes)}</code></span>
      </li>`;
    case 'apdu': {
      const data = e.response && e.response.length > 2 ? e.response.subarray(0, e.response.length - 2) : undefined;
      return html`<li class="apdu">
        <time>${e.time}</time>
        <div>
          <div><span class="arrow" aria-label="command">→</span> <code class="mono">${toHex(e.command)}</code></div>
          ${e.response
            ? html`<div>
                <span class="arrow" aria-label="response">←</span>
                ${data ? html`<code class="mono">${toHex(data)}</code>` : nothing}
                ${e.sw !== undefined
                  ? html`<code class="mono sw ${swClass(e.sw)}">${hex4(e.sw)}</code>
                      <span class="sw-text">${describeStatusWord(e.sw)}</span>`
                  : nothing}
                ${data && looksTextual(data) ? html`<div class="note">${S.ascii}: “${asciiOf(data)}”</div>` : nothing}
              </div>`
            : nothing}
          ${e.error ? html`<div class="err-inline"><strong>${e.error.title}.</strong> ${e.error.body}</div>` : nothing}
          ${!e.response && !e.error ? html`<div class="muted">…</div>` : nothing}
        </div>
        <span class="ms">
          ${e.ms !== undefined ? S.ms(e.ms) : ''}
          ${e.modelledMs !== undefined ? html`<br /><span title=${S.modelledTitle}>${S.modelled(S.ms(e.modelledMs))}</span>` : nothing}
        </span>
      </li>`;
    }
  }
}

function value(e: Event): string {
  return (e.target as HTMLSelectElement).value;
}

function checked(e: Event): boolean {
  return (e.target as HTMLInputElement).checked;
}
