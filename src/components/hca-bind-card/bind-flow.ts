/**
 * The bind flow without any DOM (so it runs in Node tests too): read the holder's signature
 * certificate and the card number, check the card type the user chose, verify the PIN (typed
 * on screen or on the reader's pinpad; never retried), fetch a challenge, sign the binding
 * message (`bindingMessage` of webccid/server) and pack the response for the verifier.
 *
 * Order matters for the user: everything that can fail without spending a PIN try (not an HCA
 * card, no certificate, wrong card type, certificate out of its validity) is checked before the
 * PIN is sent.
 */
import { wipe } from '../../bytes.js';
import { AbortError, WebCcidError } from '../../errors.js';
import type { CardChannel } from '../../card/channel.js';
import { HcaCard } from '../../hca/card.js';
import { HcaError } from '../../hca/errors.js';
import { sessionPinTrialStore, type PinTrialStore } from '../../hca/pin-guard.js';
import { HCA_PROFILE, type HcaProfile } from '../../hca/profile.js';
import { bindingMessage, createBindingResponse, type BindingResponseJson } from '../../server/message.js';
import { loadX509 } from '../../x509.js';

/** 醫事人員卡 (`personnel`) or 醫事機構卡 (`institution`). */
export type BindCardType = 'personnel' | 'institution';

/** What `getChallenge()` gives: the server's one-use challenge and the page origin it was issued for. */
export interface BindChallenge {
  challenge: string;
  origin: string;
}

/** Detail of the `hca-bind` event and the input of `verifyBinding` (binary fields in standard base64). */
export interface BindPayload {
  /** The holder signature certificate (card certificate 1), DER as base64. */
  certificate: string;
  /** The card's RSA PKCS#1 v1.5 SHA-256 signature over `bindingMessage({ origin, challenge, cardNumber })`, base64. */
  signature: string;
  /** The 12 digits after "GH". */
  cardNumber: string;
  challenge: string;
  origin: string;
}

/** What the page shows about the certificate (read on the client; the server verifies it again). */
export interface CertificateSummary {
  /** The subject CN (holder or institution name). */
  holderName: string;
  /** From the certificate policies; undefined when the certificate carries no HCA card-type OID. */
  cardType: BindCardType | undefined;
  notBefore: Date;
  notAfter: Date;
  subject: string;
  /** The subject serialNumber attribute (the card number on HCA certificates), when present. */
  serialNumber?: string;
}

/** The stages the flow goes through, for the component's progress announcements. */
export type BindStage = 'connecting' | 'reading' | 'verifying-pin' | 'pinpad' | 'challenge' | 'signing';

export interface PerformBindingOptions {
  channel: CardChannel;
  /** The card type the user selected. */
  cardType: BindCardType;
  /** True: the user keys the PIN on the reader (`verifyPinOnPinpad`); `pin` is ignored. */
  pinpad: boolean;
  /** ASCII digits of the PIN; wiped here once sent (or on any failure). */
  pin?: Uint8Array | undefined;
  getChallenge: () => Promise<BindChallenge>;
  onStage?: (stage: BindStage) => void;
  signal?: AbortSignal | undefined;
  /** Seconds the reader waits for the first key on a pinpad. */
  pinpadTimeoutSeconds?: number;
  /** Clock for the validity check, milliseconds (default now). */
  now?: number;
  /** The card profile; default: chosen among the candidates by the card's answers. */
  profile?: HcaProfile;
  /**
   * Memory of PINs refused in an unconfirmed format (src/hca/pin-guard.ts); default the tab's
   * (`sessionPinTrialStore()`): after one refusal no PIN is sent to that card again
   * (`hca/profile-unconfirmed`), even after a reload.
   */
  pinTrials?: PinTrialStore;
}

export interface BindingOutcome {
  payload: BindPayload;
  summary: CertificateSummary;
  /** The same fields in the shape `createBindingResponse` makes (what the verify endpoint takes). */
  response: BindingResponseJson;
}

