/** A failure as the probe reports it (a plain object that goes into the report file). */
import { ApduError, WebCcidError } from '../errors.js';

/** A failure, as reported (code and message of our error classes; the status word when the card answered). */
export interface ProbeError {
  code: string;
  message: string;
  /** SW1 SW2 as 4 hex digits, when the error is a card's answer. */
  sw?: string;
  /** The messages of the causes (e.g. libusb's "LIBUSB_ERROR_BUSY"), when there are any. */
  detail?: string;
}

/** The messages of an error's causes, outermost first (at most 5). */
function causeText(e: unknown): string | undefined {
  const parts: string[] = [];
  let c = e instanceof Error ? e.cause : undefined;
  for (let depth = 0; c !== undefined && c !== null && depth < 5; depth++) {
    parts.push(c instanceof Error ? c.message : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
  return parts.length > 0 ? parts.join(' <- ') : undefined;
}

export function reportError(e: unknown): ProbeError {
  const detail = causeText(e);
  const withDetail = detail === undefined ? {} : { detail };
  if (e instanceof WebCcidError) {
    // The card's status word: the error's own, or that of the card answer it wraps (hca/not-hca-card).
    const cause = e.cause;
    const sw = e instanceof ApduError ? e.sw : ((e as { sw?: unknown }).sw ?? (cause instanceof ApduError ? cause.sw : undefined));
    return { code: e.code, message: e.message, ...(typeof sw === 'number' && sw >= 0 ? { sw: sw.toString(16).toUpperCase().padStart(4, '0') } : {}), ...withDetail };
  }
  if (e instanceof Error) return { code: 'unknown', message: `${e.name}: ${e.message}`, ...withDetail };
  return { code: 'unknown', message: String(e) };
}
