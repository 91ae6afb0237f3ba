/**
 * A virtual ISO/IEC 7816-4 card: an APDU processor with a tiny file system,
 * PINs and a test command. The reader (src/virtual/reader/) puts a wire
 * protocol in front of it (T=1 blocks or T=0 TPDUs, see t0-card.ts and
 * t1-card.ts), or calls `transmit` directly at APDU level.
 *
 * Commands (CLA 0x00..0x0F interindustry, 0x80..0xFE proprietary; CLA bit
 * 0x10 = command chaining, supported for every command; secure messaging
 * (CLA bits 0x0C) answers 6882; CLA 0xFF answers 6E00):
 *
 * - SELECT (A4): P1 00 (MF / EF / DF by FID; empty data or 3F00 = MF), 01 (child
 *   DF), 02 (EF of the current DF), 03 (parent), 04 (DF name = AID, right-truncated
 *   names match), 08 (path from the MF), 09 (path from the current DF). P2 00 = FCI
 *   (6F), 04 = FCP (62), 0C = no data. 6A82 not found, 6A86 bad P1/P2.
 * - READ BINARY (B0): offset P1P2 (15 bits) in the current EF, or P1 = 1 0 0 SFI
 *   with offset P2; short or extended Le; 6282 when the file ends before Ne bytes,
 *   6B00 when the offset is at or beyond the end, 6986 no current EF, 6982 when the
 *   EF needs a PIN not verified, 6700 without Le.
 * - GET CHALLENGE (84): Ne (1..256) pseudo-random bytes (deterministic per seed).
 * - VERIFY (20): P1 00, P2 = PIN reference. No data: 9000 when verified, else 63Cx.
 *   Wrong PIN: 63Cx with x tries left (63C0 on the try that blocks), then 6983.
 *   Unknown reference 6A88.
 * - CHANGE REFERENCE DATA (24, P1 00): data = old PIN || new PIN (old length = stored
 *   length). RESET RETRY COUNTER (2C): P1 00 data = PUK || new PIN, P1 01 data = PUK,
 *   P1 02 data = new PIN and P1 03 no data, both only after the PUK was verified (VERIFY
 *   with the PUK reference) in this session (6982 otherwise).
 *   The PIN encoding is "the bytes as given"; `VirtualPinSpec.acceptValue` can restrict
 *   new values (the virtual HCA card checks its profile's PIN block format).
 * - Subclasses add commands by overriding `executeExtension` (see hca-card.ts).
 * - GET RESPONSE (C0): the rest of a response longer than Ne (which answered 61xx).
 * - ENVELOPE (C2): the data of a chain of ENVELOPEs (the last without CLA bit 0x10)
 *   is a command APDU, processed as such (lets T=0 carry extended APDUs).
 * - Test command, CLA 0x80 INS 0xEE (`VIRTUAL_TEST_INS`):
 *   P1 00 = echo: returns the command data;
 *   P1 01 = digest: returns Nc (2 bytes, big-endian) and the XOR of the data bytes;
 *   P1 >= 0x80 = generate: returns N = ((P1 & 0x7F) << 8 | P2) bytes, byte i = i & 0xFF.
 *   Always 9000 (subject to Ne as for every command).
 *
 * Ne rules: a response longer than Ne returns Ne bytes with 61xx (xx = bytes
 * left, 00 = 256 or more) and GET RESPONSE gives the rest; a command without Le
 * returns no data.
 *
 * The file system is card-files.ts, the PINs card-pins.ts, the status words
 * card-status.ts; this file holds the command processing and the factories.
 */
import { concatBytes, bytesEqual } from '../bytes.js';
import { isWebCcidError } from '../errors.js';
import { parseApdu, type ParsedApdu } from '../iso7816/apdu.js';
import { CardFileSystem, type VirtualDfSpec, type VirtualEfSpec } from './card-files.js';
import { CardPins, type VirtualPinSpec } from './card-pins.js';
import { reply, SW, swBytes } from './card-status.js';

export type { VirtualDfSpec, VirtualEfSpec } from './card-files.js';
export type { VirtualPinSpec } from './card-pins.js';

/** INS of the proprietary test command (CLA 0x80). */
export const VIRTUAL_TEST_INS = 0xee;

