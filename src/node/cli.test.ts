/**
 * The `webccid` command and the probe against the virtual reader (injected backend): list,
 * probe, trace file, --verify-pin (hidden prompt stand-in), corrected profiles, argument errors.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toHex } from '../bytes.js';
import { AbortError, isWebCcidError } from '../errors.js';
import { HCA_PROFILE, type HcaProfile } from '../hca/profile.js';
import type { TraceFile } from '../card/trace.js';
import { createVirtualReader, T0_CARD_ATR, VirtualCard, VirtualUsb, type VirtualReaderPresetName } from '../virtual/index.js';
import { createVirtualPinpad } from '../virtual/pinpad.js';
import { createVirtualHcaCard, VIRTUAL_HCA_DEFAULTS, type VirtualHcaCard, type VirtualHcaCardOptions } from '../virtual/hca-card.js';
import { main, mergeProfile, parseArguments, readHiddenLine, type CliIo } from './cli.js';
import { listReaders, probeReaders } from './probe.js';
import type { UsbBackendLike, UsbDeviceLike } from '../usb/device.js';
import type { HostChecks, HostUsbDevice } from './diagnose.js';

const PIN = '482915'; // not a substring of the virtual card's data (its ID number holds 123456)
const WRONG_PIN = '975310';
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

interface Run {
  code: number;
  out: string[];
  err: string[];
  files: Map<string, string>;
  prompts: string[];
  pinBuffers: Uint8Array[];
}

/** Runs `main` on a virtual USB bus; `pins` answer the hidden prompts in order. */
async function run(argv: string[], usb: UsbBackendLike, extra: { pins?: string[]; readFile?: CliIo['readFile']; host?: HostChecks } = {}): Promise<Run> {
  const r: Run = { code: -1, out: [], err: [], files: new Map(), prompts: [], pinBuffers: [] };
  const pins = [...(extra.pins ?? [])];
  r.code = await main(argv, {
    backend: usb,
    stdout: (l) => r.out.push(l),
    stderr: (l) => r.err.push(l),
    readPin: async (prompt) => {
      r.prompts.push(prompt);
      const b = ascii(pins.shift() ?? '');
      r.pinBuffers.push(b);
      return b;
    },
    writeFile: async (p, t) => void r.files.set(p, t),
    ...(extra.readFile ? { readFile: extra.readFile } : {}),
    ...(extra.host ? { host: extra.host } : {}),
    version: '9.9.9',
  });
  return r;
}

function bus(...readers: Array<{ preset: VirtualReaderPresetName; card?: VirtualCard | null }>): VirtualUsb {
  return new VirtualUsb({ devices: readers.map((r) => createVirtualReader({ preset: r.preset, card: r.card ?? null })) });
}

async function hcaCard(options: VirtualHcaCardOptions = {}): Promise<VirtualHcaCard> {
  return createVirtualHcaCard({ pin: PIN, ...options });
}

/** No PIN in any line, prompt, file or trace, in text or hex. */
function expectNoSecret(r: Run, secret: string): void {
  const everything = [...r.out, ...r.err, ...r.prompts, ...r.files.values()].join('\n');
  expect(everything).not.toContain(secret);
  expect(everything).not.toContain(toHex(ascii(secret)));
  expect(everything).not.toContain(toHex(ascii(secret), ''));
}

let consoleSpies: Array<ReturnType<typeof vi.spyOn>> = [];
beforeAll(async () => {
  await createVirtualHcaCard(); // warm the memoised test PKI (RSA key generation)
}, 60_000);
afterEach(() => {
  for (const s of consoleSpies) s.mockRestore();
  consoleSpies = [];
});

