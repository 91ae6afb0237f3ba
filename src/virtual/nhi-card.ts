/**
 * The virtual NHI card (健保卡): a `VirtualCard` with the public NHI application (src/nhi/card.ts,
 * docs/design.md §5.1) and one of the public NHI ATRs.
 *
 * ```
 * MF 3F00
 * └─ DF  AID D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00   (the NHI application)
 * ```
 *
 * Commands, on top of `VirtualCard`'s (SELECT, READ BINARY ...):
 * - the basic-data read `00 CA 11 00 02 00 00` (CLA 00, INS CA, P1 P2 = 11 00, Lc 02, data 00 00):
 *   the 57 bytes of basic data + 90 00, once the NHI application is selected. The public readers
 *   send it without Le (case 3) and real cards (T=1) answer the data all the same, so this card
 *   does too (with an Le, the usual Ne rules apply). ASSUMED (no public source says what a real
 *   card answers): 6985 before the application is selected, 6A88 for another P1 P2.
 *
 * The name is stored in Big5 (encoded with `encodeBig5`, which inverts the platform's Big5
 * decoder), padded with NUL (or spaces, `namePadding`) to 20 bytes.
 */
import { bytesEqual, concatBytes, fromHex } from '../bytes.js';
import { WebCcidError } from '../errors.js';
import type { ParsedApdu } from '../iso7816/apdu.js';
import { NHI_AID, NHI_ATRS, NHI_BASIC_LENGTH } from '../nhi/card.js';
import { isoDateToRoc } from '../nhi/roc-date.js';
import { encodeBig5 } from './big5.js';
import { VirtualCard } from './card.js';

/** The public NHI ATRs by preset name: 'jcop' (historical bytes "PVJCOP4SID"), 'compact-tlv'. */
export const NHI_CARD_ATRS = {
  jcop: fromHex(NHI_ATRS[0].hex),
  'compact-tlv': fromHex(NHI_ATRS[1].hex),
} as const;

/** Names of the NHI ATR presets. */
export type NhiAtrPreset = keyof typeof NHI_CARD_ATRS;
/** Every NHI ATR preset name. */
export const NHI_ATR_PRESETS = Object.keys(NHI_CARD_ATRS) as NhiAtrPreset[];

/** Default holder of the virtual NHI card (test values). */
export const VIRTUAL_NHI_DEFAULTS = {
  cardNumber: '000012345678',
  name: '王大明',
  idNumber: 'A123456789',
  birthDate: '1980-01-01',
  sex: 'M',
  issueDate: '2020-06-15',
} as const;

export interface VirtualNhiCardOptions {
  /** An ATR preset (default 'jcop') or the whole ATR. */
  atr?: NhiAtrPreset | Uint8Array;
  /** 12 ASCII characters. */
  cardNumber?: string;
  /** Any text Big5 can encode, up to 20 bytes once encoded. */
  name?: string;
  /** How the name field is padded to 20 bytes (default 'nul'). */
  namePadding?: 'nul' | 'space';
  /** 10 ASCII characters. */
  idNumber?: string;
  /** ISO date (YYYY-MM-DD), 1912 or later; stored as a ROC date. */
  birthDate?: string;
  sex?: 'M' | 'F';
  /** ISO date (YYYY-MM-DD); stored as a ROC date. */
  issueDate?: string;
  /** The 57 bytes of basic data as they are (wins over the fields above; for malformed-data tests). */
  basicData?: Uint8Array;
  label?: string;
}

function bad(message: string): WebCcidError {
  return new WebCcidError('virtual/bad-nhi-card-options', message);
}

function asciiExactly(value: string, length: number, field: string): Uint8Array {
  if (value.length !== length || !/^[\x20-\x7e]*$/.test(value)) throw bad(`${field} must be ${length} printable ASCII characters.`);
  return Uint8Array.from(value, (c) => c.charCodeAt(0));
}

