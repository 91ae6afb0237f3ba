/**
 * Probe page for the real-route test (test/qemu-browser): runs in Chromium inside the QEMU guest,
 * on an ordinary http://127.0.0.1 page and inside the Isolated Web App. Bundled by esbuild on the
 * host into <web build>/qemu-probe/probe.js (no inline script: the IWA CSP forbids it).
 *
 * It uses the project's driver exactly as an app does: navigator.usb.getDevices() (the reader is
 * pre-granted by the WebUsbAllowDevicesForUrls policy), CcidReader.open (open + claim, refusals
 * explained by explainClaimError), connect (power the card), then HcaCard: card number, PIN,
 * signing certificate, sign. The result is written as JSON into <pre id="result"> (textContent:
 * the IWA requires Trusted Types for script sinks) and to window.__probe.
 */
import { CcidReader, WebCcidError, explainClaimError, toHex } from '../../../src/index.js';
import { useEnglishErrorText } from '../../../src/error-text.js';
import { HcaCard } from '../../../src/hca/index.js';
import { bindingMessage, createBindingResponse } from '../../../src/server/message.js';

// This page shows the driver's explanation of a refusal (#explanation) as a person would read it:
// the driver's English sentences, which application bundles leave out unless registered.
useEnglishErrorText();

const QEMU_VID = 0x08e6;
const QEMU_PID = 0x4433;

interface ProbeResult {
  ok: boolean;
  origin: string;
  isolated: boolean;
  devices: string[];
  steps: Array<{ name: string; ms: number }>;
  /** The driver's error (code, message) when it refused. */
  error?: { name: string; code?: string; message: string; cause?: string };
  /** What explainClaimError makes of the raw claimInterface refusal (second, driver-free attempt). */
  rawClaim?: { name: string; message: string; explainedCode?: string };
  atr?: string;
  protocol?: string;
  cardNumber?: string;
  pinVerified?: boolean;
  certificate?: string;
  data?: string;
  signature?: string;
  /** What <hca-bind-card> would POST to the reference server's /api/bind/verify. */
  bindingResponse?: unknown;
  /**
   * Round trips of SELECT MF through the driver (?rtt=N): each `connection.transmit()` as the page
   * sees it; `bulkOut` counts the driver's `transferOut` calls during the timed loop (CCID messages
   * sent, one per exchange).
   */
  rtt?: { apdu: string; count: number; sw: string[]; last: string; ms: number[]; bulkOut: number };
  /**
   * The same APDUs from the page without the driver (after it has released the reader): a bare
   * WebUSB client that builds each XfrBlock itself, `transferOut`, then `transferIn`, and sends GET
   * RESPONSE itself on 61xx. Splits the page's figure into Chromium's WebUSB path and our driver.
   */
  rawRtt?: { apdu: string; count: number; sw: string[]; last: string; ms: number[]; exchanges: number; error?: string };
}

const b64 = (u8: Uint8Array): string => btoa(String.fromCharCode(...u8));

function show(result: ProbeResult): void {
  (window as unknown as { __probe: ProbeResult }).__probe = result;
  const pre = document.getElementById('result');
  if (pre) pre.textContent = JSON.stringify(result, null, 2);
  document.documentElement.dataset['done'] = '1';
  if (result.error) {
    const p = document.getElementById('explanation');
    if (p) {
      p.textContent = result.error.message;
      p.dataset['code'] = result.error.code ?? '';
    }
  }
}