describe('parseArguments', () => {
  it.each([
    [[], { command: 'help' }],
    [['--help'], { command: 'help' }],
    [['--version'], { command: 'version' }],
    [['list'], { command: 'list' }],
    [['probe'], { command: 'probe', verifyPin: false, pinpad: true, redactCardData: true }],
    [['probe', '--out', 't.json', '--verify-pin'], { command: 'probe', out: 't.json', verifyPin: true }],
    [['probe', '--out=t.json', '--no-pinpad', '--profile', 'p.json', '--keep-card-data'], { out: 't.json', pinpad: false, profile: 'p.json', redactCardData: false }],
  ])('%j', (argv, expected) => {
    expect(parseArguments(argv)).toMatchObject(expected);
  });

  it.each([
    [['probe', '--pin', '123456']],
    [['probe', '--puk=12345678']],
    [['probe', '--out']],
    [['probe', '--out', '--verify-pin']],
    [['probe', '--bogus']],
    [['frobnicate']],
    [['probe', 'list']],
    [['list', '--out', 'x.json']],
  ])('rejects %j', (argv) => {
    let error: unknown;
    try {
      parseArguments(argv);
    } catch (e) {
      error = e;
    }
    expect(isWebCcidError(error, 'cli/bad-arguments')).toBe(true);
    // A PIN given on the command line is not repeated back.
    expect((error as Error).message).not.toContain('123456');
  });
});

