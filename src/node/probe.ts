/**
 * `npx webccid probe` and `npx webccid list` in Node: the shared probe engine
 * (src/probe/engine.ts) on the `usb` package's WebUSB, and the command line's way of asking
 * for the PIN. With `verifyPin` the retry counter is read (no try spent) and the PIN verified
 * once, asked through `readPin` (hidden input: never a command-line argument, never retried,
 * never in the trace), or keyed on the reader's keypad when the reader has one; without it no
 * PIN-related command is sent.
 *
 * The USB backend can be injected (`backend`) so the tests run the probe on the virtual reader.
 */
import type { CardChannel } from '../card/channel.js';
import { listReaders as listWith, probeReaders as probeWith } from '../probe/engine.js';
import { probeHcaCard as probeCardWith } from '../probe/card.js';
import type {
  ListOptions as EngineListOptions,
  PinConsent,
  ProbeOptions as EngineProbeOptions,
  ProbeReaderReport,
  ProbeHcaReport,
  ProbeReport,
} from '../probe/types.js';
import { getNodeUsb } from './index.js';

export type {
  PinConsent,
  ProbeCertificate,
  ProbeError,
  ProbeHcaReport,
  ProbeNhiReport,
  ProbePinReport,
  ProbeReaderReport,
  ProbeReport,
  ProbeSlotReport,
} from '../probe/types.js';

export interface ListOptions extends Partial<EngineListOptions> {}

export interface ProbeOptions extends Partial<Omit<EngineProbeOptions, 'pinConsent'>> {
  /** Read the PIN status and verify the PIN once. */
  verifyPin?: boolean;
  /**
   * Asks for the PIN (hidden input). Resolves with its ASCII digits (wiped after use), or an
   * empty array to skip. Needed with `verifyPin` unless every reader has a pinpad.
   */
  readPin?: (prompt: string) => Promise<Uint8Array>;
  /** Use the reader's keypad for `verifyPin` when it has one (default true). */
  usePinpad?: boolean;
}

/** See the engine's `listReaders`; the backend defaults to the `usb` package. */
export async function listReaders(options: ListOptions = {}): Promise<ProbeReaderReport[]> {
  return listWith({ ...options, backend: options.backend ?? (await getNodeUsb()) });
}

/** The command line's consent: `--verify-pin` agrees to both steps; the PIN comes from `readPin` or the pinpad. */
function commandLineConsent(options: ProbeOptions, log: (line: string) => void): PinConsent {
  return {
    readCounter: async () => true,
    verify: async ({ retriesLeft, pinpad }) => {
      if (pinpad && (options.usePinpad ?? true)) return 'pinpad';
      if (!options.readPin) {
        log('    PIN verification skipped: no way to ask for the PIN.');
        return null;
      }
      const warning = retriesLeft === 1 ? ' Only 1 try left: a wrong PIN blocks the card.' : '';
      return options.readPin(`PIN for the card in this slot (empty to skip).${warning} PIN: `);
    },
  };
}

/** See the engine's `probeReaders`; the backend defaults to the `usb` package. */
export async function probeReaders(options: ProbeOptions = {}): Promise<ProbeReport> {
  const { verifyPin, readPin: _readPin, usePinpad: _usePinpad, ...rest } = options;
  const log = options.log ?? (() => undefined);
  return probeWith({
    ...rest,
    backend: options.backend ?? (await getNodeUsb()),
    ...(verifyPin ? { pinConsent: commandLineConsent(options, log) } : {}),
  });
}

/**
 * The probe's HCA reads on one channel (a reader connection, or a `ReplayChannel` playing a
 * recorded trace back), with the command line's PIN consent when `verifyPin` is set.
 */
export function probeHcaCard(channel: CardChannel, options: ProbeOptions = {}): Promise<ProbeHcaReport> {
  const log = options.log ?? (() => undefined);
  return probeCardWith(channel, {
    ...(options.profile ? { profile: options.profile } : {}),
    log,
    ...(options.verifyPin ? { pinConsent: commandLineConsent(options, log) } : {}),
  });
}
