/**
 * `npm run bench:qemu`: APDU round trips on QEMU's emulated CCID reader in the QEMU USB lab
 * (test/qemu/README.md), all clients in one guest boot (test/qemu/guest/bench-rtt.mjs): a minimal
 * raw client on the `usb` package (its read submitted after, then before the write), our driver,
 * our driver without its interrupt-in watch, and pcscd + libccid (Debian packages, installed by
 * scripts/qemu/setup.sh) timed by a minimal C PC/SC client (test/qemu/guest/pcsc-rtt.c, compiled
 * here with the host's C compiler against libpcsclite). Prints per-APDU p10, median and p90 (ms)
 * and the ratios to the raw client. Then the cold figures: per client, fresh guest processes
 * (pcscd: a freshly started pcscd and client), each timing its reader open and its first 30 APDUs
 * (medians of APDUs 1-10 and 11-30, process start and module loading printed apart, in no APDU
 * figure). See docs/testing.md ("QEMU round trips") for what each figure times.
 *
 * The npm script holds /tmp/webccid-qemu.lock so that two guests never run at once. Under TCG the
 * absolute figures follow the host's load; the ratios come from interleaved rounds in one boot.
 *
 *   WEBCCID_ROUNDS=8 WEBCCID_PER_ROUND=50 WEBCCID_WARMUP_APDUS=1000 WEBCCID_COLD_PROCESSES=3 \
 *   WEBCCID_COLD_APDUS=30 npm run bench:qemu   (the defaults; WEBCCID_COLD_PROCESSES=0: no cold figures)
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { buildGuestLibrary, diagnose, GUEST_DIR, qemuAvailability, runInGuest, setupQemuLab } from '../../test/qemu/harness.js';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const median = (v: number[]): number => quantile([...v].sort((a, b) => a - b), 0.5);
const ms = (v: number | undefined, w = 8): string => (v === undefined ? '-' : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)).padStart(w);

/** A USB call of a cold open, as the guest's step log records it: what, start, end (ms), true or the rejection's message. */
type UsbCall = [string, number, number, true | string];
type ColdRun = { startMs?: number; loadMs?: number; openMs?: number; wallMs?: number; times: number[]; openT0?: number; openT1?: number; openCalls?: UsbCall[] };

