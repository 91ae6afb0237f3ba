// A consumer's page: <hca-bind-card> on webccid's virtual reader and card, its challenge and
// verification done by this app's own server (server.ts, with webccid/server).
import { CCID_REQUEST_FILTERS, isWebCcidError, toHex } from 'webccid';
import type { HcaCard } from 'webccid/hca';
import { setLocale, type BindChallenge, type BindPayload, type BindVerifyResult, type HcaBindCard } from 'webccid/components';
import { createCardSession } from 'webccid/session';
import 'webccid/components/define';
import { createVirtualHcaCard, createVirtualReader, VirtualUsb } from 'webccid/virtual';
import { encodeBase64, type BindingResponseJson } from 'webccid/server';

// The WebUSB types come with webccid's declarations.
const filters: USBDeviceFilter[] = [...CCID_REQUEST_FILTERS];

/** What a page could do with the card after binding (type use of webccid/hca). */
export async function cardNumberOf(card: HcaCard): Promise<string> {
  return card.readCardNumber();
}

const status = document.getElementById('status') as HTMLParagraphElement;

async function postJson<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as T;
}

async function main(): Promise<void> {
  await setLocale('zh-Hant');
  const card = await createVirtualHcaCard();
  // The virtual card's test PKI is made here, in the page: this demo server must trust its root.
  await postJson('/api/trust', { root: encodeBase64(card.pki.root.der), ca: encodeBase64(card.pki.ca.der) });
  const usb = new VirtualUsb({ devices: [], granted: true });
  usb.attach(createVirtualReader({ preset: 'castles-ezccid', card }));

  const element = document.querySelector<HcaBindCard>('hca-bind-card');
  if (!element) throw new Error('no <hca-bind-card>');
  const session = createCardSession({ usb, smartCard: null, filters });
  await session.start(); // the permitted readers: here the virtual one
  element.session = session;
  element.getChallenge = (): Promise<BindChallenge> => postJson<BindChallenge>('/api/challenge', {});
  element.verifyBinding = async (payload: BindPayload): Promise<BindVerifyResult> => {
    const response: BindingResponseJson = {
      certificate: payload.certificate,
      signature: payload.signature,
      challenge: payload.challenge,
      origin: payload.origin,
      cardNumber: payload.cardNumber,
    };
    const verdict = await postJson<{ verified: true; holder: string } | { verified: false; code: string }>('/api/verify', { response });
    status.dataset['server'] = verdict.verified ? `verified ${verdict.holder}` : `refused ${verdict.code}`;
    return verdict.verified ? { verified: true } : { verified: false, code: verdict.code };
  };
  status.textContent = `ready: card ATR ${toHex(card.atr)}`;
  status.dataset['ready'] = 'true';
}

main().catch((e: unknown) => {
  status.textContent = `failed: ${isWebCcidError(e) ? e.code : String(e)}`;
  status.dataset['failed'] = 'true';
});
