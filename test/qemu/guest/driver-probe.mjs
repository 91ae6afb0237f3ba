// Runs INSIDE the QEMU guest (see test/qemu/harness.ts). Exercises OUR driver against QEMU's reader
// through the Node backend: open, decoded class descriptor, status, connect -> ATR, APDUs, disconnect;
// with no card, the typed error of connect. The library comes from $WEBCCID_LIB (a folder holding
// node/index.js: the bundle the harness builds on the host before boot, see buildGuestLibrary()).
// Writes JSON to $WEBCCID_RESULTS.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const results = { ok: false, steps: [], apdus: [] };
const t0 = performance.now();
const ms = () => Math.round((performance.now() - t0) * 10) / 10;
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const step = (name, extra = {}) => results.steps.push({ name, atMs: ms(), ...extra });
const describeError = (e) => ({
  name: e?.name,
  code: e?.code,
  message: String(e?.message ?? e),
  bStatus: e?.bStatus,
  bError: e?.bError,
  iccStatus: e?.iccStatus,
});
let finished = false;
const finish = (code) => {
  if (finished) return;
  finished = true;
  results.totalMs = ms();
  results.nodeUptimeMs = Math.round(process.uptime() * 1000);
  writeFileSync(process.env.WEBCCID_RESULTS ?? '/dev/stdout', `${JSON.stringify(results, null, 2)}\n`);
  console.log(`driver-probe ${results.ok ? 'ok' : 'FAILED'} in ${results.totalMs} ms (node up ${results.nodeUptimeMs} ms)`);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 100).unref();
};
// the driver must never hang: give up well before the host kills the guest
const watchdog = setTimeout(() => {
  results.error = { name: 'Watchdog', message: `no result after ${ms()} ms; last step: ${results.steps.at(-1)?.name}` };
  finish(3);
}, Number(process.env.WEBCCID_WATCHDOG_MS ?? 45_000));

const expectCard = (process.env.WEBCCID_EXPECT ?? 'card') === 'card';
// WEBCCID_APDUS (comma-separated hex) replaces the list below and the round-trip timing;
// WEBCCID_WAIT_REMOVAL_MS: after the APDUs, wait that long at most for the reader's `cardremoved`.
const customApdus = process.env.WEBCCID_APDUS ? process.env.WEBCCID_APDUS.split(',').map((a) => [a, a]) : undefined;
const waitRemovalMs = Number(process.env.WEBCCID_WAIT_REMOVAL_MS ?? 0);
const APDUS = customApdus ?? [
  // SELECT the CAC PKI applet, case 4 (Le=00): a T=0 TPDU engine sends it as case 3 and fetches the FCI with GET RESPONSE
  ['select-pki', '00a4040007a000000079010000'],
  // READ BUFFER, 52 bytes: the answer fills one 64-byte packet exactly -> QEMU adds a zero-length packet
  ['read-buffer-52', '8052000002023434'],
  // the next exchange must not be confused by that zero-length packet
  ['select-pki-again', '00a4040007a000000079010000'],
  // SELECT MF: this card does not support it (6A81)
  ['select-mf', '00a40000023f00'],
];

async function main() {
  const libDir = process.env.WEBCCID_LIB;
  if (!libDir) throw new Error('WEBCCID_LIB is not set');
  const lib = await import(pathToFileURL(path.join(libDir, 'node/index.js')).href);
  step('import');
  const reader = await lib.openNodeReader({ vendorId: 0x08e6, productId: 0x4433 });
  step('open');
  const d = reader.descriptor;
  results.reader = {
    identity: reader.identity,
    exchangeLevel: d.exchangeLevel,
    dwProtocols: d.dwProtocols,
    dwFeatures: d.dwFeatures,
    dwMaxCCIDMessageLength: d.dwMaxCCIDMessageLength,
    dwDefaultClock: d.dwDefaultClock,
    dwMaximumClock: d.dwMaximumClock,
    dwMaxDataRate: d.dwMaxDataRate,
    dwMaxIFSD: d.dwMaxIFSD,
    bPINSupport: d.bPINSupport,
    maxSlots: d.maxSlots,
    features: d.features,
    pinpad: d.pinpad,
    slotCount: reader.slotCount,
    dataRates: reader.dataRates,
    clockFrequenciesKHz: reader.clockFrequenciesKHz,
  };
  results.statusBefore = await reader.status(0);
  step('status');

  let connection;
  try {
    connection = await reader.connect(0);
    step('connect');
  } catch (e) {
    step('connect-failed');
    results.connectError = describeError(e);
    if (expectCard) throw e;
  }
  if (connection) {
    results.connection = {
      atr: hex(connection.atr.bytes),
      protocols: connection.atr.protocols,
      historicalBytes: hex(connection.atr.historicalBytes),
      protocol: connection.protocol,
      link: connection.link,
      exchangeLevel: connection.exchangeLevel,
    };
    for (const [name, apdu] of APDUS) {
      const started = performance.now();
      try {
        const response = await connection.transmit(fromHex(apdu));
        results.apdus.push({ name, command: apdu, response: hex(response), ms: Math.round((performance.now() - started) * 10) / 10 });
      } catch (e) {
        results.apdus.push({ name, command: apdu, error: describeError(e) });
      }
    }
    if (waitRemovalMs > 0) {
      const started = performance.now();
      const removed = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), waitRemovalMs);
        reader.on('cardremoved', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      results.removal = { seen: removed, afterMs: Math.round(performance.now() - started) };
      step('removal');
      results.statusAfterRemoval = await reader.status(0);
      await reader.close();
      step('close');
      results.ok = true;
      return;
    }
    if (customApdus) {
      await connection.disconnect('unpower');
      await reader.close();
      results.ok = true;
      return;
    }
    // round-trip time of a short exchange through the whole driver
    const times = [];
    for (let i = 0; i < 30; i++) {
      const started = performance.now();
      await connection.transmit(fromHex('00a4040007a000000079010000'));
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    results.roundTripMs = { median: Math.round(times[15] * 100) / 100, min: Math.round(times[0] * 100) / 100, max: Math.round(times[29] * 100) / 100 };
    step('transmit');
    results.statusConnected = await reader.status(0);
    await connection.disconnect('unpower');
    step('disconnect');
    results.statusAfter = await reader.status(0);
    try {
      await connection.transmit(fromHex('00a4040007a000000079010000'));
      results.transmitAfterDisconnect = { error: null };
    } catch (e) {
      results.transmitAfterDisconnect = { error: describeError(e) };
    }
  }
  await reader.close();
  step('close');
  results.ok = true;
}

main()
  .then(() => finish(0))
  .catch((e) => {
    results.error = { ...describeError(e), stack: String(e?.stack ?? '') };
    finish(1);
  })
  .finally(() => clearTimeout(watchdog));