export interface VirtualCardOptions {
  /** The ATR the card answers to a reset. */
  atr: Uint8Array;
  /** The file system; default an MF with nothing in it. */
  fileSystem?: VirtualDfSpec;
  pins?: VirtualPinSpec[];
  /** Seed of the GET CHALLENGE generator. */
  challengeSeed?: number;
  /** Label for traces. */
  label?: string;
}

/** A virtual contact card (see the module comment for its commands). */
export class VirtualCard {
  readonly atr: Uint8Array;
  readonly label: string;
  private readonly files: CardFileSystem;
  private readonly pins: CardPins;
  private pendingResponse: Uint8Array | undefined;
  private chain: { header: Uint8Array; parts: Uint8Array[] } | undefined;
  private envelope: Uint8Array[] | undefined;
  private seed: number;
  private readonly initialSeed: number;
  /** Count of APDUs processed since creation (for tests). */
  apduCount = 0;

  constructor(options: VirtualCardOptions) {
    this.atr = options.atr.slice();
    this.label = options.label ?? 'virtual card';
    this.files = new CardFileSystem(options.fileSystem ?? { type: 'df', fid: 0x3f00, children: [] });
    this.pins = new CardPins(options.pins ?? []);
    this.initialSeed = (options.challengeSeed ?? 0x2545f491) >>> 0 || 1;
    this.seed = this.initialSeed;
  }

  /** Cold or warm reset: clears the security state, selects the MF, returns the ATR. PIN counters persist. */
  reset(): Uint8Array {
    this.pins.reset();
    this.files.reset();
    this.pendingResponse = undefined;
    this.chain = undefined;
    this.envelope = undefined;
    this.onReset();
    return this.atr.slice();
  }

  /**
   * Hook for subclasses: handle a command before the built-in ones (after
   * chaining and ENVELOPE are resolved; Ne is applied to the answer). Return
   * `[data, sw]`, or undefined to let the built-in commands handle it.
   */
  protected executeExtension(_cmd: ParsedApdu): [Uint8Array, number] | undefined {
    return undefined;
  }

  /** Hook for subclasses: called on every reset, after the security state is cleared. */
  protected onReset(): void {}

  /** Tries left for a PIN reference (undefined when unknown). */
  triesLeft(reference: number): number | undefined {
    return this.pins.triesLeft(reference);
  }

  /**
   * For subclasses: a PIN presentation the card refuses (e.g. in a form it does not take): one
   * try is spent, as a wrong PIN would. Returns the status word a wrong PIN gets (63Cx, 6983 when
   * blocked already, 6A88 for an unknown reference).
   */
  protected spendTry(reference: number): number {
    return this.pins.spendTry(reference);
  }

  /**
   * A copy of the reference data (the PIN or PUK block as stored) of a reference, e.g. to carry a
   * virtual card's memory over to a new instance (the demo does, from page to page). Test data only.
   */
  referenceData(reference: number): Uint8Array | undefined {
    return this.pins.referenceData(reference);
  }

  /** True when the PIN reference is verified in the current session. */
  isVerified(reference: number): boolean {
    return this.pins.isVerified(reference);
  }

  /**
   * For T=0 (7816-3 §12.2): whether a command sends data to the card ('in'), gets
   * data from it ('out') or neither, judged from its header the way the card's
   * own procedure-byte logic would.
   */
  t0Direction(header: Uint8Array): 'in' | 'out' {
    const ins = header[1] ?? 0;
    const p1 = header[2] ?? 0;
    switch (ins) {
      case 0xb0:
      case 0xb2:
      case 0x84:
      case 0xc0:
      case 0xca:
        return 'out';
      case VIRTUAL_TEST_INS:
        return p1 & 0x80 ? 'out' : 'in';
      default:
        return 'in';
    }
  }

  /** Processes one command APDU; returns response data || SW1 SW2. Never throws. */
  transmit(apdu: Uint8Array): Uint8Array {
    this.apduCount++;
    let cmd: ParsedApdu;
    try {
      cmd = parseApdu(apdu);
    } catch (e) {
      if (isWebCcidError(e)) return swBytes(SW.WRONG_LENGTH);
      throw e;
    }
    return this.process(cmd);
  }

