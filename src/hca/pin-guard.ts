/**
 * "Never spend a try on a guess": what decides whether a PIN-carrying command may be sent with a
 * card profile, and the memory of what the card answered to one.
 *
 * A PIN-carrying command (VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER with data, or the
 * same built by a pinpad reader, PC_to_RDR_Secure) depends on profile fields: the reference (P2),
 * the encoding of the PIN block, how it travels (`protection`), and for an unblock the PUK's and
 * the method. When all of them are `confirmed`, the command is sent as usual. When one is
 * `assumed`, `HcaCard` first reads the retry counter without spending a try (VERIFY without data,
 * ISO/IEC 7816-4 §11.5.6: 63Cx or 9000) and stops with `hca/profile-unconfirmed` if the card does
 * not answer that way; it then sends the command once, and if the card refuses it, records the
 * refusal here and sends no second PIN-carrying command to that card with that profile (the PIN
 * may have been right and only our guess of its format wrong). A card that accepts a PIN in the
 * assumed format has shown the format works: that is recorded too, and later wrong PINs are just
 * wrong PINs.
 *
 * The memory (`PinTrialStore`) is keyed by profile id, ATR and card number. `HcaCard` keeps one
 * per card object by default; pages pass `sessionPinTrialStore()` so the refusal holds across
 * every flow and page reload of the same browser tab (sessionStorage), which the components do.
 */
import type { HcaProfileValues, Provenance } from './profile-data.js';

/** The PIN-carrying operations. */
export type PinOperation = 'verify' | 'change' | 'unblock';

/** Whether an operation's PIN-carrying fields are confirmed, and whether it can be done at all. */
export interface PinFormatStatus {
  /** Every field the operation's PIN-carrying command depends on is confirmed. */
  confirmed: boolean;
  /** False when the profile needs the vendor's keys (`protection: 'vendor-wrapped'`). */
  implementable: boolean;
  /** The fields that are assumed (or not implementable), by path, e.g. `pin.encoding`. */
  assumed: string[];
}

/** The fields a PIN-carrying operation depends on, by path. */
export function pinOperationFields(profile: HcaProfileValues, operation: PinOperation): Array<[string, { status: Provenance; value: unknown }]> {
  const pin: Array<[string, { status: Provenance; value: unknown }]> = [
    ['pin.reference', profile.pin.reference],
    ['pin.encoding', profile.pin.encoding],
    ['pin.protection', profile.pin.protection],
  ];
  if (operation !== 'unblock') return pin;
  return [
    ...pin,
    ['puk.reference', profile.puk.reference],
    ['puk.encoding', profile.puk.encoding],
    ['puk.protection', profile.puk.protection],
    ['unblock', profile.unblock],
  ];
}

/** See `PinFormatStatus`. A profile without a `protection` field is treated as plain and assumed. */
export function pinFormatStatus(profile: HcaProfileValues, operation: PinOperation): PinFormatStatus {
  const fields = pinOperationFields(profile, operation);
  const wrapped = fields.filter(([path, f]) => path.endsWith('.protection') && f?.value === 'vendor-wrapped').map(([path]) => path);
  const assumed = fields.filter(([, f]) => f?.status !== 'confirmed').map(([path]) => path);
  return { confirmed: assumed.length === 0 && wrapped.length === 0, implementable: wrapped.length === 0, assumed: [...new Set([...wrapped, ...assumed])] };
}

/** What a card answered to a PIN-carrying command sent in an unconfirmed format. */
export interface PinTrialRecord {
  /** 'accepted': the card took it (9000): the format works. 'refused': any other answer. */
  outcome: 'accepted' | 'refused';
  /** Tries left after the refusal, when the card said. */
  retriesLeft?: number;
  /** Status word of the refusal. */
  sw?: number;
  /** When (ISO 8601). */
  at: string;
}

/** Where the records are kept. */
export interface PinTrialStore {
  get(key: string): PinTrialRecord | undefined;
  set(key: string, record: PinTrialRecord): void;
  delete(key: string): void;
}

/** A store in memory (one `Map`). */
export function memoryPinTrialStore(): PinTrialStore {
  const map = new Map<string, PinTrialRecord>();
  return {
    get: (key) => {
      const r = map.get(key);
      return r === undefined ? undefined : { ...r };
    },
    set: (key, record) => void map.set(key, { ...record }),
    delete: (key) => void map.delete(key),
  };
}

const KEY_PREFIX = 'webccid.hca.pin-trial:';
let fallback: PinTrialStore | undefined;

function storage(): Storage | undefined {
  try {
    const s = (globalThis as { sessionStorage?: Storage }).sessionStorage;
    if (!s) return undefined;
    // Access can throw (storage disabled, opaque origin); probe once.
    s.getItem(KEY_PREFIX);
    return s;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is PinTrialRecord {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  return (r.outcome === 'accepted' || r.outcome === 'refused') && typeof r.at === 'string';
}

/**
 * The store of this browser tab: `sessionStorage` (it survives page reloads, ends with the tab),
 * or, where there is none (Node, storage disabled), one in-memory store shared by the process.
 * The records hold no PIN: only the outcome, the status word and the tries left.
 */
export function sessionPinTrialStore(): PinTrialStore {
  const s = storage();
  if (!s) return (fallback ??= memoryPinTrialStore());
  return {
    get: (key) => {
      try {
        const text = s.getItem(KEY_PREFIX + key);
        if (text === null) return undefined;
        const v: unknown = JSON.parse(text);
        return isRecord(v) ? v : undefined;
      } catch {
        return undefined;
      }
    },
    set: (key, record) => {
      try {
        s.setItem(KEY_PREFIX + key, JSON.stringify(record));
      } catch {
        // A full or disabled storage: fall back to memory for this record.
        (fallback ??= memoryPinTrialStore()).set(key, record);
      }
    },
    delete: (key) => {
      try {
        s.removeItem(KEY_PREFIX + key);
      } catch {
        // nothing to remove
      }
      fallback?.delete(key);
    },
  };
}

/** The key of a card with a profile: profile id, ATR (hex) and card number ('unknown' when unreadable). */
export function pinTrialKey(profileId: string, atrHex: string, cardNumber: string | undefined): string {
  return `${profileId}|${atrHex.replace(/\s+/g, '').toUpperCase()}|${cardNumber ?? 'unknown'}`;
}
