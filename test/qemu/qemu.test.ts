/**
 * QEMU USB lab: QEMU's emulated CCID reader (usb-ccid, 08E6:4433) in a tiny Linux guest, reached
 * through the real Linux USB stack and the `usb` package. Part of `npm test`.
 *
 * Needs `bash scripts/qemu/setup.sh` (Debian packages, kernel, initramfs, NSS db). Without it the
 * suite is skipped with the reason printed, except in CI (CI set), where it tries the setup
 * itself and fails if the lab is still unavailable. Each test boots one guest (about 13 s wall
 * under TCG: ~5 s kernel and init, ~4 s Node start-up, the rest the probe and power-off).
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GUEST_DIR,
  buildGuestLibrary,
  describeRun,
  diagnose,
  qemuAvailability,
  runInGuest,
  setupQemuLab,
  type GuestRunResult,
  type PassthruCard,
  type QemuAvailability,
} from './harness.js';

const IN_CI = Boolean(process.env['CI']);
let availability: QemuAvailability = qemuAvailability();
const SKIP = !availability.ok && !IN_CI;
const SKIP_REASON = availability.ok ? '' : availability.reason;
if (SKIP) {
  console.warn(`[qemu] QEMU lab tests SKIPPED: ${SKIP_REASON}. Run \`bash scripts/qemu/setup.sh\` (as root) to enable them.`);
}

const GUEST_TIMEOUT_MS = 100_000;
const TEST_TIMEOUT_MS = 150_000;
const EMULATED_ATR = '3b7a18000073667465206364313434';
const timings: string[] = [];

interface CcidFrame {
  bMessageType: number;
  dwLength: number;
  bSlot: number;
  bSeq: number;
  bStatus: number;
  bmICCStatus: number;
  bmCommandStatus: number;
  bError: number;
  abData: string;
}
interface RawExchange {
  name: string;
  command: string;
  status: string;
  responseLength: number;
  reads: Array<{ status: string; length: number }>;
  afterFullPacket?: { status: string; length: number };
  parsed: CcidFrame;
}
interface RawProbeResults {
  ok: boolean;
  error?: string;
  device: { vendorId: number; productId: number; productName: string };
  classDescriptor: {
    bLength: number;
    bDescriptorType: number;
    dwProtocols: number;
    dwFeatures: number;
    dwMaxCCIDMessageLength: number;
    bMaxSlotIndex: number;
    bPINSupport: number;
  };
  endpoints: Array<{ endpointNumber: number; direction: string; type: string; packetSize: number }>;
  atr: string | null;
  exchanges: RawExchange[];
}
interface DriverError {
  name: string;
  code: string;
  bStatus?: number;
  bError?: number;
  iccStatus?: number;
}
interface DriverProbeResults {
  ok: boolean;
  error?: DriverError & { stack?: string };
  reader: {
    identity: { vendorId: number; productId: number; interfaceClass: number };
    exchangeLevel: string;
    dwProtocols: number;
    dwFeatures: number;
    maxSlots: number;
  };
  statusBefore: { state: string };
  connectError?: DriverError;
  connection?: { atr: string; protocols: number[]; protocol: string; exchangeLevel: string };
  apdus: Array<{ name: string; response?: string; error?: DriverError; ms?: number }>;
  removal?: { seen: boolean; afterMs: number };
  statusAfterRemoval?: { state: string };
  roundTripMs?: { median: number; min: number; max: number };
  statusConnected?: { state: string };
  statusAfter?: { state: string };
  transmitAfterDisconnect?: { error: DriverError | null };
}

function exchange(results: RawProbeResults, name: string): RawExchange {
  const found = results.exchanges.find((e) => e.name === name);
  if (!found) throw new Error(`no exchange named ${name}; have: ${results.exchanges.map((e) => e.name).join(', ')}`);
  return found;
}

function record(label: string, run: GuestRunResult): void {
  const line = `${label}: ${describeRun(run)}`;
  timings.push(line);
  console.log(`[qemu] ${line}`);
}

/** The run must have finished cleanly; on failure the message carries the guest's output. */
function expectClean(run: GuestRunResult): void {
  expect(run.timedOut, diagnose(run)).toBe(false);
  expect(run.exitCode, diagnose(run)).toBe(0);
  expect(run.results, diagnose(run)).toBeDefined();
}