  private process(cmd: ParsedApdu): Uint8Array {
    const ne = cmd.le ?? 0;
    if (cmd.cla === 0xff) return swBytes(SW.CLA_NOT_SUPPORTED);
    if (cmd.cla < 0x80 && cmd.cla & 0x0c) return swBytes(SW.SM_NOT_SUPPORTED);
    // GET RESPONSE serves what is pending; anything else drops it.
    if (cmd.ins === 0xc0) return this.getResponse(cmd, ne);
    this.pendingResponse = undefined;
    // ENVELOPE: collect, then process the carried command.
    if (cmd.ins === 0xc2) return this.envelopeCommand(cmd);
    // Command chaining (CLA bit 0x10).
    if (cmd.cla & 0x10) {
      const header = Uint8Array.of(cmd.cla & 0xef, cmd.ins, cmd.p1, cmd.p2);
      if (this.chain && !bytesEqual(this.chain.header, header)) {
        this.chain = undefined;
        return swBytes(SW.LAST_COMMAND_EXPECTED);
      }
      this.chain ??= { header, parts: [] };
      this.chain.parts.push(cmd.data ?? new Uint8Array(0));
      return swBytes(SW.OK);
    }
    if (this.chain) {
      const chain = this.chain;
      this.chain = undefined;
      if (!bytesEqual(chain.header, cmd.header)) return swBytes(SW.LAST_COMMAND_EXPECTED);
      const data = concatBytes(...chain.parts, cmd.data ?? new Uint8Array(0));
      cmd = { ...cmd, data, case: cmd.le === undefined ? 3 : 4 };
    }
    const [data, sw] = this.execute(cmd);
    return this.limit(data, sw, ne);
  }

  /** Applies Ne: no Le = no data; more than Ne = Ne bytes + 61xx, the rest for GET RESPONSE. */
  private limit(data: Uint8Array, sw: number, ne: number): Uint8Array {
    if (ne === 0 || data.length === 0) return swBytes(sw);
    if (data.length <= ne) return reply(data, sw);
    const rest = data.slice(ne);
    this.pendingResponse = rest;
    return reply(data.subarray(0, ne), 0x6100 | (rest.length >= 256 ? 0 : rest.length));
  }

  private getResponse(cmd: ParsedApdu, ne: number): Uint8Array {
    if (cmd.p1 !== 0 || cmd.p2 !== 0) return swBytes(SW.WRONG_P1P2);
    const pending = this.pendingResponse;
    if (!pending) return swBytes(SW.CONDITIONS);
    if (ne === 0) return swBytes(SW.WRONG_LENGTH);
    this.pendingResponse = undefined;
    return this.limit(pending, SW.OK, ne);
  }

  private envelopeCommand(cmd: ParsedApdu): Uint8Array {
    this.envelope ??= [];
    this.envelope.push(cmd.data ?? new Uint8Array(0));
    if (cmd.cla & 0x10) return swBytes(SW.OK);
    const inner = concatBytes(...this.envelope);
    this.envelope = undefined;
    let parsed: ParsedApdu;
    try {
      parsed = parseApdu(inner);
    } catch {
      return swBytes(SW.WRONG_DATA);
    }
    return this.process(parsed);
  }

  private execute(cmd: ParsedApdu): [Uint8Array, number] {
    const none = new Uint8Array(0);
    const extended = this.executeExtension(cmd);
    if (extended) return extended;
    switch (cmd.ins) {
      case 0xa4:
        return this.files.select(cmd);
      case 0xb0:
        return this.files.readBinary(cmd, (reference) => this.pins.isVerified(reference));
      case 0x84: {
        if (cmd.p1 !== 0 || cmd.p2 !== 0) return [none, SW.WRONG_P1P2];
        const ne = cmd.le ?? 0;
        if (ne === 0 || ne > 256) return [none, SW.WRONG_LENGTH];
        const out = new Uint8Array(ne);
        for (let i = 0; i < ne; i++) out[i] = this.nextRandom();
        return [out, SW.OK];
      }
      case 0x20:
        return [none, this.pins.verify(cmd)];
      case 0x24:
        return [none, this.pins.changeReferenceData(cmd)];
      case 0x2c:
        return [none, this.pins.resetRetryCounter(cmd)];
      case VIRTUAL_TEST_INS:
        if ((cmd.cla & 0x80) === 0) return [none, SW.INS_NOT_SUPPORTED];
        return this.testCommand(cmd);
      default:
        return [none, SW.INS_NOT_SUPPORTED];
    }
  }

  private nextRandom(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed & 0xff;
  }

  // ---- test command --------------------------------------------------------------

