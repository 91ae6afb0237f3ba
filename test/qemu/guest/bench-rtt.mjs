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
// A cold process logs its steps to stderr as it goes (module loading, each USB call of the open
// with its time, the start and end of the APDUs), so that a process that hangs shows where it
// stopped: after COLD_CHILD_WATCHDOG_MS (45 s), or on the parent's SIGTERM at 60 s, it writes
// what it was doing and the USB calls still in flight, and exits non-zero; the parent then fails
// the whole bench with that log (no figure is printed from a run with a hung process). Its JSON
// also carries the open's USB calls (name, start, end) for the step table of scripts/qemu/bench.ts.
import { createRequire } from 'node:module';
import { existsSync, writeFileSync, writeSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PCSCD, runUnderPcscd } from './pcscd-run.mjs';

// time since the process started (performance.timeOrigin) up to this module's first statement:
// Node's bootstrap and the ESM loader (node: built-ins only); `--cold` reports it
const scriptStartMs = performance.now();
const COLD_CLIENT = process.argv[2] === '--cold' ? process.argv[3] : undefined;
/** What a cold process is doing (for its step log and for the report of a hang). */
let coldStep = 'loading the usb package';
/** A cold process's step log: one line to stderr, written at once (synchronously). */
function logStep(step) {
  coldStep = step;
  if (COLD_CLIENT) writeSync(2, `[cold ${COLD_CLIENT} ${performance.now().toFixed(1)} ms] ${step}\n`);
}
/** What the main process is doing (its watchdog's error says it). */
let mainStep = 'starting';
/** The main process's step log: which process or round runs (one line to stderr each). */
function logMainStep(step) {
  mainStep = step;
  writeSync(2, `[bench-rtt ${(performance.now() / 1000).toFixed(1)} s] ${step}\n`);
}
logStep('started; loading the usb package');
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

/**
 * The `usb` package's native calls, traced for a cold process (every client alike: the same thin
 * wrapper around each call of its native device class and of its device list). Calls in flight
 * are kept for the report of a hang; while `usbTrace.log` is set each call is logged to stderr
 * as it starts and ends, and a call started while `usbTrace.record` is set is kept (name, start,
 * end, true or the rejection's message) once it ends.
 */
const usbTrace = { log: false, record: false, inFlight: new Map(), calls: [], nextId: 0 };
function traceUsbCalls() {
  const native = require('usb/index.js'); // the binding the package's WebUSB classes use
  const describe = (name, a) => {
    if (name.startsWith('control')) return `${name}(request 0x${a[0]?.request?.toString(16)}, value 0x${a[0]?.value?.toString(16)})`;
    if (name === 'transferIn') return `transferIn(endpoint ${a[0]}, ${a[1]} bytes)`;
    if (name === 'transferOut') return `transferOut(endpoint ${a[0]}, ${a[1]?.byteLength} bytes)`;
    return `${name}()`;
  };
  const wrap = (owner, name) => {
    const original = owner[name];
    if (typeof original !== 'function') return;
    owner[name] = function traced(...args) {
      const what = describe(name, args);
      const id = usbTrace.nextId++;
      const start = performance.now();
      const record = usbTrace.record;
      usbTrace.inFlight.set(id, { what, start });
      if (usbTrace.log) logStep(`usb: ${what} ...`);
      // ok: true, or the rejection's message (a read the wrapper posts in slices ends "Cancelled")
      const end = (ok) => {
        usbTrace.inFlight.delete(id);
        const t = performance.now();
        if (record) usbTrace.calls.push([what, start, t, ok]);
        if (usbTrace.log) logStep(`usb: ${what} ${ok === true ? 'done' : `failed (${ok})`} in ${(t - start).toFixed(1)} ms`);
      };
      let r;
      try {
        r = original.apply(this, args);
      } catch (e) {
        end(String(e?.message ?? e));
        throw e;
      }
      if (!r || typeof r.then !== 'function') {
        end(true);
        return r;
      }
      return r.then(
        (v) => (end(true), v),
        (e) => {
          end(String(e?.message ?? e));
          throw e;
        },
      );
    };
  };
  const P = native.UsbDevice.prototype;
  for (const n of ['open', 'close', 'selectConfiguration', 'claimInterface', 'releaseInterface', 'controlTransferIn', 'controlTransferOut', 'transferIn', 'transferOut', 'clearHalt']) wrap(P, n);
  wrap(native, 'nativeGetDevices');
  // the package's hot-plug watch (started by its first connect/disconnect listener)
  for (const n of ['addAttach', 'addDetach', 'removeAttach', 'removeDetach']) wrap(native.Emitter.prototype, n);
}