describe('webccid (main)', () => {
  it('help, version and bad arguments (exit 2, usage on stderr, the PIN not echoed)', async () => {
    const usb = bus();
    const help = await run(['--help'], usb);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toContain('webccid probe');
    const version = await run(['--version'], usb);
    expect(version.out).toEqual(['9.9.9']);
    const bad = await run(['probe', '--pin', '123456'], usb);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/--pin is not accepted/);
    expect(bad.err.join('\n')).not.toContain('123456');
  });

  it('list: every reader with VID:PID, name, interface class, Chrome protected class, level, pinpad, slots', async () => {
    const usb = bus({ preset: 'castles-ezccid', card: await hcaCard() }, { preset: 'omnikey-3121' }, { preset: 'gemplus-gempc-pinpad' });
    const r = await run(['list'], usb);
    expect(r.code).toBe(0);
    const text = r.out.join('\n');
    expect(text).toMatch(/Reader 0: 0CA6:00A0 /);
    expect(text).toMatch(/Reader 1: 076B:3031 /);
    expect(text).toMatch(/Reader 2: 08E6:3478 /);
    expect(text).toContain('interface class 0x0B (smart card: Chrome refuses it on ordinary pages, protected class)');
    expect(text).toContain('exchange level: tpdu');
    expect(text).toContain('exchange level: extended-apdu');
    expect(text).toContain('pinpad: verify + modify');
    expect(text).toContain('pinpad: no');
    expect(text).toContain('slot 0: card present');
    expect(text).toContain('slot 0: no card');
  });

  it('list reports a vendor-class reader as not protected, and no readers at all', async () => {
    const vendor = new VirtualUsb({ devices: [createVirtualReader({ preset: 'ideal', interfaceClass: 0xff, card: null })] });
    const reports = await listReaders({ backend: vendor });
    expect(reports[0]).toMatchObject({ interfaceClass: 0xff, chromeProtected: false, exchangeLevel: 'extended-apdu' });
    const none = await run(['list'], bus(), { host: linuxHost() });
    expect(none.code).toBe(3);
    expect(none.out).toEqual(['No USB smart-card reader found.']);
  });

  it.each<VirtualReaderPresetName>(['castles-ezccid', 'omnikey-3121'])(
    'probe on %s: ATR, card number, basic data, serial, four certificates; trace written',
    async (preset) => {
      const card = await hcaCard();
      const r = await run(['probe', '--out', 'trace.json'], bus({ preset, card }));
      expect(r.code).toBe(0);
      const text = r.out.join('\n');
      expect(text).toContain(`ATR ${toHex(card.atr)}`);
      expect(text).toContain('protocols T=1');
      expect(text).toContain('IFSC 254');
      expect(text).toContain('("PV_J2D081")');
      expect(text).toContain("ATR is in the profile's list (hca-default-2026.1)");
      expect(text).toContain('HCA application selected');
      expect(text).toContain(`card number: ${VIRTUAL_HCA_DEFAULTS.cardNumber}`);
      expect(text).toContain(`name=${VIRTUAL_HCA_DEFAULTS.personnel.holderName}`);
      expect(text).toContain('serial number: VHCA');
      for (const i of [0, 1, 2, 3]) expect(text).toMatch(new RegExp(`certificate ${i}: \\d+ bytes, subject .+`));
      expect(text).toContain('personnel card');
      expect(text).toMatch(/Trace written to trace\.json \(1 card session\(s\), \d+ exchange\(s\)/);

      const trace = JSON.parse(r.files.get('trace.json')!) as TraceFile;
      expect(trace).toMatchObject({ format: 'webccid-trace', version: 1, tool: { name: 'webccid', version: '9.9.9' }, profile: { id: HCA_PROFILE.id } });
      const session = trace.sessions[0]!;
      expect(session.atr).toBe(toHex(card.atr));
      expect(session.protocol).toBe('t1');
      expect(session.slot).toBe(0);
      expect(session.reader).toMatchObject({ exchangeLevel: preset === 'castles-ezccid' ? 'tpdu' : 'extended-apdu' });
      expect(session.entries[0]!.command).toMatch(/^00 A4 04 [0-9A-F]{2} 08 D1 58 00 00 01 48 43 41/);
      expect(session.entries.every((e) => e.sw !== undefined)).toBe(true);
      // By default the card's files (card number, name, ID number) stay out of the trace.
      expect(r.files.get('trace.json')).not.toContain(toHex(ascii(`GH${VIRTUAL_HCA_DEFAULTS.cardNumber}`)));
    },
    30_000,
  );

  it('probe keeps the files (name, ID number, card number) out of the trace by default', async () => {
    const r = await run(['probe', '--out', 't.json'], bus({ preset: 'castles-ezccid', card: await hcaCard() }));
    const json = r.files.get('t.json')!;
    expect(json).toContain('[REDACTED');
    expect(json).not.toContain(toHex(ascii('GH')));
    expect(json).not.toContain(toHex(ascii(VIRTUAL_HCA_DEFAULTS.personnel.idNumber)));
    // The screen still shows them to the card holder.
    expect(r.out.join('\n')).toContain(VIRTUAL_HCA_DEFAULTS.personnel.idNumber);
  });

  it('probe --keep-card-data puts the files into the trace as read', async () => {
    const r = await run(['probe', '--out', 't.json', '--keep-card-data'], bus({ preset: 'castles-ezccid', card: await hcaCard() }));
    expect(r.files.get('t.json')).toContain(toHex(ascii(`GH${VIRTUAL_HCA_DEFAULTS.cardNumber}`)));
  });

  it('probe on a version 1 card: certificates 2 and 3 absent', async () => {
    const r = await run(['probe'], bus({ preset: 'castles-ezccid', card: await hcaCard({ version: 1 }) }));
    expect(r.out).toContain('    certificate 2: absent');
    expect(r.out).toContain('    certificate 3: absent');
    expect(r.out.join('\n')).toMatch(/certificate 1: \d+ bytes/);
  });

  it('probe on a card that is not an HCA card, and on empty and several readers', async () => {
    const usb = bus({ preset: 'omnikey-3121', card: new VirtualCard({ atr: T0_CARD_ATR }) }, { preset: 'castles-ezccid' }, { preset: 'castles-ezccid', card: await hcaCard() });
    const report = await probeReaders({ backend: usb });
    expect(report.readers).toHaveLength(3);
    expect(report.readers[0]!.slots[0]!.hca).toMatchObject({ atrKnown: false, selected: false, openError: { code: 'hca/not-hca-card' } });
    expect(report.readers[0]!.slots[0]!.protocol).toBe('t0');
    expect(report.readers[1]!.slots[0]!.state).toBe('absent');
    expect(report.readers[2]!.slots[0]!.hca).toMatchObject({ atrKnown: true, selected: true, cardNumber: VIRTUAL_HCA_DEFAULTS.cardNumber });
    expect(report.readers[2]!.slots[0]!.hca!.certificates.map((c) => c.present)).toEqual([true, true, true, true]);
    expect(report.trace.sessions).toHaveLength(2);
  });

  it('--verify-pin: status first, then the PIN once; the PIN is in no output, prompt or trace, and its buffer is wiped', async () => {
    consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    const card = await hcaCard();
    const r = await run(['probe', '--verify-pin', '--out', 't.json'], bus({ preset: 'castles-ezccid', card }), { pins: [PIN] });
    expect(r.code).toBe(0);
    expect(r.out).toContain('    PIN: 3 of 3 tries left (no try spent)');
    expect(r.out).toContain('    PIN verified.');
    expect(r.prompts).toHaveLength(1);
    expect(r.pinBuffers[0]!.every((b) => b === 0)).toBe(true);
    expectNoSecret(r, PIN);
    const trace = JSON.parse(r.files.get('t.json')!) as TraceFile;
    const verifies = trace.sessions[0]!.entries.filter((e) => e.command.startsWith('00 20'));
    expect(verifies.map((e) => e.command)).toEqual([
      `00 20 00 ${toHex(Uint8Array.of(HCA_PROFILE.pin.reference.value))}`,
      `00 20 00 ${toHex(Uint8Array.of(HCA_PROFILE.pin.reference.value))} 08 [REDACTED 8 bytes]`,
    ]);
    for (const spy of consoleSpies) for (const call of spy.mock.calls) expect(JSON.stringify(call)).not.toContain(PIN);
  });

  it('--verify-pin with a wrong PIN: one try spent, retries left shown, never retried', async () => {
    const card = await hcaCard();
    const r = await run(['probe', '--verify-pin'], bus({ preset: 'castles-ezccid', card }), { pins: [WRONG_PIN, PIN] });
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toContain('Wrong PIN: 2 tries left.');
    expect(r.prompts).toHaveLength(1);
    expect(card.triesLeft(HCA_PROFILE.pin.reference.value)).toBe(2);
    expectNoSecret(r, WRONG_PIN);
  });

  it('--verify-pin warns on the last try, skips on an empty answer, and never asks on a blocked card', async () => {
    const last = await hcaCard({ pinTriesLeft: 1 });
    const skipped = await run(['probe', '--verify-pin'], bus({ preset: 'castles-ezccid', card: last }), { pins: [''] });
    expect(skipped.prompts[0]).toMatch(/Only 1 try left: a wrong PIN blocks the card/);
    expect(skipped.out).toContain('    PIN verification skipped.');
    expect(last.triesLeft(HCA_PROFILE.pin.reference.value)).toBe(1);

    const locked = await hcaCard({ locked: true });
    const r = await run(['probe', '--verify-pin'], bus({ preset: 'castles-ezccid', card: locked }), { pins: [PIN] });
    expect(r.prompts).toHaveLength(0);
    expect(r.out.join('\n')).toMatch(/PIN: blocked\. Unlock the card with its PUK/);
  });

  it('a PIN of the wrong format is refused before anything is sent (no try spent)', async () => {
    const card = await hcaCard();
    const r = await run(['probe', '--verify-pin'], bus({ preset: 'castles-ezccid', card }), { pins: ['12ab'] });
    expect(r.out.join('\n')).toMatch(/PIN verification failed: .*\[hca\/bad-pin-format\]/);
    expect(card.triesLeft(HCA_PROFILE.pin.reference.value)).toBe(3);
    expectNoSecret(r, '12ab');
  });

  it('--verify-pin on a pinpad reader: the PIN is keyed on the reader (no prompt); --no-pinpad asks here', async () => {
    const card = await hcaCard();
    const pinpad = createVirtualPinpad();
    const usb = new VirtualUsb({ devices: [createVirtualReader({ preset: 'gemplus-gempc-pinpad', card, onSecure: pinpad.onSecure })] });
    pinpad.type(PIN).enter();
    const r = await run(['probe', '--verify-pin', '--out', 't.json'], usb);
    expect(r.prompts).toHaveLength(0);
    expect(r.out).toContain("    Enter the PIN on the reader's keypad.");
    expect(r.out).toContain('    PIN verified.');
    const trace = JSON.parse(r.files.get('t.json')!) as TraceFile;
    const secure = trace.sessions[0]!.entries.filter((e) => e.kind === 'secure-verify');
    expect(secure).toHaveLength(1);
    expect(secure[0]).toMatchObject({ command: '00 20 00 81', sw: '9000', secure: { format: { encoding: 'ascii', blockLength: 8 } } });
    expectNoSecret(r, PIN);

    pinpad.cancel();
    const cancelled = await run(['probe', '--verify-pin'], usb);
    expect(cancelled.out).toContain('    PIN entry cancelled on the reader: verification skipped.');
    expect(card.triesLeft(HCA_PROFILE.pin.reference.value)).toBe(3);

    const here = await run(['probe', '--verify-pin', '--no-pinpad'], usb, { pins: [PIN] });
    expect(here.prompts).toHaveLength(1);
    expect(here.out).toContain('    PIN verified.');
  });

  it('Ctrl-C at the PIN prompt skips the verification', async () => {
    const card = await hcaCard();
    const report = await probeReaders({
      backend: bus({ preset: 'castles-ezccid', card }),
      verifyPin: true,
      readPin: () => Promise.reject(new AbortError('PIN entry cancelled.')),
    });
    expect(report.readers[0]!.slots[0]!.hca!.pin).toMatchObject({ outcome: 'skipped', retriesBefore: 3 });
  });

  it('--profile: a corrected profile (other AID and PIN reference) is merged over the default and used', async () => {
    const corrected: HcaProfile = {
      ...HCA_PROFILE,
      id: 'hca-corrected-test',
      aid: { value: 'A0 00 00 01 51 48 43 41', status: 'confirmed', source: 'probe trace' },
      pin: { ...HCA_PROFILE.pin, reference: { value: 0x01, status: 'confirmed', source: 'probe trace' } },
    };
    const patch = JSON.stringify({ id: 'hca-corrected-test', aid: { value: 'A0 00 00 01 51 48 43 41', status: 'confirmed' }, pin: { reference: { value: 1 } }, bogus: 1 });
    const card = await hcaCard({ profile: corrected });
    const usb = bus({ preset: 'castles-ezccid', card });
    const before = await run(['probe'], usb);
    expect(before.out.join('\n')).toContain('[hca/not-hca-card]');
    const after = await run(['probe', '--profile', 'p.json', '--verify-pin', '--out', 't.json'], usb, { readFile: async () => patch, pins: [PIN] });
    expect(after.code).toBe(0);
    expect(after.err).toEqual(['webccid: warning: the profile key "bogus" is not a profile field (ignored by the operations).']);
    expect(after.out).toContain('Profile: hca-corrected-test (from p.json)');
    expect(after.out).toContain('    PIN verified.');
    expect(JSON.parse(after.files.get('t.json')!).profile.id).toBe('hca-corrected-test');
    const bad = await run(['probe', '--profile', 'p.json'], usb, { readFile: async () => '[1,2]' });
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/must hold a JSON object/);
  });
});