  private testCommand(cmd: ParsedApdu): [Uint8Array, number] {
    const data = cmd.data ?? new Uint8Array(0);
    if (cmd.p1 === 0x00) return [data.slice(), SW.OK];
    if (cmd.p1 === 0x01) {
      let x = 0;
      for (const b of data) x ^= b;
      return [Uint8Array.of(data.length >> 8, data.length & 0xff, x), SW.OK];
    }
    if (cmd.p1 & 0x80) {
      const n = ((cmd.p1 & 0x7f) << 8) | cmd.p2;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = i & 0xff;
      return [out, SW.OK];
    }
    return [new Uint8Array(0), SW.WRONG_P1P2];
  }
}

// ---- factories -------------------------------------------------------------------

/** The HCA personnel card ATR (confirmed): T=1 only, TA1=18, IFSC 254, historical bytes "PV_J2D081". */
export const HCA_ATR = Uint8Array.of(0x3b, 0xf9, 0x18, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x45, 0x50, 0x56, 0x5f, 0x4a, 0x32, 0x44, 0x30, 0x38, 0x31, 0xb6);

/**
 * ATR of the virtual T=0 card: TS 3B, T0 = 0x95 (TA1 TD1, 5 historical bytes), TA1 = 0x13 (Fi 372,
 * Di 4), TD1 = 0x00 (T=0 only, no TCK), historical bytes "VT0CD".
 */
export const T0_CARD_ATR = Uint8Array.of(0x3b, 0x95, 0x13, 0x00, 0x56, 0x54, 0x30, 0x43, 0x44);

/**
 * The HCA-like layout. Everything but the ATR is ASSUMED (the real AID, file IDs and references
 * are not public; see docs/design.md §5). The trace recorder / probe will confirm or correct it.
 */