describe.skipIf(SKIP)(`QEMU usb-ccid lab${SKIP ? ` (SKIPPED: ${SKIP_REASON})` : ''}`, () => {
  beforeAll(() => {
    if (!availability.ok) {
      // only in CI: try to make the lab, then fail loudly if it still is not there
      console.warn(`[qemu] lab not ready (${availability.reason}); CI is set: running scripts/qemu/setup.sh`);
      availability = setupQemuLab();
      if (!availability.ok) throw new Error(`QEMU lab unavailable in CI: ${availability.reason}`);
    }
  }, 900_000);

  afterAll(() => {
    if (timings.length) console.log(`[qemu] guest runs:\n  ${timings.join('\n  ')}`);
  });

  describe('raw CCID over the usb package (no project code)', () => {
    it(
      'emulated card: descriptor, ATR, APDUs, and the reader quirks',
      async () => {
        const run = await runInGuest({ card: 'emulated', script: path.join(GUEST_DIR, 'raw-probe.mjs'), timeoutMs: GUEST_TIMEOUT_MS });
        record('raw probe, emulated card', run);
        expectClean(run);
        const r = run.results as RawProbeResults;
        expect(r.ok, r.error).toBe(true);
        expect(r.device).toMatchObject({ vendorId: 0x08e6, productId: 0x4433, productName: 'QEMU USB CCID' });

        // class descriptor: T=0 only, TPDU level (dwFeatures 0x000104FE), one slot, a verify-pinpad bit
        expect(r.classDescriptor).toMatchObject({
          bLength: 0x36,
          bDescriptorType: 0x21,
          dwProtocols: 0x01,
          dwFeatures: 0x000104fe,
          dwMaxCCIDMessageLength: 65554,
          bMaxSlotIndex: 0,
          bPINSupport: 0x01,
        });
        expect(r.classDescriptor.dwFeatures & 0x00070000).toBe(0x00010000); // TPDU
        expect(r.endpoints).toEqual(
          expect.arrayContaining([
            { endpointNumber: 1, direction: 'in', type: 'interrupt', packetSize: 64 },
            { endpointNumber: 2, direction: 'in', type: 'bulk', packetSize: 64 },
            { endpointNumber: 3, direction: 'out', type: 'bulk', packetSize: 64 },
          ]),
        );

        // quirk: the slot reports an active card before any IccPowerOn
        expect(exchange(r, 'GetSlotStatus').parsed.bmICCStatus).toBe(0);
        const powerOn = exchange(r, 'IccPowerOn').parsed;
        expect(powerOn).toMatchObject({ bMessageType: 0x80, bmCommandStatus: 0, bmICCStatus: 0 });
        expect(r.atr).toBe(EMULATED_ATR);

        // quirk: the descriptor says TPDU, yet a case 4 APDU (with Le) is answered with its data at once,
        // not with 61xx as a T=0 TPDU exchange would: QEMU passes whole APDUs to the card
        const select = exchange(r, 'XfrBlock 00a4040007a000000079010000').parsed;
        expect(select.bmCommandStatus).toBe(0);
        expect(select.abData).toBe('6f0b8407a0000000790100a500' + '9000');

        // quirk: an answer that fills its last 64-byte packet is followed by a zero-length packet
        const readBuffer = exchange(r, 'XfrBlock 8052000002023434');
        expect(readBuffer.responseLength).toBe(64);
        expect(readBuffer.parsed.dwLength).toBe(54);
        expect(readBuffer.parsed.abData.endsWith('9000')).toBe(true);
        expect(readBuffer.afterFullPacket).toEqual({ status: 'ok', length: 0 });

        // the card itself does 61xx / GET RESPONSE when Le is too short
        expect(exchange(r, 'XfrBlock 00a4040007a000000079010005').parsed.abData).toBe('610d');
        expect(exchange(r, 'XfrBlock 00c000000d').parsed.abData).toBe('6f0b8407a0000000790100a500' + '9000');
        expect(exchange(r, 'XfrBlock 00a40000023f00').parsed.abData).toBe('6a81');

        // after IccPowerOff: present, inactive
        expect(exchange(r, 'IccPowerOff').parsed).toMatchObject({ bMessageType: 0x81, bmCommandStatus: 0, bmICCStatus: 1 });
        // every answer echoes the command's bSlot and bSeq
        for (const e of r.exchanges) {
          expect(e.parsed.bSlot).toBe(0);
          expect(e.parsed.bSeq).toBe(Number.parseInt(e.command.slice(12, 14), 16));
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'no card: GetSlotStatus says absent, IccPowerOn fails with ICC_MUTE (bError 0xFE)',
      async () => {
        const run = await runInGuest({ card: 'none', script: path.join(GUEST_DIR, 'raw-probe.mjs'), timeoutMs: GUEST_TIMEOUT_MS });
        record('raw probe, no card', run);
        expectClean(run);
        const r = run.results as RawProbeResults;
        expect(r.ok, r.error).toBe(true);
        expect(exchange(r, 'GetSlotStatus').parsed).toMatchObject({ bMessageType: 0x81, bmCommandStatus: 0, bmICCStatus: 2 });
        expect(exchange(r, 'IccPowerOn').parsed).toMatchObject({
          bMessageType: 0x80,
          bStatus: 0x42,
          bmCommandStatus: 1,
          bmICCStatus: 2,
          bError: 0xfe,
          dwLength: 0,
        });
        expect(r.atr).toBeNull();
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'passthru card served from the host (VSCard protocol): ATR and APDUs reach it, long answers come back whole',
      async () => {
        const seen: string[] = [];
        const atr = Uint8Array.from([0x3b, 0x07, ...new TextEncoder().encode('webccid')]); // T=0, 7 historical bytes
        const card: PassthruCard = {
          atr,
          transmit(apdu) {
            seen.push(Buffer.from(apdu).toString('hex'));
            if (apdu[1] === 0xca) {
              // GET DATA: Le bytes 00, 01, 02 ... then 9000
              const n = apdu[4] === 0 ? 256 : (apdu[4] ?? 0);
              return Uint8Array.from([...Array.from({ length: n }, (_, i) => i & 0xff), 0x90, 0x00]);
            }
            return Uint8Array.from([0x6d, 0x00]);
          },
        };
        const run = await runInGuest({
          card: 'passthru',
          passthru: card,
          script: path.join(GUEST_DIR, 'raw-probe.mjs'),
          env: { WEBCCID_APDUS: '00ca000034,00ca000000,00b0000004' },
          timeoutMs: GUEST_TIMEOUT_MS,
        });
        record('raw probe, passthru card', run);
        expectClean(run);
        const r = run.results as RawProbeResults;
        expect(r.ok, r.error).toBe(true);
        expect(r.atr).toBe(Buffer.from(atr).toString('hex'));
        expect(seen).toEqual(['00ca000034', '00ca000000', '00b0000004']);
        const full = exchange(r, 'XfrBlock 00ca000034');
        expect(full.responseLength).toBe(64);
        expect(full.afterFullPacket).toEqual({ status: 'ok', length: 0 });
        const long = exchange(r, 'XfrBlock 00ca000000');
        expect(long.responseLength).toBe(10 + 256 + 2);
        expect(long.parsed.dwLength).toBe(258);
        expect(long.parsed.abData.slice(0, 8)).toBe('00010203');
        expect(exchange(r, 'XfrBlock 00b0000004').parsed.abData).toBe('6d00');
      },
      TEST_TIMEOUT_MS,
    );
  });

  describe('our driver (CcidReader through the Node backend)', () => {
    let lib: string | undefined;
    beforeAll(async () => {
      lib = await buildGuestLibrary();
    }, 60_000);
    afterAll(() => {
      if (lib) rmSync(lib, { recursive: true, force: true });
    });

    it(
      'emulated card: open, descriptor decoded, connect -> ATR, transmit, disconnect',
      async () => {
        const run = await runInGuest({
          card: 'emulated',
          script: path.join(GUEST_DIR, 'driver-probe.mjs'),
          env: { WEBCCID_LIB: lib ?? '', WEBCCID_EXPECT: 'card' },
          timeoutMs: GUEST_TIMEOUT_MS,
        });
        record('driver probe, emulated card', run);
        expectClean(run);
        const r = run.results as DriverProbeResults;
        expect(r.ok, JSON.stringify(r.error)).toBe(true);
        expect(r.reader.identity).toMatchObject({ vendorId: 0x08e6, productId: 0x4433, interfaceClass: 0x0b });
        expect(r.reader).toMatchObject({ exchangeLevel: 'tpdu', dwProtocols: 1, dwFeatures: 0x000104fe, maxSlots: 1 });

        expect(r.connection).toMatchObject({ atr: EMULATED_ATR, protocols: [0], protocol: 't0', exchangeLevel: 'tpdu' });
        const byName = new Map(r.apdus.map((a) => [a.name, a]));
        // case 4 SELECT: FCI and 9000, however the driver gets it (whole APDU, or case 3 + GET RESPONSE)
        expect(byName.get('select-pki')).toMatchObject({ response: '6f0b8407a0000000790100a5009000' });
        // a 64-byte answer (followed by QEMU's zero-length packet) and the exchange after it
        expect(byName.get('read-buffer-52')?.response).toMatch(/^[0-9a-f]{104}9000$/);
        expect(byName.get('select-pki-again')).toMatchObject({ response: '6f0b8407a0000000790100a5009000' });
        expect(byName.get('select-mf')).toMatchObject({ response: '6a81' });
        expect(r.roundTripMs?.median).toBeGreaterThan(0);

        expect(r.statusConnected?.state).toBe('active');
        expect(r.statusAfter?.state).toBe('present'); // disconnect('unpower') powered the card off
        expect(r.transmitAfterDisconnect?.error?.code).toBe('ccid/not-connected');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a card that answers 2.5 s late and is pulled out after 2.5 s idle: the answer arrives, cardremoved fires (no 1-second transfer timeout in the Node backend)',
      async () => {
        // The `usb` package 3.x cancels a transfer after 1 s unless told otherwise; WebUSB transfers
        // never time out. A late card answer (bulk-in) and a removal after a quiet spell (interrupt-in)
        // must both get through the real USB stack, as they would in a browser.
        const DELAY_MS = 2500;
        const seen: Array<{ apdu: string; atMs: number }> = [];
        const t0 = performance.now();
        let removed: number | undefined;
        // T=0 only, TC2 = 0x0F: WI 15, a work waiting time (960 x WI x Fi / f, ISO/IEC 7816-3) of
        // about 1.4 s, so the driver's own timeout (twice that, and a margin) allows the delay. (QEMU's
        // passthru card checks the ATR's length with a TD walk that reads TC2 as if it were TD2:
        // a TC2 below 0x10 keeps that check content.)
        const atr = Uint8Array.from([0x3b, 0x87, 0x40, 0x0f, ...new TextEncoder().encode('webccid')]);
        let peer: { removeCard(): void } | undefined;
        const card: PassthruCard = {
          atr,
          attach: (p) => (peer = p),
          async transmit(apdu) {
            const hex = Buffer.from(apdu).toString('hex');
            seen.push({ apdu: hex, atMs: performance.now() - t0 });
            if (hex === '00ca000002') {
              await new Promise((resolve) => setTimeout(resolve, DELAY_MS));
              return Uint8Array.from([0x01, 0x02, 0x90, 0x00]);
            }
            if (hex === '00ca000001') {
              setTimeout(() => {
                removed = performance.now() - t0;
                peer?.removeCard();
              }, DELAY_MS);
              return Uint8Array.from([0x07, 0x90, 0x00]);
            }
            return Uint8Array.from([0x6d, 0x00]);
          },
        };
        const run = await runInGuest({
          card: 'passthru',
          passthru: card,
          script: path.join(GUEST_DIR, 'driver-probe.mjs'),
          env: { WEBCCID_LIB: lib ?? '', WEBCCID_EXPECT: 'card', WEBCCID_APDUS: '00ca000002,00ca000001', WEBCCID_WAIT_REMOVAL_MS: '15000' },
          timeoutMs: GUEST_TIMEOUT_MS,
        });
        record('driver probe, slow passthru card', run);
        expectClean(run);
        const r = run.results as DriverProbeResults;
        expect(r.ok, JSON.stringify(r.error)).toBe(true);
        expect(seen.map((s) => s.apdu)).toEqual(['00ca000002', '00ca000001']);
        const slow = r.apdus.find((a) => a.name === '00ca000002');
        expect(slow, JSON.stringify(r.apdus)).toMatchObject({ response: '01029000' });
        expect(slow?.ms).toBeGreaterThanOrEqual(DELAY_MS - 50);
        expect(r.apdus.find((a) => a.name === '00ca000001')).toMatchObject({ response: '079000' });
        expect(removed).toBeDefined();
        expect(r.removal, diagnose(run)).toMatchObject({ seen: true });
        expect(r.removal?.afterMs).toBeGreaterThanOrEqual(DELAY_MS - 500);
        expect(r.statusAfterRemoval?.state).toBe('absent');
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'no card: connect fails with SlotError ccid/card-absent',
      async () => {
        const run = await runInGuest({
          card: 'none',
          script: path.join(GUEST_DIR, 'driver-probe.mjs'),
          env: { WEBCCID_LIB: lib ?? '', WEBCCID_EXPECT: 'none' },
          timeoutMs: GUEST_TIMEOUT_MS,
        });
        record('driver probe, no card', run);
        expectClean(run);
        const r = run.results as DriverProbeResults;
        expect(r.ok, JSON.stringify(r.error)).toBe(true);
        expect(r.statusBefore.state).toBe('absent');
        expect(r.connectError).toMatchObject({ name: 'SlotError', code: 'ccid/card-absent', bError: 0xfe, iccStatus: 2 });
        expect(r.connection).toBeUndefined();
      },
      TEST_TIMEOUT_MS,
    );
  });
});
