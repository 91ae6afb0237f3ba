/**
 * The default server calls of `<hca-bind-card>`: the reference server's bind endpoints
 * (docs/reference-server.md). An integrator replaces them through the element's
 * `getChallenge` and `verifyBinding` properties.
 */
import { WebCcidError } from '../../errors.js';
import type { BindChallenge, BindPayload } from './bind-flow.js';

/** The binding the reference server stored (`binding` of `POST /bind/verify`). */
export interface ServerBinding {
  account: string;
  /** Hex SHA-256 of the certificate DER. */
  fingerprint: string;
  cardNumber?: string;
  holderName: string;
  cardType: 'personnel' | 'institution';
  subject: string;
  /** Base64 DER. */
  certificate: string;
  /** Milliseconds since the epoch. */
  boundAt: number;
}

/**
 * What `verifyBinding` resolves with: verified (驗證成功), with the binding token the page commits
 * with 送出申請 / 綁定 (the reference server), or with what the server stored (a server that binds
 * at once); or refused with the server's code (`challenge-expired`, `untrusted-chain`,
 * `already-bound`, ...). Network failures are thrown instead (`WebCcidError('bind/network')`).
 */
export type BindVerifyResult =
  | { verified: true; binding?: ServerBinding; bindToken?: string }
  | { verified: false; code: string; status?: number };

async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new WebCcidError('bind/network', `The server at ${url} could not be reached.`, { cause: e });
  }
  let json: Record<string, unknown> = {};
  try {
    const parsed: unknown = await res.json();
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    // A non-JSON answer: the status decides.
  }
  return { status: res.status, json };
}

function joinUrl(apiBase: string, path: string): string {
  return `${apiBase.replace(/\/+$/, '')}${path}`;
}

/** `POST {apiBase}/bind/challenge` of the reference server. */
export async function requestBindChallenge(apiBase = '/api'): Promise<BindChallenge> {
  const { status, json } = await postJson(joinUrl(apiBase, '/bind/challenge'), {});
  if (status === 200 && typeof json['challenge'] === 'string' && typeof json['origin'] === 'string') {
    return { challenge: json['challenge'], origin: json['origin'] };
  }
  const code = typeof json['error'] === 'string' ? json['error'] : `http-${status}`;
  if (code === 'origin-not-allowed') throw new WebCcidError('bind/origin-not-allowed', `The server does not accept binding from this page's origin (HTTP ${status}).`);
  throw new WebCcidError('bind/challenge-failed', `The server gave no challenge (HTTP ${status}, ${code}).`);
}

/**
 * The error a page shows for a refused binding: the server's verdict code
 * (webccid/server's verifyBinding, or the reference server's own refusals)
 * as a `bind/*` code. A card-type refusal by the server is kept apart from
 * the component's own check (`bind/wrong-card-type-server`).
 */
export function bindVerdictError(code: string): WebCcidError {
  const message = `The server refused the binding (${code}).`;
  switch (code) {
    case 'wrong-card-type':
      return new WebCcidError('bind/wrong-card-type-server', message);
    case 'origin-not-allowed':
      return new WebCcidError('bind/origin-not-allowed', message);
    case 'origin-mismatch':
      return new WebCcidError('bind/origin-mismatch', message);
    case 'challenge-expired':
      return new WebCcidError('bind/challenge-expired', message);
    case 'challenge-unknown':
      return new WebCcidError('bind/challenge-unknown', message);
    case 'challenge-replayed':
      return new WebCcidError('bind/challenge-replayed', message);
    case 'bad-signature':
      return new WebCcidError('bind/bad-signature', message);
    case 'unsupported-key':
      return new WebCcidError('bind/unsupported-key', message);
    case 'untrusted-chain':
      return new WebCcidError('bind/untrusted-chain', message);
    case 'certificate-expired':
      return new WebCcidError('bind/certificate-expired', message);
    case 'certificate-not-yet-valid':
      return new WebCcidError('bind/certificate-not-yet-valid', message);
    case 'certificate-not-for-signing':
      return new WebCcidError('bind/certificate-not-for-signing', message);
    case 'card-number-mismatch':
      return new WebCcidError('bind/card-number-mismatch', message);
    case 'already-bound':
      return new WebCcidError('bind/already-bound', message);
    case 'no-account':
      return new WebCcidError('bind/no-account', message);
    case 'bad-account':
      return new WebCcidError('bind/bad-account', message);
    default:
      return new WebCcidError('bind/rejected', message);
  }
}

/**
 * `POST {apiBase}/bind/verify` of the reference server with `{ response }` (the page's origin
 * and the session cookie go with the request; no account: 驗證 binds nothing, it gives a
 * one-use binding token that 送出申請 or 綁定 commits).
 */
export async function submitBinding(apiBase: string, payload: BindPayload): Promise<BindVerifyResult> {
  const response: Record<string, string> = {
    certificate: payload.certificate,
    signature: payload.signature,
    challenge: payload.challenge,
    origin: payload.origin,
  };
  if (payload.cardNumber) response['cardNumber'] = payload.cardNumber;
  const { status, json } = await postJson(joinUrl(apiBase, '/bind/verify'), { response });
  if (status === 200 && json['verified'] === true) {
    const result: BindVerifyResult = { verified: true };
    if (typeof json['bindToken'] === 'string') result.bindToken = json['bindToken'];
    const binding = json['binding'];
    if (binding && typeof binding === 'object') result.binding = binding as ServerBinding;
    return result;
  }
  const code = typeof json['error'] === 'string' ? json['error'] : `http-${status}`;
  return { verified: false, code, status };
}
