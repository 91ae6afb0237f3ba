/**
 * `npm run bench:qemu`: APDU round trips on QEMU's emulated CCID reader in the QEMU USB lab
 * (test/qemu/README.md), all clients in one guest boot (test/qemu/guest/bench-rtt.mjs): a minimal
 * raw client on the `usb` package, our driver, and our driver without its interrupt-in watch.
 * Prints per-APDU median and p90 (ms) and the ratios to the raw client. pcscd + libccid is not
 * measured: see docs/testing.md ("QEMU round trips") for what stands in the way.
 *
 * The npm script holds /tmp/webccid-qemu.lock so that two guests never run at once. Under TCG the
 * absolute figures follow the host's load; the ratios come from interleaved rounds in one boot.
 *
 *   WEBCCID_ROUNDS=6 WEBCCID_PER_ROUND=50 npm run bench:qemu
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
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
try {
  const run = await runInGuest({
    card: 'emulated',
    script: path.join(GUEST_DIR, 'bench-rtt.mjs'),
    env: {
      WEBCCID_LIB: lib,
      WEBCCID_ROUNDS: process.env['WEBCCID_ROUNDS'] ?? '6',
      WEBCCID_PER_ROUND: process.env['WEBCCID_PER_ROUND'] ?? '50',
    },
    timeoutMs: 300_000,
  });
  const r = run.results as { ok: boolean; error?: string; rounds: number; perRound: number; samples: Record<string, number[]>; answers: Record<string, string> } | undefined;
  if (!r?.ok) {
    console.error(`bench-rtt failed: ${r?.error ?? 'no results'}\n${diagnose(run)}`);
    process.exit(1);
  }
  console.log(`QEMU CCID reader (TCG guest), SELECT MF -> 6A81, ${r.rounds} interleaved rounds x ${r.perRound} APDUs per client, one boot`);
  console.log(`answers: ${JSON.stringify(r.answers)}`);
  const stats = Object.fromEntries(
    Object.entries(r.samples).map(([k, v]) => {
      const s = [...v].sort((a, b) => a - b);
      return [k, { median: quantile(s, 0.5), p90: quantile(s, 0.9), n: s.length }];
    }),
  );
  const raw = stats['raw']!;
  console.log('client        median ms   p90 ms   median / raw   p90 / raw');
  for (const [k, s] of Object.entries(stats)) {
    console.log(
      `${k.padEnd(12)} ${s.median.toFixed(3).padStart(10)} ${s.p90.toFixed(3).padStart(8)} ${(s.median / raw.median).toFixed(2).padStart(14)} ${(s.p90 / raw.p90).toFixed(2).padStart(11)}`,
    );
  }
  console.log(`(guest boot ${run.bootSeconds?.toFixed(1)} s, whole run ${run.seconds.toFixed(1)} s)`);
} finally {
  rmSync(lib, { recursive: true, force: true });
}
