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
 * What `verifyBinding` resolves with: verified (with what the server stored, when it says), or
 * refused with the server's code (`challenge-expired`, `untrusted-chain`, `already-bound`, ...).
 * Network failures are thrown instead (`WebCcidError('bind/network')`).
 */
export type BindVerifyResult =
  | { verified: true; binding?: ServerBinding }
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
  throw new WebCcidError(`bind/${code === 'origin-not-allowed' ? code : 'challenge-failed'}`, `The server gave no challenge (HTTP ${status}, ${code}).`);
}

/** `POST {apiBase}/bind/verify` of the reference server with `{ account, response }`. */
export async function submitBinding(apiBase: string, account: string, payload: BindPayload): Promise<BindVerifyResult> {
  const response: Record<string, string> = {
    certificate: payload.certificate,
    signature: payload.signature,
    challenge: payload.challenge,
    origin: payload.origin,
  };
  if (payload.cardNumber) response['cardNumber'] = payload.cardNumber;
  const { status, json } = await postJson(joinUrl(apiBase, '/bind/verify'), { account, response });
  if (status === 200 && json['verified'] === true) {
    const binding = json['binding'];
    return binding && typeof binding === 'object' ? { verified: true, binding: binding as ServerBinding } : { verified: true };
  }
  const code = typeof json['error'] === 'string' ? json['error'] : `http-${status}`;
  return { verified: false, code, status };
}
