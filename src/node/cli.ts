/**
 * The `webccid` command (Node only; bin/webccid.mjs loads the built copy):
 *
 * ```
 * webccid list                      readers: VID:PID, name, interface class, Chrome protected class,
 *                                   exchange level, pinpad, slots
 * webccid probe [--out trace.json] [--verify-pin] [--no-pinpad] [--profile corrected.json]
 *               [--keep-card-data]
 * webccid nhi                       read the NHI card (健保卡) in the first reader that holds one
 * ```
 *
 * The PIN is never taken from the command line: `--verify-pin` asks for it
 * with hidden input (or on the reader's keypad), once, and never puts it in
 * the trace. `main()` takes its I/O injected so the tests run it against the
 * virtual reader.
 *
 * Exit codes: 0 done; 1 a failure (message on stderr); 2 bad arguments or
 * profile file; 3 no usable reader: none listed, or none could be opened. With
 * 3 the likely cause for this platform goes to stderr (src/node/diagnose.ts:
 * no USB bus, no permission and the udev rule, pcscd holding the reader,
 * Windows' driver instead of WinUSB, macOS's smart-card service).
 */
import { readFile as fsReadFile, writeFile as fsWriteFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { AbortError, isWebCcidError, WebCcidError } from '../errors.js';
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import { createProbeReportFile, formatFindings } from '../probe/summary.js';
import { readNhiCard } from '../nhi/card.js';
import { CcidReader } from '../ccid/reader.js';
import { mayBeCcid } from '../usb/candidates.js';
import { getNodeUsb } from './index.js';
import { diagnoseNoReader, hostChecks, type HostChecks } from './diagnose.js';
import { listReaders, probeReaders, type ProbeReaderReport } from './probe.js';

/** What `main` reads and writes; everything defaults to the real process. */
export interface CliIo {
  backend?: UsbBackendLike;
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Asks for the PIN with hidden input; resolves with its bytes (wiped by the caller), empty = skip. */
  readPin?: (prompt: string) => Promise<Uint8Array>;
  writeFile?: (path: string, text: string) => Promise<void>;
  readFile?: (path: string) => Promise<string>;
  /** Tool version recorded in traces (default: package.json's). */
  version?: string;
  /** Clocks (tests). */
  now?: () => number;
  date?: () => Date;
  /** The host checks behind the no-reader diagnosis (default: this machine's). */
  host?: HostChecks;
}

/** Exit code when no reader can be used (see the module comment). */
export const EXIT_NO_READER = 3;

export interface CliArguments {
  command: 'list' | 'probe' | 'nhi' | 'help' | 'version';
  out?: string;
  verifyPin: boolean;
  pinpad: boolean;
  profile?: string;
  redactCardData: boolean;
}

export const USAGE = `Usage:
  webccid list
      List USB smart-card readers: VID:PID, name, interface class (0x0B: Chrome
      refuses it on ordinary pages), exchange level, pinpad, slots.
  webccid nhi
      Read the NHI card (健保卡) in the first reader holding one: card number,
      name, ID number, birth date, sex, issue date. No PIN; the card's public
      SELECT and basic-data read only.
  webccid probe [--out trace.json] [--verify-pin] [--no-pinpad]
                [--profile corrected-profile.json] [--keep-card-data]
      Power each card, decode its ATR, read what the HCA profile reads without
      a PIN (card number, basic data, certificates), read an NHI card, run the
      discovery (SELECT of candidate AIDs and files, EF.DIR, GET DATA: nothing
      that can harm the card), record every APDU and say which profile fields
      the card confirmed, contradicted or left open.
      --out FILE          write the report: the trace (PIN, PUK and keys
                          redacted) plus the findings, as JSON
      --verify-pin        read the PIN status, then verify the PIN once; the PIN
                          is asked with hidden input (or keyed on the reader's
                          pinpad), never taken from the command line
      --no-pinpad         ask for the PIN here even when the reader has a pinpad
      --profile FILE      JSON merged over the default HCA profile
      --keep-card-data    keep what the card's files hold (card number, name, ID
                          number) in the trace; by default they are replaced by
                          their length, so a trace can be shared safely
  webccid --help | --version
Exit codes: 0 done, 1 failure, 2 bad arguments, 3 no usable reader (the likely
cause is printed: no USB bus, no permission / udev rule, pcscd, Windows driver).`;

function usageError(message: string): WebCcidError {
  return new WebCcidError('cli/bad-arguments', message);
}

/** Parses the command line. Throws `WebCcidError('cli/bad-arguments')` (exit code 2) on anything unknown. */
export function parseArguments(argv: readonly string[]): CliArguments {
  const args: CliArguments = { command: 'help', verifyPin: false, pinpad: true, redactCardData: true };
  let command: string | undefined;
  const rest = [...argv];
  const value = (flag: string, inline: string | undefined): string => {
    const v = inline ?? rest.shift();
    if (v === undefined || v === '' || (inline === undefined && v.startsWith('--'))) throw usageError(`${flag} needs a file name.`);
    return v;
  };
  while (rest.length > 0) {
    const arg = rest.shift()!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    switch (flag) {
      case '-h':
      case '--help':
        return { ...args, command: 'help' };
      case '-v':
      case '--version':
        return { ...args, command: 'version' };
      case '--out':
      case '-o':
        args.out = value('--out', inline);
        break;
      case '--verify-pin':
        args.verifyPin = true;
        break;
      case '--no-pinpad':
        args.pinpad = false;
        break;
      case '--profile':
        args.profile = value('--profile', inline);
        break;
      case '--keep-card-data':
        args.redactCardData = false;
        break;
      case '--pin':
      case '--puk':
        throw usageError(`${flag} is not accepted: a PIN or PUK on the command line ends up in the shell history. Use --verify-pin, which asks for it.`);
      default:
        if (flag.startsWith('-')) throw usageError(`Unknown option ${flag}.`);
        if (command !== undefined) throw usageError(`Unexpected argument "${flag}".`);
        command = flag;
    }
  }
  if (command === undefined || command === 'help') return { ...args, command: 'help' };
  if (command !== 'list' && command !== 'probe' && command !== 'nhi') throw usageError(`Unknown command "${command}".`);
  if ((command === 'list' || command === 'nhi') && (args.out !== undefined || args.verifyPin || args.profile !== undefined || !args.redactCardData || !args.pinpad)) {
    throw usageError(`${command} takes no options (they belong to probe).`);
  }
  return { ...args, command };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeInto(base: unknown, patch: unknown, path: string, unknown: string[]): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (!(k in base)) unknown.push(path ? `${path}.${k}` : k);
    out[k] = mergeInto(base[k], v, path ? `${path}.${k}` : k, unknown);
  }
  return out;
}

