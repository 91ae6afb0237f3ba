/**
 * `npm run bench`: prints the driver's numbers. Nothing here asserts; what each figure times is
 * described in docs/testing.md ("Benchmarks").
 *
 * 1. Driver time per APDU (GET CHALLENGE, 8 bytes), for each exchange level: the reader's
 *    answers are recorded once from the virtual reader, then replayed (bench/replay.ts), so the
 *    time is the driver's alone. Printed next to an idle baseline: the same timing of an empty
 *    await, interleaved with the APDUs, whose p99 is the machine's noise during the run. The
 *    end-to-end time through the virtual reader and card is printed too, labelled as such.
 * 2. HcaCard.readCertificate (the library's own read path) on the virtual HCA card through the
 *    Castles EZCCID preset (TPDU, T=1), card wire modelled in real time: time against the
 *    wire-time floor, READ BINARY commands, USB transfers per APDU against the minimum of 2.
 * 3. Sizes: the tree-shaken driver core (bench/typical-use.ts) and the whole entry points,
 *    minified and gzipped.
 */
import { CcidReader } from '../src/ccid/reader.js';
import { concatBytes } from '../src/bytes.js';
import { HcaCard } from '../src/hca/index.js';
import {
  createHcaLikeCard,
  createVirtualHcaCard,
  createVirtualReader,
  HCA_LIKE_LAYOUT,
  VirtualUsb,
  type VirtualReaderPresetName,
} from '../src/virtual/index.js';
import { gzippedBytesWith, measureBundle } from './bundle-size.js';
import { recordAndReplay } from './replay.js';

const SELECT_HCA = concatBytes(Uint8Array.of(0x00, 0xa4, 0x04, 0x0c, HCA_LIKE_LAYOUT.aid.length), HCA_LIKE_LAYOUT.aid);
const GET_CHALLENGE = Uint8Array.of(0x00, 0x84, 0x00, 0x00, 0x08);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) };
}

async function idle(): Promise<void> {}

async function perApdu(preset: VirtualReaderPresetName, runs: number) {
  const device = createVirtualReader({ preset, card: createHcaLikeCard(), latencyMs: 0, timeScale: 0 });
  const reader = await CcidReader.open(device, { backend: new VirtualUsb({ devices: [device] }) });
  const c = await reader.connect(0);
  await c.transmit(SELECT_HCA);
  const endToEnd: number[] = [];
  for (let i = 0; i < 300; i++) await c.transmit(GET_CHALLENGE); // warm-up
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await c.transmit(GET_CHALLENGE);
    endToEnd.push((performance.now() - t) * 1000);
  }
  // Two exchanges: one period of T=1's alternating N(S); the next APDU has the first one's parity.
  const replay = await recordAndReplay(device, async () => {
    await c.transmit(GET_CHALLENGE);
    await c.transmit(GET_CHALLENGE);
  });
  for (let i = 0; i < 300; i++) await c.transmit(GET_CHALLENGE); // warm-up of the replayed path
  const driver: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    await c.transmit(GET_CHALLENGE);
    driver.push((performance.now() - t) * 1000);
    t = performance.now();
    await idle();
    baseline.push((performance.now() - t) * 1000);
  }
  replay.restore();
  await reader.close();
  return { level: reader.descriptor.exchangeLevel, protocol: c.protocol, driver: summary(driver), baseline: summary(baseline), endToEnd: summary(endToEnd) };
}

async function readCertificate(options: { pps: boolean; latencyMs: number }) {
  const card = await createVirtualHcaCard();
  const device = createVirtualReader({ preset: 'castles-ezccid', card, latencyMs: options.latencyMs, timeScale: 1 });
  const reader = await CcidReader.open(device, { backend: new VirtualUsb({ devices: [device] }) });
  const c = await reader.connect(0, { pps: options.pps });
  const hca = await HcaCard.open(c);
  device.resetStats();
  const t = performance.now();
  const der = await hca.readCertificate(1);
  const seconds = (performance.now() - t) / 1000;
  const stats = device.stats;
  await reader.close();
  return {
    bytes: der.length,
    apdus: stats.apdus,
    le: c.maxUnchainedLe,
    baud: Math.round(c.link.baud),
    seconds,
    wireSeconds: stats.wireSeconds,
    transfersPerApdu: (stats.transfersIn + stats.transfersOut) / stats.apdus,
  };
}

const runs = Number(process.env['BENCH_RUNS'] ?? 3000);
const us = (n: number) => n.toFixed(1).padStart(7);
console.log(`webccid benchmarks (Node ${process.version}, ${runs} APDUs per level)\n`);

console.log('1. Per-APDU time, GET CHALLENGE (8 bytes), microseconds');
console.log('   driver: answers replayed from a recording (no reader, no card); idle: an empty await timed the same way, interleaved');
console.log('   end to end: through the zero-latency virtual reader and card (their work included)');
console.log('   level           protocol   driver median   p90     p99 | idle median  p99 | end to end median  p99');
for (const preset of ['castles-ezccid', 'inmax-dwr18-hpc', 'omnikey-3121'] as const) {
  const r = await perApdu(preset, runs);
  console.log(
    `   ${r.level.padEnd(15)} ${r.protocol.padEnd(9)} ${us(r.driver.median).padStart(15)} ${us(r.driver.p90)} ${us(r.driver.p99)} |` +
      ` ${us(r.baseline.median).padStart(11)} ${us(r.baseline.p99)} | ${us(r.endToEnd.median).padStart(17)} ${us(r.endToEnd.p99)}`,
  );
}

console.log('\n2. HcaCard.readCertificate(1) on the virtual HCA card, Castles EZCCID (TPDU, T=1), card wire modelled in real time');
for (const latencyMs of [0, 1]) {
  for (const pps of [true, false]) {
    const r = await readCertificate({ pps, latencyMs });
    console.log(
      `   ${pps ? 'PPS   ' : 'no PPS'} USB latency ${latencyMs} ms: ${r.bytes} bytes, ${r.apdus} APDUs (SELECT + READ BINARY, Le ${r.le}) at ${r.baud} bit/s: ` +
        `${(r.seconds * 1000).toFixed(1)} ms, wire floor ${(r.wireSeconds * 1000).toFixed(1)} ms, ratio ${(r.seconds / r.wireSeconds).toFixed(3)}; ` +
        `USB transfers per APDU ${r.transfersPerApdu.toFixed(2)} (minimum 2)`,
    );
  }
}

console.log('\n3. Sizes (esbuild --bundle --minify, ES2022, browser; gzip -9)');
for (const entry of ['bench/typical-use.ts', 'src/index.ts', 'src/virtual/index.ts']) {
  const b = await measureBundle(entry);
  const label = entry === 'bench/typical-use.ts' ? 'driver core (typical use, tree-shaken)' : entry;
  console.log(`   ${label.padEnd(40)} ${(b.minifiedBytes / 1024).toFixed(1).padStart(6)} KiB minified, ${b.gzippedBytes} B gzipped`);
  if (entry === 'bench/typical-use.ts') {
    // What a connect to a TPDU-level reader (Castles EZ100PU, EZCCID) and a first pinpad use add.
    console.log(`   ${'  with a TPDU-level reader (TPDU link)'.padEnd(40)} ${gzippedBytesWith(b, 'src/ccid/tpdu-link.ts')} B gzipped in all`);
    console.log(`   ${'  with a pinpad (pinpad exchange)'.padEnd(40)} ${gzippedBytesWith(b, 'src/ccid/pinpad.ts')} B gzipped in all`);
  }
}