/** Reads holder name, card type and validity from a holder certificate (DER). */
export async function summarizeCertificate(der: Uint8Array): Promise<CertificateSummary> {
  const x509 = await loadX509();
  let cert: InstanceType<typeof x509.X509Certificate>;
  try {
    cert = new x509.X509Certificate(der.slice());
  } catch (e) {
    throw new HcaError('hca/bad-file', { notX509: 'signature' }, { cause: e });
  }
  const oids = HCA_PROFILE.oids;
  let cardType: BindCardType | undefined;
  const policies = cert.getExtension(x509.CertificatePolicyExtension);
  for (const p of policies?.policies ?? []) {
    if (p === oids.personnelCard.value) cardType = 'personnel';
    else if (p === oids.institutionCard.value) cardType = 'institution';
  }
  const summary: CertificateSummary = {
    holderName: cert.subjectName.getField('CN')[0] ?? '',
    cardType,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    subject: cert.subject,
  };
  const serialNumber = cert.subjectName.getField('2.5.4.5')[0];
  if (serialNumber !== undefined) summary.serialNumber = serialNumber;
  return summary;
}

/**
 * Runs the bind flow on a powered card (see the module comment). Errors: the card's and the
 * driver's typed errors (`apdu/pin-incorrect` with `retriesLeft`, `apdu/pin-blocked`,
 * `hca/not-hca-card`, ...), `WebCcidError('bind/wrong-card-type')` when the card is of the other
 * type than the one selected, `WebCcidError('bind/unknown-card-type')` when its certificate has
 * no HCA card-type policy, and whatever `getChallenge` throws.
 */
export async function performBinding(options: PerformBindingOptions): Promise<BindingOutcome> {
  const { channel, signal } = options;
  const stage = (s: BindStage): void => options.onStage?.(s);
  const pin = options.pin;
  try {
    stage('reading');
    const card = await HcaCard.open(channel, {
      ...(signal ? { signal } : {}),
      ...(options.profile ? { profile: options.profile } : {}),
      pinTrials: options.pinTrials ?? sessionPinTrialStore(),
    });
    const certificate = await card.readCertificate(1, signal ? { signal } : {});
    const summary = await summarizeCertificate(certificate);
    if (summary.cardType === undefined) {
      throw new WebCcidError('bind/unknown-card-type', {});
    }
    if (summary.cardType !== options.cardType) {
      throw new WebCcidError('bind/wrong-card-type', { inserted: summary.cardType });
    }
    const now = options.now ?? Date.now();
    if (now > summary.notAfter.getTime()) {
      throw new WebCcidError('bind/certificate-expired', {});
    }
    if (now < summary.notBefore.getTime()) {
      throw new WebCcidError('bind/certificate-not-yet-valid', {});
    }
    const cardNumber = await card.readCardNumber(signal ? { signal } : {});
    if (options.pinpad) {
      stage('pinpad');
      const pinpadOptions: { signal?: AbortSignal; timeoutSeconds?: number } = {};
      if (signal) pinpadOptions.signal = signal;
      if (options.pinpadTimeoutSeconds !== undefined) pinpadOptions.timeoutSeconds = options.pinpadTimeoutSeconds;
      await card.verifyPinOnPinpad(pinpadOptions);
    } else {
      stage('verifying-pin');
      if (!pin) throw new HcaError('hca/bad-pin-format', { what: 'PIN', missing: true });
      await card.verifyPin(pin, signal ? { signal } : {});
    }
    if (pin) wipe(pin);
    stage('challenge');
    const { challenge, origin } = await options.getChallenge();
    if (signal?.aborted) throw new AbortError();
    stage('signing');
    const message = bindingMessage({ origin, challenge, cardNumber });
    const signature = await card.sign(message, signal ? { signal } : {});
    const response = createBindingResponse({ origin, challenge, cardNumber, certificate, signature });
    const payload: BindPayload = {
      certificate: response.certificate,
      signature: response.signature,
      cardNumber,
      challenge,
      origin,
    };
    return { payload, summary, response };
  } finally {
    if (pin) wipe(pin);
  }
}