describe('mergeProfile', () => {
  it('merges objects key by key and replaces values and arrays', () => {
    const { profile, unknownKeys } = mergeProfile(JSON.stringify({ files: { certificates: { value: [1, 2, 3, 4] } }, pin: { encoding: { value: { encoding: 'bcd' } } } }));
    expect(profile.files.certificates).toEqual({ ...HCA_PROFILE.files.certificates, value: [1, 2, 3, 4] });
    expect(profile.pin.encoding.value).toEqual({ ...HCA_PROFILE.pin.encoding.value, encoding: 'bcd' });
    expect(profile.files.cardInfo).toEqual(HCA_PROFILE.files.cardInfo);
    expect(unknownKeys).toEqual([]);
    expect(HCA_PROFILE.files.certificates.value).toEqual([0x10, 0x11, 0x12, 0x13]);
  });

  it('rejects text that is not a JSON object', () => {
    for (const text of ['', 'nope', '3', 'null', '[]']) {
      expect(() => mergeProfile(text)).toThrow(expect.objectContaining({ code: 'cli/bad-profile' }));
    }
  });
});

describe('readHiddenLine', () => {
  function fakeTty(): { input: NodeJS.ReadStream; output: NodeJS.WriteStream; echoed: () => string; raw: boolean[] } {
    const input = new PassThrough() as unknown as NodeJS.ReadStream & { isTTY: boolean };
    const raw: boolean[] = [];
    input.isTTY = true;
    input.setRawMode = (mode: boolean) => {
      raw.push(mode);
      return input;
    };
    let echoed = '';
    const output = { write: (s: string) => ((echoed += s), true) } as unknown as NodeJS.WriteStream;
    return { input, output, echoed: () => echoed, raw };
  }

  it('terminal: raw mode, a * per digit, Backspace erases, Enter ends; nothing echoed in clear', async () => {
    const t = fakeTty();
    const p = readHiddenLine('PIN: ', { input: t.input, output: t.output });
    t.input.write(new Uint8Array([0x31, 0x32, 0x39, 0x7f, 0x33]));
    t.input.write(new Uint8Array([0x34, 0x35, 0x36, 0x0d, 0x37]));
    const line = await p;
    expect(new TextDecoder().decode(line)).toBe('123456');
    expect(t.raw).toEqual([true, false]);
    expect(t.echoed()).toBe('PIN: ***\b \b****\n');
  });

  it('terminal: Ctrl-C rejects with AbortError', async () => {
    const t = fakeTty();
    const p = readHiddenLine('PIN: ', { input: t.input, output: t.output });
    t.input.write(new Uint8Array([0x31, 0x03]));
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(t.raw).toEqual([true, false]);
  });

  it('pipe: reads one line, echoes nothing', async () => {
    const input = new PassThrough() as unknown as NodeJS.ReadStream;
    let echoed = '';
    const output = { write: (s: string) => ((echoed += s), true) } as unknown as NodeJS.WriteStream;
    const p = readHiddenLine('PIN: ', { input, output });
    input.write('654321\nrest\n');
    expect(new TextDecoder().decode(await p)).toBe('654321');
    expect(echoed).toBe('PIN: \n');
  });
});