/**
 * A profile from JSON text merged over `base` (default `HCA_PROFILE`): objects are merged key
 * by key, anything else (numbers, strings, arrays) replaces the default. Numbers are JSON
 * numbers (e.g. `"reference": { "value": 129 }` for 0x81). Returns the unknown keys too.
 * Throws `WebCcidError('cli/bad-profile')` when the text is not a JSON object.
 */
export function mergeProfile(json: string, base: HcaProfile = HCA_PROFILE): { profile: HcaProfile; unknownKeys: string[] } {
  let patch: unknown;
  try {
    patch = JSON.parse(json);
  } catch (e) {
    throw new WebCcidError('cli/bad-profile', `The profile file is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isPlainObject(patch)) throw new WebCcidError('cli/bad-profile', 'The profile file must hold a JSON object.');
  const unknownKeys: string[] = [];
  const profile = mergeInto(base, patch, '', unknownKeys) as HcaProfile;
  return { profile, unknownKeys };
}

function packageVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)('../../package.json') as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Reads a line without echoing it (a `*` per character on a terminal). On a terminal the input
 * is read in raw mode: Enter ends, Backspace erases, Ctrl-C cancels (rejects with `AbortError`). From a pipe, one
 * line is read. Resolves with the bytes of the line (the caller wipes them); at most 64 bytes kept.
 */
export function readHiddenLine(
  prompt: string,
  streams: { input?: NodeJS.ReadStream; output?: NodeJS.WriteStream } = {},
): Promise<Uint8Array> {
  const input = streams.input ?? process.stdin;
  const output = streams.output ?? process.stderr;
  const tty = input.isTTY === true && typeof input.setRawMode === 'function';
  const buffer = new Uint8Array(64);
  let length = 0;
  output.write(prompt);
  return new Promise<Uint8Array>((resolve, reject) => {
    const finish = (error?: Error) => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      if (tty) input.setRawMode(false);
      input.pause();
      output.write('\n');
      if (error) {
        buffer.fill(0);
        reject(error);
        return;
      }
      const line = buffer.slice(0, length);
      buffer.fill(0);
      resolve(line);
    };
    const onData = (chunk: Uint8Array | string) => {
      const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
      let done = false;
      let cancelled = false;
      for (const b of bytes) {
        if (b === 0x0d || b === 0x0a || (tty && b === 0x04)) {
          done = true;
          break;
        }
        if (tty && b === 0x03) {
          cancelled = true;
          break;
        }
        if (b === 0x7f || b === 0x08) {
          if (length > 0) {
            buffer[--length] = 0;
            if (tty) output.write('\b \b');
          }
          continue;
        }
        if (b < 0x20) continue;
        if (length < buffer.length) {
          buffer[length++] = b;
          if (tty) output.write('*');
        }
      }
      if (typeof chunk !== 'string') chunk.fill(0);
      else bytes.fill(0);
      if (cancelled) finish(new AbortError('PIN entry cancelled.'));
      else if (done) finish();
    };
    const onEnd = () => finish();
    if (tty) input.setRawMode(true);
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}

/** `webccid nhi`: the first reader holding an NHI card; exit 0 when read, 1 otherwise. */
async function readNhiFromCli(stdout: (line: string) => void, stderr: (line: string) => void, injected: UsbBackendLike | undefined): Promise<number> {
  const backend = injected ?? (await getNodeUsb());
  let devices: UsbDeviceLike[];
  try {
    devices = (await backend.getDevices()).filter(mayBeCcid);
  } catch {
    devices = [];
  }
  if (devices.length === 0) {
    stderr('webccid: no USB smart-card reader found.');
    return 1;
  }
  let last = 'no card in any reader';
  for (const device of devices) {
    let reader: CcidReader | undefined;
    try {
      reader = await CcidReader.open(device, { backend, watchInterrupt: false });
      for (let slot = 0; slot < reader.slotCount; slot++) {
        if ((await reader.status(slot)).state === 'absent') continue;
        const connection = await reader.connect(slot);
        try {
          const d = await readNhiCard(connection);
          stdout(`Card number: ${d.cardNumber}`);
          stdout(`Name:        ${d.name}`);
          stdout(`ID number:   ${d.idNumber}`);
          stdout(`Birth date:  ${d.birthDate}`);
          stdout(`Sex:         ${d.sex}`);
          stdout(`Issue date:  ${d.issueDate}`);
          return 0;
        } catch (e) {
          last = e instanceof WebCcidError ? `${e.message} [${e.code}]` : String(e);
        } finally {
          await connection.disconnect('unpower').catch(() => undefined);
        }
      }
    } catch (e) {
      last = e instanceof WebCcidError ? `${e.message} [${e.code}]` : String(e);
    } finally {
      await reader?.close();
    }
  }
  stderr(`webccid: no NHI card read: ${last}`);
  return 1;
}

/** Runs the command; resolves with the exit code (0 ok, 1 failure, 2 bad arguments or profile file). */
/**
 * With no usable reader: the likely cause on stderr, and EXIT_NO_READER; otherwise 0.
 */
async function noReaderExit(readers: readonly ProbeReaderReport[], io: CliIo, stderr: (line: string) => void): Promise<number> {
  const diagnosis = await diagnoseNoReader(
    readers.map((r) => ({ id: r.id, ...(r.error ? { error: r.error } : {}) })),
    io.host ?? hostChecks(),
  );
  if (!diagnosis) return 0;
  stderr(`webccid: no usable smart-card reader (${diagnosis.cause}).`);
  for (const line of diagnosis.lines) stderr(`webccid: ${line}`);
  return EXIT_NO_READER;
}

/** Runs the command; resolves with the exit code (0 ok, 1 failure, 2 bad arguments or profile file, 3 no usable reader). */
export async function main(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdout = io.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stderr = io.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
  let args: CliArguments;
  try {
    args = parseArguments(argv);
  } catch (e) {
    if (!isWebCcidError(e, 'cli/bad-arguments')) throw e;
    stderr(`webccid: ${e.message}`);
    stderr(USAGE);
    return 2;
  }
  const version = io.version ?? packageVersion();
  if (args.command === 'help') {
    stdout(USAGE);
    return 0;
  }
  if (args.command === 'version') {
    stdout(version);
    return 0;
  }
  try {
    if (args.command === 'list') {
      const readers = await listReaders({ log: stdout, ...(io.backend ? { backend: io.backend } : {}) });
      return await noReaderExit(readers, io, stderr);
    }
    if (args.command === 'nhi') return await readNhiFromCli(stdout, stderr, io.backend);
    let profile: HcaProfile = HCA_PROFILE;
    if (args.profile !== undefined) {
      const text = await (io.readFile ?? ((p: string) => fsReadFile(p, 'utf8')))(args.profile);
      const merged = mergeProfile(text);
      profile = merged.profile;
      for (const k of merged.unknownKeys) stderr(`webccid: warning: the profile key "${k}" is not a profile field (ignored by the operations).`);
      stdout(`Profile: ${profile.id} (from ${args.profile})`);
    }
    const readPin = io.readPin ?? ((prompt: string) => readHiddenLine(prompt));
    const report = await probeReaders({
      log: stdout,
      profile,
      verifyPin: args.verifyPin,
      readPin,
      usePinpad: args.pinpad,
      redactCardData: args.redactCardData,
      tool: { name: 'webccid', version },
      ...(io.backend ? { backend: io.backend } : {}),
      ...(io.now ? { now: io.now } : {}),
      ...(io.date ? { date: io.date } : {}),
    });
    const file = createProbeReportFile(report, profile, { redactCardData: args.redactCardData });
    stdout('');
    stdout('Profile fields:');
    stdout(formatFindings(file.probe.findings));
    if (args.out !== undefined) {
      await (io.writeFile ?? ((p: string, t: string) => fsWriteFile(p, t, 'utf8')))(args.out, `${JSON.stringify(file, null, 2)}\n`);
      const n = report.trace.sessions.reduce((sum, s) => sum + s.entries.length, 0);
      stdout(`Trace written to ${args.out} (${report.trace.sessions.length} card session(s), ${n} exchange(s); PIN, PUK and key material redacted).`);
    }
    return await noReaderExit(report.readers, io, stderr);
  } catch (e) {
    if (isWebCcidError(e, 'cli/bad-profile')) {
      stderr(`webccid: ${e.message}`);
      return 2;
    }
    const message = e instanceof WebCcidError ? `${e.message} [${e.code}]` : e instanceof Error ? e.message : String(e);
    stderr(`webccid: ${message}`);
    return 1;
  }
}