async function run(mode: string): Promise<ProbeResult> {
  const t0 = performance.now();
  const result: ProbeResult = { ok: false, origin: location.origin, isolated: globalThis.crossOriginIsolated === true, devices: [], steps: [] };
  const step = (name: string): void => {
    result.steps.push({ name, ms: Math.round(performance.now() - t0) });
  };
  if (!('usb' in navigator)) throw new Error('navigator.usb is missing');
  // The reader is granted by policy; the IWA's origin is added to it once known, and Chromium takes
  // the new policy file in a while later: wait for the grant (the readiness signal), up to 120 s.
  const grantDeadline = performance.now() + (mode === 'bind' ? 120_000 : 0);
  let devices = await navigator.usb.getDevices();
  while (!devices.some((d) => d.vendorId === QEMU_VID && d.productId === QEMU_PID) && performance.now() < grantDeadline) {
    await new Promise((r) => setTimeout(r, 500));
    devices = await navigator.usb.getDevices();
  }
  result.devices = devices.map((d) => `${d.vendorId.toString(16).padStart(4, '0')}:${d.productId.toString(16).padStart(4, '0')} ${d.productName ?? ''}`);
  step('getDevices');
  const device = devices.find((d) => d.vendorId === QEMU_VID && d.productId === QEMU_PID);
  if (!device) throw new Error(`QEMU's reader is not among the permitted devices (${result.devices.join(', ') || 'none'})`);
  // count the driver's bulk-out transfers (CCID messages sent) while the round trips are timed
  let bulkOut = 0;
  const transferOut = device.transferOut.bind(device);
  device.transferOut = (endpoint, data) => {
    bulkOut++;
    return transferOut(endpoint, data);
  };
  let reader: CcidReader;
  try {
    reader = await CcidReader.open(device);
    step('open+claim');
  } catch (e) {
    step('open+claim refused');
    const err = e as WebCcidError;
    result.error = { name: err.name, code: err.code, message: err.message, cause: String((err as { cause?: unknown }).cause ?? '') };
    // the raw WebUSB refusal, explained once more by explainClaimError directly
    try {
      if (!device.opened) await device.open();
      await device.claimInterface(0);
      result.rawClaim = { name: 'none', message: 'claimInterface resolved' };
    } catch (raw) {
      const r = raw as DOMException;
      result.rawClaim = { name: r.name, message: r.message, explainedCode: explainClaimError(raw, device, 'claim', 0x0b).code };
    }
    return result;
  }
  try {
    const connection = await reader.connect(0);
    step('connect');
    result.atr = toHex(connection.atr.bytes);
    result.protocol = String(connection.protocol);
    const card = await HcaCard.open(connection);
    step('HcaCard.open');
    result.cardNumber = await card.readCardNumber();
    step('readCardNumber');
    if (mode === 'bind') {
      await card.verifyPin('123456');
      result.pinVerified = true;
      step('verifyPin');
      const certificate = await card.readCertificate(1);
      result.certificate = b64(certificate);
      step('readCertificate');
      // the bind protocol of <hca-bind-card>: sign bindingMessage(origin, challenge, card number).
      // The IWA CSP only lets the page reach https/wss servers, so the challenge the host issued
      // (and keeps) comes in the page's URL (?challenge=); the host checks the response against
      // the challenge it holds with the reference server's verifier.
      const challenge = new URLSearchParams(location.search).get('challenge');
      if (!challenge) throw new Error('bind mode needs the issued challenge in the URL (?challenge=)');
      const data = bindingMessage({ origin: location.origin, challenge, cardNumber: result.cardNumber });
      const signature = await card.sign(data);
      result.data = b64(data);
      result.signature = b64(signature);
      result.bindingResponse = createBindingResponse({ origin: location.origin, challenge, cardNumber: result.cardNumber, certificate, signature });
      step('sign');
      // round trips as the page sees them: `connection.transmit()` of SELECT MF (00 A4 00 00 02
      // 3F 00), one after the other, timed with performance.now() (a figure, not a test)
      const rttCount = Number(new URLSearchParams(location.search).get('rtt') ?? 0);
      if (rttCount > 0) {
        const apdu = Uint8Array.of(0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00);
        const ms: number[] = [];
        const sw = new Set<string>();
        const outBefore = bulkOut;
        let last: Uint8Array = new Uint8Array(0);
        for (let i = 0; i < rttCount; i++) {
          const t = performance.now();
          const answer = await connection.transmit(apdu);
          ms.push(performance.now() - t);
          sw.add(toHex(answer.subarray(answer.length - 2)));
          last = answer;
        }
        result.rtt = { apdu: toHex(apdu), count: rttCount, sw: [...sw], last: toHex(last), ms: ms.map((v) => Math.round(v * 1000) / 1000), bulkOut: bulkOut - outBefore };
        step('rtt');
      }
    }
    await connection.disconnect('unpower');
    step('disconnect');
    result.ok = true;
  } finally {
    await reader.close().catch(() => undefined);
  }
  const rttCount = Number(new URLSearchParams(location.search).get('rtt') ?? 0);
  if (mode === 'bind' && rttCount > 0) {
    device.transferOut = transferOut;
    result.rawRtt = await rawRoundTrips(device, rttCount).catch((e: unknown) => ({ apdu: '', count: 0, sw: [], last: '', ms: [], exchanges: 0, error: String((e as Error)?.message ?? e) }));
    step('raw rtt');
  }
  return result;
}