export const HCA_LIKE_LAYOUT = {
  /** DF name of the HCA applet. Assumed: national RID D158 (Taiwan) + "HCA". */
  aid: Uint8Array.of(0xd1, 0x58, 0x00, 0x00, 0x01, 0x48, 0x43, 0x41),
  dfFid: 0x4843,
  files: {
    /** Basic data (name, ID number, category), readable without a PIN. */
    basicData: { fid: 0x0001, sfi: 1 },
    /** Card information: card number "GH" + 12 digits, validity dates. */
    cardInfo: { fid: 0x0002, sfi: 2 },
    /** Certificates 0..3: HCA CA, signature, encryption, GRCA root. */
    certificates: [0x0010, 0x0011, 0x0012, 0x0013],
  },
  /** VERIFY P2 of the user PIN (assumed). */
  pinReference: 0x81,
  /** Reference of the PUK (assumed). */
  pukReference: 0x82,
  /** Default test values (virtual card only). */
  defaultPin: '123456',
  defaultPuk: '12345678',
  /** Serial number in EF.GDO-like file 3F00/2F02. */
  serialFid: 0x2f02,
} as const;

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** A fake DER "certificate": SEQUENCE with a long length and deterministic content, `total` bytes in all. */
export function fakeCertificate(total: number, seed: number): Uint8Array {
  const out = new Uint8Array(total);
  out[0] = 0x30;
  out[1] = 0x82;
  out[2] = ((total - 4) >> 8) & 0xff;
  out[3] = (total - 4) & 0xff;
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 4; i < total; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export interface HcaLikeCardOptions {
  /** PIN (ASCII digits); default "123456". */
  pin?: string;
  puk?: string;
  pinTriesLeft?: number;
  /** Card number digits after "GH" (12 digits); default "000012345678". */
  cardNumber?: string;
  /** Size of the signature certificate (EF 0011), default 2100 bytes (the benchmark file, > 2 KB). */
  signatureCertificateSize?: number;
  /** Version 1 cards lack certificates 2 and 3. */
  version?: 1 | 2;
  challengeSeed?: number;
  /** The whole ATR (default `HCA_ATR`); wins over `ifsc`. */
  atr?: Uint8Array;
  /** IFSC of the HCA ATR (TA3, 1..254; default 254); TCK is recomputed. */
  ifsc?: number;
}

/** The HCA ATR with another IFSC in TA3 (index 7) and TCK recomputed. */
export function hcaAtrWithIfsc(ifsc: number): Uint8Array {
  const atr = HCA_ATR.slice();
  atr[7] = ifsc & 0xff;
  let tck = 0;
  for (let i = 1; i < atr.length - 1; i++) tck ^= atr[i]!;
  atr[atr.length - 1] = tck;
  return atr;
}

/**
 * An HCA-like card: the real HCA ATR (T=1 only, TA1=18, IFSC 254) and the
 * ASSUMED layout of `HCA_LIKE_LAYOUT`:
 *
 * ```
 * MF 3F00
 * ├─ EF 2F02  serial number (8 bytes)
 * └─ DF 4843  AID D1 58 00 00 01 48 43 41 (assumed)
 *    ├─ EF 0001 (SFI 1) basic data: "name|ID|category" UTF-8-free ASCII placeholder
 *    ├─ EF 0002 (SFI 2) card info: "GH" + 12 digits, valid-from, valid-to (YYYYMMDD)
 *    ├─ EF 0010 certificate 0 (HCA CA), 1200 bytes
 *    ├─ EF 0011 certificate 1 (signature), 2100 bytes by default
 *    ├─ EF 0012 certificate 2 (encryption), 1500 bytes (version 2)
 *    └─ EF 0013 certificate 3 (GRCA root), 1400 bytes (version 2)
 * PIN reference 0x81 (default "123456", 3 tries), PUK reference 0x82 ("12345678", 10 tries)
 * ```
 */
export function createHcaLikeCard(options: HcaLikeCardOptions & { label?: string } = {}): VirtualCard {
  const L = HCA_LIKE_LAYOUT;
  const cardNumber = options.cardNumber ?? '000012345678';
  const version = options.version ?? 2;
  const certs: VirtualEfSpec[] = [
    { type: 'ef', fid: 0x0010, data: fakeCertificate(1200, 10), description: 'certificate 0: HCA CA' },
    {
      type: 'ef',
      fid: 0x0011,
      data: fakeCertificate(options.signatureCertificateSize ?? 2100, 11),
      description: 'certificate 1: signature',
    },
  ];
  if (version === 2) {
    certs.push({ type: 'ef', fid: 0x0012, data: fakeCertificate(1500, 12), description: 'certificate 2: encryption' });
    certs.push({ type: 'ef', fid: 0x0013, data: fakeCertificate(1400, 13), description: 'certificate 3: GRCA root' });
  }
  return new VirtualCard({
    atr: options.atr ?? (options.ifsc === undefined ? HCA_ATR : hcaAtrWithIfsc(options.ifsc)),
    label: options.label ?? 'HCA-like card',
    challengeSeed: options.challengeSeed ?? 0x48434131,
    fileSystem: {
      type: 'df',
      fid: 0x3f00,
      children: [
        { type: 'ef', fid: L.serialFid, data: ascii('VHCA0001'), description: 'serial number' },
        {
          type: 'df',
          fid: L.dfFid,
          aid: L.aid,
          description: 'HCA applet (assumed)',
          children: [
            { type: 'ef', fid: L.files.basicData.fid, sfi: L.files.basicData.sfi, data: ascii('VIRTUAL HOLDER|A123456789|doctor'), description: 'basic data' },
            { type: 'ef', fid: L.files.cardInfo.fid, sfi: L.files.cardInfo.sfi, data: ascii(`GH${cardNumber}|20240101|20281231`), description: 'card info' },
            ...certs,
          ],
        },
      ],
    },
    pins: [
      {
        reference: L.pinReference,
        value: ascii(options.pin ?? L.defaultPin),
        maxTries: 3,
        ...(options.pinTriesLeft === undefined ? {} : { triesLeft: options.pinTriesLeft }),
        pukReference: L.pukReference,
        minLength: 6,
        maxLength: 8,
      },
      { reference: L.pukReference, value: ascii(options.puk ?? L.defaultPuk), maxTries: 10, minLength: 8, maxLength: 8 },
    ],
  });
}

export interface T0CardOptions {
  /** ATR, default `T0_CARD_ATR` (TA1 = 13, T=0 only). */
  atr?: Uint8Array;
  pin?: string;
  challengeSeed?: number;
}

/**
 * A T=0 card with the HCA-like file layout (same files and PINs) but a T=0 ATR
 * (default TA1 = 0x13: Fi 372, Di 4). For the T=0 paths (61xx, 6Cxx).
 */
export function createT0Card(options: T0CardOptions = {}): VirtualCard {
  return createHcaLikeCard({
    label: 'T=0 card',
    atr: options.atr ?? T0_CARD_ATR,
    ...(options.pin === undefined ? {} : { pin: options.pin }),
    challengeSeed: options.challengeSeed ?? 0x54304344,
  });
}
