// Runs INSIDE the QEMU guest (see test/qemu/harness.ts), for `npm run bench:qemu`
// (scripts/qemu/bench.ts). Per-APDU round trips on QEMU's CCID reader, in one boot, by:
//   raw:        a minimal client on the `usb` package's WebUSB (no project code): one XfrBlock
//               written, then its answer read (a zero-length packet read again), nothing else;
//   raw-queued: the same client, its bulk-in read submitted before the write (as our driver does);
//   ours:       our driver (openNodeReader from $WEBCCID_LIB) with its defaults, interrupt watch on;
//   ours-noint: our driver with watchInterrupt: false;
//   pcscd:      pcscd + libccid (Debian), timed by a minimal C PC/SC client (pcsc-rtt.c, built on
//               the host, $WEBCCID_PCSC_RTT) around SCardTransmit alone. pcscd holds the reader
//               while it runs, so each pcscd round starts pcscd and stops it again (SIGTERM, waited
//               for) before the next client opens the device. Skipped when $WEBCCID_PCSC_RTT or
//               pcscd is missing (the results say why).
// The APDU is SELECT MF (00 A4 00 00 02 3F 00): a case 3 command the emulated card refuses with
// 6A81, so at TPDU level with T=0 it is one XfrBlock for every client (no GET RESPONSE).
// The clients take turns in rounds, in an order that changes from round to round (pcscd last), so
// that the guest's and the host's load fall on all of them alike; a first round of
// $WEBCCID_WARMUP_APDUS APDUs per client (default 1000) is not counted: under TCG V8 needs about
// that many to compile a client's hot path, and the driver has far more code to compile than the
// raw client. Writes JSON to $WEBCCID_RESULTS.
// Before that, the COLD figures (what a user's fresh page meets: an unlock or a PIN change is 10-30
// APDUs): for raw, raw-queued and ours, $WEBCCID_COLD_PROCESSES (default 3) fresh `node` processes
// each (this script with `--cold <client>`, so no JIT state is shared), the clients in an order that
// alternates; each process loads its modules, opens the reader (timed apart) and times its first
// $WEBCCID_COLD_APDUS (default 30) APDUs one by one, nothing untimed before them. One untimed process
// first fills the guest's file cache. Process start and module loading are timed apart too and are
// in no APDU figure. For pcscd, cold means a freshly started pcscd and a fresh C client: its first
// 30 SCardTransmit calls (pcscd's start and the client's SCardConnect not timed).
import { createRequire } from 'node:module';
import { existsSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PCSCD, runUnderPcscd } from './pcscd-run.mjs';

// time since the process started (performance.timeOrigin) up to this module's first statement:
// Node's bootstrap and the ESM loader (node: built-ins only); `--cold` reports it
const scriptStartMs = performance.now();
const root = process.env.WEBCCID_PROJECT_ROOT ?? process.cwd();
const require = createRequire(path.join(root, 'package.json'));
const { WebUSB } = require('usb');
const usbLoadedMs = performance.now();
const COLD_APDUS = Number(process.env.WEBCCID_COLD_APDUS ?? 30);
const COLD_PROCESSES = Number(process.env.WEBCCID_COLD_PROCESSES ?? 3);

const ROUNDS = Number(process.env.WEBCCID_ROUNDS ?? 8);
const PER_ROUND = Number(process.env.WEBCCID_PER_ROUND ?? 50);
const WARMUP = 10;
const WARMUP_APDUS = Number(process.env.WEBCCID_WARMUP_APDUS ?? 1000);
const APDU = Uint8Array.of(0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00);
const results = { ok: false, rounds: ROUNDS, perRound: PER_ROUND, warmupApdus: WARMUP_APDUS, samples: { raw: [], 'raw-queued': [], ours: [], 'ours-noint': [], pcscd: [] }, answers: {} };
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

/** timing (optional) gets openMs: device open, configuration, claim and IccPowerOn. */
async function rawRound(device, n, queued = false, warmup = WARMUP, timing = undefined) {
  const t0 = performance.now();
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
  if (timing) timing.openMs = performance.now() - t0;
  const times = [];
  let answer;
  for (let i = 0; i < warmup + n; i++) {
    const t = performance.now();
    answer = await exchange(0x6f, APDU);
    if (i >= warmup) times.push(performance.now() - t);
  }
  results.answers[queued ? 'raw-queued' : 'raw'] = hex(answer.subarray(10));
  await exchange(0x63); // IccPowerOff
  await device.releaseInterface(iface.interfaceNumber);
  await device.close();
  return times;
}

/** timing (optional) gets openMs: openNodeReader (finding, opening, claiming) and connect(0). */
async function oursRound(lib, n, watchInterrupt, warmup = WARMUP, timing = undefined) {
  const t0 = performance.now();
  // as a Node application opens it: the `usb` package's device behind the library's WebUSB view
  const reader = await lib.openNodeReader({ vendorId: 0x08e6, productId: 0x4433, watchInterrupt });
  const c = await reader.connect(0);
  if (timing) timing.openMs = performance.now() - t0;
  const times = [];
  let answer;
  for (let i = 0; i < warmup + n; i++) {
    const t = performance.now();
    answer = await c.transmit(APDU);
    if (i >= warmup) times.push(performance.now() - t);
  }
  results.answers[watchInterrupt ? 'ours' : 'ours-noint'] = hex(answer);
  await c.disconnect('unpower');
  await reader.close();
  return times;
}