/** Where a cold process is stuck: its step, and the USB calls in flight with their age. */
function reportStuck(why) {
  const now = performance.now();
  const calls = [...usbTrace.inFlight.values()].map((c) => `${c.what} for ${(now - c.start).toFixed(0)} ms`);
  writeSync(2, `[cold ${COLD_CLIENT} ${now.toFixed(1)} ms] STUCK (${why}) at: ${coldStep}; USB calls in flight: ${calls.join(', ') || 'none'}\n`);
}

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
  if (timing) coldApdusStart();
  const times = [];
  let answer;
  for (let i = 0; i < warmup + n; i++) {
    if (timing) coldStep = `APDU ${i + 1} of ${n}`;
    const t = performance.now();
    answer = await exchange(0x6f, APDU);
    if (i >= warmup) times.push(performance.now() - t);
  }
  if (timing) logStep(`${n} APDUs done; closing`);
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
  if (timing) logStep('reader open; connect(0)');
  const c = await reader.connect(0);
  if (timing) timing.openMs = performance.now() - t0;
  if (timing) coldApdusStart();
  const times = [];
  let answer;
  for (let i = 0; i < warmup + n; i++) {
    if (timing) coldStep = `APDU ${i + 1} of ${n}`;
    const t = performance.now();
    answer = await c.transmit(APDU);
    if (i >= warmup) times.push(performance.now() - t);
  }
  if (timing) logStep(`${n} APDUs done; closing`);
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
  traceUsbCalls();
  if (name === 'ours') {
    logStep('loading the library');
    const t = performance.now();
    const lib = await import(libUrl());
    loadMs += performance.now() - t;
    coldOpenStart(out);
    logStep('openNodeReader()');
    times = await oursRound(lib, COLD_APDUS, true, 0, out);
  } else {
    coldOpenStart(out);
    logStep('getDevices()');
    const t = performance.now();
    const device = await findDevice(); // getDevices: counted in the open, as openNodeReader does it
    const findMs = performance.now() - t;
    times = await rawRound(device, COLD_APDUS, name === 'raw-queued', 0, out);
    out.openMs += findMs;
  }
  out.loadMs = loadMs;
  out.times = times;
  out.answer = results.answers[name];
  logStep('closed');
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/** The cold process's JSON (its open's bounds and USB calls are filled in as it goes). */
let coldOut;

/** The open starts: its USB calls are logged and recorded. */
function coldOpenStart(out) {
  coldOut = out;
  out.openCalls = usbTrace.calls;
  out.openT0 = performance.now();
  usbTrace.log = true;
  usbTrace.record = true;
}

/** The open ended (the card is powered): APDUs follow, USB calls no longer logged one by one. */
function coldApdusStart() {
  coldOut.openT1 = performance.now();
  usbTrace.log = false;
  usbTrace.record = false;
  logStep(`open done; APDUs 1-${COLD_APDUS} (USB calls no longer logged one by one)`);
}

/** A cold process gets this long (ms) before it reports where it is stuck and exits (3). */
const COLD_CHILD_WATCHDOG_MS = 45_000;
/** And this long before the parent stops it (SIGTERM: it reports too) and fails the bench. */
const COLD_CHILD_TIMEOUT_MS = 60_000;

