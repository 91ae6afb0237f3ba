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
    throw new WebCcidError('bind/network', { url }, { cause: e });
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
  if (code === 'origin-not-allowed') throw new WebCcidError('bind/origin-not-allowed', { status });
  throw new WebCcidError('bind/challenge-failed', { status, serverCode: code });
}

/**
 * The error a page shows for a refused binding: the server's verdict code
 * (webccid/server's verifyBinding, or the reference server's own refusals)
 * as a `bind/*` code. A card-type refusal by the server is kept apart from
 * the component's own check (`bind/wrong-card-type-server`).
 */
export function bindVerdictError(code: string): WebCcidError {
  switch (code) {
    case 'wrong-card-type':
      return new WebCcidError('bind/wrong-card-type-server', { verdict: code });
    case 'origin-not-allowed':
      return new WebCcidError('bind/origin-not-allowed', { verdict: code });
    case 'origin-mismatch':
      return new WebCcidError('bind/origin-mismatch', { verdict: code });
    case 'challenge-expired':
      return new WebCcidError('bind/challenge-expired', { verdict: code });
    case 'challenge-unknown':
      return new WebCcidError('bind/challenge-unknown', { verdict: code });
    case 'challenge-replayed':
      return new WebCcidError('bind/challenge-replayed', { verdict: code });
    case 'bad-signature':
      return new WebCcidError('bind/bad-signature', { verdict: code });
    case 'unsupported-key':
      return new WebCcidError('bind/unsupported-key', { verdict: code });
    case 'untrusted-chain':
      return new WebCcidError('bind/untrusted-chain', { verdict: code });
    case 'certificate-expired':
      return new WebCcidError('bind/certificate-expired', { verdict: code });
    case 'certificate-not-yet-valid':
      return new WebCcidError('bind/certificate-not-yet-valid', { verdict: code });
    case 'certificate-not-for-signing':
      return new WebCcidError('bind/certificate-not-for-signing', { verdict: code });
    case 'card-number-mismatch':
      return new WebCcidError('bind/card-number-mismatch', { verdict: code });
    case 'already-bound':
      return new WebCcidError('bind/already-bound', { verdict: code });
    case 'no-account':
      return new WebCcidError('bind/no-account', { verdict: code });
    case 'bad-account':
      return new WebCcidError('bind/bad-account', { verdict: code });
    default:
      return new WebCcidError('bind/rejected', { verdict: code });
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