/** One pcscd round: start pcscd in the foreground, time APDUs with the C client, stop pcscd. */
async function pcscdRound(n, warmup = WARMUP) {
  const r = await runUnderPcscd(process.env.WEBCCID_PCSC_RTT, [String(n), String(warmup), hex(APDU)], {
    debug: Boolean(process.env.WEBCCID_PCSCD_DEBUG),
  });
  results.answers.pcscd = r.answer;
  results.pcscReader = r.reader;
  return r.times;
}

const libUrl = () => pathToFileURL(path.join(process.env.WEBCCID_LIB, 'node/index.js')).href;

/**
 * `--cold <client>`: in this fresh process, open the reader and time the first COLD_APDUS APDUs.
 * Prints one JSON line: startMs (process start to this module's first statement), loadMs (the
 * `usb` package, and for ours the library too), openMs, times (ms per APDU, from the first).
 */
async function coldChild(name) {
  const out = { client: name, startMs: scriptStartMs };
  let loadMs = usbLoadedMs - scriptStartMs;
  let times;
  if (name === 'ours') {
    const t = performance.now();
    const lib = await import(libUrl());
    loadMs += performance.now() - t;
    times = await oursRound(lib, COLD_APDUS, true, 0, out);
  } else {
    const t = performance.now();
    const device = await findDevice(); // getDevices: counted in the open, as openNodeReader does it
    const findMs = performance.now() - t;
    times = await rawRound(device, COLD_APDUS, name === 'raw-queued', 0, out);
    out.openMs += findMs;
  }
  out.loadMs = loadMs;
  out.times = times;
  out.answer = results.answers[name];
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** Runs `node bench-rtt.mjs --cold <name>` in the guest and returns its JSON (plus its wall time). */
function coldProcess(name) {
  const t = performance.now();
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [process.argv[1], '--cold', name], { timeout: 60_000, env: { ...process.env, WEBCCID_RESULTS: '' } }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`cold ${name}: ${err.message} ${stderr}`));
      const r = JSON.parse(stdout.trim().split('\n').pop());
      r.wallMs = performance.now() - t;
      resolve(r);
    }),
  );
}

async function coldPhase(withPcscd) {
  const names = ['raw', 'raw-queued', 'ours'];
  results.cold = { apdus: COLD_APDUS, processes: COLD_PROCESSES, runs: Object.fromEntries([...names, ...(withPcscd ? ['pcscd'] : [])].map((n) => [n, []])) };
  await coldProcess('ours'); // untimed: fills the guest's file cache (node, the usb package, the library)
  for (let k = 0; k < COLD_PROCESSES; k++) {
    const turn = names.map((_, i) => names[(i + k) % names.length]);
    if (k % 2 === 1) turn.reverse();
    for (const name of turn) results.cold.runs[name].push(await coldProcess(name));
    if (withPcscd) results.cold.runs.pcscd.push({ times: await pcscdRound(COLD_APDUS, 0) });
  }
}

async function main() {
  const lib = await import(libUrl());
  const withPcscd = Boolean(process.env.WEBCCID_PCSC_RTT) && existsSync(PCSCD);
  if (!withPcscd) results.pcscdSkipped = process.env.WEBCCID_PCSC_RTT ? `${PCSCD} not installed` : 'no PC/SC client built (WEBCCID_PCSC_RTT)';
  // cold first, while this process has not yet opened the device
  if (COLD_PROCESSES > 0) await coldPhase(withPcscd);
  const device = await findDevice();
  const clients = {
    raw: (n = PER_ROUND) => rawRound(device, n),
    'raw-queued': (n = PER_ROUND) => rawRound(device, n, true),
    ours: (n = PER_ROUND) => oursRound(lib, n, true),
    'ours-noint': (n = PER_ROUND) => oursRound(lib, n, false),
  };
  // A first round that is not counted: under TCG the JIT needs far more than WARMUP APDUs to
  // compile a client's hot path (docs/testing.md, "QEMU round trips"), and the first client to
  // run the driver would pay for it.
  for (const run of Object.values(clients)) await run(WARMUP_APDUS);
  const order = Object.keys(clients);
  for (let round = 0; round < ROUNDS; round++) {
    // each round in another order, so that no client always runs after the same one
    const turn = order.map((_, i) => order[(i + round) % order.length]);
    if (round % 2 === 1) turn.reverse();
    for (const name of turn) results.samples[name].push(...(await clients[name]()));
    if (withPcscd) results.samples.pcscd.push(...(await pcscdRound(PER_ROUND)));
  }
  results.ok = true;
}

if (process.argv[2] === '--cold') {
  coldChild(process.argv[3]).then(
    () => process.exit(0),
    (e) => {
      console.error(String(e?.stack ?? e));
      process.exit(1);
    },
  );
} else {
  const watchdog = setTimeout(() => {
    results.error = 'watchdog';
    save();
    process.exit(3);
  }, Number(process.env.WEBCCID_WATCHDOG_MS ?? 560_000));
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
}
