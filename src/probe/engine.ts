/**
 * The probe engine, shared by `npx webccid probe` / `npx webccid list` (src/node/probe.ts) and
 * the field kit page (web/probe.html).
 * Platform-independent: it gets a `UsbBackendLike` (the `usb` package's WebUSB in Node,
 * `navigator.usb` or the virtual `VirtualUsb` in a page).
 *
 * For every USB smart-card reader it reports the identity, the decoded CCID class descriptor and
 * the quirks in use; it powers each card, decodes its ATR, reads what the HCA profile reads
 * without a PIN (card number, basic data, card info, serial number, certificates), reads the NHI
 * card when it is one, runs the discovery of discovery.ts (commands that cannot harm a card)
 * and records every APDU in a trace (PIN, PUK and key material redacted; src/card/trace.ts).
 *
 * PIN steps only with `pinConsent`, and each only when the holder agrees at that point: first
 * the retry counter (VERIFY without data: no try spent), then, after the counter was shown, one
 * PIN-carrying VERIFY (typed, or keyed on the reader's pinpad). Never retried, never in the trace.
 *
 * This file walks the readers and slots; what is read from each card is in card.ts, the report's
 * shape in types.ts.
 */
import { toHex } from '../bytes.js';
import { CcidReader } from '../ccid/reader.js';
import type { CcidConnection } from '../ccid/connection.js';
import type { CcidClassDescriptor } from '../ccid/descriptor.js';
import type { ReaderQuirks } from '../ccid/quirks.js';
import { createTraceFile, traceReaderInfo, TracingChannel, type TraceSession } from '../card/trace.js';
import { HCA_PROFILE } from '../hca/profile.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import { mayBeCcid } from '../usb/candidates.js';
import { USB_CLASS_CCID as CLASS_SMART_CARD } from '../usb/config-descriptor.js';
import { discoverCard } from './discovery.js';
import { atrInfo, checkPin, readHca, readNhi } from './card.js';
import { reportError, type ListOptions, type ProbeOptions, type ProbeReaderReport, type ProbeReport, type ProbeSlotReport } from './types.js';

export { mayBeCcid };

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

/** The CCID-capable interface class the device descriptor shows (0x0B preferred, else 0xFF). */
function deviceInterfaceClass(device: UsbDeviceLike): number | undefined {
  const classes = device.configurations.flatMap((c) => c.interfaces.flatMap((i) => i.alternates.map((a) => a.interfaceClass)));
  if (classes.includes(CLASS_SMART_CARD)) return CLASS_SMART_CARD;
  return classes.includes(0xff) ? 0xff : undefined;
}

async function candidateDevices(backend: UsbBackendLike): Promise<UsbDeviceLike[]> {
  let devices: UsbDeviceLike[];
  try {
    devices = await backend.getDevices();
  } catch {
    return [];
  }
  return devices.filter(mayBeCcid);
}

function baseReport(device: UsbDeviceLike, index: number): ProbeReaderReport {
  const interfaceClass = deviceInterfaceClass(device);
  return {
    index,
    id: `${hex4(device.vendorId)}:${hex4(device.productId)}`,
    vendorId: device.vendorId,
    productId: device.productId,
    ...(device.productName ? { name: device.productName } : {}),
    ...(device.manufacturerName ? { manufacturer: device.manufacturerName } : {}),
    ...(interfaceClass === undefined ? {} : { interfaceClass }),
    chromeProtected: interfaceClass === CLASS_SMART_CARD,
    slots: [],
  };
}

/** The quirks as JSON: byte arrays as hex, a built-in descriptor as its presence. */
export function describeQuirks(quirks: ReaderQuirks): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(quirks)) {
    if (v === undefined) continue;
    if (v instanceof Uint8Array) out[k] = toHex(v);
    else if (k === 'descriptor') out[k] = 'built-in class descriptor (the reader has none)';
    else out[k] = v;
  }
  return out;
}

