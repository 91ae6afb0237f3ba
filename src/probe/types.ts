/** The probe's report (what it learnt about each reader and card) and small shared pieces. */
import type { CcidClassDescriptor } from '../ccid/descriptor.js';
import type { TraceFile } from '../card/trace.js';
import type { CardProtocol } from '../card/channel.js';
import type { HcaProfile } from '../hca/profile.js';
import type { NhiCardData } from '../nhi/card.js';
import type { UsbBackendLike } from '../usb/device.js';
import type { DiscoveryReport } from './discovery.js';
import type { ProbeError } from './error.js';

export { reportError, type ProbeError } from './error.js';


/** What the probe learnt about one certificate file. */
export interface ProbeCertificate {
  index: number;
  present: boolean;
  /** DER length. */
  size?: number;
  subject?: string;
  issuer?: string;
  serialNumber?: string;
  notBefore?: string;
  notAfter?: string;
  /** Card type from the certificate policies, by the profile's OIDs. */
  cardType?: 'personnel' | 'institution';
  /** The DER could not be parsed as an X.509 certificate. */
  parseError?: string;
  error?: ProbeError;
}

/** What the HCA profile could read from the card. */
export interface ProbeHcaReport {
  /** The ATR is in the profile's list. */
  atrKnown: boolean;
  /** The profile the card was opened with (given, or chosen among the candidates). */
  profileId?: string;
  /** Without a given profile: each candidate's SELECT and the card's answer. */
  selection?: Array<{ profileId: string; command: string; sw: number }>;
  /** SELECT of the profile's AID worked (the card answered as an HCA card). */
  selected: boolean;
  openError?: ProbeError;
  cardNumber?: string;
  cardInfo?: unknown;
  basicData?: unknown;
  serialNumber?: string;
  certificates: ProbeCertificate[];
  /** Per read, when it failed. */
  errors: Record<string, ProbeError>;
  pin?: ProbePinReport;
}

/** What the NHI read found (the values only with `keepCardData`; otherwise their lengths). */
export interface ProbeNhiReport {
  /** The ATR is one of the public NHI ATRs. */
  atrKnown: boolean;
  /** The card answered the NHI SELECT and the basic-data read with the public layout. */
  read: boolean;
  data?: NhiCardData;
  error?: ProbeError;
}

export interface ProbePinReport {
  /** Tries left before the PIN locks, as the card said before the verification (no try spent). */
  retriesBefore?: number;
  blocked?: boolean;
  /** The holder did not agree to read the counter (nothing PIN-related was sent). */
  counterRead?: boolean;
  /**
   * 'verified' | 'wrong' (retriesLeft after) | 'refused' (the card refused the PIN sent in an
   * assumed format: wrong PIN, or wrong format; `error` says which profile fields are assumed) |
   * 'blocked' | 'skipped' | 'failed'.
   */
  outcome: 'verified' | 'wrong' | 'refused' | 'blocked' | 'skipped' | 'failed';
  retriesLeft?: number;
  via?: 'host' | 'pinpad';
  error?: ProbeError;
}

/** One slot of a reader. */
export interface ProbeSlotReport {
  slot: number;
  state: 'absent' | 'present' | 'active' | 'unknown';
  atr?: string;
  atrInfo?: {
    protocols: number[];
    convention: 'direct' | 'inverse';
    fi: number;
    di: number;
    fMaxHz: number;
    ifsc?: number;
    historicalBytes: string;
    /** The historical bytes as printable ASCII, when they are. */
    historicalText?: string;
    tckValid: boolean | undefined;
    /** What was wrong with the ATR but parsed around (Atr.defects). */
    defects: string[];
  };
  protocol?: CardProtocol;
  link?: { baud: number; fHz: number; fi: number; di: number; negotiation: string };
  hca?: ProbeHcaReport;
  nhi?: ProbeNhiReport;
  discovery?: DiscoveryReport;
  error?: ProbeError;
}

/** One USB device that may be a CCID reader. */
export interface ProbeReaderReport {
  index: number;
  /** "072F:90CC". */
  id: string;
  vendorId: number;
  productId: number;
  name?: string;
  manufacturer?: string;
  /** The CCID interface class: 0x0B, or 0xFF (vendor class carrying a CCID descriptor). */
  interfaceClass?: number;
  /** Chrome refuses class 0x0B interfaces on ordinary pages (protected class). */
  chromeProtected: boolean;
  exchangeLevel?: string;
  pinpad?: { verify: boolean; modify: boolean };
  /** The decoded CCID class descriptor in use (after quirks). */
  descriptor?: CcidClassDescriptor;
  /** The quirks in force for this reader (src/ccid/quirks.ts): field names, byte values as hex. */
  quirks?: Record<string, unknown>;
  slots: ProbeSlotReport[];
  error?: ProbeError;
}

export interface ProbeReport {
  readers: ProbeReaderReport[];
  /** The trace of every card session (written with `--out`). */
  trace: TraceFile;
}

export interface ListOptions {
  /** USB backend: the `usb` package's WebUSB, `navigator.usb`, a `VirtualUsb`. */
  backend: UsbBackendLike;
  /** Where the human-readable lines go (default: nowhere). */
  log?: (line: string) => void;
}

/** What the holder is asked before each PIN step (see the module comment). */
export interface PinConsent {
  /** Asked once the HCA application answered: may the retry counter be read (VERIFY without data, no try spent)? */
  readCounter(context: { slot: number; readerId: string }): Promise<boolean>;
  /**
   * Asked after the counter was read: the PIN (ASCII bytes, wiped after use) for one VERIFY,
   * 'pinpad' to key it on the reader (when `pinpad` is true), or null / an empty array to stop.
   * Rejecting with `AbortError` stops too.
   */
  verify(status: { retriesLeft: number; maxTries: number; pinpad: boolean }): Promise<Uint8Array | 'pinpad' | null>;
}

export interface ProbeOptions extends ListOptions {
  profile?: HcaProfile;
  /** Without it no PIN-related command is sent at all. */
  pinConsent?: PinConsent;
  /** Skip the discovery (discovery.ts). Default: run it. */
  discovery?: boolean;
  /** Redact the card's file contents (name, ID number, certificates) in the trace and the report. */
  redactCardData?: boolean;
  /** Tool name and version recorded in the trace. */
  tool?: { name: string; version: string };
  /** Clock of the trace (tests). */
  now?: () => number;
  date?: () => Date;
}
