/**
 * The QEMU route for the NHI card: the virtual NHI card served to QEMU's CCID reader over
 * ccid-card-passthru (VSCard), read in the guest by our driver through the real Linux USB stack
 * and `readNhiCard`. QEMU's reader offers T=0 only, so the card is given a T=0 ATR (the NHI
 * JCOP historical bytes "PVJCOP4SID", no interface bytes) and answers as a T=0 card (61xx then
 * GET RESPONSE for the basic-data read, a case 3 command that returns data). Skipped without the
 * lab (see qemu.test.ts); run with `flock /tmp/webccid-qemu.lock npx vitest run test/qemu`.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GUEST_DIR, buildGuestLibrary, describeRun, diagnose, qemuAvailability, runInGuest, type GuestRunResult } from './harness.js';
import { t0Transport } from './vscard.js';
import { createHcaLikeCard } from '../../src/virtual/card.js';
import { createVirtualNhiCard } from '../../src/virtual/nhi-card.js';

const availability = qemuAvailability();
const SKIP = !availability.ok && !process.env['CI'];
if (SKIP && !availability.ok) console.warn(`[qemu] NHI tests SKIPPED: ${availability.reason}`);

/** TS 3B, T0 0A (no interface bytes: T=0, 10 historical bytes), "PVJCOP4SID". */
const NHI_T0_ATR = Uint8Array.from([0x3b, 0x0a, ...new TextEncoder().encode('PVJCOP4SID')]);

interface NhiResults {
  ok: boolean;
  atr?: string;
  protocol?: string;
  data?: Record<string, string>;
  readError?: { code: string; sw?: number };
  error?: unknown;
}

function expectClean(run: GuestRunResult): void {
  expect(run.timedOut, diagnose(run)).toBe(false);
  expect(run.exitCode, diagnose(run)).toBe(0);
  expect(run.results, diagnose(run)).toBeDefined();
}

describe.skipIf(SKIP)('QEMU: the virtual NHI card behind QEMU\'s reader, read from Node', () => {
  let lib = '';
  beforeAll(async () => {
    if (!availability.ok) throw new Error(`QEMU lab unavailable: ${availability.reason}`);
    lib = await buildGuestLibrary({ outDir: path.join(path.dirname(GUEST_DIR), '.build', `lib-nhi-${process.pid}`), entries: { 'nhi/index': 'src/nhi/index.ts' } });
  }, 60_000);
  afterAll(() => {
    if (lib) rmSync(lib, { recursive: true, force: true });
  });

  it('reads card number, Big5 name, ID number, ROC dates as ISO', async () => {
    const card = createVirtualNhiCard({ atr: NHI_T0_ATR, name: '陳怡君', namePadding: 'space', birthDate: '1975-12-31', sex: 'F', issueDate: '2023-03-01' });
    const seen: string[] = [];
    const t0 = t0Transport((apdu) => card.transmit(apdu));
    const run = await runInGuest({
      card: 'passthru',
      passthru: {
        atr: NHI_T0_ATR,
        transmit: (apdu) => {
          seen.push(Buffer.from(apdu).toString('hex'));
          return t0(apdu);
        },
      },
      script: path.join(GUEST_DIR, 'nhi-read.mjs'),
      env: { WEBCCID_LIB: lib },
      timeoutMs: 100_000,
    });
    console.log(`[qemu] NHI read: ${describeRun(run)}`);
    expectClean(run);
    const r = run.results as NhiResults;
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.atr).toBe(Buffer.from(NHI_T0_ATR).toString('hex'));
    expect(r.protocol).toBe('t0');
    expect(r.data).toEqual({ cardNumber: '000012345678', name: '陳怡君', idNumber: 'A123456789', birthDate: '1975-12-31', sex: 'F', issueDate: '2023-03-01' });
    // What reached the card: the public SELECT (this T=0 card has its 30-byte FCI ready: 611E, and the
    // driver fetches it), the public read (case 3: 6139, then GET RESPONSE of the 57 bytes).
    expect(seen).toEqual(['00a4040010d1580000010000000000000000001100', '00c000001e', '00ca1100020000', '00c0000039']);
  }, 150_000);

  it('a card that is not an NHI card: nhi/not-nhi-card with 6A82', async () => {
    const card = createHcaLikeCard({ atr: NHI_T0_ATR });
    const run = await runInGuest({
      card: 'passthru',
      passthru: { atr: NHI_T0_ATR, transmit: t0Transport((apdu) => card.transmit(apdu)) },
      script: path.join(GUEST_DIR, 'nhi-read.mjs'),
      env: { WEBCCID_LIB: lib },
      timeoutMs: 100_000,
    });
    console.log(`[qemu] NHI read, HCA-like card: ${describeRun(run)}`);
    expectClean(run);
    const r = run.results as NhiResults;
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    expect(r.readError).toMatchObject({ code: 'nhi/not-nhi-card', sw: 0x6a82 });
  }, 150_000);
});