function fillFromReader(report: ProbeReaderReport, reader: CcidReader): void {
  report.interfaceClass = reader.identity.interfaceClass;
  report.chromeProtected = reader.identity.interfaceClass === CLASS_SMART_CARD;
  report.exchangeLevel = reader.descriptor.exchangeLevel;
  report.pinpad = { ...reader.descriptor.pinpad };
  report.descriptor = JSON.parse(JSON.stringify(reader.descriptor)) as CcidClassDescriptor;
  report.quirks = describeQuirks(reader.quirks);
}

function printReader(log: (line: string) => void, r: ProbeReaderReport): void {
  const name = [r.manufacturer, r.name].filter(Boolean).join(' ') || '(no name)';
  log(`Reader ${r.index}: ${r.id} ${name}`);
  if (r.interfaceClass !== undefined) {
    const cls = `0x${hex2(r.interfaceClass)}`;
    log(
      `  interface class ${cls}${r.chromeProtected ? ' (smart card: Chrome refuses it on ordinary pages, protected class)' : ' (vendor class: not protected in Chrome)'}`,
    );
  }
  if (r.exchangeLevel) log(`  exchange level: ${r.exchangeLevel}`);
  if (r.descriptor) {
    const d = r.descriptor;
    log(
      `  descriptor: CCID ${(d.bcdCCID >> 8).toString(16)}.${(d.bcdCCID & 0xff).toString(16).padStart(2, '0')}, T=${d.protocols.join('/T=')}, ` +
        `${d.dwDefaultClock} kHz (max ${d.dwMaximumClock}), ${d.dwDataRate} bit/s (max ${d.dwMaxDataRate}), ` +
        `IFSD ${d.dwMaxIFSD}, messages up to ${d.dwMaxCCIDMessageLength} bytes, ${d.maxSlots} slot(s)`,
    );
  }
  if (r.quirks) {
    const names = Object.keys(r.quirks);
    log(`  quirks: ${names.length === 0 ? 'none' : names.join(', ')}`);
  }
  if (r.pinpad) {
    const ops = [r.pinpad.verify ? 'verify' : '', r.pinpad.modify ? 'modify' : ''].filter(Boolean).join(' + ');
    log(`  pinpad: ${ops || 'no'}`);
  }
  if (r.error) log(`  error: ${r.error.message} [${r.error.code}]`);
}

/**
 * Lists every USB device that may be a CCID reader, opens it to read its CCID descriptor
 * (exchange level, pinpad) and the state of each slot; powers no card.
 */
export async function listReaders(options: ListOptions): Promise<ProbeReaderReport[]> {
  const backend = options.backend;
  const log = options.log ?? (() => undefined);
  const devices = await candidateDevices(backend);
  if (devices.length === 0) log('No USB smart-card reader found.');
  const reports: ProbeReaderReport[] = [];
  for (const [index, device] of devices.entries()) {
    const report = baseReport(device, index);
    reports.push(report);
    let reader: CcidReader | undefined;
    try {
      reader = await CcidReader.open(device, { backend, watchInterrupt: false });
      fillFromReader(report, reader);
      for (let slot = 0; slot < reader.slotCount; slot++) {
        try {
          report.slots.push({ slot, state: (await reader.status(slot)).state });
        } catch (e) {
          report.slots.push({ slot, state: 'unknown', error: reportError(e) });
        }
      }
    } catch (e) {
      report.error = reportError(e);
    } finally {
      await reader?.close();
    }
    printReader(log, report);
    for (const s of report.slots) log(`  slot ${s.slot}: ${s.state === 'absent' ? 'no card' : `card ${s.state}`}`);
  }
  return reports;
}

/**
 * Probes every reader and card (see the module comment). Resolves with the report and the trace;
 * never throws for a reader or card problem (each is reported in place).
 */