/**
 * SELECT MF from the page on bare WebUSB (no project code): open, claim, IccPowerOn, then per APDU
 * one XfrBlock (transferOut, then transferIn of the largest message; a zero-length or time-extension
 * answer is read again) and, on 61xx, GET RESPONSE the same way; IccPowerOff, release, close.
 */
async function rawRoundTrips(device: USBDevice, count: number): Promise<NonNullable<ProbeResult['rawRtt']>> {
  if (!device.opened) await device.open();
  if (!device.configuration) await device.selectConfiguration(1);
  const iface = device.configuration!.interfaces.find((i) => i.alternate.interfaceClass === 0x0b);
  if (!iface) throw new Error('no CCID interface');
  const eps = iface.alternate.endpoints;
  const bulkOut = eps.find((e) => e.type === 'bulk' && e.direction === 'out')!.endpointNumber;
  const bulkIn = eps.find((e) => e.type === 'bulk' && e.direction === 'in')!;
  await device.claimInterface(iface.interfaceNumber);
  const readLength = Math.ceil((10 + 65536 + 2) / bulkIn.packetSize) * bulkIn.packetSize;
  let seq = 0;
  let exchanges = 0;
  const exchange = async (type: number, abData: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> => {
    const msg = new Uint8Array(10 + abData.length);
    msg[0] = type;
    new DataView(msg.buffer).setUint32(1, abData.length, true);
    msg[6] = seq++ & 0xff;
    msg.set(abData, 10);
    exchanges++;
    await device.transferOut(bulkOut, msg);
    for (;;) {
      const r = (await device.transferIn(bulkIn.endpointNumber, readLength)).data;
      const bytes = r ? new Uint8Array(r.buffer, r.byteOffset, r.byteLength) : new Uint8Array(0);
      // bmCommandStatus 2: time extension, the answer follows
      if (bytes.length >= 10 && bytes[7]! >> 6 !== 2) return bytes;
    }
  };
  try {
    await exchange(0x62); // IccPowerOn (automatic voltage)
    const apdu = Uint8Array.of(0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00);
    const ms: number[] = [];
    const sw = new Set<string>();
    const before = exchanges;
    let last: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      let answer = (await exchange(0x6f, apdu)).subarray(10);
      while (answer.length === 2 && answer[0] === 0x61) answer = (await exchange(0x6f, Uint8Array.of(0x00, 0xc0, 0x00, 0x00, answer[1]!))).subarray(10);
      ms.push(performance.now() - t);
      sw.add(toHex(answer.subarray(answer.length - 2)));
      last = answer;
    }
    const timed = exchanges - before;
    await exchange(0x63); // IccPowerOff
    return { apdu: toHex(apdu), count, sw: [...sw], last: toHex(last), ms: ms.map((v) => Math.round(v * 1000) / 1000), exchanges: timed };
  } finally {
    await device.releaseInterface(iface.interfaceNumber).catch(() => undefined);
    await device.close().catch(() => undefined);
  }
}

const mode = new URLSearchParams(location.search).get('mode') ?? 'bind';
run(mode)
  .then(show)
  .catch((e: unknown) => {
    const err = e as { name?: string; code?: string; message?: string; stack?: string };
    show({
      ok: false,
      origin: location.origin,
      isolated: globalThis.crossOriginIsolated === true,
      devices: [],
      steps: [],
      error: { name: err?.name ?? 'Error', ...(err?.code ? { code: err.code } : {}), message: String(err?.message ?? e), cause: String(err?.stack ?? '') },
    });
  });