/**
 * Runs `node bench-rtt.mjs --cold <name>` in the guest and returns its JSON (plus its wall time).
 * A process that fails or hangs fails the bench, with its step log (stderr) in the error.
 */
function coldProcess(name) {
  const t = performance.now();
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [process.argv[1], '--cold', name],
      { timeout: COLD_CHILD_TIMEOUT_MS, env: { ...process.env, WEBCCID_RESULTS: '' }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const wallMs = performance.now() - t;
        if (err) {
          const how = err.killed ? `killed after ${(wallMs / 1000).toFixed(1)} s (${err.signal})` : `exit ${err.code ?? err.signal}`;
          return reject(new Error(`cold ${name} process ${how}; its step log (stderr, last 60 lines):\n${stderr.trim().split('\n').slice(-60).join('\n')}`));
        }
        const r = JSON.parse(stdout.trim().split('\n').pop());
        r.wallMs = wallMs;
        resolve(r);
      },
    ),
  );
}

async function coldPhase(withPcscd) {
  const names = ['raw', 'raw-queued', 'ours'];
  results.cold = { apdus: COLD_APDUS, processes: COLD_PROCESSES, runs: Object.fromEntries([...names, ...(withPcscd ? ['pcscd'] : [])].map((n) => [n, []])) };
  logMainStep('cold: untimed ours process (fills the file cache)');
  await coldProcess('ours'); // untimed: fills the guest's file cache (node, the usb package, the library)
  for (let k = 0; k < COLD_PROCESSES; k++) {
    const turn = names.map((_, i) => names[(i + k) % names.length]);
    if (k % 2 === 1) turn.reverse();
    for (const name of turn) {
      logMainStep(`cold: ${name} process ${k + 1} of ${COLD_PROCESSES}`);
      results.cold.runs[name].push(await coldProcess(name));
    }
    if (withPcscd) {
      logMainStep(`cold: pcscd + C client ${k + 1} of ${COLD_PROCESSES}`);
      results.cold.runs.pcscd.push({ times: await pcscdRound(COLD_APDUS, 0) });
    }
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
  for (const [name, run] of Object.entries(clients)) {
    logMainStep(`warm-up round: ${name}`);
    await run(WARMUP_APDUS);
  }
  const order = Object.keys(clients);
  for (let round = 0; round < ROUNDS; round++) {
    // each round in another order, so that no client always runs after the same one
    const turn = order.map((_, i) => order[(i + round) % order.length]);
    if (round % 2 === 1) turn.reverse();
    for (const name of turn) {
      logMainStep(`round ${round + 1} of ${ROUNDS}: ${name}`);
      results.samples[name].push(...(await clients[name]()));
    }
    if (withPcscd) {
      logMainStep(`round ${round + 1} of ${ROUNDS}: pcscd`);
      results.samples.pcscd.push(...(await pcscdRound(PER_ROUND)));
    }
  }
  results.ok = true;
}

if (COLD_CLIENT) {
  const watchdog = setTimeout(() => {
    reportStuck(`no end after ${COLD_CHILD_WATCHDOG_MS / 1000} s`);
    process.exit(3);
  }, COLD_CHILD_WATCHDOG_MS);
  process.on('SIGTERM', () => {
    reportStuck('SIGTERM from the parent');
    process.exit(143);
  });
  coldChild(COLD_CLIENT).then(
    () => {
      clearTimeout(watchdog);
      process.exit(0);
    },
    (e) => {
      reportStuck(`failed: ${String(e?.stack ?? e)}`);
      process.exit(1);
    },
  );
} else {
  const watchdog = setTimeout(() => {
    results.error = `watchdog: no end after ${Number(process.env.WEBCCID_WATCHDOG_MS ?? 560_000) / 1000} s, at: ${mainStep}`;
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