export async function probeReaders(options: ProbeOptions): Promise<ProbeReport> {
  const backend = options.backend;
  const log = options.log ?? (() => undefined);
  const profile = options.profile ?? HCA_PROFILE;
  const sessions: TraceSession[] = [];
  const devices = await candidateDevices(backend);
  if (devices.length === 0) log('No USB smart-card reader found.');
  const readers: ProbeReaderReport[] = [];
  for (const [index, device] of devices.entries()) {
    const report = baseReport(device, index);
    readers.push(report);
    let reader: CcidReader | undefined;
    try {
      reader = await CcidReader.open(device, { backend, watchInterrupt: false });
      fillFromReader(report, reader);
    } catch (e) {
      report.error = reportError(e);
    }
    printReader(log, report);
    if (!reader) continue;
    try {
      for (let slot = 0; slot < reader.slotCount; slot++) {
        const slotReport: ProbeSlotReport = { slot, state: 'unknown' };
        report.slots.push(slotReport);
        try {
          slotReport.state = (await reader.status(slot)).state;
        } catch (e) {
          slotReport.error = reportError(e);
          log(`  slot ${slot}: status failed: ${slotReport.error.message} [${slotReport.error.code}]`);
          continue;
        }
        if (slotReport.state === 'absent') {
          log(`  slot ${slot}: no card`);
          continue;
        }
        let connection: CcidConnection;
        try {
          connection = await reader.connect(slot);
        } catch (e) {
          slotReport.error = reportError(e);
          log(`  slot ${slot}: the card could not be powered: ${slotReport.error.message} [${slotReport.error.code}]`);
          continue;
        }
        slotReport.state = 'active';
        slotReport.atr = toHex(connection.atr.bytes);
        slotReport.atrInfo = atrInfo(connection.atr);
        slotReport.protocol = connection.protocol;
        slotReport.link = { ...connection.link };
        const a = slotReport.atrInfo;
        log(`  slot ${slot}: card powered, ATR ${slotReport.atr}`);
        log(
          `    protocols T=${a.protocols.join(', T=')}; Fi ${a.fi} Di ${a.di}; f max ${a.fMaxHz / 1e6} MHz` +
            `${a.ifsc === undefined ? '' : `; IFSC ${a.ifsc}`}; historical bytes ${a.historicalBytes}` +
            `${a.historicalText ? ` ("${a.historicalText}")` : ''}${a.defects.length > 0 ? `; ATR defects: ${a.defects.join(', ')}` : ''}`,
        );
        log(`    using T=${connection.protocol === 't1' ? 1 : 0} at ${connection.link.baud} bit/s (${connection.link.negotiation})`);
        const tracing = new TracingChannel(connection, {
          ...(options.now ? { now: options.now } : {}),
          ...(options.date ? { date: options.date } : {}),
          ...(options.redactCardData ? { redactCardData: true } : {}),
        });
        try {
          const hca = await readHca(tracing, options.profile, log);
          slotReport.hca = hca.report;
          if (!slotReport.hca.selected) slotReport.nhi = await readNhi(tracing, log);
          if (options.discovery ?? true) {
            log('    discovery (commands that cannot harm the card):');
            slotReport.discovery = await discoverCard(tracing, {
              profileAid: hca.profile.aid.value,
              keepCardData: !options.redactCardData,
              log,
            });
          }
          if (options.pinConsent && slotReport.hca.selected) {
            slotReport.hca.pin = await checkPin(tracing, hca.profile, log, options.pinConsent, { slot, readerId: report.id });
          }
        } catch (e) {
          slotReport.error = reportError(e);
          log(`    failed: ${slotReport.error.message} [${slotReport.error.code}]`);
        }
        sessions.push(
          tracing.session({
            slot,
            reader: traceReaderInfo({
              vendorId: report.vendorId,
              productId: report.productId,
              ...(report.name ? { name: report.name } : {}),
              ...(report.exchangeLevel ? { exchangeLevel: report.exchangeLevel } : {}),
              ...(report.pinpad ? { pinpad: report.pinpad } : {}),
            }),
          }),
        );
        await connection.disconnect('unpower').catch(() => undefined);
      }
    } finally {
      await reader.close();
    }
  }
  const trace = createTraceFile({
    tool: options.tool ?? { name: 'webccid', version: '0.0.0' },
    profileId: profile.id,
    sessions,
    ...(options.date ? { createdAt: options.date() } : {}),
  });
  return { readers, trace };
}