/** Short names of the traced calls: the CCID and USB requests by name. */
function callName(what: string): string {
  return what
    .replace(/^nativeGetDevices\(\)$/, 'getDevices')
    .replace(/^controlTransferIn\(request 0x6, value 0x2..\)$/, 'GET_DESCRIPTOR(configuration)')
    .replace(/^controlTransferIn\(request 0x2, .*$/, 'GET_CLOCK_FREQUENCIES')
    .replace(/^controlTransferIn\(request 0x3, .*$/, 'GET_DATA_RATES')
    .replace(/^transferIn\(endpoint (\d+), \d+ bytes\)$/, 'in $1')
    .replace(/^transferOut\(endpoint (\d+), (\d+) bytes\)$/, 'out $1 ($2 B)')
    .replace(/\(\)$/, '');
}

/**
 * One cold open split by the step log: the time with at least one USB call in flight, the rest
 * (JavaScript and the event loop), and the calls in the order they started (ms each).
 */
function openSteps(run: ColdRun): { usbMs: number; outsideMs: number; calls: string } | undefined {
  if (run.openT0 === undefined || run.openMs === undefined || !run.openCalls) return undefined;
  const t0 = run.openT0;
  const end = run.openT1 ?? t0 + run.openMs;
  const spans = run.openCalls
    .filter(([, a]) => a < end)
    .map(([, a, b]) => [Math.max(a, t0), Math.min(b, end)] as const)
    .sort((x, y) => x[0] - y[0]);
  let usbMs = 0;
  let reached = t0;
  for (const [a, b] of spans) {
    if (b > reached) usbMs += b - Math.max(a, reached);
    reached = Math.max(reached, b);
  }
  const calls = [...run.openCalls]
    .filter(([, a]) => a < end)
    .sort((x, y) => x[1] - y[1])
    // a read the usb3.ts wrapper posts in slices (the interrupt watch) rejects "Cancelled" when its slice runs out
    .map(([what, a, b, ok]) => `${callName(what)} ${(b - a).toFixed(1)}${b > end ? ' (ends after)' : ''}${ok === true ? '' : /Cancelled/.test(ok) ? ' (slice ran out)' : ` FAILED (${ok})`}`)
    .join(', ');
  return { usbMs, outsideMs: end - t0 - usbMs, calls };
}

/** The cold table: per client, medians over its fresh processes (APDU figures pooled over them). */
function printCold(cold: { apdus: number; processes: number; runs: Record<string, ColdRun[]> }): void {
  const rows = Object.entries(cold.runs)
    .filter(([, runs]) => runs.length > 0)
    .map(([name, runs]) => {
      const of = (k: 'startMs' | 'loadMs' | 'openMs') => (runs.every((x) => x[k] !== undefined) ? median(runs.map((x) => x[k]!)) : undefined);
      return {
        name,
        n: runs.length,
        start: of('startMs'),
        load: of('loadMs'),
        open: of('openMs'),
        first: median(runs.map((x) => x.times[0]!)),
        early: median(runs.flatMap((x) => x.times.slice(0, 10))),
        late: median(runs.flatMap((x) => x.times.slice(10, cold.apdus))),
      };
    });
  const raw = rows.find((x) => x.name === 'raw');
  console.log(
    `\nCOLD: each client in ${cold.processes} fresh node processes (alternating order; pcscd: a freshly started pcscd and C client), the first ${cold.apdus} APDUs of each, nothing untimed before them.`,
  );
  console.log(
    'start = process start to the script (Node bootstrap), load = the usb package (+ the library for ours), open = find, open, claim, power on the card (ours: openNodeReader + connect); none of them is in an APDU figure. Medians over the processes; APDU figures pooled.',
  );
  console.log('client        procs  start ms  load ms  open ms  APDU 1 ms  1-10 ms  11-30 ms  1-10 / raw  11-30 / raw');
  for (const x of rows) {
    console.log(
      `${x.name.padEnd(12)} ${String(x.n).padStart(6)} ${ms(x.start, 9)} ${ms(x.load)} ${ms(x.open)} ${ms(x.first, 10)} ${ms(x.early)} ${ms(x.late, 9)} ${(raw ? (x.early / raw.early).toFixed(2) : '-').padStart(11)} ${(raw ? (x.late / raw.late).toFixed(2) : '-').padStart(12)}`,
    );
  }
  console.log(
    '\nCOLD OPEN, step by step (from each process\'s step log): usb = time with at least one of the usb package\'s native calls in flight, outside = the rest (JavaScript, the event loop); medians over the processes. Then the calls of the process with the median open, in the order they started (ms each; calls that run in parallel overlap).',
  );
  for (const [name, runs] of Object.entries(cold.runs)) {
    const split = runs.map((r) => ({ r, s: openSteps(r) })).filter((x): x is { r: ColdRun; s: NonNullable<ReturnType<typeof openSteps>> } => x.s !== undefined);
    if (split.length === 0) continue;
    const mid = [...split].sort((a, b) => a.r.openMs! - b.r.openMs!)[Math.floor((split.length - 1) / 2)]!;
    console.log(
      `${name.padEnd(12)} open ${ms(median(split.map((x) => x.r.openMs!)), 5)} ms = usb ${ms(median(split.map((x) => x.s.usbMs)), 5)} + outside ${ms(median(split.map((x) => x.s.outsideMs)), 5)} | ${mid.s.calls}`,
    );
  }
}

const lab = qemuAvailability().ok ? qemuAvailability() : setupQemuLab();
if (!lab.ok) {
  console.error(`QEMU lab not available: ${lab.reason}`);
  process.exit(1);
}
const lib = await buildGuestLibrary();
/** Builds the PC/SC client next to the guest library; undefined (and says why) when it cannot. */
function buildPcscClient(): string | undefined {
  const out = path.join(lib, 'pcsc-rtt');
  try {
    const flags = execFileSync('pkg-config', ['--cflags', '--libs', 'libpcsclite'], { encoding: 'utf8' }).trim().split(/\s+/);
    execFileSync('cc', ['-O2', '-o', out, path.join(GUEST_DIR, 'pcsc-rtt.c'), ...flags], { stdio: ['ignore', 'inherit', 'inherit'] });
    return out;
  } catch (e) {
    console.error(`pcscd + libccid not measured: cannot build the PC/SC client (libpcsclite-dev, cc: run scripts/qemu/setup.sh as root): ${(e as Error).message}`);
    return undefined;
  }
}
const pcscClient = buildPcscClient();
try {
  const run = await runInGuest({
    card: 'emulated',
    script: path.join(GUEST_DIR, 'bench-rtt.mjs'),
    env: {
      WEBCCID_LIB: lib,
      WEBCCID_ROUNDS: process.env['WEBCCID_ROUNDS'] ?? '8',
      WEBCCID_PER_ROUND: process.env['WEBCCID_PER_ROUND'] ?? '50',
      WEBCCID_WARMUP_APDUS: process.env['WEBCCID_WARMUP_APDUS'] ?? '1000',
      WEBCCID_COLD_PROCESSES: process.env['WEBCCID_COLD_PROCESSES'] ?? '3',
      WEBCCID_COLD_APDUS: process.env['WEBCCID_COLD_APDUS'] ?? '30',
      ...(process.env['WEBCCID_PCSCD_DEBUG'] ? { WEBCCID_PCSCD_DEBUG: '1' } : {}),
      ...(pcscClient ? { WEBCCID_PCSC_RTT: pcscClient } : {}),
    },
    timeoutMs: 600_000,
  });
  const r = run.results as { cold?: { apdus: number; processes: number; runs: Record<string, ColdRun[]> }; ok: boolean; error?: string; pcscdSkipped?: string; pcscReader?: string; rounds: number; perRound: number; warmupApdus: number; samples: Record<string, number[]>; answers: Record<string, string> } | undefined;
  if (!r?.ok) {
    if (r?.cold?.runs && Object.values(r.cold.runs).every((runs) => runs.length === r.cold!.processes)) printCold(r.cold); // a later failure keeps the cold figures
    console.error(`bench-rtt failed: ${r?.error ?? 'no results'}\n${diagnose(run)}`);
    process.exit(1);
  }
  console.log(
    `QEMU CCID reader (TCG guest), SELECT MF -> 6A81, ${r.rounds} interleaved rounds x ${r.perRound} APDUs per client after ${r.warmupApdus} not counted, one boot`,
  );
  console.log(`answers: ${JSON.stringify(r.answers)}`);
  if (r.pcscdSkipped) console.log(`pcscd + libccid not measured: ${r.pcscdSkipped}`);
  if (r.pcscReader) console.log(`pcscd reader: ${r.pcscReader}`);
  const stats = Object.fromEntries(
    Object.entries(r.samples)
      .filter(([, v]) => v.length > 0)
      .map(([k, v]) => {
        const s = [...v].sort((a, b) => a - b);
        return [k, { p10: quantile(s, 0.1), median: quantile(s, 0.5), p90: quantile(s, 0.9), n: s.length }];
      }),
  );
  const raw = stats['raw']!;
  // p10 is the least disturbed by the host's load under TCG; the median is what a user gets
  console.log('client          n   p10 ms  median ms   p90 ms   p10 / raw  median / raw');
  for (const [k, s] of Object.entries(stats)) {
    console.log(
      `${k.padEnd(12)} ${String(s.n).padStart(4)} ${s.p10.toFixed(3).padStart(8)} ${s.median.toFixed(3).padStart(10)} ${s.p90.toFixed(3).padStart(8)} ${(s.p10 / raw.p10).toFixed(2).padStart(11)} ${(s.median / raw.median).toFixed(2).padStart(13)}`,
    );
  }
  if (r.cold) printCold(r.cold);
  console.log(`(guest boot ${run.bootSeconds?.toFixed(1)} s, whole run ${run.seconds.toFixed(1)} s)`);
} finally {
  rmSync(lib, { recursive: true, force: true });
}
