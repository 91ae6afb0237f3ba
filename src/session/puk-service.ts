/**
 * The PUK service as the unlock flow sees it: its failures as one error class with stable
 * codes (so `describeError` can say what to do), and a client for the reference server's
 * `POST /api/unlock/puk` (docs/reference-server.md).
 *
 * Codes (`PukServiceError`): `unlock/wrong-user-code` (`attemptsLeft`), `unlock/card-locked`
 * (`retryAfterSeconds`), `unlock/rate-limited` (`retryAfterSeconds`), `unlock/bad-card-number`,
 * `unlock/bad-user-code`, `unlock/network` (no answer), `unlock/server-error` (anything else,
 * `status` and the server's own code in `serverCode`). Like every error here, none carries the
 * PUK or the user code.
 */
import { WebCcidError, type ErrorDetail } from '../errors.js';

/** A failure of the PUK service. */
export class PukServiceError extends WebCcidError {
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's own `error` code, when it gave one. */
  readonly serverCode: string | undefined;
  /** `unlock/wrong-user-code`: wrong user codes still allowed before the card is locked. */
  readonly attemptsLeft: number | undefined;
  /** `unlock/card-locked`, `unlock/rate-limited`: seconds before trying again. */
  readonly retryAfterSeconds: number | undefined;

  /** `message`: the text, or the facts of the sentence (src/session/error-text.ts), as for any WebCcidError. */
  constructor(
    code: string,
    message: string | ErrorDetail,
    fields: { status?: number; serverCode?: string; attemptsLeft?: number; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(code, message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.status = fields.status;
    this.serverCode = fields.serverCode;
    this.attemptsLeft = fields.attemptsLeft;
    this.retryAfterSeconds = fields.retryAfterSeconds;
  }
}

function numberField(body: Record<string, unknown>, name: string): number | undefined {
  const v = body[name];
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * The error for a failed answer of the PUK endpoint: `status` and the parsed JSON body
 * (`{ error, message, field?, attemptsLeft?, retryAfterSeconds? }`); `retryAfter` = the
 * Retry-After header (seconds). The HTTP status decides when the body has no known code.
 */
export function pukServiceErrorFromResponse(status: number, body: unknown, retryAfter?: string | null): PukServiceError {
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const serverCode = typeof b.error === 'string' ? b.error : undefined;
  const header = retryAfter?.trim();
  const headerSeconds = header && /^\d+$/.test(header) ? Number(header) : undefined;
  const retryAfterSeconds = numberField(b, 'retryAfterSeconds') ?? headerSeconds;
  const attemptsLeft = numberField(b, 'attemptsLeft');
  const base = { status, ...(serverCode ? { serverCode } : {}) };
  const wait = retryAfterSeconds !== undefined ? { retryAfterSeconds } : {};
  if (serverCode === 'wrong-user-code' || (!serverCode && status === 401)) {
    return new PukServiceError('unlock/wrong-user-code', {}, {
      ...base,
      ...(attemptsLeft !== undefined ? { attemptsLeft } : {}),
    });
  }
  if (serverCode === 'card-locked' || (!serverCode && status === 423)) {
    return new PukServiceError('unlock/card-locked', {}, { ...base, ...wait });
  }
  if (serverCode === 'rate-limited' || (!serverCode && status === 429)) {
    return new PukServiceError('unlock/rate-limited', {}, { ...base, ...wait });
  }
  if (serverCode === 'bad-card-number' || (serverCode === 'missing-field' && b.field === 'cardNumber')) {
    return new PukServiceError('unlock/bad-card-number', {}, base);
  }
  if (serverCode === 'bad-user-code' || (serverCode === 'missing-field' && b.field === 'userCode')) {
    return new PukServiceError('unlock/bad-user-code', {}, base);
  }
  return new PukServiceError('unlock/server-error', { status, ...(serverCode ? { serverCode } : {}) }, base);
}

export interface FetchPukOptions {
  /** The endpoint. Default `/api/unlock/puk` (the reference server under the page's origin). */
  url?: string;
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * Asks the reference server for the card's PUK (`POST { cardNumber, userCode }` → `{ puk }`).
 * Throws `PukServiceError` (see the module comment); an abort rejects with the fetch's AbortError.
 */
export async function fetchPuk(cardNumber: string, userCode: string, options: FetchPukOptions = {}): Promise<string> {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await doFetch(options.url ?? '/api/unlock/puk', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ cardNumber, userCode }),
      cache: 'no-store',
      credentials: 'same-origin',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (e) {
    if ((e as { name?: unknown } | null)?.name === 'AbortError') throw e;
    throw new PukServiceError('unlock/network', {}, { cause: e });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (!response.ok) throw pukServiceErrorFromResponse(response.status, body, response.headers.get('Retry-After'));
  const puk = (body as { puk?: unknown } | undefined)?.puk;
  if (typeof puk !== 'string' || !/^\d+$/.test(puk)) {
    throw new PukServiceError('unlock/server-error', {}, { status: response.status });
  }
  return puk;
}