describe('webccid nhi', () => {
  it('reads the NHI card in the first reader holding one; a non-NHI card and no reader exit 1', async () => {
    const { createVirtualNhiCard } = await import('../virtual/nhi-card.js');
    const usb = bus({ preset: 'castles-ezccid' }, { preset: 'omnikey-3121', card: createVirtualNhiCard({ atr: 'compact-tlv', name: '陳怡君', birthDate: '1975-12-31' }) });
    const r = await run(['nhi'], usb);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      'Card number: 000012345678',
      'Name:        陳怡君',
      'ID number:   A123456789',
      'Birth date:  1975-12-31',
      'Sex:         M',
      'Issue date:  2020-06-15',
    ]);
    const hca = await run(['nhi'], bus({ preset: 'castles-ezccid', card: await hcaCard() }));
    expect(hca.code).toBe(1);
    expect(hca.err[0]).toMatch(/\[nhi\/not-nhi-card\]/);
    expect((await run(['nhi'], new VirtualUsb({ devices: [] }))).code).toBe(1);
    expect((await run(['nhi', '--out', 'x'], usb)).code).toBe(2);
  });
});

describe('webccid probe --out: the report file', () => {
  it('is a trace file with the findings under "probe", and the findings are printed', async () => {
    const r = await run(['probe', '--out', 'r.json'], bus({ preset: 'castles-ezccid', card: await hcaCard() }));
    expect(r.code).toBe(0);
    expect(r.out).toContain('Profile fields:');
    expect(r.out.join('\n')).toMatch(/ {4}aid: SELECT by the profile's AID answered 90 00/);
    const file = JSON.parse(r.files.get('r.json')!) as TraceFile & { probe: { redacted: boolean; findings: Array<{ kind: string }>; readers: Array<{ slots: Array<{ hca: { cardNumber: string } }> }> } };
    expect(file).toMatchObject({ format: 'webccid-trace', version: 1, probe: { redacted: true } });
    expect(file.probe.findings[0]!.kind).toBe('hca');
    expect(file.probe.readers[0]!.slots[0]!.hca.cardNumber).toMatch(/^\[REDACTED \d+ chars\]$/);
    expect(r.files.get('r.json')).not.toContain(VIRTUAL_HCA_DEFAULTS.personnel.idNumber);
  });
});

/** A Linux host with a USB bus and nothing special, changed by `over`. */
function linuxHost(over: Partial<HostChecks> & { paths?: string[]; devices?: HostUsbDevice[] } = {}): HostChecks {
  const paths = new Set(over.paths ?? ['/dev/bus/usb']);
  return {
    platform: over.platform ?? 'linux',
    exists: over.exists ?? ((p) => paths.has(p)),
    processNames: over.processNames ?? (() => ['systemd', 'bash']),
    usbDevices: over.usbDevices ?? (async () => over.devices ?? []),
  };
}

/**
 * The `usb` package's WebUSB as libusb makes it fail: claimInterface rejects with
 * "claimInterface error: LIBUSB_ERROR_<what>" (node-usb's webusb-device.js wording).
 */
function libusbRefusing(what: 'BUSY' | 'ACCESS'): UsbBackendLike {
  const inner = bus({ preset: 'castles-ezccid' });
  return {
    getDevices: async () =>
      (await inner.getDevices()).map(
        (d) =>
          new Proxy(d, {
            get(target, prop, receiver) {
              if (prop === 'claimInterface') return async () => Promise.reject(new Error(`claimInterface error: Error: LIBUSB_ERROR_${what}`));
              const v = Reflect.get(target, prop, receiver) as unknown;
              return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
            },
          }) as UsbDeviceLike,
      ),
    addEventListener: () => undefined,
    removeEventListener: () => undefined,
  };
}

describe('no usable reader: exit 3 and the likely cause for the platform (issue 9.8)', () => {
  it('Linux without /dev/bus/usb (a container without the bus): list and probe say so', async () => {
    for (const command of ['list', 'probe']) {
      const r = await run([command], bus(), { host: linuxHost({ paths: [] }) });
      expect(r.code).toBe(3);
      expect(r.err.join('\n')).toMatch(/no-usb-bus/);
      expect(r.err.join('\n')).toMatch(/\/dev\/bus\/usb does not exist/);
      expect(r.err.join('\n')).toMatch(/--device \/dev\/bus\/usb/);
    }
  });

  it('Linux, a reader this user may not open (LIBUSB_ERROR_ACCESS: WebUSB does not list it): the udev rule for it', async () => {
    const r = await run(['list'], bus(), { host: linuxHost({ devices: [{ vendorId: 0x0ca6, productId: 0x00a0, openError: 'LIBUSB_ERROR_ACCESS' }] }) });
    expect(r.code).toBe(3);
    const err = r.err.join('\n');
    expect(err).toMatch(/no-permission/);
    expect(err).toContain('SUBSYSTEM=="usb", ATTR{idVendor}=="0ca6", ATTR{idProduct}=="00a0", MODE="0660", TAG+="uaccess"');
    expect(err).toMatch(/udevadm control --reload-rules/);
  });

  it('Linux, the claim fails LIBUSB_ERROR_BUSY while pcscd runs (or its socket waits): stop pcscd', async () => {
    const running = await run(['probe'], libusbRefusing('BUSY'), { host: linuxHost({ processNames: () => ['systemd', 'pcscd'] }) });
    expect(running.code).toBe(3);
    expect(running.err.join('\n')).toMatch(/held-by-pcscd[\s\S]*pcscd .* is running[\s\S]*systemctl stop pcscd.socket pcscd/);
    const socket = await run(['list'], libusbRefusing('BUSY'), { host: linuxHost({ paths: ['/dev/bus/usb', '/run/pcscd/pcscd.comm'] }) });
    expect(socket.code).toBe(3);
    expect(socket.err.join('\n')).toMatch(/pcscd.socket is active/);
    const neither = await run(['list'], libusbRefusing('BUSY'), { host: linuxHost() });
    expect(neither.code).toBe(3);
    expect(neither.err.join('\n')).toMatch(/\(held\)[\s\S]*Another program or driver holds the reader/);
  });

  it('Windows, the reader on its own driver (LIBUSB_ERROR_NOT_SUPPORTED): WinUSB with Zadig', async () => {
    const r = await run(['list'], bus(), {
      host: linuxHost({ platform: 'win32', paths: [], devices: [{ vendorId: 0x0ca6, productId: 0x0010, openError: 'LIBUSB_ERROR_NOT_SUPPORTED' }] }),
    });
    expect(r.code).toBe(3);
    expect(r.err.join('\n')).toMatch(/windows-driver[\s\S]*0CA6:0010[\s\S]*Zadig/);
  });

  it("macOS, the claim refused (the system's smart-card service): says who holds it", async () => {
    const r = await run(['list'], libusbRefusing('ACCESS'), { host: linuxHost({ platform: 'darwin', paths: [] }) });
    expect(r.code).toBe(3);
    expect(r.err.join('\n')).toMatch(/held-by-macos[\s\S]*com\.apple\.ifdreader/);
  });

  it('nothing plugged in on a machine with a USB bus: no-reader, exit 3; a usable reader: exit 0, nothing on stderr', async () => {
    const none = await run(['probe'], bus(), { host: linuxHost() });
    expect(none.code).toBe(3);
    expect(none.err.join('\n')).toMatch(/no-reader[\s\S]*lsusb/);
    const host = linuxHost({ usbDevices: async () => Promise.reject(new Error('must not be asked')) });
    const ok = await run(['list'], bus({ preset: 'castles-ezccid' }), { host });
    expect(ok.code).toBe(0);
    expect(ok.err).toEqual([]);
  });
});
