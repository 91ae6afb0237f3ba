/**
 * `npm run bench`: prints the driver's numbers. Nothing here asserts; the
 * figures go into the closing notes and docs/testing.md.
 *
 * 1. Driver overhead per APDU (median, p99, µs) against a zero-latency
 *    virtual reader, for each exchange level. The virtual reader's own work
 *    (frame parsing, the card's APDU processing, its T=1 engine) runs inside
 *    the device's transferOut; it is timed separately and subtracted, so the
 *    "driver" column is what this library adds.
 * 2. Reading a 2100-byte file from the virtual HCA card through a TPDU T=1
 *    reader (Castles EZCCID preset) whose card wire is modelled in real time
 *    at the negotiated rate: total time against the wire-time floor, and USB
 *    transfers per APDU against the minimum.
 * 3. Size of the browser bundle of the driver, minified and gzipped.
 */
import { CcidReader } from '../src/ccid/reader.js';
import { concatBytes } from '../src/bytes.js';
import { createHcaLikeCard, createVirtualReader, HCA_LIKE_LAYOUT, VirtualUsb, type VirtualReader, type VirtualReaderPresetName } from '../src/virtual/index.js';
import { measureBundle } from './bundle-size.js';

const SELECT_HCA = concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, HCA_LIKE_LAYOUT.aid.length), HCA_LIKE_LAYOUT.aid);
const GET_CHALLENGE = Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x08);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Wraps the device so that the time spent inside its own transfer handlers is accumulated. */
function timeDevice(device: VirtualReader): { emulatorMs: () => number; reset: () => void } {
  let spent = 0;
  for (const name of ['transferOut', 'transferIn'] as const) {
    const original = device[name].bind(device) as (...args: unknown[]) => Promise<unknown>;
    (device as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const t = performance.now();
      const p = original(...args);
      spent += performance.now() - t;
      return p;
    };
  }
  return { emulatorMs: () => spent, reset: () => (spent = 0) };
}

async function overhead(preset: VirtualReaderPresetName, runs: number) {
  const device = createVirtualReader({ preset, card: createHcaLikeCard(), latencyMs: 0, timeScale: 0 });
  const timer = timeDevice(device);
  const reader = await CcidReader.open(device, { backend: new VirtualUsb({ devices: [device] }) });
  const c = await reader.connect(0);
  await c.transmit(SELECT_HCA);
  for (let i = 0; i < 300; i++) await c.transmit(GET_CHALLENGE); // warm-up
  const total: number[] = [];
  const driver: number[] = [];
  for (let i = 0; i < runs; i++) {
    timer.reset();
    const t = performance.now();
    await c.transmit(GET_CHALLENGE);
    const ms = performance.now() - t;
    total.push(ms * 1000);
    driver.push((ms - timer.emulatorMs()) * 1000);
  }
  await reader.close();
  total.sort((a, b) => a - b);
  driver.sort((a, b) => a - b);
  return {
    level: reader.descriptor.exchangeLevel,
    protocol: c.protocol,
    driverMedianUs: quantile(driver, 0.5),
    driverP99Us: quantile(driver, 0.99),
    totalMedianUs: quantile(total, 0.5),
    totalP99Us: quantile(total, 0.99),
  };
}

async function readFile(options: { pps: boolean; latencyMs: number }) {
  const device = createVirtualReader({ preset: 'castles-ezccid', card: createHcaLikeCard(), latencyMs: options.latencyMs, timeScale: 1 });
  const reader = await CcidReader.open(device, { backend: new VirtualUsb({ devices: [device] }) });
  const c = await reader.connect(0, { pps: options.pps });
  await c.transmit(SELECT_HCA);
  await c.transmit(Uint8Array.of(0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x11));
  // One answer block per APDU: Le = IFSD - 2 (the SW), so every READ BINARY is one XfrBlock each way.
  const chunk = Math.min(256, c.t1Sizes!.ifsd - 2);
  device.resetStats();
  const before = { ...reader.transport.stats };
  const t = performance.now();
  let offset = 0;
  let apdus = 0;
  for (;;) {
    const r = await c.transmit(Uint8Array.of(0x00, 0xb0, offset >> 8, offset & 0xff, chunk));
    apdus++;
    const n = r.length - 2;
    offset += n;
    const sw = (r[r.length - 2]! << 8) | r[r.length - 1]!;
    if (sw !== 0x9000 || n < chunk) break;
  }
  const seconds = (performance.now() - t) / 1000;
  const stats = device.stats;
  const transfers = reader.transport.stats.transfersOut - before.transfersOut + (reader.transport.stats.transfersIn - before.transfersIn);
  await reader.close();
  return {
    bytes: offset,
    apdus,
    baud: Math.round(c.link.baud),
    seconds,
    wireSeconds: stats.wireSeconds,
    ratio: seconds / stats.wireSeconds,
    transfersPerApdu: transfers / apdus,
    minimumTransfersPerApdu: 2,
  };
}

const runs = Number(process.env['BENCH_RUNS'] ?? 3000);
console.log(`webccid benchmarks (Node ${process.version}, ${runs} APDUs per level)\n`);

console.log('1. Per-APDU cost, GET CHALLENGE (8 bytes), zero-latency virtual reader, microseconds');
console.log('   level           protocol  driver median  driver p99  (incl. emulator: median  p99)');
for (const preset of ['castles-ezccid', 'inmax-dwr18-hpc', 'omnikey-3121'] as const) {
  const r = await overhead(preset, runs);
  console.log(
    `   ${r.level.padEnd(15)} ${r.protocol.padEnd(9)} ${r.driverMedianUs.toFixed(1).padStart(13)} ${r.driverP99Us.toFixed(1).padStart(11)}  ${r.totalMedianUs.toFixed(1).padStart(21)} ${r.totalP99Us.toFixed(1).padStart(5)}`,
  );
}

console.log('\n2. Reading the 2100-byte certificate file, Castles EZCCID (TPDU, T=1), card wire modelled in real time');
for (const latencyMs of [0, 1]) {
  for (const pps of [true, false]) {
    const r = await readFile({ pps, latencyMs });
    console.log(
      `   ${pps ? 'PPS   ' : 'no PPS'} USB latency ${latencyMs} ms: ${r.bytes} bytes in ${r.apdus} APDUs at ${r.baud} bit/s: ` +
        `${(r.seconds * 1000).toFixed(1)} ms, wire floor ${(r.wireSeconds * 1000).toFixed(1)} ms, ratio ${r.ratio.toFixed(3)}; ` +
        `USB transfers per APDU ${r.transfersPerApdu.toFixed(2)} (minimum ${r.minimumTransfersPerApdu})`,
    );
  }
}

console.log('\n3. Browser bundle of the driver (esbuild, minified, ES2022)');
for (const entry of ['src/index.ts', 'src/virtual/index.ts']) {
  const b = await measureBundle(entry);
  console.log(`   ${b.entry.padEnd(22)} ${(b.minifiedBytes / 1024).toFixed(1)} KiB minified, ${(b.gzippedBytes / 1024).toFixed(1)} KiB gzipped`);
}