/** The 57 bytes of basic data for the given holder. */
export function encodeNhiBasicData(options: VirtualNhiCardOptions = {}): Uint8Array {
  const d = VIRTUAL_NHI_DEFAULTS;
  const name = encodeBig5(options.name ?? d.name);
  if (name.length > 20) throw bad(`The name takes ${name.length} bytes in Big5; the field has 20.`);
  const nameField = new Uint8Array(20).fill(options.namePadding === 'space' ? 0x20 : 0x00);
  nameField.set(name);
  const date = (iso: string, field: string) => {
    try {
      return asciiExactly(isoDateToRoc(iso), 7, field);
    } catch (e) {
      throw new WebCcidError('virtual/bad-nhi-card-options', `${field} must be an ISO date (YYYY-MM-DD) from 1912 on.`, { cause: e });
    }
  };
  const sex = options.sex ?? d.sex;
  if (sex !== 'M' && sex !== 'F') throw bad("sex must be 'M' or 'F'.");
  const out = concatBytes(
    asciiExactly(options.cardNumber ?? d.cardNumber, 12, 'cardNumber'),
    nameField,
    asciiExactly(options.idNumber ?? d.idNumber, 10, 'idNumber'),
    date(options.birthDate ?? d.birthDate, 'birthDate'),
    Uint8Array.of(sex.charCodeAt(0)),
    date(options.issueDate ?? d.issueDate, 'issueDate'),
  );
  return out;
}

const SW_OK = 0x9000;
const SW_CONDITIONS = 0x6985;
const SW_REF_NOT_FOUND = 0x6a88;

/** See the module comment. */
export class VirtualNhiCard extends VirtualCard {
  readonly basicData: Uint8Array;
  private selected = false;

  constructor(options: VirtualNhiCardOptions = {}) {
    const atr = options.atr instanceof Uint8Array ? options.atr : NHI_CARD_ATRS[options.atr ?? 'jcop'];
    if (!atr) throw bad(`Unknown NHI ATR preset "${String(options.atr)}" (use ${NHI_ATR_PRESETS.join(', ')}).`);
    const basicData = options.basicData ? options.basicData.slice() : encodeNhiBasicData(options);
    if (!options.basicData && basicData.length !== NHI_BASIC_LENGTH) throw bad('The basic data must have 57 bytes.');
    super({
      atr,
      label: options.label ?? 'NHI card',
      fileSystem: { type: 'df', fid: 0x3f00, children: [{ type: 'df', fid: 0x4e48, aid: NHI_AID, description: 'NHI application', children: [] }] },
    });
    this.basicData = basicData;
  }

  protected override onReset(): void {
    this.selected = false;
  }

  /** The basic-data read carries data in (Lc = 2) and expects data out: on T=0 it is a case 4 command. */
  override t0Direction(header: Uint8Array): 'in' | 'out' {
    if (header[1] === 0xca && header[2] === 0x11) return 'in';
    return super.t0Direction(header);
  }

  /** The basic-data read without Le still gets its data (see the module comment). */
  override transmit(apdu: Uint8Array): Uint8Array {
    if (apdu.length === 7 && apdu[0] === 0x00 && apdu[1] === 0xca && apdu[2] === 0x11 && apdu[3] === 0x00 && apdu[4] === 0x02) {
      this.apduCount++;
      return this.selected ? concatBytes(this.basicData, Uint8Array.of(0x90, 0x00)) : Uint8Array.of(SW_CONDITIONS >> 8, SW_CONDITIONS & 0xff);
    }
    return super.transmit(apdu);
  }

  protected override executeExtension(cmd: ParsedApdu): [Uint8Array, number] | undefined {
    const none = new Uint8Array(0);
    if (cmd.ins === 0xa4) {
      // Follow which DF is current; the built-in SELECT answers.
      const data = cmd.data ?? none;
      this.selected = cmd.p1 === 0x04 && data.length > 0 && data.length <= NHI_AID.length && bytesEqual(NHI_AID.subarray(0, data.length), data);
      return undefined;
    }
    if (cmd.ins === 0xca && cmd.cla === 0x00) {
      if (cmd.p1 !== 0x11 || cmd.p2 !== 0x00) return [none, SW_REF_NOT_FOUND];
      if (!this.selected) return [none, SW_CONDITIONS];
      return [this.basicData.slice(), SW_OK];
    }
    return undefined;
  }
}

/** A virtual NHI card (see `VirtualNhiCard`). */
export function createVirtualNhiCard(options: VirtualNhiCardOptions = {}): VirtualNhiCard {
  return new VirtualNhiCard(options);
}
