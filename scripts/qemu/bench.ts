/**
 * `npm run bench:qemu`: APDU round trips on QEMU's emulated CCID reader in the QEMU USB lab
 * (test/qemu/README.md), all clients in one guest boot (test/qemu/guest/bench-rtt.mjs): a minimal
 * raw client on the `usb` package (its read submitted after, then before the write), our driver,
 * our driver without its interrupt-in watch, and pcscd + libccid (Debian packages, installed by
 * scripts/qemu/setup.sh) timed by a minimal C PC/SC client (test/qemu/guest/pcsc-rtt.c, compiled
 * here with the host's C compiler against libpcsclite). Prints per-APDU p10, median and p90 (ms)
 * and the ratios to the raw client. See docs/testing.md ("QEMU round trips") for what each figure
 * times.
 *
 * The npm script holds /tmp/webccid-qemu.lock so that two guests never run at once. Under TCG the
 * absolute figures follow the host's load; the ratios come from interleaved rounds in one boot.
 *
 *   WEBCCID_ROUNDS=8 WEBCCID_PER_ROUND=50 WEBCCID_WARMUP_APDUS=1000 npm run bench:qemu   (the defaults)
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { buildGuestLibrary, diagnose, GUEST_DIR, qemuAvailability, runInGuest, setupQemuLab } from '../../test/qemu/harness.js';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
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
      ...(process.env['WEBCCID_PCSCD_DEBUG'] ? { WEBCCID_PCSCD_DEBUG: '1' } : {}),
      ...(pcscClient ? { WEBCCID_PCSC_RTT: pcscClient } : {}),
    },
    timeoutMs: 480_000,
  });
  const r = run.results as { ok: boolean; error?: string; pcscdSkipped?: string; pcscReader?: string; rounds: number; perRound: number; warmupApdus: number; samples: Record<string, number[]>; answers: Record<string, string> } | undefined;
  if (!r?.ok) {
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
  console.log(`(guest boot ${run.bootSeconds?.toFixed(1)} s, whole run ${run.seconds.toFixed(1)} s)`);
} finally {
  rmSync(lib, { recursive: true, force: true });
}
