// Runs INSIDE the QEMU guest (see test/qemu/harness.ts), for `npm run bench:qemu`
// (scripts/qemu/bench.ts). Per-APDU round trips on QEMU's CCID reader, in one boot, by:
//   raw:        a minimal client on the `usb` package's WebUSB (no project code): one XfrBlock
//               written, then its answer read (a zero-length packet read again), nothing else;
//   raw-queued: the same client, its bulk-in read submitted before the write (as our driver does);
//   ours:       our driver (CcidReader from $WEBCCID_LIB) with its defaults, interrupt watch on;
//   ours-noint: our driver with watchInterrupt: false;
//   ours-read-after-write: our driver, the device patched so that a bulk-in read starts only once
//               the bulk-out transfer before it completed (an experiment on the transfer order).
// The APDU is SELECT MF (00 A4 00 00 02 3F 00): a case 3 command the emulated card refuses with
// 6A81, so at TPDU level with T=0 it is one XfrBlock for every client (no GET RESPONSE).
// The clients take turns in rounds (raw, raw-queued, ours, ours-noint, raw, ...) so that the guest's and the
// host's load fall on all of them alike. Writes JSON to $WEBCCID_RESULTS.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.WEBCCID_PROJECT_ROOT ?? process.cwd();
const require = createRequire(path.join(root, 'package.json'));
const { WebUSB } = require('usb');

const ROUNDS = Number(process.env.WEBCCID_ROUNDS ?? 6);
const PER_ROUND = Number(process.env.WEBCCID_PER_ROUND ?? 50);
const WARMUP = 10;
const APDU = Uint8Array.of(0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00);
const results = { ok: false, rounds: ROUNDS, perRound: PER_ROUND, samples: { raw: [], 'raw-queued': [], ours: [], 'ours-noint': [], 'ours-read-after-write': [] }, answers: {} };
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const bytesOf = (dv) => (dv ? new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength) : new Uint8Array(0));
const save = () => writeFileSync(process.env.WEBCCID_RESULTS ?? '/dev/stdout', `${JSON.stringify(results)}\n`);

async function findDevice() {
  const usb = new WebUSB({ allowAllDevices: true });
  const devices = await usb.getDevices();
  const device = devices.find((d) => d.vendorId === 0x08e6 && d.productId === 0x4433);
  if (!device) throw new Error('QEMU CCID reader not found');
  return device;
}

async function rawRound(device, n, queued = false) {
  await device.open();
  if (!device.configuration) await device.selectConfiguration(1);
  const iface = device.configuration.interfaces.find((i) => i.alternate.interfaceClass === 0x0b);
  const eps = iface.alternate.endpoints;
  const bulkOut = eps.find((e) => e.type === 'bulk' && e.direction === 'out').endpointNumber;
  const bulkIn = eps.find((e) => e.type === 'bulk' && e.direction === 'in');
  await device.claimInterface(iface.interfaceNumber);
  const readLength = Math.ceil((10 + 65536 + 2) / bulkIn.packetSize) * bulkIn.packetSize;
  let seq = 0;
  const exchange = async (type, abData = new Uint8Array(0)) => {
    const msg = new Uint8Array(10 + abData.length);
    msg[0] = type;
    new DataView(msg.buffer).setUint32(1, abData.length, true);
    msg[6] = seq++ & 0xff;
    msg.set(abData, 10);
    // queued: the read is submitted before the write (as our driver does), else after it
    let pending = queued ? device.transferIn(bulkIn.endpointNumber, readLength) : undefined;
    await device.transferOut(bulkOut, msg);
    for (;;) {
      const r = bytesOf((await (pending ?? device.transferIn(bulkIn.endpointNumber, readLength))).data);
      pending = undefined;
      if (r.length > 0) return r;
    }
  };
  await exchange(0x62); // IccPowerOn
  const times = [];
  let answer;
  for (let i = 0; i < WARMUP + n; i++) {
    const t = performance.now();
    answer = await exchange(0x6f, APDU);
    if (i >= WARMUP) times.push(performance.now() - t);
  }
  results.answers[queued ? 'raw-queued' : 'raw'] = hex(answer.subarray(10));
  await exchange(0x63); // IccPowerOff
  await device.releaseInterface(iface.interfaceNumber);
  await device.close();
  return times;
}

/**
 * Experiment: makes the device start a bulk-in read only once the next bulk-out transfer has
 * completed (as the raw client does), whatever order the driver submits them in. Only for
 * exchanges whose answers never end in a zero-length packet (SELECT MF's does not).
 */
function readAfterWrite(device) {
  const iface = device.configuration.interfaces.find((i) => i.alternate.interfaceClass === 0x0b);
  const bulkIn = iface.alternate.endpoints.find((e) => e.type === 'bulk' && e.direction === 'in').endpointNumber;
  const originalIn = device.transferIn;
  const originalOut = device.transferOut;
  let release;
  let written = new Promise((r) => (release = r));
  device.transferOut = async (ep, data) => {
    const r = await originalOut.call(device, ep, data);
    const done = release;
    written = new Promise((res) => (release = res));
    done();
    return r;
  };
  device.transferIn = async (ep, length) => {
    if (ep === bulkIn) await written;
    return originalIn.call(device, ep, length);
  };
  return () => {
    device.transferIn = originalIn;
    device.transferOut = originalOut;
  };
}

async function oursRound(lib, device, n, watchInterrupt, variant = '') {
  let restore;
  if (variant === 'read-after-write') {
    await device.open();
    restore = readAfterWrite(device);
  }
  const reader = await lib.CcidReader.open(device, { watchInterrupt });
  const c = await reader.connect(0);
  const times = [];
  let answer;
  for (let i = 0; i < WARMUP + n; i++) {
    const t = performance.now();
    answer = await c.transmit(APDU);
    if (i >= WARMUP) times.push(performance.now() - t);
  }
  results.answers[watchInterrupt ? 'ours' : 'ours-noint'] = hex(answer);
  await c.disconnect('unpower');
  await reader.close();
  restore?.();
  return times;
}

async function main() {
  const lib = await import(pathToFileURL(path.join(process.env.WEBCCID_LIB, 'index.js')).href);
  const device = await findDevice();
  for (let round = 0; round < ROUNDS; round++) {
    results.samples.raw.push(...(await rawRound(device, PER_ROUND)));
    results.samples['raw-queued'].push(...(await rawRound(device, PER_ROUND, true)));
    results.samples.ours.push(...(await oursRound(lib, device, PER_ROUND, true)));
    results.samples['ours-noint'].push(...(await oursRound(lib, device, PER_ROUND, false)));
    results.samples['ours-read-after-write'].push(...(await oursRound(lib, device, PER_ROUND, true, 'read-after-write')));
  }
  results.ok = true;
}

const watchdog = setTimeout(() => {
  results.error = 'watchdog';
  save();
  process.exit(3);
}, Number(process.env.WEBCCID_WATCHDOG_MS ?? 240_000));
main()
  .catch((e) => {
    results.error = String(e?.stack ?? e);
  })
  .finally(() => {
    clearTimeout(watchdog);
    save();
    console.log(`bench-rtt ${results.ok ? 'ok' : 'FAILED'}`);
    setTimeout(() => process.exit(results.ok ? 0 : 1), 100).unref();
  });
